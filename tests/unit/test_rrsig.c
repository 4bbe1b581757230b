/* Unit tests for common/rrsig and common/sigmemo: replies signed by dnspython
 * (tests/unit/rrsig_vectors.h, RSA, P-256, P-384 and Ed25519) are secure
 * under their key and only then; everything outside the narrow scope (a
 * changed byte, a CNAME, a wildcard expansion, a signer not above the owner,
 * no signature, the wrong time, the wrong key, a revoked key) is UNSURE, never
 * secure. The memo answers only for the exact input it was told of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/dnswire.h"
#include "common/rrsig.h"
#include "common/sigmemo.h"
#include "tests/unit/rrsig_vectors.h"

#define TXT 16

static const uint8_t example_test[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0 };

/* rrsig_check of vector v with the given key, time and memo. */
static struct rrsig_outcome check_with(const struct rrsig_vector *v, const uint8_t *msg,
				       const uint8_t *key, size_t key_len, uint32_t now,
				       struct sigmemo *memo)
{
	struct dnswire_msg m;
	struct rrsig_key k = { key, key_len, NULL };
	struct rrsig_outcome out;

	assert_int_equal(dnswire_parse(msg, v->msg_len, &m), 0);
	assert_int_equal(rrsig_check(&m, m.qname, m.qname_len, TXT, example_test,
				     sizeof(example_test), &k, 1, now, memo, &out),
			 0);
	return out;
}

static struct rrsig_outcome check(const struct rrsig_vector *v, uint32_t now)
{
	return check_with(v, v->msg, v->key, v->key_len, now, NULL);
}

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rrsig_vectors) / sizeof(rrsig_vectors[0]); i++) {
		const struct rrsig_vector *v = &rrsig_vectors[i];
		struct rrsig_outcome out = check(v, RV_NOW);
		if ((int)out.verdict != v->secure)
			fail_msg("vector \"%s\": verdict %d, want %d", v->what, out.verdict,
				 v->secure);
		assert_false(out.memo_hit);
	}
}

/* The same verdicts with the key parsed once (rrsig_pubkey_new), as
 * common/dnscheck_sigs passes it; and a parsed key is used again, a P-256
 * one until it has its own table (common/p256verify) and after. */
static void test_vectors_with_parsed_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rrsig_vectors) / sizeof(rrsig_vectors[0]); i++) {
		const struct rrsig_vector *v = &rrsig_vectors[i];
		struct rrsig_pubkey *pub = rrsig_pubkey_new(v->key, v->key_len);
		struct dnswire_msg m;
		struct rrsig_key k = { v->key, v->key_len, pub };
		struct rrsig_outcome out;

		assert_non_null(pub);
		assert_int_equal(rrsig_pubkey_algorithm(pub), v->alg);
		assert_int_equal(dnswire_parse(v->msg, v->msg_len, &m), 0);
		int rounds = v->alg == 13 ? RRSIG_P256_TABLE_AFTER + 8 : 2;
		for (int round = 0; round < rounds; round++) {
			assert_int_equal(rrsig_check(&m, m.qname, m.qname_len, TXT, example_test,
						     sizeof(example_test), &k, 1, RV_NOW, NULL, &out),
					 0);
			if ((int)out.verdict != v->secure)
				fail_msg("vector \"%s\", parsed key, round %d: verdict %d, want %d",
					 v->what, round, out.verdict, v->secure);
		}
		rrsig_pubkey_free(pub);
	}
	/* A key this module does not take is not parsed. */
	static const uint8_t dsa[] = { 0x01, 0x01, 3, 3, 1, 2, 3 };
	assert_null(rrsig_pubkey_new(dsa, sizeof(dsa)));
}

static void test_signer_is_read_lowercase(void **state)
{
	(void)state;
	const struct rrsig_vector *v = &rrsig_vectors[1]; /* alg 13, mixed-case owner */
	struct dnswire_msg m;
	uint8_t signer[DNSWIRE_MAX_NAME];
	size_t len;

	assert_int_equal(dnswire_parse(v->msg, v->msg_len, &m), 0);
	assert_int_equal(rrsig_signer(&m, m.qname, m.qname_len, TXT, signer, &len), 1);
	assert_int_equal(len, sizeof(example_test));
	assert_memory_equal(signer, example_test, len);
	/* No RRSIG over another type. */
	assert_int_equal(rrsig_signer(&m, m.qname, m.qname_len, 1, signer, &len), 0);
}

