/* daemon/acme/http.h: HTTPS requests on libcurl's multi_socket API, driven by the libuv loop.
 *
 * Owns one CURLM per loop, its uv timer and one uv_poll per socket curl announces (the
 * pattern of curl's multi-uv example). Nothing here blocks the loop: name resolution is
 * curl's threaded resolver, and every wait is a uv handle.
 *
 * Promises:
 *  - A callback is always called from the loop (the drain after a uv poll or timer event),
 *    never from inside a curl callback and never from inside http_submit(), so it may
 *    submit, cancel, or even http_free() freely.
 *  - Each submitted transfer ends in exactly one callback, unless it is cancelled
 *    (http_cancel, http_free), in which case the callback is never called.
 *  - Safe transport defaults: HTTPS only (plain http only with req->allow_http, for tests),
 *    no redirects followed (a 201's Location is data, and a JWS must never be re-sent),
 *    no signals, a connect timeout, a total timeout, a body cap and a header cap.
 *  - ca_bundle replaces the system trust entirely (CAINFO set, CAPATH cleared).
 *  - Every string in a response is NUL-terminated; URLs from Location and Link headers are
 *    kept byte for byte when absolute (an account URL is an identity) and resolved against
 *    the request URL when relative.
 *
 * Errors of http_new/http_submit: -EINVAL bad request, -ENOMEM, -EIO curl refused.
 * Errors in a response (resp->error), with curl's own text in resp->error_text:
 *   -ETIMEDOUT     connect or total timeout
 *   -ECONNREFUSED  could not connect
 *   -ECONNRESET    the connection broke mid-transfer (send/recv error, empty reply, short
 *                  body, HTTP/2 stream error)
 *   -EHOSTUNREACH  the host name did not resolve
 *   -E2BIG         body over max_body_bytes, or headers over ACME_MAX_HEADER_BYTES
 *   -EPROTO        TLS or HTTP failure, including a server certificate that is not trusted
 *   -EINVAL        bad request or an unreadable ca_bundle
 *   -ENOMEM, -EIO  anything else
 * The first four are transient (worth a retry); the others are not. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Before uv.h: uv.h pulls in <sys/param.h>, whose MIN/MAX (guarded by #ifndef) must not
 * come first, or common/macro.h redefines them and -Werror stops the build. */
#include "common/macro.h"
#include <uv.h>

struct http;      /* opaque: one per loop */
struct http_xfer; /* opaque: one transfer */

struct http_request {
	const char *method;       /* "GET", "HEAD" or "POST" */
	const char *url;          /* https:// */
	const char *body;         /* POST only; body_len bytes, need not be NUL-terminated */
	size_t body_len;
	const char *content_type; /* POST only, e.g. "application/jose+json"; NULL: none */
	const char *ca_bundle;    /* PEM file of trust roots; NULL = the system's trust */
	uint64_t timeout_ms;      /* whole transfer; 0 = ACME_HTTP_TIMEOUT_MS */
	size_t max_body_bytes;    /* 0 = ACME_MAX_BODY_BYTES */
	const char *user_agent;   /* NULL = "persistd/<version>" */
	bool allow_http;          /* tests only: also accept http:// URLs */
	bool fresh_connection;    /* a new connection: on a reused one that turns out dead
				   * before any answer, curl sends the request again by
				   * itself, which a request that must go once cannot have */
};

struct http_response {
	int error;               /* 0, or -errno as listed above */
	char error_text[256];    /* "" when error == 0 */
	long status;             /* HTTP status; 0 if none was received */
	const char *body;        /* body_len bytes plus a NUL; "" when empty or when error != 0 */
	size_t body_len;
	const char *content_type; /* NULL when absent; as sent, parameters included */
	const char *location;     /* NULL when absent */
	const char *replay_nonce; /* NULL when absent; the raw header value */
	int64_t retry_after_sec;  /* Retry-After in seconds (dates converted); -1 if absent */
	const char *const *link_alternate; /* Link rel="alternate" targets, in order */
	size_t n_link_alternate;           /* at most ACME_MAX_LINKS */
	const char *link_up;    /* first Link rel="up", or NULL */
	const char *link_index; /* first Link rel="index", or NULL */
	const char *link_next;  /* first Link rel="next" (a list's next page), or NULL */
	const char *url;        /* the request URL */
};

/* resp (and everything it points to) is valid only during the callback. */
typedef void (*http_cb)(const struct http_response *resp, void *userdata);

/* Initializes libcurl (reference-counted curl_global_init) on first use. */
int http_new(uv_loop_t *loop, struct http **ret);

/* Cancels every transfer (no callback is called) and closes the uv handles. The memory is
 * released by close callbacks: run the loop afterwards (uv_run) before uv_loop_close().
 * May be called from inside a callback. NULL is a no-op. */
void http_free(struct http *h);
DEFINE_FREEP(struct http, http_free)

/* Starts a transfer. Everything in req is copied, so req may go away after the call.
 * *ret_xfer (ret_xfer may be NULL) identifies the transfer for http_cancel(); it is valid
 * until the callback starts or the transfer is cancelled. On error nothing was started and
 * cb will not be called. */
int http_submit(struct http *h, const struct http_request *req, http_cb cb, void *userdata,
		struct http_xfer **ret_xfer);

/* Stops a transfer; its callback is not called. NULL, or a transfer whose callback is
 * running, is a no-op. */
void http_cancel(struct http_xfer *x);

/* Transfers started and not yet finished (for tests and status). */
size_t http_get_active(const struct http *h);
