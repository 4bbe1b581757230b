/* daemon/acme/transport_retry.c: the retry policy's numbers. See transport_retry.h. */
#include <errno.h>

#include "common/limits.h"
#include "common/macro.h"
#include "daemon/acme/transport_retry.h"

const struct acme_retry_policy transport_retry_default = {
	.max_retries = 4,
	.max_bad_nonce = 5,
	.backoff_first_ms = 1000,
	.backoff_max_ms = 60 * 1000,
	.max_retry_after_ms = 120 * 1000,
	.timeout_ms = ACME_HTTP_TIMEOUT_MS,
};

void transport_retry_normalize(struct acme_retry_policy *p)
{
	if (p->backoff_first_ms == 0)
		p->backoff_first_ms = 1; /* never a tight loop */
	if (p->backoff_max_ms < p->backoff_first_ms)
		p->backoff_max_ms = p->backoff_first_ms;
	if (p->timeout_ms == 0)
		p->timeout_ms = ACME_HTTP_TIMEOUT_MS;
}

bool transport_retry_is_transient(int error)
{
	return error == -ETIMEDOUT || error == -ECONNREFUSED || error == -ECONNRESET ||
	       error == -EHOSTUNREACH;
}

uint64_t transport_retry_backoff_ms(const struct acme_retry_policy *p, unsigned retry)
{
	uint64_t ms = p->backoff_first_ms;

	for (unsigned i = 0; i < retry && ms < p->backoff_max_ms; i++)
		ms *= 2;
	return MIN(ms, p->backoff_max_ms);
}
