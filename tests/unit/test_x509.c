/* tests/unit/test_x509.c: certificate facts (common/x509.h) from the fixtures that
 * tests/data/gen-crypto.py made with python3-cryptography. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/macro.h"
#include "common/x509.h"
#include "tests/unit/testdata.h"

/* noinline: once inlined, gcc 12 -O2 takes pointers into the returned buffer for pointers
 * to the local variable and warns -Wdangling-pointer. */
static __attribute__((noinline)) char *read_data(const char *name, size_t *ret_len)
{
	char *buf = NULL;

	assert_int_equal(testdata_read(name, &buf, ret_len), 0);
	return buf;
}

static void test_ari_leaf(void **state)
{
	static const char *const files[] = { "cert-ari.pem", "chain-ari.pem", "chain-ari-alt.pem",
					     "chain-ari-full.pem" };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_(x509_info_done) struct x509_info info = { 0 };
		_cleanup_free_ char *pem = NULL;
		size_t len;

		pem = read_data(files[i], &len);
		assert_int_equal(x509_parse_leaf(pem, len, &info), 0);
		/* 2025-01-01T00:00:00Z and 2025-01-07T11:59:59Z: 6.5 days, validity inclusive. */
		assert_int_equal(info.not_before, 1735689600);
		assert_int_equal(info.not_after, 1736251199);
		assert_int_equal(info.not_after - info.not_before + 1, 561600);
		assert_int_equal(info.n_dns_names, 3);
		assert_string_equal(info.dns_names[0], "leaf.example.com");
		assert_string_equal(info.dns_names[1], "www.example.com");
		assert_string_equal(info.dns_names[2], "*.wild.example.com");
		assert_string_equal(info.subject_cn, "leaf.example.com");
		assert_string_equal(info.issuer_cn, "Persistd Test Intermediate E1");
		assert_string_equal(info.serial_hex, "87654321");
		/* RFC 9773 section 4.1's example: AKI 69:88:5B:..:C8:D4, serial 00 87 65 43 21
		 * (the 00 that DER adds is part of the CertID). */
		assert_string_equal(info.ari_cert_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	}
}

static void test_no_aki(void **state)
{
	_cleanup_(x509_info_done) struct x509_info info = { 0 };
	_cleanup_free_ char *pem = NULL;
	size_t len;

	(void)state;
	pem = read_data("cert-noaki.pem", &len);
	assert_int_equal(x509_parse_leaf(pem, len, &info), 0);
	/* UTCTime 500101000000Z is 1950, before the epoch; GeneralizedTime 99991231235959Z
	 * is RFC 5280's "no well-defined expiration", far past 2038. */
	assert_int_equal(info.not_before, -631152000);
	assert_int_equal(info.not_after, INT64_C(253402300799));
	assert_int_equal(info.n_dns_names, 0);
	assert_null(info.dns_names);
	assert_null(info.subject_cn);
	assert_string_equal(info.issuer_cn, "Persistd No AKI CA");
	assert_string_equal(info.serial_hex, "05");
	assert_null(info.ari_cert_id);
}

static void test_rsa_leaf(void **state)
{
	_cleanup_(x509_info_done) struct x509_info info = { 0 };
	_cleanup_free_ char *pem = NULL;
	size_t len;

	(void)state;
	pem = read_data("cert-rsa.pem", &len);
	assert_int_equal(x509_parse_leaf(pem, len, &info), 0);
	/* 2049-12-31T23:59:59Z is the last UTCTime second; 2050 needs GeneralizedTime. */
	assert_int_equal(info.not_before, INT64_C(2524607999));
	assert_int_equal(info.not_after, INT64_C(2524608000));
	assert_int_equal(info.n_dns_names, 1);
	assert_string_equal(info.dns_names[0], "rsa.example.com");
	assert_string_equal(info.subject_cn, "rsa.example.com");
	assert_string_equal(info.issuer_cn, "Persistd Test Root X1");
	assert_string_equal(info.serial_hex, "0102");
	/* The root's key identifier is random (SHA-1 of its key, 20 bytes: 27 characters);
	 * the serial 01 02 has no 00 to add. */
	assert_non_null(info.ari_cert_id);
	assert_int_equal(strlen(info.ari_cert_id), 27 + 1 + 3);
	assert_string_equal(info.ari_cert_id + 27, ".AQI");
}

