/* daemon/acme/pollwait.c: see pollwait.h. */
#include <errno.h>

#include "common/macro.h"
#include "daemon/acme/pollwait.h"

int pollwait_next(struct pollwait *p, int64_t retry_after_sec, uint64_t *ret_ms)
{
	uint64_t ms = p->next_ms ? p->next_ms : POLLWAIT_FIRST_MS;

	if (retry_after_sec > 0)
		ms = (uint64_t)MIN(retry_after_sec, (int64_t)60) * 1000;
	if (p->waited_ms + ms > POLLWAIT_MAX_MS)
		return -ETIMEDOUT;
	p->waited_ms += ms;
	p->next_ms = MIN(ms * 2, (uint64_t)POLLWAIT_CAP_MS);
	*ret_ms = ms;
	return 0;
}

void pollwait_reset(struct pollwait *p)
{
	*p = (struct pollwait){ 0 };
}
