#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "common/b64.h"
#include "common/limits.h"
#include "common/macro.h"
#include "common/mberr.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"

static void crt_done(mbedtls_x509_crt *c)
{
	mbedtls_x509_crt_free(c);
}

int x509_chain_parse(const char *pem_chain, size_t len, struct mbedtls_x509_crt *chain)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	const char *p = pem_chain, *stop = pem_chain + len, *b;
	size_t n_certs = 0;
	int r;

	if (len > CERT_MAX_BYTES)
		return -E2BIG;
	if (len == 0 || memchr(pem_chain, '\0', len))
		return -EINVAL;
	_cleanup_free_ uint8_t *der = malloc(len);
	if (!der)
		return -ENOMEM;
	/* Text between blocks is allowed (RFC 7468 section 5.2), a BEGIN without its END is
	 * not: a chain cut inside its last certificate must not pass as a shorter chain.
	 * The body is decoded by common/b64, not by mbedTLS: its decoder is constant-time,
	 * made for keys, and took 8% of a cold start at 100k certs. */
	while ((b = memmem(p, (size_t)(stop - p), begin, strlen(begin)))) {
		const char *body = b + strlen(begin);
		const char *e = memmem(body, (size_t)(stop - body), end, strlen(end));
		size_t der_len;
		if (!e || b64_decode_lines(body, (size_t)(e - body), der, &der_len) < 0)
			return -EINVAL;
		r = mbedtls_x509_crt_parse_der(chain, der, der_len);
		if (r < 0)
			return mberr_to_errno(r, -EINVAL);
		n_certs++;
		p = e + strlen(end);
	}
	return n_certs ? 0 : -EINVAL;
}

int x509_time_to_unix(const mbedtls_x509_time *t, int64_t *ret)
{
	/* mbedTLS has checked the date already; these bounds keep the arithmetic honest
	 * should that ever change. */
	if (t->year < 0 || t->year > 9999 || t->mon < 1 || t->mon > 12 || t->day < 1 ||
	    t->day > 31 || t->hour < 0 || t->hour > 23 || t->min < 0 || t->min > 59 ||
	    t->sec < 0 || t->sec > 60)
		return -EINVAL;
	*ret = time_days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * 86400 +
	       (int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
	return 0;
}

/* The first CN of a name, or NULL. A CN holding a NUL (BMPString, or an attack) is
 * skipped: it cannot be a C string. */
static int name_dup_cn(const mbedtls_x509_name *n, char **ret)
{
	for (; n; n = n->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
			continue;
		if (n->val.len > 0 && memchr(n->val.p, '\0', n->val.len))
			continue;
		char *cn = strndup((const char *)n->val.p, n->val.len);
		if (!cn)
			return -ENOMEM;
		*ret = cn;
		return 0;
	}
	*ret = NULL;
	return 0;
}

static int dup_dns_names(const mbedtls_x509_crt *crt, struct x509_info *info)
{
	const int dns_tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME;
	const mbedtls_x509_sequence *s;
	size_t n = 0;

	for (s = &crt->subject_alt_names; s && s->buf.p; s = s->next)
		if (s->buf.tag == dns_tag)
			n++;
	if (n == 0)
		return 0;
	info->dns_names = calloc(n, sizeof(char *));
	if (!info->dns_names)
		return -ENOMEM;
	for (s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
		if (s->buf.tag != dns_tag)
			continue;
		/* buf.p is not NUL-terminated; a NUL inside is a forgery attempt. */
		if (s->buf.len == 0 || memchr(s->buf.p, '\0', s->buf.len))
			return -EINVAL;
		char *name = strndup((const char *)s->buf.p, s->buf.len);
		if (!name)
			return -ENOMEM;
		info->dns_names[info->n_dns_names++] = name;
	}
	return 0;
}

static int serial_to_hex(const mbedtls_x509_buf *serial, char **ret)
{
	const uint8_t *p = serial->p;
	size_t len = serial->len;

	/* As openssl prints it: without the 00 that DER puts before a set top bit. */
	while (len > 1 && p[0] == 0) {
		p++;
		len--;
	}
	char *hex = malloc(2 * len + 1);
	if (!hex)
		return -ENOMEM;
	str_hex_encode(p, len, hex);
	*ret = hex;
	return 0;
}

/* Finds the keyIdentifier of the Authority Key Identifier extension. 2.28 neither parses
 * the AKI nor sets its ext_types bit, so walk crt->v3_ext, which starts at the
 * Extensions SEQUENCE (the [3] wrapper is already stripped), each step bounded by the end
 * of what encloses it. Returns 1 and the borrowed bytes, 0 when there is none. */
static int find_aki_key_id(const mbedtls_x509_crt *crt, const uint8_t **ret, size_t *ret_len)
{
	unsigned char *p = crt->v3_ext.p;
	const unsigned char *end;
	size_t len;
	int r;

	if (!p || crt->v3_ext.len == 0)
		return 0;
	end = p + crt->v3_ext.len;
	r = mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
	if (r != 0)
		return -EINVAL;
	end = p + len;
	while (p < end) {
		const unsigned char *ext_end, *oid;
		size_t oid_len;
		int critical;

		r = mbedtls_asn1_get_tag(&p, end, &len,
					 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
		if (r != 0)
			return -EINVAL;
		ext_end = p + len;
		r = mbedtls_asn1_get_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID);
		if (r != 0)
			return -EINVAL;
		oid = p;
		p += oid_len;
		r = mbedtls_asn1_get_bool(&p, ext_end, &critical);
		if (r != 0 && r != MBEDTLS_ERR_ASN1_UNEXPECTED_TAG)
			return -EINVAL;
		r = mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING);
		if (r != 0 || p + len != ext_end)
			return -EINVAL;
		if (oid_len == MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER) &&
		    memcmp(oid, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER, oid_len) == 0) {
			/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] OPTIONAL,
			 * ... }: when present, the key identifier comes first. */
			const unsigned char *aki_end;

			r = mbedtls_asn1_get_tag(&p, ext_end, &len,
						 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
			if (r != 0)
				return -EINVAL;
			aki_end = p + len;
			r = mbedtls_asn1_get_tag(&p, aki_end, &len,
						 MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0);
			if (r != 0 || len == 0)
				return 0;
			*ret = p;
			*ret_len = len;
			return 1;
		}
		p += len;
	}
	return 0;
}

