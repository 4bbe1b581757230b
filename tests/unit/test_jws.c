/* tests/unit/test_jws.c: flattened JWS, EAB and key-change JWS (common/jws.h).
 * "test_jws --emit DIR" writes JWS objects for tests/integration/test_crypto_interop.py to
 * verify with python3-cryptography, using the JWK in their own protected headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <yajl_tree.h>

#include "common/b64.h"
#include "common/jws.h"
#include "common/key.h"
#include "common/macro.h"
#include "tests/unit/testdata.h"

static struct key *load_data_key(const char *name)
{
	char path[4096];
	struct key *k = NULL;

	testdata_path(name, path, sizeof(path));
	assert_int_equal(key_load_file(path, &k), 0);
	return k;
}

static char *b64_decode_str(const char *s, size_t n)
{
	uint8_t *out = NULL;
	size_t len;

	assert_int_equal(b64url_decode(s, n, &out, &len), 0);
	assert_int_equal(strlen((char *)out), len);
	return (char *)out;
}

/* The three parts of {"protected":"..","payload":"..","signature":".."}, which must have
 * exactly that shape. */
struct jws_parts {
	char *protected_b64, *payload_b64, *signature_b64; /* owned */
};

static void jws_parts_done(struct jws_parts *p)
{
	free(p->protected_b64);
	free(p->payload_b64);
	free(p->signature_b64);
}

static char *between(const char *s, const char *open, const char *close, const char **rest)
{
	size_t n = strlen(open);

	assert_int_equal(strncmp(s, open, n), 0);
	s += n;
	const char *end = strstr(s, close);
	assert_non_null(end);
	*rest = end;
	return strndup(s, (size_t)(end - s));
}

static void jws_split(const char *body, struct jws_parts *p)
{
	const char *s = body;

	p->protected_b64 = between(s, "{\"protected\":\"", "\"", &s);
	p->payload_b64 = between(s, "\",\"payload\":\"", "\"", &s);
	p->signature_b64 = between(s, "\",\"signature\":\"", "\"", &s);
	assert_string_equal(s, "\"}");
}

static bool verify_sig(const struct key *k, const char *input, const uint8_t *sig,
		       size_t sig_len)
{
	bool p384 = key_get_type(k) == KEY_EC_P384;
	mbedtls_md_type_t md = p384 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256;
	size_t hash_len = p384 ? 48 : 32;
	uint8_t hash[64];
	char *pem = NULL;
	mbedtls_pk_context pk;
	bool ok;

	assert_int_equal(key_write_pem(k, &pem), 0);
	mbedtls_pk_init(&pk);
	assert_int_equal(mbedtls_pk_parse_key(&pk, (const unsigned char *)pem, strlen(pem) + 1,
					      NULL, 0), 0);
	key_pem_free(pem);
	assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(md), (const unsigned char *)input,
				    strlen(input), hash), 0);
	if (mbedtls_pk_get_type(&pk) == MBEDTLS_PK_RSA) {
		ok = mbedtls_pk_verify(&pk, md, hash, hash_len, sig, sig_len) == 0;
	} else {
		mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
		size_t w = (ec->grp.pbits + 7) / 8;
		mbedtls_mpi r, s;

		assert_int_equal(sig_len, 2 * w);
		mbedtls_mpi_init(&r);
		mbedtls_mpi_init(&s);
		assert_int_equal(mbedtls_mpi_read_binary(&r, sig, w), 0);
		assert_int_equal(mbedtls_mpi_read_binary(&s, sig + w, w), 0);
		ok = mbedtls_ecdsa_verify(&ec->grp, hash, hash_len, &ec->Q, &r, &s) == 0;
		mbedtls_mpi_free(&r);
		mbedtls_mpi_free(&s);
	}
	mbedtls_pk_free(&pk);
	return ok;
}

/* Checks body's signature with k, and returns its decoded protected header and payload. */
static void check_jws(const struct key *k, const char *body, char **ret_protected,
		      char **ret_payload)
{
	_cleanup_(jws_parts_done) struct jws_parts p = { 0 };
	_cleanup_free_ char *input = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	size_t sig_len;

	jws_split(body, &p);
	assert_true(asprintf(&input, "%s.%s", p.protected_b64, p.payload_b64) > 0);
	assert_int_equal(b64url_decode(p.signature_b64, strlen(p.signature_b64), &sig, &sig_len),
			 0);
	assert_true(verify_sig(k, input, sig, sig_len));
	*ret_protected = b64_decode_str(p.protected_b64, strlen(p.protected_b64));
	*ret_payload = b64_decode_str(p.payload_b64, strlen(p.payload_b64));
}

