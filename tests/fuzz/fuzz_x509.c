/* tests/fuzz/fuzz_x509.c: x509_parse_leaf(), the chain helpers and certcheck_chain() (which
 * reads what a CA sent before it is installed) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/certcheck.h"
#include "common/key.h"
#include "common/macro.h"
#include "common/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct key *key; /* made once: generating a key per input would be all we do */
	static const char *const names[] = { "leaf.example.com", "www.example.com" };
	_cleanup_(x509_info_done) struct x509_info info = { 0 };
	_cleanup_(certcheck_result_done) struct certcheck_result check = { 0 };
	_cleanup_free_ char *cn = NULL;

	(void)x509_parse_leaf((const char *)data, size, &info);
	(void)x509_chain_count((const char *)data, size);
	(void)x509_chain_top_issuer_cn((const char *)data, size, &cn);
	if (!key && key_generate(KEY_EC_P256, &key) < 0)
		return 0;
	(void)certcheck_chain((const char *)data, size, names, ELEMENTSOF(names), key,
			      1736000000, &check);
	return 0;
}
