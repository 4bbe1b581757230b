/* daemon/acme/pollwait.c: see pollwait.h. */
#include <errno.h>

#include "common/macro.h"
#include "daemon/acme/pollwait.h"

int pollwait_next_in(struct pollwait *p, uint64_t first_ms, uint64_t cap_ms, uint64_t max_ms,
		     int64_t retry_after_sec, uint64_t *ret_ms)
{
	uint64_t ms = p->next_ms ? p->next_ms : first_ms;

	if (retry_after_sec > 0)
		ms = (uint64_t)MIN(retry_after_sec, (int64_t)60) * 1000;
	if (p->waited_ms + ms > max_ms)
		return -ETIMEDOUT;
	p->waited_ms += ms;
	p->next_ms = MIN(ms * 2, cap_ms);
	*ret_ms = ms;
	return 0;
}

int pollwait_next(struct pollwait *p, int64_t retry_after_sec, uint64_t *ret_ms)
{
	return pollwait_next_in(p, POLLWAIT_FIRST_MS, POLLWAIT_CAP_MS, POLLWAIT_MAX_MS,
				retry_after_sec, ret_ms);
}

void pollwait_reset(struct pollwait *p)
{
	*p = (struct pollwait){ 0 };
}
