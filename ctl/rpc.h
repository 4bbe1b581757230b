/* ctl/rpc.h: persistctl's blocking JSON-RPC client for the daemon's control
 * socket (docs/control-api.md).
 *
 * One connection, one call at a time: rpc_call() sends a request and waits
 * for its answer; notifications that arrive meanwhile are queued for
 * rpc_next_notification() (persistctl watch). Waits use poll() with the
 * client's timeout; this is a CLI, there is no loop. Replies are bounded by
 * CTL_MAX_RESPONSE_BYTES per line, and queued notifications by the same
 * amount in total. SIGPIPE is never raised (MSG_NOSIGNAL).
 *
 * Errors (-errno): rpc_connect() gives -ENOENT (no socket: the daemon is
 * not running or uses another path), -ECONNREFUSED (a socket file but no
 * daemon behind it), -EACCES (the socket exists but we may not open it:
 * not in its group), -ETIMEDOUT (the daemon does not accept), -ENAMETOOLONG.
 * The others: -ETIMEDOUT, -ECONNRESET (the daemon closed the connection),
 * -EPROTO (the daemon sent something that is not JSON-RPC 2.0), -E2BIG (a
 * reply over the limit), -EINVAL (bad arguments), -ENOMEM. After any error
 * but -ETIMEDOUT from rpc_call() and -EINVAL, the client only repeats it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"

struct rpc_client;

/* An error answer from the daemon (rpc_call() returned 1). */
struct rpc_error {
	int code;          /* enum jrpc_code, e.g. JRPC_PERMISSION_DENIED */
	char *message;     /* owned: one line of text */
	char *data_json;   /* owned: raw JSON of "data"; NULL when absent */
	bool refused;      /* sent with a null id: the daemon refused the connection or the
			    * request as a whole (JRPC_BUSY at its connection limit) and
			    * closed; it says nothing about what was asked */
};

void rpc_error_done(struct rpc_error *e); /* frees the members; the struct may be reused */

/* Connects within timeout_ms (0: no limit), which also becomes the client's
 * timeout for each call. */
int rpc_connect(const char *path, uint64_t timeout_ms, struct rpc_client **ret);
/* Time allowed for each later rpc_call(); 0: no limit. */
void rpc_set_timeout(struct rpc_client *c, uint64_t timeout_ms);

/* Calls method with params_json (an object or array, or NULL for none).
 * 0: success, *ret_result (may be NULL to ignore) gets the result (a yajl
 * null node for null; free with yajl_tree_free). 1: the daemon answered with
 * an error, in *ret_err (may be NULL; call rpc_error_done() after). This
 * includes errors the daemon sent with a null id just before closing, such
 * as JRPC_BUSY (too many connections) and JRPC_REQUEST_TOO_LARGE.
 * < 0: -errno as above. A reply that arrives after its call timed out is
 * skipped. */
int rpc_call(struct rpc_client *c, const char *method, const char *params_json,
	     yajl_val *ret_result, struct rpc_error *ret_err);
/* As rpc_call(); a plain success reply is first offered to jsonpass_result()
 * (ctl/jsonpass.h): 0 with ret_pass->taken (written to ret_pass->out) and *ret_result untouched when
 * it took it, else exactly as rpc_call(). */
struct jsonpass;
int rpc_call_pass(struct rpc_client *c, const char *method, const char *params_json,
		  struct jsonpass *ret_pass, yajl_val *ret_result, struct rpc_error *ret_err);

/* Waits up to timeout_ms (< 0: forever) for the next notification. 1: got
 * one, *ret_method (free()) and *ret_params (object, array or NULL; free with
 * yajl_tree_free). 0: none in time. -EINTR: a signal arrived (so a signal
 * handler can stop `persistctl watch`). Other -errno as above; -ECONNRESET
 * when the daemon closed the connection (it stopped, or we did not keep up). */
int rpc_next_notification(struct rpc_client *c, int timeout_ms, char **ret_method,
			  yajl_val *ret_params);

void rpc_close(struct rpc_client *c); /* NULL is a no-op */
DEFINE_FREEP(struct rpc_client, rpc_close)
