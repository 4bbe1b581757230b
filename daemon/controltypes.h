/* daemon/controltypes.h: the types the control socket's two halves and
 * their users share: a method, a peer, the server's options, and a result
 * made in parts. daemon/control.h (the server) and daemon/controlreply.h
 * (answering calls) build on it; it declares no functions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

struct control;
struct control_call; /* one request being handled; see control_call_reply() */
struct json_writer;

struct control_peer {
	uid_t uid;
	gid_t gid;  /* primary gid */
	pid_t pid;
	bool admin; /* may call mutating methods */
};

/* A handler receives every valid request for its method. params is the
 * request's "params" (an object, an array or NULL when absent), borrowed
 * from call: valid until the call is consumed. The handler (or whatever it
 * hands the call to) must eventually consume the call exactly once, with
 * control_call_reply() or control_call_error(), at once or later from
 * another callback. Requests without an id (JSON-RPC notifications) are
 * handled too; their answers are dropped. Handlers are never called from
 * inside control_call_reply(), control_call_error() or control_notify(). */
struct control_method {
	const char *name; /* borrowed: e.g. "status", "certs.list" */
	bool mutating;    /* needs an admin peer */
	void (*handler)(struct control_call *call, yajl_val params, void *userdata);
};

/* Zeroed limits take the defaults of common/limits.h; use
 * control_options_init() for the rest. */
struct control_options {
	const char *path;          /* borrowed: the socket path; NULL only with listen_fd */
	int listen_fd;             /* >= 0: adopt this listening socket (socket
				    * activation); control_new() takes it over, and
				    * closes it on failure. < 0: create, bind and
				    * listen on path */
	mode_t mode;               /* of a socket we create, e.g. 0660 */
	gid_t group;               /* group of a socket we create; (gid_t)-1 keeps ours */
	gid_t admin_gid;           /* (gid_t)-1: no admin group */
	const char *admin_group;   /* borrowed: its name, for messages only; may be NULL */
	uid_t daemon_uid;          /* the daemon's own uid, admin too; (uid_t)-1: none */
	unsigned max_conns;        /* CTL_MAX_CONNS */
	uint64_t idle_ms;          /* CTL_IDLE_MS */
	size_t max_request_bytes;  /* CTL_MAX_REQUEST_BYTES, one line without '\n' */
	size_t max_pending_out_bytes; /* CTL_MAX_PENDING_OUT_BYTES */
};

/* Appends the next part of a result to w; true once the result is whole
 * (control_call_reply_parts()). */
typedef bool (*control_part_fn)(struct json_writer *w, void *userdata);