static void test_hs256_rfc7515(void **state)
{
	/* RFC 7515 appendix A.1: the HMAC key (JWK "k") and the JWS signing input. */
	static const char k_b64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3"
				    "Yj0iPS4hcgUuTwjAzZr1Z9CAow";
	static const char input[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
				    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9"
				    "leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
	_cleanup_free_ uint8_t *key = NULL;
	_cleanup_free_ char *mac_b64 = NULL;
	uint8_t mac[32];
	size_t key_len;

	(void)state;
	assert_int_equal(b64url_decode(k_b64, strlen(k_b64), &key, &key_len), 0);
	assert_int_equal(key_len, 64);
	assert_int_equal(jws_hs256(key, key_len, input, strlen(input), mac), 0);
	assert_int_equal(b64url_encode(mac, sizeof(mac), &mac_b64), 0);
	assert_string_equal(mac_b64, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

static void test_header_kid(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	_cleanup_free_ char *h = NULL, *h2 = NULL;

	(void)state;
	assert_int_equal(jws_protected_header(k, "n0nce-_", "https://ca.example/acme/new-order",
					      "https://ca.example/acme/acct/1", &h), 0);
	assert_string_equal(h, "{\"alg\":\"ES256\",\"kid\":\"https://ca.example/acme/acct/1\","
			       "\"nonce\":\"n0nce-_\","
			       "\"url\":\"https://ca.example/acme/new-order\"}");
	assert_int_equal(jws_protected_header(k, NULL, "https://u", "https://k", &h2), 0);
	assert_string_equal(h2, "{\"alg\":\"ES256\",\"kid\":\"https://k\",\"url\":\"https://u\"}");
}

static void test_header_jwk(void **state)
{
	_cleanup_(key_freep) struct key *p384 = load_data_key("key-p384-sec1.pem");
	_cleanup_(key_freep) struct key *rsa = load_data_key("key-rfc7517-rsa.pem");
	_cleanup_free_ char *jwk = NULL, *want = NULL, *h = NULL, *rsa_jwk = NULL,
			    *rsa_want = NULL, *rsa_h = NULL;

	(void)state;
	assert_int_equal(key_jwk(p384, &jwk), 0);
	assert_true(asprintf(&want, "{\"alg\":\"ES384\",\"jwk\":%s,\"nonce\":\"abc\","
				    "\"url\":\"https://ca.example/acme/new-acct\"}", jwk) > 0);
	assert_int_equal(jws_protected_header(p384, "abc", "https://ca.example/acme/new-acct",
					      NULL, &h), 0);
	assert_string_equal(h, want);

	assert_int_equal(key_jwk(rsa, &rsa_jwk), 0);
	assert_true(asprintf(&rsa_want, "{\"alg\":\"RS256\",\"jwk\":%s,\"url\":\"https://r\"}",
			     rsa_jwk) > 0);
	assert_int_equal(jws_protected_header(rsa, NULL, "https://r", NULL, &rsa_h), 0);
	assert_string_equal(rsa_h, rsa_want);
}

static void test_header_escaping(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	_cleanup_free_ char *h = NULL;
	static const char url[] = "https://ca.example/a\"b\\c\nd\x01" "e\t\x1f/\xc3\xa9";
	static const char kid[] = "k\"\r";
	char errbuf[256];

	(void)state;
	assert_int_equal(jws_protected_header(k, "\"", url, kid, &h), 0);
	assert_string_equal(h, "{\"alg\":\"ES256\",\"kid\":\"k\\\"\\r\",\"nonce\":\"\\\"\","
			       "\"url\":\"https://ca.example/a\\\"b\\\\c\\nd\\u0001e\\t\\u001f/"
			       "\xc3\xa9\"}");

	/* A JSON parser gets the very strings back. */
	yajl_val tree = yajl_tree_parse(h, errbuf, sizeof(errbuf));
	assert_non_null(tree);
	const char *url_path[] = { "url", NULL };
	const char *kid_path[] = { "kid", NULL };
	const char *nonce_path[] = { "nonce", NULL };
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(tree, url_path, yajl_t_string)), url);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(tree, kid_path, yajl_t_string)), kid);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(tree, nonce_path, yajl_t_string)),
			    "\"");
	yajl_tree_free(tree);
}

