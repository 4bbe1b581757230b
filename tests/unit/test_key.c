/* tests/unit/test_key.c: keys, JWK, thumbprints and JWS signatures (common/key.h).
 * Signatures are checked with mbedTLS's own verifiers on a separately parsed copy of the
 * key, reading r and s from the r||s halves, so a wrong DER -> r||s conversion fails here.
 * "test_key --emit DIR" writes keys, JWKs and signatures for
 * tests/integration/test_crypto_interop.py to check with python3-cryptography. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "common/b64.h"
#include "common/key.h"
#include "common/limits.h"
#include "common/macro.h"
#include "tests/unit/testdata.h"

/* RFC 7638 section 3.1 (the first key of RFC 7517 appendix A.1), pasted from the RFC. */
static const char rfc7638_n[] =
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuh"
	"DR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6C"
	"f0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n"
	"91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF"
	"44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumbprint[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 6979 appendix A.2.5: public key of x = C9AFA9D8...; SHA-256 signature of "sample". */
static const char rfc6979_jwk[] =
	"{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Y\","
	"\"y\":\"eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk\"}";
static const char rfc6979_sample_sig_hex[] =
	"EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
	"F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";

static char *read_data(const char *name, size_t *ret_len)
{
	char *buf = NULL;

	assert_int_equal(testdata_read(name, &buf, ret_len), 0);
	return buf;
}

static struct key *load_data_key(const char *name)
{
	_cleanup_free_ char *pem = NULL;
	struct key *k = NULL;
	size_t len;

	pem = read_data(name, &len);
	assert_int_equal(key_load_pem(pem, len, &k), 0);
	return k;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static size_t from_hex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
	return n;
}

/* An independent mbedTLS context holding k's key, parsed from key_write_pem(). */
static void pk_from_key(const struct key *k, mbedtls_pk_context *pk)
{
	char *pem = NULL;

	assert_int_equal(key_write_pem(k, &pem), 0);
	mbedtls_pk_init(pk);
	assert_int_equal(mbedtls_pk_parse_key(pk, (const unsigned char *)pem, strlen(pem) + 1,
					      NULL, 0), 0);
	key_pem_free(pem);
}

/* Verifies a JWS signature (r||s for EC, PKCS#1 v1.5 for RSA) with mbedTLS. */
static bool verify_sig(mbedtls_pk_context *pk, const void *data, size_t len, const uint8_t *sig,
		       size_t sig_len)
{
	bool p384 = mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY &&
		    mbedtls_pk_ec(*pk)->grp.id == MBEDTLS_ECP_DP_SECP384R1;
	mbedtls_md_type_t md = p384 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256;
	uint8_t hash[64];
	size_t hash_len = p384 ? 48 : 32;
	bool ok;

	assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(md), data, len, hash), 0);
	if (mbedtls_pk_get_type(pk) == MBEDTLS_PK_RSA)
		return mbedtls_pk_verify(pk, md, hash, hash_len, sig, sig_len) == 0;

	const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
	size_t w = (ec->grp.pbits + 7) / 8;
	mbedtls_mpi r, s;

	if (sig_len != 2 * w)
		return false;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	assert_int_equal(mbedtls_mpi_read_binary(&r, sig, w), 0);
	assert_int_equal(mbedtls_mpi_read_binary(&s, sig + w, w), 0);
	ok = mbedtls_ecdsa_verify((mbedtls_ecp_group *)&ec->grp, hash, hash_len, &ec->Q, &r,
				  &s) == 0;
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return ok;
}

