#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_csr.h>

#include "common/csr.h"
#include "common/key.h"
#include "common/limits.h"
#include "common/macro.h"
#include "common/mberr.h"

/* X.520 ub-common-name: a longer first name goes into the SANs only. */
#define CSR_CN_MAX_BYTES 64
/* The CSR around the SANs: subject, an RSA 4096 public key and signature, headers. */
#define CSR_OVERHEAD_BYTES (8 * 1024)

static bool name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > DNS_NAME_MAX_BYTES)
		return false;
	/* This also keeps ',', '=' and '\\' out of the subject string mbedTLS parses. */
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '*'))
			return false;
	}
	return true;
}

static void csr_done(mbedtls_x509write_csr *c)
{
	mbedtls_x509write_csr_free(c);
}

/* GeneralNames ::= SEQUENCE OF GeneralName, each a dNSName: [2] IMPLICIT IA5String, tag
 * 0x82 (not asn1_write_ia5_string, whose universal tag 0x16 would be wrong). asn1write
 * writes backwards from the end of buf, so the names go in reverse to come out in order.
 * Sets *ret_start to the first byte of the value inside buf. */
static int san_write(const char *const *names, size_t n_names, uint8_t *buf, size_t size,
		     uint8_t **ret_start, size_t *ret_len)
{
	unsigned char *p = buf + size;
	size_t total = 0;
	int r;

	for (size_t i = n_names; i-- > 0;) {
		r = mbedtls_asn1_write_tagged_string(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2,
						     names[i], strlen(names[i]));
		if (r < 0)
			return mberr_to_errno(r, -EIO);
		total += (size_t)r;
	}
	r = mbedtls_asn1_write_len(&p, buf, total);
	if (r < 0)
		return mberr_to_errno(r, -EIO);
	total += (size_t)r;
	r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
	if (r < 0)
		return mberr_to_errno(r, -EIO);
	total += (size_t)r;
	*ret_start = p;
	*ret_len = total;
	return 0;
}

int csr_create(const struct key *k, const char *const *names, size_t n_names, uint8_t **ret_der,
	       size_t *ret_len)
{
	_cleanup_(csr_done) mbedtls_x509write_csr csr;
	_cleanup_free_ uint8_t *san = NULL, *buf = NULL;
	_cleanup_free_ char *subject = NULL;
	uint8_t *san_value = NULL, *der;
	size_t san_size = 16, san_len = 0, buf_size;
	int r;

	mbedtls_x509write_csr_init(&csr);
	if (!k || !names || n_names == 0)
		return -EINVAL;
	if (n_names > CONFIG_MAX_NAMES_PER_CERT)
		return -E2BIG;
	for (size_t i = 0; i < n_names; i++) {
		if (!names[i] || !name_is_valid(names[i]))
			return -EINVAL;
		/* Tag, a length of up to 3 bytes, the name. */
		san_size += 4 + strlen(names[i]);
	}

	san = malloc(san_size);
	if (!san)
		return -ENOMEM;
	r = san_write(names, n_names, san, san_size, &san_value, &san_len);
	if (r < 0)
		return r;

	if (strlen(names[0]) <= CSR_CN_MAX_BYTES) {
		if (asprintf(&subject, "CN=%s", names[0]) < 0)
			subject = NULL;
	} else {
		subject = strdup("");
	}
	if (!subject)
		return -ENOMEM;
	r = mbedtls_x509write_csr_set_subject_name(&csr, subject);
	if (r != 0)
		return mberr_to_errno(r, -EINVAL);
	/* 2.28 has no SAN helper and no critical flag here, so the request's extension is
	 * non-critical even with an empty subject. That is fine: the CA decides what goes
	 * into the certificate (pebble issued from such CSRs with an empty subject). */
	r = mbedtls_x509write_csr_set_extension(&csr, MBEDTLS_OID_SUBJECT_ALT_NAME,
						MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
						san_value, san_len);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	mbedtls_x509write_csr_set_key(&csr, key_get_pk(k));
	mbedtls_x509write_csr_set_md_alg(&csr, key_get_type(k) == KEY_EC_P384 ?
						       MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256);

	buf_size = san_len + CSR_OVERHEAD_BYTES;
	buf = malloc(buf_size);
	if (!buf)
		return -ENOMEM;
	/* The DER is written at the end of buf; the result is its length. ECDSA needs an
	 * RNG here even though signing is deterministic (it blinds). */
	r = mbedtls_x509write_csr_der(&csr, buf, buf_size, key_rng, (void *)k);
	if (r < 0)
		return mberr_to_errno(r, -EIO);
	if (r == 0)
		return -EIO;
	der = malloc((size_t)r);
	if (!der)
		return -ENOMEM;
	memcpy(der, buf + buf_size - (size_t)r, (size_t)r);
	*ret_der = der;
	*ret_len = (size_t)r;
	return 0;
}