static void check_build(const char *key_file)
{
	_cleanup_(key_freep) struct key *k = load_data_key(key_file);
	_cleanup_free_ char *body = NULL, *want_h = NULL, *h = NULL, *payload = NULL;
	static const char order[] =
		"{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example\"}]}";

	assert_int_equal(jws_protected_header(k, "nonce1", "https://ca/new-order", "https://ca/a/1",
					      &want_h), 0);
	assert_int_equal(jws_build(k, "nonce1", "https://ca/new-order", "https://ca/a/1", order,
				   strlen(order), &body), 0);
	check_jws(k, body, &h, &payload);
	assert_string_equal(h, want_h);
	assert_string_equal(payload, order);
}

static void test_build_es256(void **state)
{
	(void)state;
	check_build("key-leaf-p256.pem");
}

static void test_build_es384(void **state)
{
	(void)state;
	check_build("key-p384-sec1.pem");
}

static void test_build_rs256(void **state)
{
	(void)state;
	check_build("key-rfc7517-rsa.pem");
}

static void test_post_as_get(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	_cleanup_free_ char *body = NULL, *body2 = NULL, *h = NULL, *payload = NULL;

	(void)state;
	assert_int_equal(jws_build(k, "n", "https://ca/order/1", "https://ca/a/1", NULL, 0, &body),
			 0);
	assert_non_null(strstr(body, "\",\"payload\":\"\",\"signature\":\""));
	check_jws(k, body, &h, &payload);
	assert_string_equal(payload, "");
	/* An empty string with its length 0 is the same request. */
	assert_int_equal(jws_build(k, "n", "https://ca/order/1", "https://ca/a/1", "", 0, &body2),
			 0);
	assert_non_null(strstr(body2, "\"payload\":\"\""));
}

static void test_sign_with_header(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-rfc6979-p256.pem");
	_cleanup_free_ char *body = NULL, *h = NULL, *payload = NULL;
	static const char header[] =
		"{\"alg\":\"ES256\",\"kid\":\"x\",\"nonce\":\"y\",\"url\":\"z\"}";

	(void)state;
	/* The protected header is used byte for byte, never re-serialized. */
	assert_int_equal(jws_sign(k, header, "{}", 2, &body), 0);
	check_jws(k, body, &h, &payload);
	assert_string_equal(h, header);
	assert_string_equal(payload, "{}");
}

static void test_eab(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-rfc6979-p256.pem");
	_cleanup_free_ char *eab = NULL;
	uint8_t hmac_key[32];

	(void)state;
	for (size_t i = 0; i < sizeof(hmac_key); i++)
		hmac_key[i] = (uint8_t)i;
	/* Computed independently with Python's hmac and base64 from the protected header
	 * {"alg":"HS256","kid":"kid-1","url":"https://ca.example/acme/new-account"} and the
	 * RFC 6979 key's JWK (its Ux and Uy) as payload. */
	assert_int_equal(jws_eab("kid-1", hmac_key, sizeof(hmac_key),
				 "https://ca.example/acme/new-account", k, &eab), 0);
	assert_string_equal(eab,
		"{\"protected\":\"eyJhbGciOiJIUzI1NiIsImtpZCI6ImtpZC0xIiwidXJsIjoiaHR0cHM6Ly9jYS5le"
		"GFtcGxlL2FjbWUvbmV3LWFjY291bnQifQ\",\"payload\":\"eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVD"
		"IiwieCI6IllQN1V1aVZhblRISllldDB4alZ0YU1CSnVKSTdZZnBzNW1saUxtRHluN1kiLCJ5IjoiZVFQLU"
		"VBaTR2Sm1rR3VucFZpaThaUEx4c2d3dGZwOVJkNlBDbE5SR0lwayJ9\","
		"\"signature\":\"GHD38LXIr8j_MBflFmyfFFLFAuxAkgi29mniSMGE4oE\"}");

	char *none = NULL;
	assert_int_equal(jws_eab("kid-1", hmac_key, 0, "u", k, &none), -EINVAL);
	assert_int_equal(jws_eab(NULL, hmac_key, 32, "u", k, &none), -EINVAL);
	assert_int_equal(jws_eab("kid-1", hmac_key, 32, NULL, k, &none), -EINVAL);
	assert_null(none);
}

