/* tests/fuzz/fuzz_http_link.c: the Link header grammar (daemon/acme/http_link).
 * Input: one Link header value. Beyond ASan's bounds checks, aborts if a target
 * does not lie inside the input or a relation type is empty or over the 128
 * bytes http_link.h promises. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "daemon/acme/http_link.h"

struct bounds {
	const char *s;
	size_t n;
};

static void on_link(void *userdata, const char *url, size_t url_len, const char *rel,
		    size_t rel_len)
{
	const struct bounds *b = userdata;

	if (url < b->s || url_len > b->n || url - b->s > (ptrdiff_t)(b->n - url_len))
		abort();
	if (rel_len == 0 || rel_len > 128 || !rel)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounds b = { (const char *)data, size };

	http_link_parse(b.s, b.n, on_link, &b);
	return 0;
}
