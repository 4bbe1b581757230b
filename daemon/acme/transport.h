/* daemon/acme/transport.h: talking to one ACME CA (RFC 8555 sections 6 and 7.1-7.2).
 *
 * An acme_conn owns, for one CA: the cached directory, the nonce pool, the account identity
 * to sign with, and the retry policy. Requests ("ops") run on the struct http it is given
 * and on uv timers of the loop; nothing blocks.
 *
 * Policy, the same for every op:
 *  - Nonces: every Replay-Nonce that arrives (errors included) goes into a pool of at most
 *    ACME_MAX_NONCES, newest used first, invalid values ignored. An empty pool is refilled
 *    with HEAD newNonce (the directory is fetched first if needed).
 *  - badNonce (400 + urn:ietf:params:acme:error:badNonce): re-signed with a fresh nonce and
 *    sent again at once, at most max_bad_nonce times; the caller never sees it unless that
 *    runs out.
 *  - 5xx and transient network errors (-ETIMEDOUT, -ECONNREFUSED, -ECONNRESET,
 *    -EHOSTUNREACH): retried after 1 s, 2 s, 4 s, ... (capped at backoff_max_ms), at most
 *    max_retries times; then the last answer (or error) is delivered. POSTs are retried
 *    too, re-signed with a new nonce each time, as certbot and lego do.
 *  - 429/503 with Retry-After <= max_retry_after_ms: wait that long (at least 1 s) on a
 *    timer and retry; this counts as one of max_retries. A longer Retry-After, or a 429
 *    without one, is delivered at once with retry_after_sec set, so the caller can
 *    reschedule.
 *  - Nothing retries in a tight loop; every wait is a uv timer; each retry is logged at
 *    info level with the status and problem type.
 *
 * Replies: every op ends in exactly one callback, always from the loop (never from inside
 * the call that started it), unless it is cancelled (acme_op_cancel, acme_conn_free).
 * reply->error is 0 whenever the CA answered, whatever the HTTP status: look at status and
 * problem. It is negative when no usable answer came: a network error after the retries,
 * -E2BIG for a body over ACME_MAX_BODY_BYTES, or -EPROTO for a 2xx whose JSON does not
 * parse (truncated, for example). The directory is stricter: anything but a 200 carrying a
 * valid directory is -EPROTO (status, problem and retry_after_sec are still filled in).
 * error_text then says what happened, with the method and URL. A non-2xx answer whose
 * problem document does not parse has error 0 and problem NULL.
 *
 * Ownership: an acme_conn borrows the struct http and the loop, which must outlive it.
 * acme_conn_free() cancels all its ops (no callbacks) and may be called from a callback;
 * ops release their memory in uv close callbacks, so run the loop before uv_loop_close().
 *
 * Errors of the functions here: -EINVAL bad arguments (including a POST with no account
 * key set), -ENOMEM, or what http_submit() returns. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h" /* before uv.h: see http.h */
#include <uv.h>
#include <yajl/yajl_tree.h>

#include "common/key.h"
#include "daemon/acme/http.h"
#include "daemon/acme/msg.h"
#include "daemon/acme/transport_reply.h"
#include "daemon/acme/transport_retry.h"

struct acme_conn; /* opaque */
struct acme_op;   /* opaque: one request, retries included */

/* struct acme_reply and acme_cb: see transport_reply.h; struct acme_retry_policy: see
 * transport_retry.h. */


/* directory_url must be https://. ca_bundle (may be NULL: system trust) is a PEM file of
 * the roots that CA's HTTPS certificate must chain to; both are copied. */
int acme_conn_new(struct http *http, uv_loop_t *loop, const char *directory_url,
		  const char *ca_bundle, struct acme_conn **ret);
void acme_conn_free(struct acme_conn *c); /* NULL is a no-op */
DEFINE_FREEP(struct acme_conn, acme_conn_free)

/* Replaces the policy (the defaults are listed above); for tests and special CAs. */
void acme_conn_set_policy(struct acme_conn *c, const struct acme_retry_policy *p);
void acme_conn_get_policy(const struct acme_conn *c, struct acme_retry_policy *ret);

