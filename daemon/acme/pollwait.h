/* daemon/acme/pollwait.h: how long to wait before asking the CA again about
 * something that is still processing (an authorization, an order, a
 * certificate): the CA's Retry-After when it gave one (capped at a minute),
 * else 100 ms doubling up to 15 s, and no more than 10 minutes in all.
 * The first wait is short because a CA often finishes in well under a second
 * (a validation against a DNS server nearby, an issuance without a queue):
 * the old 500 ms start cost most of a renewal's wall time twice (after the
 * challenge, after finalize), while starting at 100 ms adds only two
 * requests to a wait that lasts seconds. A CA that wants fewer says so with
 * Retry-After, which always wins.
 * Pure: the caller owns the timer and the clock. */
#pragma once

#include <stdint.h>

#define POLLWAIT_FIRST_MS 100
#define POLLWAIT_CAP_MS (15 * 1000)
#define POLLWAIT_MAX_MS (10 * 60 * 1000)

struct pollwait {
	uint64_t next_ms;   /* the doubling wait; 0 before the first */
	uint64_t waited_ms; /* waited so far, in all */
};

/* The next wait in *ret_ms, counted as waited; -ETIMEDOUT when it would take
 * the total past POLLWAIT_MAX_MS. retry_after_sec <= 0: the CA said nothing. */
int pollwait_next(struct pollwait *p, int64_t retry_after_sec, uint64_t *ret_ms);

/* The same doubling with the caller's bounds: first_ms, doubling up to
 * cap_ms, no more than max_ms in all (dns-01's wait for its record, bounded
 * by the propagation timeout). pollwait_next() is this with the defaults. */
int pollwait_next_in(struct pollwait *p, uint64_t first_ms, uint64_t cap_ms, uint64_t max_ms,
		     int64_t retry_after_sec, uint64_t *ret_ms);

/* Starts over, for the next thing to wait for. */
void pollwait_reset(struct pollwait *p);
