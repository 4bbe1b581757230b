/* daemon/ratelimit.h: at most one log line per RATELIMIT_INTERVAL_MS for one
 * kind of message; the ones held back are counted and the next line that
 * passes says how many there were. For messages a peer can provoke at will
 * (refused connections, denied calls), so that it cannot flood the journal.
 *
 * Pure: the caller passes the time (uv_now() milliseconds) and owns the
 * struct; a zeroed struct ratelimit lets the first message through. It does
 * not log: the caller logs when ratelimit_pass() says so. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_INTERVAL_MS 1000

struct ratelimit {
	uint64_t next_ms;
	unsigned suppressed;
};

/* True when a message may be logged now; suffix then says how many were
 * not ("" when none). */
bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ms, char *suffix, size_t size);
