/* tests/fuzz/fuzz_dnswire.c: a DNS reply as the stub transport receives it
 * (any bytes), read the way the DNS checker reads it: the header, the
 * question, every RR, each RR's data in the forms a lookup keeps (TXT
 * strings joined, a CNAME or NS name, an address). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/dnscheck_pure.h"
#include "common/dnscheck_rr.h"
#include "common/dnswire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { 16, 257, 5, 2, 1, 28 };
	struct dnswire_msg m;
	struct dnswire_rr rr;
	struct dnswire_iter it = { 0 };
	char text[DNSCHECK_NAME_BUF];

	if (dnswire_parse(data, size, &m) < 0)
		return 0;
	(void)dnscheck_pure_dname_to_str(m.qname, m.qname_len, text, sizeof(text));
	while (dnswire_rr_next(&m, &it, &rr) > 0) {
		(void)dnscheck_rr_owner(&rr, text, sizeof(text));
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			struct dc_blob b = { 0 };
			if (dnscheck_rr_blob(&m, &rr, types[i], &b) == 0)
				free(b.data);
		}
	}
	return 0;
}
