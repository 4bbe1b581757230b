/* daemon/controlreply.h: answering a call of the control socket, at once or
 * later, with a result, a result made in parts, or an error; and the
 * notifications subscribers get. Every call is consumed exactly once.
 * Implemented in daemon/controlreply.c; the server is daemon/control.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/controltypes.h"

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