static void test_type_strings(void **state)
{
	static const char *const names[] = { "ec-p256", "ec-p384", "rsa2048", "rsa3072",
					     "rsa4096" };

	(void)state;
	for (int t = 0; t < _KEY_TYPE_MAX; t++) {
		assert_string_equal(key_type_to_string((enum key_type)t), names[t]);
		assert_int_equal(key_type_from_string(names[t]), t);
	}
	assert_null(key_type_to_string(_KEY_TYPE_MAX));
	assert_null(key_type_to_string((enum key_type)-1));
	static const char *const bad[] = { "", "ec256", "p256", "P-256", "EC-P256", "rsa",
					   "rsa1024", "rsa2048 ", "ec-p521" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(key_type_from_string(bad[i]), -EINVAL);
	assert_int_equal(key_type_from_string(NULL), -EINVAL);
}

static void check_generated(enum key_type t, const char *alg, const char *pem_header,
			    const char *jwk_prefix, size_t coord_len)
{
	_cleanup_(key_freep) struct key *k = NULL, *k2 = NULL;
	_cleanup_free_ char *jwk = NULL, *jwk2 = NULL, *tp = NULL;
	char *pem = NULL, *pem2 = NULL;

	assert_int_equal(key_generate(t, &k), 0);
	assert_int_equal(key_get_type(k), t);
	assert_string_equal(key_jws_alg(k), alg);

	assert_int_equal(key_write_pem(k, &pem), 0);
	assert_non_null(strstr(pem, pem_header));
	assert_int_equal(key_load_pem(pem, strlen(pem), &k2), 0);
	assert_int_equal(key_get_type(k2), t);
	assert_int_equal(key_write_pem(k2, &pem2), 0);
	assert_string_equal(pem, pem2);
	key_pem_free(pem);
	key_pem_free(pem2);

	assert_int_equal(key_jwk(k, &jwk), 0);
	assert_int_equal(key_jwk(k2, &jwk2), 0);
	assert_string_equal(jwk, jwk2);
	assert_int_equal(strncmp(jwk, jwk_prefix, strlen(jwk_prefix)), 0);
	assert_null(strchr(jwk, ' '));
	assert_null(strchr(jwk, '='));
	if (coord_len) {
		/* {"crv":"P-256","kty":"EC","x":"<w>","y":"<w>"}: full-width coordinates. */
		const char *x = jwk + strlen(jwk_prefix);
		const char *y = strstr(jwk, "\",\"y\":\"");

		assert_non_null(y);
		assert_int_equal((size_t)(y - x), coord_len);
		assert_int_equal(strlen(y + 7), coord_len + 2);
		assert_string_equal(y + 7 + coord_len, "\"}");
	}
	assert_int_equal(key_thumbprint(k, &tp), 0);
	assert_int_equal(strlen(tp), 43);

	/* A generated key signs what its own public key, as written, verifies. */
	_cleanup_free_ uint8_t *sig = NULL;
	mbedtls_pk_context pk;
	size_t sig_len;

	pk_from_key(k2, &pk);
	assert_int_equal(key_sign(k, "generated", 9, &sig, &sig_len), 0);
	assert_true(verify_sig(&pk, "generated", 9, sig, sig_len));
	mbedtls_pk_free(&pk);
}

static void test_generate_p256(void **state)
{
	(void)state;
	check_generated(KEY_EC_P256, "ES256", "-----BEGIN EC PRIVATE KEY-----",
			"{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 43);
}

static void test_generate_p384(void **state)
{
	(void)state;
	check_generated(KEY_EC_P384, "ES384", "-----BEGIN EC PRIVATE KEY-----",
			"{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"", 64);
}

static void test_generate_rsa2048(void **state)
{
	(void)state;
	/* RSA 3072 and 4096 take seconds under the sanitizers; they share this code path. */
	check_generated(KEY_RSA_2048, "RS256", "-----BEGIN RSA PRIVATE KEY-----",
			"{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"", 0);
}

static void test_generate_bad_type(void **state)
{
	struct key *k = NULL;

	(void)state;
	assert_int_equal(key_generate(_KEY_TYPE_MAX, &k), -EINVAL);
	assert_null(k);
}

static void test_rfc7638_thumbprint(void **state)
{
	_cleanup_free_ char *canonical = NULL, *tp = NULL;
	static const char *const files[] = { "key-rfc7517-rsa.pem", "key-rfc7517-rsa-pkcs8.pem" };

	(void)state;
	assert_true(asprintf(&canonical, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}",
			     rfc7638_n) > 0);
	assert_int_equal(key_jwk_thumbprint_from_json(canonical, &tp), 0);
	assert_string_equal(tp, rfc7638_thumbprint);

	/* The same key through the real path: PEM -> mbedTLS -> n, e -> JWK -> hash. */
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_(key_freep) struct key *k = load_data_key(files[i]);
		_cleanup_free_ char *jwk = NULL, *tp2 = NULL;

		assert_int_equal(key_get_type(k), KEY_RSA_2048);
		assert_string_equal(key_jws_alg(k), "RS256");
		assert_int_equal(key_jwk(k, &jwk), 0);
		assert_string_equal(jwk, canonical);
		assert_int_equal(key_thumbprint(k, &tp2), 0);
		assert_string_equal(tp2, rfc7638_thumbprint);
	}
}

static void test_ec_jwk_vector(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-rfc6979-p256.pem");
	_cleanup_free_ char *jwk = NULL, *tp = NULL;

	(void)state;
	/* x and y are RFC 6979's Ux and Uy; the thumbprint was computed with Python's
	 * hashlib from that string. */
	assert_int_equal(key_jwk(k, &jwk), 0);
	assert_string_equal(jwk, rfc6979_jwk);
	assert_int_equal(key_thumbprint(k, &tp), 0);
	assert_string_equal(tp, "DOvxvJiAdIqVWIkFt5hDtCunXLF0BV4-JGv4f-ALSm0");
}

static void test_load_formats(void **state)
{
	static const struct {
		const char *file;
		enum key_type type;
	} cases[] = {
		{ "key-rfc6979-p256.pem", KEY_EC_P256 },        /* SEC1 */
		{ "key-leaf-p256.pem", KEY_EC_P256 },           /* SEC1 */
		{ "key-p256-pkcs8.pem", KEY_EC_P256 },          /* PKCS#8 */
		{ "key-p384-sec1.pem", KEY_EC_P384 },
		{ "key-p384-pkcs8.pem", KEY_EC_P384 },
		{ "key-rfc7517-rsa.pem", KEY_RSA_2048 },        /* PKCS#1 */
		{ "key-rfc7517-rsa-pkcs8.pem", KEY_RSA_2048 },  /* PKCS#8 */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(key_freep) struct key *k = load_data_key(cases[i].file);
		_cleanup_(key_freep) struct key *k2 = NULL;
		_cleanup_free_ char *jwk = NULL, *jwk2 = NULL;
		char *pem = NULL;

		assert_int_equal(key_get_type(k), cases[i].type);
		/* Written back as SEC1 or PKCS#1, the key is still the same key. */
		assert_int_equal(key_write_pem(k, &pem), 0);
		assert_non_null(strstr(pem, cases[i].type == KEY_RSA_2048 ?
						    "-----BEGIN RSA PRIVATE KEY-----" :
						    "-----BEGIN EC PRIVATE KEY-----"));
		assert_int_equal(key_load_pem(pem, strlen(pem), &k2), 0);
		key_pem_free(pem);
		assert_int_equal(key_jwk(k, &jwk), 0);
		assert_int_equal(key_jwk(k2, &jwk2), 0);
		assert_string_equal(jwk, jwk2);
	}
}

static void check_load_fails(const char *pem, size_t len, int err)
{
	struct key *k = (struct key *)0x1;

	assert_int_equal(key_load_pem(pem, len, &k), err);
	assert_ptr_equal(k, (struct key *)0x1); /* untouched on failure */
}

static void test_load_refuses(void **state)
{
	static const char *const files[] = {
		"key-bad-p521.pem", "key-bad-secp256k1.pem", "key-bad-rsa1024.pem",
		"key-bad-rsa2560.pem", "key-bad-ed25519.pem", "key-bad-encrypted.pem",
		"cert-ari.pem",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *pem = NULL;
		size_t len;

		pem = read_data(files[i], &len);
		check_load_fails(pem, len, -EINVAL);
	}

	check_load_fails("", 0, -EINVAL);
	check_load_fails("garbage", 7, -EINVAL);
	check_load_fails("-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n", 60,
			 -EINVAL);

	_cleanup_free_ char *pem = NULL;
	size_t len;
	pem = read_data("key-leaf-p256.pem", &len);

	/* A public key is not a private key. */
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	mbedtls_pk_context *pk = (mbedtls_pk_context *)key_get_pk(k);
	char pub[1024];
	assert_int_equal(mbedtls_pk_write_pubkey_pem(pk, (unsigned char *)pub, sizeof(pub)), 0);
	check_load_fails(pub, strlen(pub), -EINVAL);

	/* Truncated anywhere, never a crash; only the whole key (give or take the final
	 * newline) loads. */
	for (size_t n = 0; n < len - 1; n++)
		check_load_fails(pem, n, -EINVAL);

	/* A NUL inside would make mbedTLS stop reading early. */
	pem[len - 1] = '\0';
	check_load_fails(pem, len, -EINVAL);
	pem[len - 1] = '\n';

	/* Over the limit is -E2BIG, before any parsing. */
	_cleanup_free_ char *big = malloc(KEY_MAX_BYTES + 1);
	assert_non_null(big);
	memset(big, 'A', KEY_MAX_BYTES + 1);
	memcpy(big, pem, len);
	check_load_fails(big, KEY_MAX_BYTES + 1, -E2BIG);
	/* At the limit it is parsed: trailing text after the END line is ignored. */
	struct key *k2 = NULL;
	assert_int_equal(key_load_pem(big, KEY_MAX_BYTES, &k2), 0);
	key_free(k2);
}

static void test_load_file(void **state)
{
	_cleanup_(key_freep) struct key *k = NULL;
	char path[4096], tmp[] = "/tmp/test_key.XXXXXX";
	struct key *none = NULL;
	int fd;

	(void)state;
	testdata_path("key-p384-sec1.pem", path, sizeof(path));
	assert_int_equal(key_load_file(path, &k), 0);
	assert_int_equal(key_get_type(k), KEY_EC_P384);

	assert_int_equal(key_load_file("/nonexistent/key.pem", &none), -ENOENT);
	assert_int_equal(key_load_file("/", &none), -EISDIR);
	assert_int_equal(key_load_file("/dev/null", &none), -EINVAL);
	assert_null(none);

	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	_cleanup_free_ char *big = malloc(KEY_MAX_BYTES + 1);
	assert_non_null(big);
	memset(big, '\n', KEY_MAX_BYTES + 1);
	assert_int_equal(write(fd, big, KEY_MAX_BYTES + 1), KEY_MAX_BYTES + 1);
	close(fd);
	assert_int_equal(key_load_file(tmp, &none), -E2BIG);
	assert_int_equal(truncate(tmp, 0), 0);
	assert_int_equal(key_load_file(tmp, &none), -EINVAL);
	unlink(tmp);
	assert_null(none);
}

/* libcrypto signs with a fresh random nonce (OpenSSL 3.0 has no RFC 6979), so RFC 6979's
 * key and message are used the other way round: its own signature must verify with the
 * key as we load it, ours must too, and two of ours must differ. */
static void test_rfc6979_signature(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-rfc6979-p256.pem");
	_cleanup_free_ uint8_t *sig = NULL, *sig2 = NULL;
	mbedtls_pk_context pk;
	uint8_t want[64];
	size_t len, len2;

	(void)state;
	pk_from_key(k, &pk);
	assert_int_equal(from_hex(rfc6979_sample_sig_hex, want), 64);
	assert_true(verify_sig(&pk, "sample", 6, want, 64));
	assert_int_equal(key_sign(k, "sample", 6, &sig, &len), 0);
	assert_int_equal(len, 64);
	assert_true(verify_sig(&pk, "sample", 6, sig, len));
	assert_false(verify_sig(&pk, "samplE", 6, sig, len));
	assert_int_equal(key_sign(k, "sample", 6, &sig2, &len2), 0);
	assert_true(verify_sig(&pk, "sample", 6, sig2, len2));
	assert_memory_not_equal(sig, sig2, 64);
	mbedtls_pk_free(&pk);
}

/* A key file whose public point is another key's (a corrupted or spliced file) is refused:
 * its signatures would not verify under its own JWK, and key_pem_matches() trusts the point. */
static void test_load_refuses_foreign_point(void **state)
{
	static const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384 };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		_cleanup_(key_freep) struct key *a = NULL, *b = NULL, *none = NULL;
		char *pem = NULL;

		assert_int_equal(key_generate(types[i], &a), 0);
		assert_int_equal(key_generate(types[i], &b), 0);
		assert_int_equal(mbedtls_ecp_copy(&mbedtls_pk_ec(*key_get_pk(a))->Q,
						  &mbedtls_pk_ec(*key_get_pk(b))->Q), 0);
		assert_int_equal(key_write_pem(a, &pem), 0);
		assert_int_equal(key_load_pem(pem, strlen(pem), &none), -EINVAL);
		assert_null(none);
		key_pem_free(pem);
	}
}

