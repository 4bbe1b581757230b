/* tests/unit/test_b64.c: base64url without padding (common/b64.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/macro.h"

static void check_encode(const void *in, size_t n, const char *want)
{
	_cleanup_free_ char *out = NULL;

	assert_int_equal(b64url_encode(in, n, &out), 0);
	assert_string_equal(out, want);
	assert_int_equal(b64url_encoded_len(n), strlen(want));
}

static void check_decode(const char *in, const void *want, size_t want_len)
{
	_cleanup_free_ uint8_t *out = NULL;
	size_t len = 12345;

	assert_int_equal(b64url_decode(in, strlen(in), &out, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(out[len], 0); /* NUL-terminated for convenience */
}

static void check_decode_fails(const char *in)
{
	uint8_t *out = (uint8_t *)"untouched";
	size_t len = 7;

	assert_int_equal(b64url_decode(in, strlen(in), &out, &len), -EINVAL);
	assert_string_equal((char *)out, "untouched");
	assert_int_equal(len, 7);
}

static void test_url_alphabet(void **state)
{
	(void)state;
	/* The two characters that differ from standard base64: + -> -, / -> _. */
	check_encode("\xfb\xff\xbf", 3, "-_-_");
	check_decode("-_-_", "\xfb\xff\xbf", 3);
}

static void test_rfc4648_vectors(void **state)
{
	(void)state;
	/* RFC 4648 section 10, without the padding. */
	check_encode("", 0, "");
	check_encode("f", 1, "Zg");
	check_encode("fo", 2, "Zm8");
	check_encode("foo", 3, "Zm9v");
	check_encode("foob", 4, "Zm9vYg");
	check_encode("fooba", 5, "Zm9vYmE");
	check_encode("foobar", 6, "Zm9vYmFy");
	check_decode("", "", 0);
	check_decode("Zg", "f", 1);
	check_decode("Zm8", "fo", 2);
	check_decode("Zm9vYmFy", "foobar", 6);
}

static void test_decode_unpadded(void **state)
{
	(void)state;
	/* mbedtls_base64_decode() turns "AQ" into zero bytes and success; we must not. */
	check_decode("AQ", "\x01", 1);
	check_decode("AQE", "\x01\x01", 2);
	check_decode("AQAB", "\x01\x00\x01", 3);
}

static void test_decode_rejects(void **state)
{
	(void)state;
	check_decode_fails("AQ==");     /* padding */
	check_decode_fails("AQ=");
	check_decode_fails("Zm9v=");
	check_decode_fails("A");        /* 6 bits cannot be a byte */
	check_decode_fails("AQABA");
	check_decode_fails("+/+/");     /* standard alphabet */
	check_decode_fails("A Q");      /* whitespace */
	check_decode_fails("AQ\n");
	check_decode_fails("AQ.B");
	check_decode_fails("AR");       /* non-canonical: leftover bits 0001 */
	check_decode_fails("AB");
	check_decode_fails("AQF");      /* non-canonical: leftover bits 01 */

	/* An embedded NUL is a bad character, not the end of the input. */
	uint8_t *out = NULL;
	size_t len;
	assert_int_equal(b64url_decode("AQ\0B", 4, &out, &len), -EINVAL);
	assert_null(out);
}

static void check_lines(const char *in, int want, const char *out)
{
	uint8_t buf[64];
	size_t len = 0;

	assert_int_equal(b64_decode_lines(in, strlen(in), buf, &len), want);
	if (want == 0) {
		assert_int_equal(len, strlen(out));
		assert_memory_equal(buf, out, len);
	}
}

/* The standard alphabet as a PEM body carries it (RFC 4648 section 4, RFC 7468). */
static void test_decode_lines(void **state)
{
	(void)state;
	check_lines("", 0, "");
	check_lines("TWFu", 0, "Man");
	check_lines("TWFu\r\nTWE=\n", 0, "ManMa");
	check_lines(" TQ==\n", 0, "M");
	check_lines("Pz8/", 0, "?\x3f?");
	check_lines("Pz8+", 0, "?\x3f>");
	check_lines("TQ=", -EINVAL, NULL);     /* padding short of the length */
	check_lines("TWE==", -EINVAL, NULL);   /* padding past it */
	check_lines("TWFu=", -EINVAL, NULL);
	check_lines("T", -EINVAL, NULL);
	check_lines("TW=u", -EINVAL, NULL);    /* padding in the middle */
	check_lines("Pz8_", -EINVAL, NULL);    /* the url alphabet */
	check_lines("TW\x01u", -EINVAL, NULL);
}

static void test_encode_buf(void **state)
{
	char buf[5];

	(void)state;
	assert_int_equal(b64url_encode_buf("foo", 3, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "Zm9v");
	/* The NUL needs room too. */
	assert_int_equal(b64url_encode_buf("foo", 3, buf, 4), -E2BIG);
	assert_int_equal(b64url_encode_buf("", 0, buf, 1), 0);
	assert_string_equal(buf, "");
}

static void test_roundtrip(void **state)
{
	uint8_t in[300];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 151 + 7);
	for (size_t n = 0; n <= sizeof(in); n++) {
		_cleanup_free_ char *enc = NULL;
		_cleanup_free_ uint8_t *dec = NULL;
		size_t len;

		assert_int_equal(b64url_encode(in, n, &enc), 0);
		assert_int_equal(strlen(enc), b64url_encoded_len(n));
		assert_null(strchr(enc, '='));
		assert_int_equal(b64url_decode(enc, strlen(enc), &dec, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(dec, in, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_decode_unpadded),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_lines),
		cmocka_unit_test(test_encode_buf),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