static int ari_cert_id(const mbedtls_x509_crt *crt, char **ret)
{
	_cleanup_free_ char *key_id_b64 = NULL, *serial_b64 = NULL;
	const uint8_t *key_id = NULL;
	size_t key_id_len = 0;
	int r;

	*ret = NULL;
	r = find_aki_key_id(crt, &key_id, &key_id_len);
	if (r <= 0)
		return r;
	r = b64url_encode(key_id, key_id_len, &key_id_b64);
	if (r < 0)
		return r;
	/* The serial's INTEGER content bytes as they are in the DER, a leading 00 included
	 * (RFC 9773 section 4.1). */
	r = b64url_encode(crt->serial.p, crt->serial.len, &serial_b64);
	if (r < 0)
		return r;
	if (asprintf(ret, "%s.%s", key_id_b64, serial_b64) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

void x509_info_done(struct x509_info *i)
{
	if (!i)
		return;
	for (size_t n = 0; n < i->n_dns_names; n++)
		free(i->dns_names[n]);
	free(i->dns_names);
	free(i->subject_cn);
	free(i->issuer_cn);
	free(i->serial_hex);
	free(i->ari_cert_id);
	*i = (struct x509_info){ 0 };
}

int x509_parse_leaf(const char *pem_chain, size_t len, struct x509_info *ret)
{
	_cleanup_(crt_done) mbedtls_x509_crt chain;
	_cleanup_(x509_info_done) struct x509_info info = { 0 };
	int r;

	mbedtls_x509_crt_init(&chain);
	r = x509_chain_parse(pem_chain, len, &chain);
	if (r < 0)
		return r;
	r = x509_time_to_unix(&chain.valid_from, &info.not_before);
	if (r < 0)
		return r;
	r = x509_time_to_unix(&chain.valid_to, &info.not_after);
	if (r < 0)
		return r;
	r = dup_dns_names(&chain, &info);
	if (r < 0)
		return r;
	r = name_dup_cn(&chain.subject, &info.subject_cn);
	if (r < 0)
		return r;
	r = name_dup_cn(&chain.issuer, &info.issuer_cn);
	if (r < 0)
		return r;
	r = serial_to_hex(&chain.serial, &info.serial_hex);
	if (r < 0)
		return r;
	r = ari_cert_id(&chain, &info.ari_cert_id);
	if (r < 0)
		return r;
	*ret = info;
	info = (struct x509_info){ 0 };
	return 0;
}

int x509_chain_count(const char *pem_chain, size_t len)
{
	_cleanup_(crt_done) mbedtls_x509_crt chain;
	int n = 0, r;

	mbedtls_x509_crt_init(&chain);
	r = x509_chain_parse(pem_chain, len, &chain);
	if (r < 0)
		return r;
	for (const mbedtls_x509_crt *c = &chain; c && c->raw.p; c = c->next)
		n++;
	return n;
}

int x509_chain_top_issuer_cn(const char *pem_chain, size_t len, char **ret)
{
	_cleanup_(crt_done) mbedtls_x509_crt chain;
	const mbedtls_x509_crt *top;
	char *cn = NULL;
	int r;

	mbedtls_x509_crt_init(&chain);
	r = x509_chain_parse(pem_chain, len, &chain);
	if (r < 0)
		return r;
	for (top = &chain; top->next && top->next->raw.p; top = top->next)
		;
	r = name_dup_cn(&top->issuer, &cn);
	if (r < 0)
		return r;
	if (!cn)
		return -ENOENT;
	*ret = cn;
	return 0;
}

int x509_leaf_der(const char *pem_chain, size_t len, uint8_t **ret, size_t *ret_len)
{
	_cleanup_(crt_done) mbedtls_x509_crt chain;
	int r;

	mbedtls_x509_crt_init(&chain);
	r = x509_chain_parse(pem_chain, len, &chain);
	if (r < 0)
		return r;
	uint8_t *der = malloc(chain.raw.len ? chain.raw.len : 1);
	if (!der)
		return -ENOMEM;
	memcpy(der, chain.raw.p, chain.raw.len);
	*ret = der;
	*ret_len = chain.raw.len;
	return 0;
}