/* Thousands of signatures, so that the r and s shorter than the curve width (DER drops
 * their leading zeros, about 1 in 128 per half) come up many times: about 31 expected for
 * P-256 and 15 for P-384, so a run without any is a failure, not bad luck (e^-15). Every signature with a short half is verified, and every 16th of
 * the others: signing and verifying cost milliseconds under ASan, and the interop test
 * verifies more with python3-cryptography. */
static void check_many_ecdsa(const char *key_file, size_t w, unsigned n)
{
	_cleanup_(key_freep) struct key *k = load_data_key(key_file);
	mbedtls_pk_context pk;
	unsigned short_halves = 0;

	pk_from_key(k, &pk);
	for (unsigned i = 0; i < n; i++) {
		_cleanup_free_ uint8_t *sig = NULL;
		char msg[32];
		size_t len = 0;
		int msg_len = snprintf(msg, sizeof(msg), "message %u", i);

		assert_int_equal(key_sign(k, msg, (size_t)msg_len, &sig, &len), 0);
		assert_int_equal(len, 2 * w);
		bool is_short = sig[0] == 0 || sig[w] == 0;

		short_halves += (sig[0] == 0) + (sig[w] == 0);
		if (is_short || i % 16 == 0)
			assert_true(verify_sig(&pk, msg, (size_t)msg_len, sig, len));
		if (i % 500 == 0) {
			sig[i % len] ^= 0x01;
			assert_false(verify_sig(&pk, msg, (size_t)msg_len, sig, len));
		}
	}
	/* About n / 128 are expected. None would leave the padding untested: should a
	 * regenerated key file ever give none, raise n. */
	assert_true(short_halves > 0);
	mbedtls_pk_free(&pk);
}

