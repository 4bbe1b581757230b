/* daemon/acme/transport_retry.h: the numbers of the retry policy of daemon/acme/transport
 * (the policy itself is described in transport.h, which includes this header).
 *
 * Owns: struct acme_retry_policy and its defaults, the fixing of a policy a caller sets
 * (never a zero backoff, so never a tight loop), which network errors count as transient,
 * and the exponential backoff. Pure: no loop, no I/O, no logging, no clock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct acme_retry_policy {
	unsigned max_retries;        /* 5xx, network errors, short Retry-After: 4 */
	unsigned max_bad_nonce;      /* badNonce re-signs: 5 */
	uint64_t backoff_first_ms;   /* first backoff, doubled each time: 1000 */
	uint64_t backoff_max_ms;     /* cap: 60000 */
	uint64_t max_retry_after_ms; /* longer Retry-After is the caller's business: 120000 */
	uint64_t timeout_ms;         /* one HTTP request: ACME_HTTP_TIMEOUT_MS */
};

/* max_retries 4, max_bad_nonce 5, backoff 1 s doubling up to 60 s, Retry-After up to
 * 120 s, ACME_HTTP_TIMEOUT_MS per request. */
extern const struct acme_retry_policy transport_retry_default;

/* A zero first backoff becomes 1 ms, a cap below it becomes it, a zero timeout the
 * default timeout. */
void transport_retry_normalize(struct acme_retry_policy *p);
/* -ETIMEDOUT, -ECONNREFUSED, -ECONNRESET, -EHOSTUNREACH. */
bool transport_retry_is_transient(int error);
/* The wait before retry number retry + 1: backoff_first_ms doubled retry times, capped at
 * backoff_max_ms. */
uint64_t transport_retry_backoff_ms(const struct acme_retry_policy *p, unsigned retry);
