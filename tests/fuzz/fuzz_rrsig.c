/* tests/fuzz/fuzz_rrsig.c: a DNS reply as the stub transport receives it
 * (any bytes), judged the way common/dnscheck_sigs judges a TXT answer: the
 * signer of its RRSIG, then the RRSIGs against the keys of
 * tests/unit/rrsig_vectors.h (RSA, P-256, P-384, Ed25519), parsed once, with a
 * memo kept across inputs. The seeds in rrsig.in/ are those vectors' replies. */
#include <stddef.h>
#include <stdint.h>

#include "common/dnswire.h"
#include "common/rrsig.h"
#include "common/sigmemo.h"
#include "tests/unit/rrsig_vectors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sigmemo *memo;
	static struct rrsig_key keys[sizeof(rrsig_vectors) / sizeof(rrsig_vectors[0])];
	struct dnswire_msg m;
	uint8_t signer[DNSWIRE_MAX_NAME];
	size_t signer_len;
	struct rrsig_outcome out;

	if (!memo) {
		/* Kept for the process, parsed once, as common/dnscheck_sigs keeps them. */
		memo = sigmemo_new(64);
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const uint8_t *k = rrsig_vectors[i].key;
			size_t len = rrsig_vectors[i].key_len;
			keys[i] = (struct rrsig_key){ k, len, rrsig_pubkey_new(k, len) };
		}
	}
	if (dnswire_parse(data, size, &m) < 0)
		return 0;
	if (rrsig_signer(&m, m.qname, m.qname_len, 16, signer, &signer_len) != 1)
		return 0;
	(void)rrsig_check(&m, m.qname, m.qname_len, 16, signer, signer_len, keys,
			  sizeof(keys) / sizeof(keys[0]), RV_NOW, memo, &out);
	return 0;
}