/* other.test holds a secure key of its own: a signature it made over a name
 * in example.test must not count, whichever way it is asked. */
static void test_signer_not_above_owner(void **state)
{
	(void)state;
	static const uint8_t other_test[] = { 5, 'o', 't', 'h', 'e', 'r', 4, 't', 'e', 's', 't', 0 };
	const struct rrsig_vector *v = &rrsig_vectors[6];
	struct dnswire_msg m;
	uint8_t signer[DNSWIRE_MAX_NAME];
	size_t len;
	struct rrsig_key k = { v->key, v->key_len, NULL };
	struct rrsig_outcome out;

	assert_string_equal(v->what, "signer not above owner");
	assert_int_equal(dnswire_parse(v->msg, v->msg_len, &m), 0);
	assert_int_equal(rrsig_signer(&m, m.qname, m.qname_len, TXT, signer, &len), 0);
	assert_int_equal(rrsig_check(&m, m.qname, m.qname_len, TXT, other_test, sizeof(other_test),
				     &k, 1, RV_NOW, NULL, &out),
			 0);
	assert_int_equal(out.verdict, RRSIG_UNSURE);
}

static void test_validity_window(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rrsig_vectors) / sizeof(rrsig_vectors[0]); i++) {
		const struct rrsig_vector *v = &rrsig_vectors[i];
		if (!v->secure)
			continue;
		assert_int_equal(check(v, RV_INCEPTION).verdict, RRSIG_SECURE);
		assert_int_equal(check(v, RV_EXPIRATION).verdict, RRSIG_SECURE);
		assert_int_equal(check(v, RV_INCEPTION - 1).verdict, RRSIG_UNSURE);
		assert_int_equal(check(v, RV_EXPIRATION + 1).verdict, RRSIG_UNSURE);
	}
}

static void test_wrong_or_unusable_key(void **state)
{
	(void)state;
	const struct rrsig_vector *p256 = &rrsig_vectors[1], *ed = &rrsig_vectors[9];
	uint8_t key[512];

	assert_int_equal(p256->alg, 13);
	assert_int_equal(ed->alg, 15);
	/* Another zone's key. */
	assert_int_equal(check_with(p256, p256->msg, ed->key, ed->key_len, RV_NOW, NULL).verdict,
			 RRSIG_UNSURE);
	/* The right key, revoked (RFC 5011): its tag changes with its flags,
	 * so that is checked too; and without the zone flag. */
	assert_true(p256->key_len <= sizeof(key));
	memcpy(key, p256->key, p256->key_len);
	key[1] |= 0x80;
	assert_int_equal(check_with(p256, p256->msg, key, p256->key_len, RV_NOW, NULL).verdict,
			 RRSIG_UNSURE);
	memcpy(key, p256->key, p256->key_len);
	key[0] &= (uint8_t)~0x01;
	assert_int_equal(check_with(p256, p256->msg, key, p256->key_len, RV_NOW, NULL).verdict,
			 RRSIG_UNSURE);
	/* A changed public key. */
	memcpy(key, p256->key, p256->key_len);
	key[p256->key_len - 1] ^= 1;
	assert_int_equal(check_with(p256, p256->msg, key, p256->key_len, RV_NOW, NULL).verdict,
			 RRSIG_UNSURE);
}

static void test_every_changed_byte_of_the_signature(void **state)
{
	(void)state;
	const struct rrsig_vector *v = &rrsig_vectors[1];
	uint8_t *msg = malloc(v->msg_len);

	assert_non_null(msg);
	/* The signature is the RRSIG's last 64 bytes, before the OPT RR (11). */
	for (size_t i = v->msg_len - 11 - 64; i < v->msg_len - 11; i++) {
		memcpy(msg, v->msg, v->msg_len);
		msg[i] ^= 0x40;
		struct rrsig_outcome out = check_with(v, msg, v->key, v->key_len, RV_NOW, NULL);
		if (out.verdict != RRSIG_UNSURE)
			fail_msg("byte %zu changed, still secure", i);
	}
	free(msg);
}