static void test_es256_many(void **state)
{
	(void)state;
	check_many_ecdsa("key-leaf-p256.pem", 32, 2000);
}

static void test_es384_many(void **state)
{
	(void)state;
	check_many_ecdsa("key-p384-sec1.pem", 48, 1000);
}

static void test_rs256(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-rfc7517-rsa.pem");
	_cleanup_free_ uint8_t *sig = NULL, *empty_sig = NULL;
	mbedtls_pk_context pk;
	size_t len, empty_len;

	(void)state;
	pk_from_key(k, &pk);
	assert_int_equal(key_sign(k, "payload", 7, &sig, &len), 0);
	assert_int_equal(len, 256);
	assert_true(verify_sig(&pk, "payload", 7, sig, len));
	assert_false(verify_sig(&pk, "payloaD", 7, sig, len));
	/* Signing zero bytes is fine (NULL data with length 0). */
	assert_int_equal(key_sign(k, NULL, 0, &empty_sig, &empty_len), 0);
	assert_true(verify_sig(&pk, "", 0, empty_sig, empty_len));
	mbedtls_pk_free(&pk);
}

static void test_pem_matches(void **state)
{
	_cleanup_(key_freep) struct key *leaf = load_data_key("key-leaf-p256.pem");
	_cleanup_(key_freep) struct key *other = load_data_key("key-rfc6979-p256.pem");
	_cleanup_(key_freep) struct key *rsa = load_data_key("key-rfc7517-rsa.pem");
	_cleanup_(key_freep) struct key *p384 = load_data_key("key-p384-sec1.pem");
	_cleanup_free_ char *cert = NULL, *chain = NULL, *rsa_cert = NULL, *corrupt = NULL;
	size_t cert_len, chain_len, rsa_len, corrupt_len;

	(void)state;
	cert = read_data("cert-ari.pem", &cert_len);
	chain = read_data("chain-ari.pem", &chain_len);
	rsa_cert = read_data("cert-rsa.pem", &rsa_len);
	corrupt = read_data("chain-corrupt.pem", &corrupt_len);

	assert_int_equal(key_pem_matches(leaf, cert, cert_len), 1);
	assert_int_equal(key_pem_matches(leaf, chain, chain_len), 1); /* leaf first */
	assert_int_equal(key_pem_matches(other, cert, cert_len), 0);
	assert_int_equal(key_pem_matches(p384, cert, cert_len), 0);
	assert_int_equal(key_pem_matches(rsa, cert, cert_len), 0);
	assert_int_equal(key_pem_matches(rsa, rsa_cert, rsa_len), 1);
	assert_int_equal(key_pem_matches(leaf, rsa_cert, rsa_len), 0);

	assert_int_equal(key_pem_matches(leaf, "garbage", 7), -EINVAL);
	assert_int_equal(key_pem_matches(leaf, "", 0), -EINVAL);
	assert_int_equal(key_pem_matches(leaf, corrupt, corrupt_len), -EINVAL);
	assert_int_equal(key_pem_matches(leaf, cert, CERT_MAX_BYTES + 1), -E2BIG);
}

