/* tests/fuzz/fuzz_x509.c: x509_parse_leaf() and the chain helpers on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/macro.h"
#include "common/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(x509_info_done) struct x509_info info = { 0 };
	_cleanup_free_ char *cn = NULL;

	(void)x509_parse_leaf((const char *)data, size, &info);
	(void)x509_chain_count((const char *)data, size);
	(void)x509_chain_top_issuer_cn((const char *)data, size, &cn);
	return 0;
}
