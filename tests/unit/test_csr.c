/* tests/unit/test_csr.c: PKCS#10 requests (common/csr.h), walked with mbedTLS's ASN.1 and
 * X.509 helpers. mbedtls_x509_csr_parse_der() is no use here: 2.28 ignores CSR extensions
 * and refuses an empty subject (X509_INVALID_NAME + ASN1_OUT_OF_DATA).
 * "test_csr --emit DIR" writes CSRs for tests/integration/test_crypto_interop.py to check
 * with openssl req -verify and python3-cryptography. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509.h>

#include "common/csr.h"
#include "common/key.h"
#include "common/limits.h"
#include "common/macro.h"
#include "tests/unit/testdata.h"

#define MAX_SANS 128

static const char long_name[] =
	"a-name-that-is-longer-than-sixty-four-characters.for-the-subject.example.com";

static const char *const eight_names[] = {
	long_name,        "www.example.com", "*.example.com",  "mail.example.com",
	"b.example.org",  "c.example.net",   "_acme.example", "xn--bcher-kva.example",
};

static struct key *load_data_key(const char *name)
{
	char path[4096];
	struct key *k = NULL;

	testdata_path(name, path, sizeof(path));
	assert_int_equal(key_load_file(path, &k), 0);
	return k;
}

/* The dNSNames of the subjectAltName in the CSR's attributes [0] (p .. end), in order. The
 * request must carry exactly one attribute holding exactly one extension: the SAN,
 * non-critical. */
static size_t csr_sans(unsigned char *p, const unsigned char *end,
		       char names[][DNS_NAME_MAX_BYTES + 1])
{
	const int attributes_tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0;
	size_t len, n = 0;
	int critical = 0;

	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len, attributes_tag), 0);
	assert_ptr_equal(p + len, end);
	/* Attribute ::= SEQUENCE { OID extensionRequest, SET { Extensions } } */
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	assert_ptr_equal(p + len, end);
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OID), 0);
	assert_int_equal(len, MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS9_CSR_EXT_REQ));
	assert_memory_equal(p, MBEDTLS_OID_PKCS9_CSR_EXT_REQ, len);
	p += len;
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET), 0);
	assert_ptr_equal(p + len, end);
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	assert_ptr_equal(p + len, end);
	/* Extension ::= SEQUENCE { OID, critical BOOLEAN DEFAULT FALSE, OCTET STRING } */
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	assert_ptr_equal(p + len, end);
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OID), 0);
	assert_int_equal(len, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME));
	assert_memory_equal(p, MBEDTLS_OID_SUBJECT_ALT_NAME, len);
	p += len;
	assert_int_equal(mbedtls_asn1_get_bool(&p, end, &critical),
			 MBEDTLS_ERR_ASN1_UNEXPECTED_TAG);
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING), 0);
	assert_ptr_equal(p + len, end);
	/* GeneralNames ::= SEQUENCE OF GeneralName; dNSName is [2] IMPLICIT, tag 0x82. */
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	assert_ptr_equal(p + len, end);
	while (p < end) {
		assert_int_equal(*p, 0x82);
		assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len, 0x82), 0);
		assert_true(len <= DNS_NAME_MAX_BYTES);
		assert_true(n < MAX_SANS);
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		n++;
		p += len;
	}
	return n;
}

/* The subject Name (p .. end) as mbedtls_x509_dn_gets() prints it. */
static void subject_gets(unsigned char *p, const unsigned char *end, char *buf, size_t size)
{
	mbedtls_x509_name name;

	memset(&name, 0, sizeof(name));
	assert_int_equal(mbedtls_x509_get_name(&p, end, &name), 0);
	assert_true(mbedtls_x509_dn_gets(buf, size, &name) >= 0);
	for (mbedtls_x509_name *n = name.next; n;) {
		mbedtls_x509_name *next = n->next;

		free(n);
		n = next;
	}
}

/* Walks der as PKCS#10 (RFC 2986), checks its self-signature, key, digest, subject and
 * SANs. mbedtls_x509_csr_parse_der() cannot do it: 2.28 refuses an empty subject. */
