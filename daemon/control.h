/* daemon/control.h: the control socket server (JSON-RPC 2.0 over a Unix
 * stream socket, one JSON object per line; docs/control-api.md).
 *
 * Owns the listening socket, every client connection and their buffers. The
 * caller registers methods; the server parses and validates each request
 * (common/jrpc), checks authorization, calls the method's handler and writes
 * what the handler answers. Everything runs on the caller's uv loop, one
 * thread; nothing here blocks. daemon/control.c holds the connections and
 * daemon/controlreply.c the answers (daemon/control_internal.h between them).
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

#include "common/jrpc.h"
#include "common/macro.h"
#include "daemon/controlreply.h"
#include "daemon/controltypes.h"

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