static void test_key_change_inner(void **state)
{
	_cleanup_(key_freep) struct key *new_key = load_data_key("key-p384-sec1.pem");
	_cleanup_(key_freep) struct key *old_key = load_data_key("key-rfc7517-rsa.pem");
	_cleanup_free_ char *inner = NULL, *h = NULL, *payload = NULL, *new_jwk = NULL,
			    *old_jwk = NULL, *want_h = NULL, *want_payload = NULL;

	(void)state;
	assert_int_equal(jws_key_change_inner(new_key, "https://ca/acme/key-change",
					      "https://ca/acme/acct/7", old_key, &inner), 0);
	check_jws(new_key, inner, &h, &payload);
	assert_int_equal(key_jwk(new_key, &new_jwk), 0);
	assert_int_equal(key_jwk(old_key, &old_jwk), 0);
	assert_true(asprintf(&want_h, "{\"alg\":\"ES384\",\"jwk\":%s,"
				      "\"url\":\"https://ca/acme/key-change\"}", new_jwk) > 0);
	assert_true(asprintf(&want_payload, "{\"account\":\"https://ca/acme/acct/7\","
					    "\"oldKey\":%s}", old_jwk) > 0);
	assert_string_equal(h, want_h);
	assert_string_equal(payload, want_payload);
}

static void test_invalid_args(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	char *out = NULL;

	(void)state;
	assert_int_equal(jws_protected_header(k, "n", NULL, NULL, &out), -EINVAL);
	assert_int_equal(jws_protected_header(NULL, "n", "u", NULL, &out), -EINVAL);
	assert_int_equal(jws_sign(k, NULL, "x", 1, &out), -EINVAL);
	assert_int_equal(jws_sign(k, "{}", NULL, 1, &out), -EINVAL);
	assert_int_equal(jws_key_change_inner(k, "u", NULL, k, &out), -EINVAL);
	assert_null(out);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* Per key type: <type>.jws, a newAccount-style JWS with the JWK embedded; and
 * <type>.keychange, the inner key-change JWS with a fresh P-256 key as the old key.
 * eab.json is an EAB with kid "kid-1" and the HMAC key 00 01 .. 1f. */
static int emit(const char *dir)
{
	static const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048 };
	static const char payload[] = "{\"termsOfServiceAgreed\":true}";
	_cleanup_(key_freep) struct key *old_key = NULL;
	_cleanup_free_ char *eab = NULL;
	uint8_t hmac_key[32];

	if (key_generate(KEY_EC_P256, &old_key) < 0)
		return 1;
	for (size_t t = 0; t < ELEMENTSOF(types); t++) {
		_cleanup_(key_freep) struct key *k = NULL;
		_cleanup_free_ char *body = NULL, *inner = NULL, *name = NULL, *name2 = NULL;
		const char *type = key_type_to_string(types[t]);

		if (key_generate(types[t], &k) < 0 ||
		    jws_build(k, "bm9uY2U", "https://ca.example/acme/new-acct", NULL, payload,
			      strlen(payload), &body) < 0 ||
		    jws_key_change_inner(k, "https://ca.example/acme/key-change",
					 "https://ca.example/acme/acct/1", old_key, &inner) < 0)
			return 1;
		if (asprintf(&name, "%s.jws", type) < 0 ||
		    asprintf(&name2, "%s.keychange", type) < 0)
			return 1;
		if (write_file(dir, name, body) < 0 || write_file(dir, name2, inner) < 0)
			return 1;
	}
	for (size_t i = 0; i < sizeof(hmac_key); i++)
		hmac_key[i] = (uint8_t)i;
	if (jws_eab("kid-1", hmac_key, sizeof(hmac_key), "https://ca.example/acme/new-acct",
		    old_key, &eab) < 0 || write_file(dir, "eab.json", eab) < 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hs256_rfc7515),
		cmocka_unit_test(test_header_kid),
		cmocka_unit_test(test_header_jwk),
		cmocka_unit_test(test_header_escaping),
		cmocka_unit_test(test_build_es256),
		cmocka_unit_test(test_build_es384),
		cmocka_unit_test(test_build_rs256),
		cmocka_unit_test(test_post_as_get),
		cmocka_unit_test(test_sign_with_header),
		cmocka_unit_test(test_eab),
		cmocka_unit_test(test_key_change_inner),
		cmocka_unit_test(test_invalid_args),
	};

	if (argc == 3 && streq(argv[1], "--emit"))
		return emit(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