static void test_chains(void **state)
{
	static const struct {
		const char *file;
		int count;
		const char *top_issuer;
	} cases[] = {
		{ "cert-ari.pem", 1, "Persistd Test Intermediate E1" },
		{ "chain-ari.pem", 2, "Persistd Test Root X1" },
		{ "chain-ari-alt.pem", 2, "Persistd Test Alt Root X2" },
		{ "chain-ari-full.pem", 3, "Persistd Test Root X1" },   /* self-signed root */
		{ "cert-noaki.pem", 1, "Persistd No AKI CA" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *pem = NULL, *cn = NULL;
		size_t len;

		pem = read_data(cases[i].file, &len);
		assert_int_equal(x509_chain_count(pem, len), cases[i].count);
		assert_int_equal(x509_chain_top_issuer_cn(pem, len, &cn), 0);
		assert_string_equal(cn, cases[i].top_issuer);
	}
}

static void check_all_fail(const char *pem, size_t len, int err)
{
	struct x509_info info = { .serial_hex = (char *)"untouched" };
	char *cn = (char *)"untouched";

	assert_int_equal(x509_parse_leaf(pem, len, &info), err);
	assert_string_equal(info.serial_hex, "untouched");
	assert_int_equal(x509_chain_count(pem, len), err);
	assert_int_equal(x509_chain_top_issuer_cn(pem, len, &cn), err);
	assert_string_equal(cn, "untouched");
}

static void test_errors(void **state)
{
	_cleanup_free_ char *pem = NULL, *corrupt = NULL, *nul_san = NULL, *key = NULL;
	size_t len, corrupt_len, nul_san_len, key_len;

	(void)state;
	pem = read_data("cert-ari.pem", &len);
	corrupt = read_data("chain-corrupt.pem", &corrupt_len);
	nul_san = read_data("cert-nul-san.pem", &nul_san_len);
	key = read_data("key-leaf-p256.pem", &key_len);

	check_all_fail("", 0, -EINVAL);
	check_all_fail("garbage", 7, -EINVAL);
	check_all_fail("-----BEGIN CERTIFICATE-----\n", 28, -EINVAL);
	check_all_fail("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", 54, -EINVAL);
	check_all_fail(key, key_len, -EINVAL);
	/* DER is not what we were promised; raw bytes go nowhere near the DER parser. */
	check_all_fail("\x30\x82\x01\x00", 4, -EINVAL);
	/* The leaf parses but the second certificate does not: the chain is bad. */
	check_all_fail(corrupt, corrupt_len, -EINVAL);
	/* A NUL inside the input would hide what follows from mbedTLS. */
	pem[100] = '\0';
	check_all_fail(pem, len, -EINVAL);
	check_all_fail(pem, CERT_MAX_BYTES + 1, -E2BIG);

	/* "evil.example.com\0.attacker.example" must not become "evil.example.com". */
	struct x509_info info = { 0 };
	assert_int_equal(x509_parse_leaf(nul_san, nul_san_len, &info), -EINVAL);
	assert_null(info.serial_hex);
}

static void test_truncated(void **state)
{
	_cleanup_free_ char *pem = NULL;
	size_t len, second_begin, ok = 0;

	(void)state;
	pem = read_data("chain-ari.pem", &len);
	const char *second = strstr(pem + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(second);
	second_begin = len - strlen(second);
	/* Every prefix: no crash, no leak. A chain cut inside its second certificate is
	 * refused, not read as the leaf alone (mbedTLS alone would do that). What parses is
	 * the whole chain (with or without its last newline) or the leaf cut before the
	 * second BEGIN line is complete. */
	for (size_t n = 0; n <= len; n++) {
		struct x509_info info = { 0 };
		int r = x509_parse_leaf(pem, n, &info);

		if (r == 0) {
			ok++;
			x509_info_done(&info);
			assert_true(n >= len - 1 || n < second_begin + 27);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
	assert_true(ok >= 2);
	assert_int_equal(x509_chain_count(pem, len - 2), -EINVAL);
	assert_int_equal(x509_chain_count(pem, second_begin + 28), -EINVAL);
	assert_int_equal(x509_chain_count(pem, second_begin), 1);
}

static void test_trailing_text(void **state)
{
	_cleanup_(x509_info_done) struct x509_info info = { 0 };
	_cleanup_free_ char *pem = NULL, *text = NULL;
	size_t len;

	(void)state;
	/* Text around the PEM blocks (openssl's "subject=" lines, "Bag Attributes") is
	 * skipped, as mbedTLS and openssl do. */
	pem = read_data("cert-ari.pem", &len);
	assert_true(asprintf(&text, "subject=CN = leaf.example.com\n%s\ntrailing words\n",
			     pem) > 0);
	assert_int_equal(x509_parse_leaf(text, strlen(text), &info), 0);
	assert_string_equal(info.serial_hex, "87654321");
	assert_int_equal(x509_chain_count(text, strlen(text)), 1);
}

/* The PEM body is decoded here, not by mbedTLS: line ends of either kind, padding only
 * at the end, nothing outside the alphabet. */
static void test_pem_body(void **state)
{
	_cleanup_free_ char *pem = NULL, *crlf = NULL;
	size_t len, n = 0;

	(void)state;
	pem = read_data("chain-ari.pem", &len);
	crlf = malloc(2 * len);
	assert_non_null(crlf);
	for (size_t i = 0; i < len; i++) {
		if (pem[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = pem[i];
	}
	assert_int_equal(x509_chain_count(crlf, n), 2);

	const char *body = strchr(pem, '\n') + 1;
	size_t at = (size_t)(body - pem) + 10;
	char saved = pem[at];
	const char bad[] = { '=', '-', '.', '_', '\x80' };
	for (size_t i = 0; i < sizeof(bad); i++) {
		pem[at] = bad[i];
		assert_int_equal(x509_chain_count(pem, len), -EINVAL);
	}
	pem[at] = saved;
	assert_int_equal(x509_chain_count(pem, len), 2);

	/* Padding that does not match the length. */
	char *end = strstr(pem, "-----END CERTIFICATE-----");
	assert_non_null(end);
	size_t tail = (size_t)(end - pem);
	while (pem[tail - 1] == '\n')
		tail--;
	memmove(pem + tail + 1, pem + tail, len - tail);
	pem[tail] = '=';
	assert_int_equal(x509_chain_count(pem, len + 1), -EINVAL);
}

static void test_info_done(void **state)
{
	struct x509_info info = { 0 };

	(void)state;
	x509_info_done(&info);
	x509_info_done(&info);
	x509_info_done(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ari_leaf),
		cmocka_unit_test(test_no_aki),
		cmocka_unit_test(test_rsa_leaf),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing_text),
		cmocka_unit_test(test_pem_body),
		cmocka_unit_test(test_info_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