static void test_memo(void **state)
{
	(void)state;
	struct sigmemo *memo = sigmemo_new(4);
	const struct rrsig_vector *v = &rrsig_vectors[1], *changed = &rrsig_vectors[2];

	assert_non_null(memo);
	struct rrsig_outcome out = check_with(v, v->msg, v->key, v->key_len, RV_NOW, memo);
	assert_int_equal(out.verdict, RRSIG_SECURE);
	assert_false(out.memo_hit);
	assert_int_equal(sigmemo_count(memo), 1);
	out = check_with(v, v->msg, v->key, v->key_len, RV_NOW, memo);
	assert_int_equal(out.verdict, RRSIG_SECURE);
	assert_true(out.memo_hit);
	/* The same signature over other data is not in it. */
	out = check_with(changed, changed->msg, changed->key, changed->key_len, RV_NOW, memo);
	assert_int_equal(out.verdict, RRSIG_UNSURE);
	/* Nor is the window skipped for a remembered signature. */
	out = check_with(v, v->msg, v->key, v->key_len, RV_EXPIRATION + 1, memo);
	assert_int_equal(out.verdict, RRSIG_UNSURE);
	sigmemo_free(memo);
}

static void test_memo_bounded(void **state)
{
	(void)state;
	struct sigmemo *m = sigmemo_new(100);
	uint8_t d[SIGMEMO_DIGEST];

	assert_non_null(m);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(sigmemo_digest((uint8_t *)&i, sizeof(i), NULL, 0, NULL, 0, d), 0);
		/* Half of them expired by the time of the last add. */
		assert_int_equal(sigmemo_add(m, d, i % 2 ? 5000 : 10, 1000), 0);
		assert_true(sigmemo_count(m) <= 100);
		assert_true(sigmemo_has(m, d, 5));
		/* An expired entry never answers. */
		if (i % 2 == 0)
			assert_false(sigmemo_has(m, d, 1000));
	}
	/* The parts are length-prefixed: moving a byte between them is another input. */
	uint8_t a[SIGMEMO_DIGEST], b[SIGMEMO_DIGEST];
	assert_int_equal(sigmemo_digest((const uint8_t *)"ab", 2, (const uint8_t *)"c", 1, NULL, 0, a), 0);
	assert_int_equal(sigmemo_digest((const uint8_t *)"a", 1, (const uint8_t *)"bc", 2, NULL, 0, b), 0);
	assert_memory_not_equal(a, b, SIGMEMO_DIGEST);
	sigmemo_free(m);
}

/* A daemon's worth of signatures, at the table's highest load: every one
 * is found, and one never added is not. */
static void test_memo_many(void **state)
{
	(void)state;
	struct sigmemo *m = sigmemo_new(1u << 19);
	uint8_t d[SIGMEMO_DIGEST];

	assert_non_null(m);
	for (uint32_t i = 0; i < 100000; i++) {
		assert_int_equal(sigmemo_digest((uint8_t *)&i, sizeof(i), NULL, 0, NULL, 0, d), 0);
		assert_int_equal(sigmemo_add(m, d, 5000, 1000), 0);
	}
	assert_int_equal(sigmemo_count(m), 100000);
	for (uint32_t i = 0; i < 100001; i++) {
		assert_int_equal(sigmemo_digest((uint8_t *)&i, sizeof(i), NULL, 0, NULL, 0, d), 0);
		if (sigmemo_has(m, d, 1000) != (i < 100000))
			fail_msg("entry %u", i);
	}
	sigmemo_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_vectors_with_parsed_keys),
		cmocka_unit_test(test_signer_is_read_lowercase),
		cmocka_unit_test(test_signer_not_above_owner),
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_wrong_or_unusable_key),
		cmocka_unit_test(test_every_changed_byte_of_the_signature),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_memo_bounded),
		cmocka_unit_test(test_memo_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