static void test_pem_free_null(void **state)
{
	(void)state;
	key_pem_free(NULL);
	key_free(NULL);
}

/* Interop material for python3-cryptography: per key type, the key, its JWK and
 * thumbprint, and signatures of "interop <i>" one per line in base64url. */
static int write_file(const char *dir, const char *type, const char *ext, const char *text)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s.%s", dir, type, ext) < 0)
		return -ENOMEM;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

static int emit(const char *dir)
{
	static const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048 };

	for (size_t t = 0; t < ELEMENTSOF(types); t++) {
		_cleanup_(key_freep) struct key *k = NULL;
		_cleanup_free_ char *jwk = NULL, *tp = NULL, *sigs = NULL;
		const char *type = key_type_to_string(types[t]);
		size_t sigs_len = 0;
		char *pem = NULL;
		FILE *f;
		int r;

		if (key_generate(types[t], &k) < 0 || key_write_pem(k, &pem) < 0 ||
		    key_jwk(k, &jwk) < 0 || key_thumbprint(k, &tp) < 0)
			return 1;
		r = write_file(dir, type, "pem", pem);
		key_pem_free(pem);
		if (r < 0 || write_file(dir, type, "jwk", jwk) < 0 ||
		    write_file(dir, type, "thumbprint", tp) < 0)
			return 1;
		f = open_memstream(&sigs, &sigs_len);
		if (!f)
			return 1;
		for (unsigned i = 0; i < 300; i++) {
			_cleanup_free_ uint8_t *sig = NULL;
			_cleanup_free_ char *b64 = NULL;
			char msg[32];
			size_t len;
			int n = snprintf(msg, sizeof(msg), "interop %u", i);

			if (key_sign(k, msg, (size_t)n, &sig, &len) < 0 ||
			    b64url_encode(sig, len, &b64) < 0) {
				fclose(f);
				return 1;
			}
			fprintf(f, "%s\n", b64);
		}
		if (fclose(f) != 0 || write_file(dir, type, "sigs", sigs) < 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_strings),
		cmocka_unit_test(test_generate_p256),
		cmocka_unit_test(test_generate_p384),
		cmocka_unit_test(test_generate_rsa2048),
		cmocka_unit_test(test_generate_bad_type),
		cmocka_unit_test(test_rfc7638_thumbprint),
		cmocka_unit_test(test_ec_jwk_vector),
		cmocka_unit_test(test_load_formats),
		cmocka_unit_test(test_load_refuses),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_rfc6979_signature),
		cmocka_unit_test(test_load_refuses_foreign_point),
		cmocka_unit_test(test_es256_many),
		cmocka_unit_test(test_es384_many),
		cmocka_unit_test(test_rs256),
		cmocka_unit_test(test_pem_matches),
		cmocka_unit_test(test_pem_free_null),
	};

	if (argc == 3 && streq(argv[1], "--emit"))
		return emit(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
