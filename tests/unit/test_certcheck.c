/* tests/unit/test_certcheck.c: the checks a chain from the CA must pass before it is installed
 * (common/certcheck.h), on the real chains of tests/data (README.crypto) and on copies the
 * test breaks itself: a leaf whose signature no longer verifies, chains that do not link. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>

#include "common/certcheck.h"
#include "common/key.h"
#include "common/macro.h"
#include "common/x509.h"
#include "tests/unit/testdata.h"

/* cert-ari.pem: valid 2025-01-01T00:00:00Z .. 2025-01-07T11:59:59Z (6.5 days). */
#define NOT_BEFORE 1735689600
#define NOT_AFTER 1736251199
#define MIDDLE (NOT_BEFORE + 2 * 86400)

static const char *const names[] = { "leaf.example.com", "www.example.com",
				     "*.wild.example.com" };

static __attribute__((noinline)) char *read_data(const char *name, size_t *ret_len)
{
	char *buf = NULL;

	assert_int_equal(testdata_read(name, &buf, ret_len), 0);
	return buf;
}

static struct key *leaf_key(void)
{
	struct key *k = NULL;
	size_t len;
	_cleanup_free_ char *pem = read_data("key-leaf-p256.pem", &len);

	assert_int_equal(key_load_pem(pem, len, &k), 0);
	return k;
}

/* Runs the check and returns the verdict; the reason must be set for every verdict and
 * contain `want` when given. */
static enum certcheck_verdict check(const char *pem, size_t len, const char *const *n,
				    size_t n_names, const struct key *k, int64_t now,
				    const char *want)
{
	_cleanup_(certcheck_result_done) struct certcheck_result res = { 0 };

	assert_int_equal(certcheck_chain(pem, len, n, n_names, k, now, &res), 0);
	assert_non_null(res.reason);
	if (want && !strstr(res.reason, want))
		fail_msg("reason '%s' lacks '%s'", res.reason, want);
	return res.verdict;
}

static enum certcheck_verdict check_file(const char *file, const char *const *n, size_t n_names,
					 int64_t now, const char *want)
{
	_cleanup_(key_freep) struct key *k = leaf_key();
	size_t len;
	_cleanup_free_ char *pem = read_data(file, &len);

	return check(pem, len, n, n_names, k, now, want);
}

static void test_good_chains(void **state)
{
	(void)state;
	assert_int_equal(check_file("chain-ari.pem", names, 3, MIDDLE, NULL), CERTCHECK_OK);
	assert_int_equal(check_file("chain-ari-alt.pem", names, 3, MIDDLE, NULL), CERTCHECK_OK);
	assert_int_equal(check_file("chain-ari-full.pem", names, 3, MIDDLE, NULL), CERTCHECK_OK);
	/* The CA sent just the leaf: nothing to link, every other rule still holds. */
	assert_int_equal(check_file("cert-ari.pem", names, 3, MIDDLE, NULL), CERTCHECK_OK);
	/* Names are a set, compared without case. */
	static const char *const other_order[] = { "*.WILD.example.com", "Leaf.Example.Com",
						   "www.example.com" };
	assert_int_equal(check_file("chain-ari.pem", other_order, 3, MIDDLE, NULL), CERTCHECK_OK);
}

static void test_times(void **state)
{
	(void)state;
	/* Inside the allowed skew a CA clock that runs ahead is fine; beyond it, not. */
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_BEFORE - CERTCHECK_SKEW_SEC,
				    NULL),
			 CERTCHECK_OK);
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_BEFORE - CERTCHECK_SKEW_SEC - 1,
				    "notBefore 2025-01-01T00:00:00Z"),
			 CERTCHECK_NOT_YET_VALID);
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_BEFORE - 100 * 86400,
				    "not valid yet"),
			 CERTCHECK_NOT_YET_VALID);
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_AFTER + 1,
				    "notAfter 2025-01-07T11:59:59Z"),
			 CERTCHECK_EXPIRED);
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_AFTER + 100 * 86400, "expired"),
			 CERTCHECK_EXPIRED);
	/* 6.5 days of validity: at least one day must be left. */
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_AFTER + 1 - 86400, NULL),
			 CERTCHECK_OK);
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_AFTER + 2 - 86400,
				    "too little lifetime left"),
			 CERTCHECK_SHORT_LIFETIME);
	assert_int_equal(check_file("chain-ari.pem", names, 3, NOT_AFTER, NULL),
			 CERTCHECK_SHORT_LIFETIME);
}

