/* daemon/control_internal.h: what daemon/control (connections: accepting,
 * reading, dispatching, closing) and daemon/controlreply (answering calls:
 * replies, errors, results in parts, notifications) share. Internal to those
 * two: everything else uses daemon/control.h.
 *
 * A connection ends only through control_conn_end(); its memory goes in the
 * close callbacks. A call holds its connection until it is answered, or until
 * the connection ends (call->conn is then NULL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "common/jrpc.h"
#include "daemon/controltypes.h"
#include "daemon/ratelimit.h"
#include "daemon/streamout.h"

struct conn {
	uv_pipe_t pipe;                /* pipe.data == this */
	uv_timer_t idle;               /* idle.data == this */
	struct control *control;       /* borrowed: outlives every conn */
	struct conn *prev, *next;      /* in control->conns until both handles closed */
	struct jrpc_reader in;         /* bounded by max_request_bytes + 1 */
	struct control_call *call;     /* borrowed: being handled; NULL when none */
	struct control_peer peer;
	uint64_t id;                   /* for logs */
	unsigned n_writes;             /* uv_write requests not yet called back */
	unsigned open_handles;         /* pipe and idle, until their close callbacks */
	bool reading;
	bool eof;                      /* the client will send nothing more */
	bool finishing;                /* close once n_writes drops to 0 */
	bool closing;                  /* control_conn_end() ran */
	bool subscriber;
	bool dispatching;              /* inside conn_dispatch(): no re-entry */
	bool ready;                    /* wants conn_dispatch() from on_kick() */
	bool idle_reset;               /* restart the idle timer after dispatching */
};

struct control_call {
	struct conn *conn;             /* borrowed; NULL once the connection is gone */
	struct jrpc_request *req;      /* owned */
	const struct control_method *method; /* borrowed from control->methods */
	struct control_peer peer;
	/* A result made in parts (control_call_reply_parts()): */
	struct json_writer *w;         /* owned: the line not yet handed to out */
	struct streamout out;          /* what the socket has not taken yet */
	control_part_fn make;
	void *make_userdata;           /* owned through free_userdata */
	void (*free_userdata)(void *userdata);
	bool part_writing;             /* a part is in the write queue: come back then */
};

struct control {
	uv_loop_t *loop;               /* borrowed */
	uv_pipe_t listener;            /* listener.data == this */
	uv_idle_t kick;                /* kick.data == this: runs deferred dispatches */
	uv_idle_cb kick_cb;            /* control.c's: the dispatcher, above controlreply */
	struct control_options o;      /* path and admin_group point to the copies below */
	char *path;                    /* owned */
	char *admin_group;             /* owned */
	const struct control_method *methods; /* borrowed */
	size_t n_methods;
	void *userdata;                /* borrowed */
	char *busy_line;               /* owned: the JRPC_BUSY error line */
	size_t busy_len;
	struct conn *conns;            /* every conn not yet freed, closing ones too */
	unsigned n_conns;              /* open (not closing) conns */
	uint64_t next_conn_id;
	dev_t sock_dev;                /* the socket file we created, to remove it */
	ino_t sock_ino;
	bool created;
	unsigned open_handles;         /* listener and kick, until closed */
	bool freeing;
	struct ratelimit busy_log, accept_log, denied_log;
};

/* The one teardown of a connection: every error path ends here. */
void control_conn_end(struct conn *c);
/* The idle timer's callback: no request, or output not read, in idle_ms. */
void control_on_conn_idle(uv_timer_t *t);
/* Frees the server once control_free() ran and every handle has closed. */
void control_maybe_release(struct control *c);
/* A line (consumed) queued on the connection; an error line. */
void control_conn_send_consume(struct conn *c, char *line, size_t len);
void control_conn_send_error(struct conn *c, const char *id_json, int code, const char *message,
			     const char *data_json);