/* The identity POSTs are signed with. key is borrowed and must outlive every op started
 * while it is set (an op keeps the key and kid it started with, through all its retries,
 * so a key rollover does not change a request in flight). kid is the account URL (copied);
 * NULL makes every POST embed the key's JWK instead, as newAccount needs. */
int acme_conn_set_account(struct acme_conn *c, const struct key *key, const char *kid);

/* Signing by another process (daemon/signer): the account key never enters this one.
 * sign() starts signing a flattened JWS for url with nonce, kid (NULL: embed the JWK) and
 * payload (NULL: POST-as-GET); it calls done exactly once, from the loop and never from
 * inside sign(), unless cancel(ctx, *ret_id) is called first. done's jws is valid during
 * the call; r < 0 with a reason (a refusal, or the signer is gone). */
typedef void (*acme_sign_done_fn)(int r, const char *jws, const char *why, void *ud);
struct acme_signer_ops {
	int (*sign)(void *ctx, const char *url, const char *nonce, const char *kid,
		    const char *payload, acme_sign_done_fn done, void *ud, uint64_t *ret_id);
	void (*cancel)(void *ctx, uint64_t id);
};

/* Like acme_conn_set_account(), but POSTs are signed through ops/ctx (borrowed: they must
 * outlive every op). Replaces a key set before, and the other way round. */
int acme_conn_set_signer(struct acme_conn *c, const struct acme_signer_ops *ops, void *ctx,
			 const char *kid);

/* Fetches the directory once and caches it; later calls (and calls while a fetch is in
 * flight) are answered from the cache or from that one fetch. The reply's json is the
 * directory object. A failed fetch is not cached: the next call tries again. */
int acme_conn_directory(struct acme_conn *c, acme_cb cb, void *ud);
/* The cached directory, or NULL until a fetch succeeded. Borrowed from c. */
const struct acme_directory *acme_conn_get_directory(const struct acme_conn *c);

/* A JWS-signed POST (flattened JSON, Content-Type application/jose+json). payload is the
 * JSON text to sign (copied); NULL is POST-as-GET (empty payload). use_jwk embeds the
 * account key's JWK instead of the kid (newAccount, or before the account URL is known).
 *
 * keyChange and external account binding need no raw variant: their inner JWS
 * (jws_key_change_inner(), jws_eab() in common/jws.h) is part of the payload, which this
 * function signs afresh for every attempt, so a badNonce retry still works.
 * *ret_op (ret_op may be NULL) is valid until the callback starts or the op is cancelled. */
int acme_conn_post(struct acme_conn *c, const char *url, const char *payload, bool use_jwk,
		   acme_cb cb, void *ud, struct acme_op **ret_op);

/* The same (signed with the kid), for a request that must not be made twice, like
 * newOrder: it goes on a fresh connection (see http_request.fresh_connection), and a
 * network error after the request may have left (anything but a refused
 * connection) and a 5xx are delivered at once instead of being sent again, since the CA
 * may have acted on the first one. badNonce and a short Retry-After are still handled. */
int acme_conn_post_once(struct acme_conn *c, const char *url, const char *payload, acme_cb cb,
			void *ud, struct acme_op **ret_op);

/* The same, signed by another key with its JWK embedded: revokeCert by the certificate's
 * own key (RFC 8555 section 7.6). key is borrowed until the op ends. */
int acme_conn_post_with_key(struct acme_conn *c, const char *url, const char *payload,
			    const struct key *key, acme_cb cb, void *ud,
			    struct acme_op **ret_op);

/* An unauthenticated GET, e.g. ARI renewalInfo (RFC 9773). Same retry policy. */
int acme_conn_get(struct acme_conn *c, const char *url, acme_cb cb, void *ud,
		  struct acme_op **ret_op);

/* Stops an op; its callback is not called. NULL, or an op whose callback is running, is a
 * no-op. */
void acme_op_cancel(struct acme_op *op);


/* Nonces in the pool (tests). */
size_t acme_conn_get_nonce_count(const struct acme_conn *c);
/* HTTP exchanges with this CA since start, retries included, and those that
 * failed (no answer, or an HTTP status >= 400, badNonce included). */
void acme_conn_get_counts(const struct acme_conn *c, uint64_t *ret_requests, uint64_t *ret_errors);
