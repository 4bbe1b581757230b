/* Unit tests for common/p256verify: on signatures made by libcrypto, and
 * on every kind of change to them, its verdict is libcrypto's own
 * (EVP_PKEY_verify). The edges of the range (r or s 0, n, n-1, 1), a
 * digest that is 0 or n (so that u1 = 0), and a key that is not a point
 * of the curve are covered; the fast s^-1 never has to fall back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/p256verify.h"

/* P-256's order n, big-endian. */
static const uint8_t order_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
	0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

struct signer {
	EVP_PKEY *key;
	uint8_t q[64];
	struct p256verify *v;
};

static void signer_init(struct signer *s)
{
	uint8_t pub[65];
	size_t len = 0;

	s->key = EVP_EC_gen("P-256");
	assert_non_null(s->key);
	assert_int_equal(EVP_PKEY_get_octet_string_param(s->key, OSSL_PKEY_PARAM_PUB_KEY, pub,
							 sizeof(pub), &len),
			 1);
	assert_int_equal(len, 65);
	assert_int_equal(pub[0], 4);
	memcpy(s->q, pub + 1, 64);
	s->v = p256verify_new(s->q);
	assert_non_null(s->v);
}

static void signer_free(struct signer *s)
{
	assert_int_equal(p256verify_slow_inverses(s->v), 0);
	p256verify_free(s->v);
	EVP_PKEY_free(s->key);
}

/* r | s of a fresh signature over digest. */
static void sign(const struct signer *s, const uint8_t digest[32], uint8_t sig[64])
{
	uint8_t der[80];
	size_t der_len = sizeof(der);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(s->key, NULL);

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_sign_init(c), 1);
	assert_int_equal(EVP_PKEY_sign(c, der, &der_len, digest, 32), 1);
	EVP_PKEY_CTX_free(c);
	const uint8_t *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(es);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32), 32);
	assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32), 32);
	ECDSA_SIG_free(es);
}

/* libcrypto's verdict on r | s over digest: 1 or 0. */
static int reference(const struct signer *s, const uint8_t digest[32], const uint8_t sig[64])
{
	uint8_t der[80], *p = der;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);

	assert_true(es && r && ss && ECDSA_SIG_set0(es, r, ss));
	int der_len = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	assert_true(der_len > 0);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(s->key, NULL);
	assert_non_null(c);
	assert_int_equal(EVP_PKEY_verify_init(c), 1);
	int ok = EVP_PKEY_verify(c, der, (size_t)der_len, digest, 32) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

static void assert_agrees(struct signer *s, const uint8_t digest[32], const uint8_t sig[64],
			  int want)
{
	int got = p256verify_check(s->v, digest, sig);
	assert_int_equal(reference(s, digest, sig), want);
	assert_int_equal(got, want);
}

static void test_signatures_and_changes(void **state)
{
	(void)state;
	struct signer s;
	signer_init(&s);
	for (int i = 0; i < 300; i++) {
		uint8_t digest[32], sig[64], bad[64], other[32];
		assert_int_equal(RAND_bytes(digest, sizeof(digest)), 1);
		sign(&s, digest, sig);
		assert_agrees(&s, digest, sig, 1);

		memcpy(other, digest, 32);
		other[i % 32] ^= (uint8_t)(1u << (i % 8));
		assert_agrees(&s, other, sig, 0);

		memcpy(bad, sig, 64);
		bad[(i * 7) % 64] ^= (uint8_t)(1u << (i % 8));
		assert_agrees(&s, digest, bad, 0);

		/* r and s swapped, and s negated (n - s: libcrypto accepts
		 * both s and n - s, as ECDSA does). */
		memcpy(bad, sig + 32, 32);
		memcpy(bad + 32, sig, 32);
		assert_agrees(&s, digest, bad, reference(&s, digest, bad));
		BIGNUM *n = BN_bin2bn(order_n, 32, NULL), *x = BN_bin2bn(sig + 32, 32, NULL);
		assert_true(n && x && BN_sub(x, n, x));
		memcpy(bad, sig, 32);
		assert_int_equal(BN_bn2binpad(x, bad + 32, 32), 32);
		assert_agrees(&s, digest, bad, 1);
		BN_free(x);
		BN_free(n);
	}
	signer_free(&s);
}