static void test_names(void **state)
{
	static const char *const fewer[] = { "leaf.example.com", "www.example.com" };
	static const char *const more[] = { "leaf.example.com", "www.example.com",
					    "*.wild.example.com", "api.example.com" };
	static const char *const evil[] = { "evil.example.test" };

	(void)state;
	assert_int_equal(check_file("chain-ari.pem", fewer, 2, MIDDLE,
				    "not ordered *.wild.example.com"),
			 CERTCHECK_NAMES_DIFFER);
	assert_int_equal(check_file("chain-ari.pem", more, 4, MIDDLE, "missing api.example.com"),
			 CERTCHECK_NAMES_DIFFER);
	assert_int_equal(check_file("chain-ari.pem", evil, 1, MIDDLE,
				    "missing evil.example.test; not ordered leaf.example.com, "
				    "www.example.com, *.wild.example.com"),
			 CERTCHECK_NAMES_DIFFER);
	/* A dNSName with a NUL inside is never one of ours; it is shown escaped. */
	static const char *const nul[] = { "evil.example.com" };
	assert_int_equal(check_file("cert-nul-san.pem", nul, 1, MIDDLE, "\\x00"),
			 CERTCHECK_NAMES_DIFFER);
}

static void test_key(void **state)
{
	_cleanup_(key_freep) struct key *other = NULL;
	size_t len, klen;
	_cleanup_free_ char *pem = read_data("chain-ari.pem", &len);
	_cleanup_free_ char *kpem = read_data("key-p256-pkcs8.pem", &klen);

	(void)state;
	assert_int_equal(key_load_pem(kpem, klen, &other), 0);
	assert_int_equal(check(pem, len, names, 3, other, MIDDLE, "not the key we sent the CSR"),
			 CERTCHECK_KEY_DIFFERS);
}

/* PEM of DER, as a CA would send it. */
static void append_pem(char *out, size_t size, const uint8_t *der, size_t der_len)
{
	size_t used = strlen(out), olen = 0;

	assert_int_equal(mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
						  "-----END CERTIFICATE-----\n", der, der_len,
						  (unsigned char *)out + used, size - used, &olen),
			 0);
}

static void test_chain_links(void **state)
{
	_cleanup_(key_freep) struct key *k = leaf_key();
	size_t len, rlen;
	_cleanup_free_ char *pem = read_data("chain-ari.pem", &len);
	_cleanup_free_ char *rsa = read_data("cert-rsa.pem", &rlen);
	mbedtls_x509_crt chain;
	static char out[16384];

	(void)state;
	mbedtls_x509_crt_init(&chain);
	assert_int_equal(x509_chain_parse(pem, len, &chain), 0);
	assert_non_null(chain.next);

	/* The intermediate's name is right, but it never signed this leaf: the last byte of
	 * the leaf's DER is the last byte of its ECDSA signature. */
	_cleanup_free_ uint8_t *leaf = malloc(chain.raw.len);
	assert_non_null(leaf);
	memcpy(leaf, chain.raw.p, chain.raw.len);
	leaf[chain.raw.len - 1] ^= 0x01;
	out[0] = '\0';
	append_pem(out, sizeof(out), leaf, chain.raw.len);
	append_pem(out, sizeof(out), chain.next->raw.p, chain.next->raw.len);
	assert_int_equal(check(out, strlen(out), names, 3, k, MIDDLE,
			       "signature of certificate 0 does not verify"),
			 CERTCHECK_CHAIN_BROKEN);

	/* A lone leaf with a bad signature has nothing to be checked against. */
	out[0] = '\0';
	append_pem(out, sizeof(out), leaf, chain.raw.len);
	assert_int_equal(check(out, strlen(out), names, 3, k, MIDDLE, NULL), CERTCHECK_OK);

	/* The leaf followed by a certificate that is not its issuer. */
	out[0] = '\0';
	append_pem(out, sizeof(out), chain.raw.p, chain.raw.len);
	size_t used = strlen(out);
	assert_true(used + rlen < sizeof(out));
	memcpy(out + used, rsa, rlen);
	out[used + rlen] = '\0';
	assert_int_equal(check(out, strlen(out), names, 3, k, MIDDLE, "is issued by"),
			 CERTCHECK_CHAIN_BROKEN);

	/* Leaf and intermediate swapped. */
	out[0] = '\0';
	append_pem(out, sizeof(out), chain.next->raw.p, chain.next->raw.len);
	append_pem(out, sizeof(out), chain.raw.p, chain.raw.len);
	assert_int_not_equal(check(out, strlen(out), names, 3, k, MIDDLE, NULL), CERTCHECK_OK);
	mbedtls_x509_crt_free(&chain);
}

