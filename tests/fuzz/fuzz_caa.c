/* tests/fuzz/fuzz_caa.c: CAA RDATA splitting, issue-value parsing and
 * evaluation. Input: one flags byte (bit 0 wildcard, bit 1 no account URI),
 * then RRs as a 2-byte big-endian length and that many bytes of RDATA. */
#include <stddef.h>
#include <stdint.h>

#include "common/caa.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const issuers[] = { "ca.test", "ca2.test" };
	struct caa_rr rrs[CAA_MAX_RRS];
	struct caa_verdict v;
	struct caa_issue ci;
	size_t n = 0, i = 1;

	if (size < 1)
		return 0;
	caa_issue_parse((const char *)data, size, &ci);
	while (i + 2 <= size && n < CAA_MAX_RRS) {
		size_t len = (size_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		if (caa_rr_parse(data + i, len, &rrs[n]) == 0)
			n++;
		i += len;
	}
	struct caa_query q = {
		.issuers = issuers,
		.n_issuers = 2,
		.account_uri = (data[0] & 2) ? NULL : "https://ca.test/acct/1",
		.wildcard = data[0] & 1,
	};
	(void)caa_evaluate(rrs, n, &q, &v);
	return 0;
}
