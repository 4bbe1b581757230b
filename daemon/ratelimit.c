/* daemon/ratelimit.c: see ratelimit.h. */
#include "common/strutil.h"
#include "daemon/ratelimit.h"

bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ms, char *suffix, size_t size)
{
	if (now_ms < rl->next_ms) {
		rl->suppressed++;
		return false;
	}
	rl->next_ms = now_ms + RATELIMIT_INTERVAL_MS;
	if (rl->suppressed)
		str_printf(suffix, size, " (%u more since the last message)", rl->suppressed);
	else
		suffix[0] = '\0';
	rl->suppressed = 0;
	return true;
}