/* A self-signed leaf for leaf.example.com made here with mbedTLS, valid from..until
 * ("YYYYMMDDhhmmss"), into out. */
static void make_leaf(const struct key *k, const char *from, const char *until, char *out,
		      size_t size)
{
	/* SEQUENCE { [2] "leaf.example.com" } */
	static const unsigned char san[] = { 0x30, 0x12, 0x82, 0x10, 'l', 'e', 'a', 'f', '.',
					     'e',  'x',  'a',  'm',  'p', 'l', 'e', '.', 'c',
					     'o',  'm' };
	mbedtls_x509write_cert crt;
	mbedtls_mpi serial;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_mpi_init(&serial);
	assert_int_equal(mbedtls_mpi_lset(&serial, 7), 0);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	assert_int_equal(mbedtls_x509write_crt_set_serial(&crt, &serial), 0);
	assert_int_equal(mbedtls_x509write_crt_set_validity(&crt, from, until), 0);
	assert_int_equal(mbedtls_x509write_crt_set_subject_name(&crt, "CN=leaf.example.com"), 0);
	assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&crt, "CN=leaf.example.com"), 0);
	mbedtls_x509write_crt_set_subject_key(&crt, key_get_pk(k));
	mbedtls_x509write_crt_set_issuer_key(&crt, key_get_pk(k));
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	assert_int_equal(mbedtls_x509write_crt_set_extension(
				 &crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
				 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san, sizeof(san)),
			 0);
	assert_int_equal(mbedtls_x509write_crt_pem(&crt, (unsigned char *)out, size, key_rng,
						   (void *)k),
			 0);
	mbedtls_x509write_crt_free(&crt);
	mbedtls_mpi_free(&serial);
}

static void test_short_lived(void **state)
{
	_cleanup_(key_freep) struct key *k = leaf_key();
	static const char *const one[] = { "leaf.example.com" };
	char pem[4096];

	(void)state;
	/* A profile gone wrong: valid for one second. Even fetched within that second it
	 * is refused, else it would be renewed at once, again and again. */
	make_leaf(k, "20250101000000", "20250101000001", pem, sizeof(pem));
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE, NULL), CERTCHECK_SHORT_LIFETIME);
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE + 2, "already expired"),
			 CERTCHECK_EXPIRED);
	/* One hour: half of it must be left. */
	make_leaf(k, "20250101000000", "20250101005959", pem, sizeof(pem));
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE, NULL), CERTCHECK_OK);
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE + 1800, NULL), CERTCHECK_OK);
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE + 1801, "at least 30m"),
			 CERTCHECK_SHORT_LIFETIME);
	/* Six minutes: the five-minute floor, not half (three minutes), decides. */
	make_leaf(k, "20250101000000", "20250101000559", pem, sizeof(pem));
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE + 60, NULL), CERTCHECK_OK);
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE + 61, "at least 5m"),
			 CERTCHECK_SHORT_LIFETIME);
	/* Self-signed alone: nothing to link. */
	assert_int_equal(check(pem, strlen(pem), one, 1, k, NOT_BEFORE, NULL), CERTCHECK_OK);
}

static void test_malformed(void **state)
{
	_cleanup_(key_freep) struct key *k = leaf_key();
	size_t len;
	_cleanup_free_ char *pem = read_data("chain-corrupt.pem", &len);

	(void)state;
	assert_int_equal(check(pem, len, names, 3, k, MIDDLE, "does not parse"), CERTCHECK_MALFORMED);
	assert_int_equal(check("garbage", 7, names, 3, k, MIDDLE, "does not parse"),
			 CERTCHECK_MALFORMED);
	assert_string_equal(certcheck_verdict_to_string(CERTCHECK_CHAIN_BROKEN), "CHAIN_BROKEN");
	assert_string_equal(certcheck_verdict_to_string(_CERTCHECK_VERDICT_MAX), "UNKNOWN");
	certcheck_result_done(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_chains), cmocka_unit_test(test_times),
		cmocka_unit_test(test_names),       cmocka_unit_test(test_key),
		cmocka_unit_test(test_chain_links), cmocka_unit_test(test_short_lived),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