/* Another key's signature does not verify, and a table is per key. */
static void test_other_key(void **state)
{
	(void)state;
	struct signer a, b;
	uint8_t digest[32] = { 1, 2, 3 }, sig[64];

	signer_init(&a);
	signer_init(&b);
	sign(&a, digest, sig);
	assert_int_equal(p256verify_check(a.v, digest, sig), 1);
	assert_int_equal(p256verify_check(b.v, digest, sig), 0);
	signer_free(&b);
	signer_free(&a);
}

/* r or s of 0, n, above n: rejected before any arithmetic. Values near
 * the ends of the range go through the inverse and are judged like
 * libcrypto does. */
static void test_range_edges(void **state)
{
	(void)state;
	struct signer s;
	uint8_t digest[32] = { 9 }, good[64], sig[64];
	uint8_t zero[32] = { 0 }, one[32] = { 0 }, n_minus_1[32], above[32], two_pow[32] = { 0 };

	signer_init(&s);
	sign(&s, digest, good);
	one[31] = 1;
	memcpy(n_minus_1, order_n, 32);
	n_minus_1[31]--;
	memset(above, 0xff, 32);
	two_pow[0] = 0x80;
	const uint8_t *edges[] = { zero, one, n_minus_1, order_n, above, two_pow };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		memcpy(sig, edges[i], 32);
		memcpy(sig + 32, good + 32, 32);
		assert_agrees(&s, digest, sig, 0);
		memcpy(sig, good, 32);
		memcpy(sig + 32, edges[i], 32);
		assert_agrees(&s, digest, sig, 0);
	}
	/* Every s = 2^k (and 2^k - 1, 2^k + 1): the inverse's paths of long
	 * runs of zeros and ones. */
	for (int k = 0; k < 256; k++) {
		BIGNUM *x = BN_new();
		assert_true(x && BN_set_bit(x, k));
		for (int d = -1; d <= 1; d++) {
			BIGNUM *y = BN_dup(x);
			assert_non_null(y);
			int ok = d < 0 ? BN_sub_word(y, 1) : d > 0 ? BN_add_word(y, 1) : 1;
			assert_int_equal(ok, 1);
			if (!BN_is_zero(y) && BN_num_bytes(y) <= 32) {
				memcpy(sig, good, 32);
				assert_int_equal(BN_bn2binpad(y, sig + 32, 32), 32);
				if (memcmp(sig + 32, order_n, 32) < 0)
					assert_agrees(&s, digest, sig, 0);
			}
			BN_free(y);
		}
		BN_free(x);
	}
	signer_free(&s);
}

/* A digest of 0, or of n, makes u1 = 0: R = u2·Q alone. */
static void test_digest_zero_mod_n(void **state)
{
	(void)state;
	struct signer s;
	uint8_t zero[32] = { 0 }, sig[64];

	signer_init(&s);
	sign(&s, zero, sig);
	assert_agrees(&s, zero, sig, 1);
	sign(&s, order_n, sig);
	assert_agrees(&s, order_n, sig, 1);
	assert_agrees(&s, zero, sig, 1);  /* n and 0 are the same e */
	signer_free(&s);
}

static void test_key_not_on_the_curve(void **state)
{
	(void)state;
	struct signer s;
	uint8_t q[64];

	signer_init(&s);
	memcpy(q, s.q, 64);
	q[63] ^= 1;
	assert_null(p256verify_new(q));
	memset(q, 0, sizeof(q));
	assert_null(p256verify_new(q));
	signer_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signatures_and_changes),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_range_edges),
		cmocka_unit_test(test_digest_zero_mod_n),
		cmocka_unit_test(test_key_not_on_the_curve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
