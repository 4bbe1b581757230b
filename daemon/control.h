/* daemon/control.h: the control socket server (JSON-RPC 2.0 over a Unix
 * stream socket, one JSON object per line; docs/control-api.md).
 *
 * Owns the listening socket, every client connection and their buffers. The
 * caller registers methods; the server parses and validates each request
 * (common/jrpc), checks authorization, calls the method's handler and writes
 * what the handler answers. Everything runs on the caller's uv loop, one
 * thread; nothing here blocks.
 *
 * Authorization: the peer's uid, gid and supplementary groups come from
 * SO_PEERCRED and SO_PEERGROUPS when it connects (no NSS lookups). A peer is
 * admin when its uid is 0 or the daemon's uid, or its primary or a
 * supplementary gid is the admin group. Methods marked mutating answer
 * JRPC_PERMISSION_DENIED to everyone else; the rest serve anyone who can open
 * the socket (its mode and group decide that).
 *
 * Per connection, requests are handled strictly one at a time, in order:
 * while a handler has not answered, later lines wait in the connection's
 * buffer and the socket is not read. Garbage and invalid requests get an
 * error reply and the connection stays usable. Limits, each ending in an
 * error and/or a disconnect, never in unbounded memory or a stalled loop:
 *   - a line over max_request_bytes: JRPC_REQUEST_TOO_LARGE, then close;
 *   - more than max_conns connections: the newcomer gets one JRPC_BUSY line
 *     and is closed (logged at most once a second);
 *   - no complete request for idle_ms (half lines included): close. A
 *     connection whose handler is still working, or that subscribed to
 *     notifications, is never idle;
 *   - unsent output over max_pending_out_bytes when another message is
 *     queued (a client that does not read): close.
 * At end of input (the client shut down its sending side) the remaining
 * lines, a last one without '\n' included, are answered and the connection
 * is closed once its output has been written; a subscriber stays open for
 * notifications until it goes away (noticed when writing to it).
 *
 * SIGPIPE: libuv writes with write(2), so a client that hangs up before
 * reading would raise SIGPIPE, whose default action ends the process.
 * control_new() therefore sets SIGPIPE to SIG_IGN when it is still SIG_DFL.
 *
 * Errors: control_new() returns -errno and logs why; while running, errors
 * end one connection and are logged there, never returned. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include <yajl/yajl_tree.h>

#include "common/jrpc.h"
#include "common/macro.h"

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

/* listen_fd -1, mode 0660, no group change, no admin group, daemon_uid
 * getuid(), default limits. */
void control_options_init(struct control_options *o);

/* Starts listening. A socket file left at path by a dead daemon (connecting
 * to it is refused) is replaced; anything else there (a live socket, a
 * regular file, a directory) is an error (-EADDRINUSE, -EEXIST) and is left
 * alone. The socket is created mode 0600 and only then given its group and
 * mode, so no one else can connect in between. methods (and the strings in
 * them) are borrowed and must outlive the server; userdata is passed to
 * every handler. Returns -errno (logged). On failure the handles already
 * opened are being closed: as always with libuv, run the loop once more
 * before uv_loop_close(). */
int control_new(uv_loop_t *loop, const struct control_options *o,
		const struct control_method *methods, size_t n_methods, void *userdata,
		struct control **ret);

/* Closes the listener and every connection, and removes the socket file if
 * we created it and it is still ours. Memory is released in close callbacks,
 * so run the loop until it has no handles left. Calls still held by handlers
 * stay valid: answering them is a no-op that frees them, and they must still
 * be answered. NULL is a no-op. Do not call it from a handler. */
void control_free(struct control *c);

/* Connections open now (for status output). */
unsigned control_connections(const struct control *c);

/* Sends a notification {"jsonrpc":"2.0","method":...,"params":...} to every
 * subscribed connection; params_json (len bytes) is an object or an array,
 * or NULL. Returns how many connections it was queued on, or -EINVAL when
 * params_json is not a JSON object or array (logged), -ENOMEM. A subscriber
 * that has not read max_pending_out_bytes of earlier output is dropped. */
int control_notify(struct control *c, const char *method, const char *params_json, size_t len);

/* Answers the call with result_json (len bytes of one JSON value; newlines
 * are fine) and consumes it. Invalid JSON is a bug: it is logged and the
 * client gets JRPC_INTERNAL_ERROR. A no-op apart from freeing the call when
 * the connection is gone or the request was a notification. */
void control_call_reply(struct control_call *call, const char *result_json, size_t len);
/* As control_call_reply() for a result a json_writer produced (compact and
 * valid by construction): not parsed again (see jrpc_result_trusted()). */
void control_call_reply_trusted(struct control_call *call, const char *result_json, size_t len);
/* A result too long to make in one go: the status of 10k certs is 12 MB of
 * JSON, 100k certs ten times that. make() appends the next part of the
 * result (about CONTROL_PART_BYTES) to w, an empty compact writer the first
 * time, and returns true once the result is one whole value. Each part goes
 * to the socket as soon as it is made, and make() is called again only once
 * the socket has taken it, so a slow client holds back the making, not the
 * daemon's memory; the loop runs other work between turns (at least every
 * CONTROL_TURN_BYTES). So the daemon may change between two parts: make()
 * must read it afresh each time. free_userdata (may be NULL) runs once, when
 * the result is sent or the call is given up (the connection gone, a client
 * that stops reading for idle_ms). A writer that fails gets the client
 * JRPC_INTERNAL_ERROR, or, once part of the line is out, a closed
 * connection. Consumes the call. */
#define CONTROL_PART_BYTES (64 * 1024)
#define CONTROL_TURN_BYTES (1024 * 1024)
typedef bool (*control_part_fn)(struct json_writer *w, void *userdata);
void control_call_reply_parts(struct control_call *call, control_part_fn make, void *userdata,
			      void (*free_userdata)(void *userdata));
/* Answers with an error and consumes the call. message is plain text;
 * data_json is one JSON value or NULL. */
void control_call_error(struct control_call *call, int code, const char *message,
			const char *data_json);

/* Marks the call's connection as an event subscriber: it receives every
 * control_notify() from now on, until it disconnects, and is no longer
 * dropped for being idle. Call it before answering. */
void control_call_subscribe(struct control_call *call);

/* Borrowed from call; valid until it is consumed. */
const struct control_peer *control_call_peer(const struct control_call *call);
const char *control_call_method(const struct control_call *call);
/* False once the server has dropped the call's connection (an error, a
 * limit, control_free()). A client that went away while its call was being
 * handled is noticed only when the answer is written. */
bool control_call_connected(const struct control_call *call);
