/* libFuzzer harness: the record parser and the evaluator on arbitrary bytes.
 * The input is split at 0xff bytes into several RRs, so the evaluator's
 * multi-record ranking is exercised too. */
#include <stdint.h>
#include <string.h>

#include "common/limits.h"
#include "common/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record *r = NULL;
	struct record_error err;

	if (record_parse((const char *)data, size, &r, &err) == 0)
		record_free(r);

	struct record_rr rrs[RECORD_MAX_RRS];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < RECORD_MAX_RRS; i++) {
		if (i == size || data[i] == 0xff) {
			rrs[n++] = (struct record_rr){ (const char *)data + start, i - start };
			start = i + 1;
		}
	}
	const char *issuers[] = { "ca.example", "other.example" };
	struct record_query q = { issuers, 2, "https://ca.example/acct/1", size & 1, 1767225600 };
	struct record_verdict v;
	(void)record_evaluate(rrs, n, &q, &v);

	char *zone = NULL;
	if (record_zone_line("_validation-persist.example.com", (const char *)data, size, 60,
			     &zone) == 0)
		free(zone);
	return 0;
}