static void check_csr(const struct key *k, const uint8_t *der, size_t der_len,
		      mbedtls_md_type_t want_md, const char *want_subject,
		      const char *const *want_names, size_t n_want)
{
	static char names[MAX_SANS][DNS_NAME_MAX_BYTES + 1];
	unsigned char *p = (unsigned char *)der, *cri, *cri_end;
	const unsigned char *end = der + der_len;
	mbedtls_x509_buf sig_oid, sig_params, sig;
	mbedtls_md_type_t md;
	mbedtls_pk_type_t pk_alg;
	void *sig_opts = NULL;
	mbedtls_pk_context pk;
	uint8_t hash[MBEDTLS_MD_MAX_SIZE];
	char subject[512];
	size_t len;
	int version;

	/* CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature } */
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	assert_ptr_equal(p + len, end);
	/* CertificationRequestInfo ::= SEQUENCE { version, subject, spki, [0] attributes } */
	cri = p;
	assert_int_equal(mbedtls_asn1_get_tag(&p, end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	cri_end = p + len;
	assert_int_equal(mbedtls_asn1_get_int(&p, cri_end, &version), 0);
	assert_int_equal(version, 0);
	assert_int_equal(mbedtls_asn1_get_tag(&p, cri_end, &len,
					      MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE), 0);
	if (want_subject[0] == '\0') {
		assert_int_equal(len, 0);
	} else {
		subject_gets(p, p + len, subject, sizeof(subject));
		assert_string_equal(subject, want_subject);
	}
	p += len;
	mbedtls_pk_init(&pk);
	assert_int_equal(mbedtls_pk_parse_subpubkey(&p, cri_end, &pk), 0);
	assert_int_equal(mbedtls_pk_check_pair(&pk, key_get_pk(k)), 0);
	assert_int_equal(csr_sans(p, cri_end, names), n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_string_equal(names[i], want_names[i]);

	p = cri_end;
	assert_int_equal(mbedtls_x509_get_alg(&p, end, &sig_oid, &sig_params), 0);
	assert_int_equal(mbedtls_x509_get_sig_alg(&sig_oid, &sig_params, &md, &pk_alg, &sig_opts),
			 0);
	assert_null(sig_opts);
	assert_int_equal(md, want_md);
	assert_int_equal(mbedtls_x509_get_sig(&p, end, &sig), 0);
	assert_ptr_equal(p, end);
	assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(md), cri, (size_t)(cri_end - cri),
				    hash), 0);
	assert_int_equal(mbedtls_pk_verify(&pk, md, hash, 0, sig.p, sig.len), 0);
	mbedtls_pk_free(&pk);
}

static void test_p256_eight_names(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	_cleanup_free_ uint8_t *der = NULL;
	size_t len;

	(void)state;
	assert_int_equal(csr_create(k, eight_names, ELEMENTSOF(eight_names), &der, &len), 0);
	/* The first name is over 64 characters: empty subject, every name in the SANs. */
	check_csr(k, der, len, MBEDTLS_MD_SHA256, "", eight_names, ELEMENTSOF(eight_names));
}

static void test_p384_cn(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-p384-pkcs8.pem");
	_cleanup_free_ uint8_t *der = NULL;
	static const char *const names[] = { "short.example", "other.example" };
	size_t len;

	(void)state;
	assert_int_equal(csr_create(k, names, ELEMENTSOF(names), &der, &len), 0);
	check_csr(k, der, len, MBEDTLS_MD_SHA384, "CN=short.example", names, ELEMENTSOF(names));
}

static void test_rsa(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-rfc7517-rsa.pem");
	_cleanup_free_ uint8_t *der = NULL;
	static const char *const names[] = { "rsa.example" };
	size_t len;

	(void)state;
	assert_int_equal(csr_create(k, names, ELEMENTSOF(names), &der, &len), 0);
	check_csr(k, der, len, MBEDTLS_MD_SHA256, "CN=rsa.example", names, 1);
}

static void test_cn_limit(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	_cleanup_free_ uint8_t *der64 = NULL, *der65 = NULL;
	char n64[65], n65[66], subject[80];
	const char *names64[] = { n64 }, *names65[] = { n65 };
	size_t len;

	(void)state;
	memset(n64, 'a', 64);
	memcpy(n64 + 64 - 8, ".example", 9);
	memset(n65, 'a', 65);
	memcpy(n65 + 65 - 8, ".example", 9);
	assert_int_equal(csr_create(k, names64, 1, &der64, &len), 0);
	snprintf(subject, sizeof(subject), "CN=%s", n64);
	check_csr(k, der64, len, MBEDTLS_MD_SHA256, subject, names64, 1);
	assert_int_equal(csr_create(k, names65, 1, &der65, &len), 0);
	check_csr(k, der65, len, MBEDTLS_MD_SHA256, "", names65, 1);
}

static void test_many_long_names(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	static char storage[CONFIG_MAX_NAMES_PER_CERT + 1][DNS_NAME_MAX_BYTES + 1];
	const char *names[CONFIG_MAX_NAMES_PER_CERT + 1];
	_cleanup_free_ uint8_t *der = NULL;
	uint8_t *none = NULL;
	size_t len;

	(void)state;
	/* The most we accept, each name as long as DNS allows: long-form lengths all the
	 * way up, and buffers sized from the input. */
	for (size_t i = 0; i <= CONFIG_MAX_NAMES_PER_CERT; i++) {
		char prefix[16];

		memset(storage[i], 'x', DNS_NAME_MAX_BYTES);
		storage[i][DNS_NAME_MAX_BYTES] = '\0';
		snprintf(prefix, sizeof(prefix), "n%03zu.", i);
		memcpy(storage[i], prefix, strlen(prefix));
		names[i] = storage[i];
	}
	assert_int_equal(csr_create(k, names, CONFIG_MAX_NAMES_PER_CERT, &der, &len), 0);
	assert_true(len > CONFIG_MAX_NAMES_PER_CERT * DNS_NAME_MAX_BYTES);
	check_csr(k, der, len, MBEDTLS_MD_SHA256, "", names, CONFIG_MAX_NAMES_PER_CERT);
	assert_int_equal(csr_create(k, names, CONFIG_MAX_NAMES_PER_CERT + 1, &none, &len),
			 -E2BIG);
	assert_null(none);
}

static void test_bad_names(void **state)
{
	_cleanup_(key_freep) struct key *k = load_data_key("key-leaf-p256.pem");
	char too_long[DNS_NAME_MAX_BYTES + 2];
	static const char *const bad[] = {
		"", "a,O=evil", "a b.example", "a\\,b", "caf\xc3\xa9.example", "a=b", "a\nb",
		"a+b.example",
	};
	uint8_t *der = NULL;
	size_t len;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		const char *names[] = { "ok.example", bad[i] };

		assert_int_equal(csr_create(k, names, 2, &der, &len), -EINVAL);
		assert_int_equal(csr_create(k, names + 1, 1, &der, &len), -EINVAL);
	}
	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	const char *long_names[] = { too_long };
	assert_int_equal(csr_create(k, long_names, 1, &der, &len), -EINVAL);
	const char *null_name[] = { NULL };
	assert_int_equal(csr_create(k, null_name, 1, &der, &len), -EINVAL);
	assert_int_equal(csr_create(k, eight_names, 0, &der, &len), -EINVAL);
	assert_int_equal(csr_create(k, NULL, 1, &der, &len), -EINVAL);
	assert_null(der);
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	fwrite(data, 1, len, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* <type>.der and <type>.names (one per line) for each key type. */
static int emit(const char *dir)
{
	static const enum key_type types[] = { KEY_EC_P256, KEY_EC_P384, KEY_RSA_2048 };

	for (size_t t = 0; t < ELEMENTSOF(types); t++) {
		_cleanup_(key_freep) struct key *k = NULL;
		_cleanup_free_ uint8_t *der = NULL;
		_cleanup_free_ char *der_name = NULL, *names_name = NULL, *names = NULL;
		const char *type = key_type_to_string(types[t]);
		size_t n = types[t] == KEY_EC_P256 ? ELEMENTSOF(eight_names) : 2 + t;
		const char *const *list = types[t] == KEY_EC_P256 ? eight_names : eight_names + 1;
		size_t len, names_len = 0;
		FILE *f;

		if (key_generate(types[t], &k) < 0 || csr_create(k, list, n, &der, &len) < 0)
			return 1;
		f = open_memstream(&names, &names_len);
		if (!f)
			return 1;
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s\n", list[i]);
		if (fclose(f) != 0)
			return 1;
		if (asprintf(&der_name, "%s.der", type) < 0 ||
		    asprintf(&names_name, "%s.names", type) < 0)
			return 1;
		if (write_file(dir, der_name, der, len) < 0 ||
		    write_file(dir, names_name, names, names_len) < 0)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p256_eight_names),
		cmocka_unit_test(test_p384_cn),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_cn_limit),
		cmocka_unit_test(test_many_long_names),
		cmocka_unit_test(test_bad_names),
	};

	if (argc == 3 && streq(argv[1], "--emit"))
		return emit(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
