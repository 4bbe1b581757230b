#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "common/certcheck.h"
#include "common/key.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"

static const char *const verdict_names[] = {
	[CERTCHECK_OK] = "OK",
	[CERTCHECK_MALFORMED] = "MALFORMED",
	[CERTCHECK_NOT_YET_VALID] = "NOT_YET_VALID",
	[CERTCHECK_EXPIRED] = "EXPIRED",
	[CERTCHECK_SHORT_LIFETIME] = "SHORT_LIFETIME",
	[CERTCHECK_NAMES_DIFFER] = "NAMES_DIFFER",
	[CERTCHECK_KEY_DIFFERS] = "KEY_DIFFERS",
	[CERTCHECK_CHAIN_BROKEN] = "CHAIN_BROKEN",
};
_Static_assert(ELEMENTSOF(verdict_names) == _CERTCHECK_VERDICT_MAX, "certcheck verdict names");

const char *certcheck_verdict_to_string(enum certcheck_verdict v)
{
	return (unsigned)v < _CERTCHECK_VERDICT_MAX ? verdict_names[v] : "UNKNOWN";
}

void certcheck_result_done(struct certcheck_result *r)
{
	if (!r)
		return;
	free(r->reason);
	*r = (struct certcheck_result){ 0 };
}

_printf_(3, 4) static int verdict(struct certcheck_result *ret, enum certcheck_verdict v,
				  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&ret->reason, fmt, ap);
	va_end(ap);
	if (r < 0) {
		ret->reason = NULL;
		return -ENOMEM;
	}
	ret->verdict = v;
	return 0;
}

static void format_span(int64_t sec, char *buf, size_t size)
{
	time_format_duration(sec > 0 ? (uint64_t)sec * 1000 : 0, buf, size);
}

static int check_times(const mbedtls_x509_crt *leaf, int64_t now, struct certcheck_result *ret,
		       bool *ok)
{
	int64_t nb, na;
	char a[40], b[40], c[40], d[40];

	*ok = false;
	if (x509_time_to_unix(&leaf->valid_from, &nb) < 0 ||
	    x509_time_to_unix(&leaf->valid_to, &na) < 0 || na < nb)
		return verdict(ret, CERTCHECK_MALFORMED, "the certificate's validity dates are "
							 "not a valid period");
	time_format_iso(nb, a, sizeof(a));
	time_format_iso(na, b, sizeof(b));
	time_format_iso(now, c, sizeof(c));
	if (nb > now + CERTCHECK_SKEW_SEC)
		return verdict(ret, CERTCHECK_NOT_YET_VALID,
			       "the certificate is not valid yet: notBefore %s is after now (%s); "
			       "is the CA's clock wrong?",
			       a, c);
	if (now > na)
		return verdict(ret, CERTCHECK_EXPIRED,
			       "the certificate has already expired: notAfter %s is before now "
			       "(%s); is the CA's clock or profile wrong?",
			       b, c);
	int64_t lifetime = na - nb + 1, left = na - now + 1;
	int64_t need = lifetime / 2 < CERTCHECK_MIN_LEFT_SEC ? lifetime / 2 : CERTCHECK_MIN_LEFT_SEC;
	if (need < CERTCHECK_FLOOR_LEFT_SEC)
		need = CERTCHECK_FLOOR_LEFT_SEC;
	if (left < need) {
		format_span(left, c, sizeof(c));
		format_span(need, d, sizeof(d));
		return verdict(ret, CERTCHECK_SHORT_LIFETIME,
			       "the certificate has too little lifetime left: %s until notAfter %s, "
			       "at least %s needed (validity %s .. %s)",
			       c, b, d, a, b);
	}
	*ok = true;
	return 0;
}

static bool name_ordered(const char *const *names, size_t n_names, const char *s, size_t len)
{
	for (size_t i = 0; i < n_names; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
			return true;
	return false;
}

/* Appends "what 'name'" to a list in a memstream, comma-separated. */
static void list_add(FILE *f, bool *first, const char *s, size_t len)
{
	char esc[300];

	str_escape_line(esc, sizeof(esc), s, len, 253);
	fprintf(f, "%s%s", *first ? "" : ", ", esc);
	*first = false;
}

static int check_names(const mbedtls_x509_crt *leaf, const char *const *names, size_t n_names,
		       struct certcheck_result *ret, bool *ok)
{
	const int dns_tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME;
	_cleanup_free_ char *extra = NULL, *missing = NULL;
	size_t extra_len = 0, missing_len = 0;
	bool first_extra = true, first_missing = true;
	unsigned other = 0;
	int r = 0;

	*ok = false;
	FILE *fe = open_memstream(&extra, &extra_len);
	if (!fe)
		return -ENOMEM;
	for (const mbedtls_x509_sequence *s = &leaf->subject_alt_names; s && s->buf.p; s = s->next) {
		if (s->buf.tag != dns_tag) {
			other++;
			continue;
		}
		const char *p = (const char *)s->buf.p;
		if (s->buf.len == 0 || memchr(p, '\0', s->buf.len) ||
		    !name_ordered(names, n_names, p, s->buf.len))
			list_add(fe, &first_extra, p, s->buf.len);
	}
	if (fclose(fe) != 0)
		return -ENOMEM;
	FILE *fm = open_memstream(&missing, &missing_len);
	if (!fm)
		return -ENOMEM;
	for (size_t i = 0; i < n_names; i++) {
		bool found = false;
		for (const mbedtls_x509_sequence *s = &leaf->subject_alt_names; s && s->buf.p && !found;
		     s = s->next)
			found = s->buf.tag == dns_tag && s->buf.len == strlen(names[i]) &&
				strncasecmp((const char *)s->buf.p, names[i], s->buf.len) == 0;
		if (!found)
			list_add(fm, &first_missing, names[i], strlen(names[i]));
	}
	if (fclose(fm) != 0)
		return -ENOMEM;
	if (extra_len == 0 && missing_len == 0 && other == 0) {
		*ok = true;
		return 0;
	}
	char others[80] = "";
	if (other)
		str_printf(others, sizeof(others), "%s%u subjectAltName entries that are not DNS "
						   "names",
			   extra_len || missing_len ? "; " : "", other);
	r = verdict(ret, CERTCHECK_NAMES_DIFFER,
		    "the certificate is not for the names we ordered:%s%s%s%s%s%s",
		    missing_len ? " missing " : "", missing_len ? missing : "",
		    missing_len && extra_len ? ";" : "", extra_len ? " not ordered " : "",
		    extra_len ? extra : "", others);
	return r;
}

/* Does child's signature verify with parent's public key? */
static bool signed_by(const mbedtls_x509_crt *child, mbedtls_x509_crt *parent)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(child->sig_md);
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];

	if (!md || mbedtls_md(md, child->tbs.p, child->tbs.len, hash) != 0)
		return false;
	if (!mbedtls_pk_can_do(&parent->pk, child->sig_pk))
		return false;
	return mbedtls_pk_verify_ext(child->sig_pk, child->sig_opts, &parent->pk, child->sig_md,
				     hash, mbedtls_md_get_size(md), child->sig.p,
				     child->sig.len) == 0;
}

static int check_links(mbedtls_x509_crt *chain, struct certcheck_result *ret, bool *ok)
{
	unsigned depth = 0;

	*ok = false;
	for (mbedtls_x509_crt *c = chain; c && c->next && c->next->raw.p; c = c->next, depth++) {
		mbedtls_x509_crt *parent = c->next;
		char issuer[256] = "", subject[256] = "";

		if (c->issuer_raw.len != parent->subject_raw.len ||
		    memcmp(c->issuer_raw.p, parent->subject_raw.p, c->issuer_raw.len) != 0) {
			(void)mbedtls_x509_dn_gets(issuer, sizeof(issuer), &c->issuer);
			(void)mbedtls_x509_dn_gets(subject, sizeof(subject), &parent->subject);
			return verdict(ret, CERTCHECK_CHAIN_BROKEN,
				       "the chain does not link: certificate %u is issued by '%s', but "
				       "the next one is '%s'",
				       depth, issuer, subject);
		}
		if (!signed_by(c, parent)) {
			(void)mbedtls_x509_dn_gets(subject, sizeof(subject), &parent->subject);
			return verdict(ret, CERTCHECK_CHAIN_BROKEN,
				       "the chain does not link: the signature of certificate %u does "
				       "not verify with the key of its issuer '%s'",
				       depth, subject);
		}
	}
	*ok = true;
	return 0;
}

int certcheck_chain(const char *pem_chain, size_t len, const char *const *names, size_t n_names,
		    const struct key *key, int64_t now, struct certcheck_result *ret)
{
	struct certcheck_result res = { 0 };
	mbedtls_x509_crt chain;
	bool ok = false;
	int r;

	mbedtls_x509_crt_init(&chain);
	r = x509_chain_parse(pem_chain, len, &chain);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		r = verdict(&res, CERTCHECK_MALFORMED, "the certificate chain does not parse%s",
			    r == -E2BIG ? " (too large)" : "");
		goto out;
	}
	r = check_times(&chain, now, &res, &ok);
	if (r < 0 || !ok)
		goto out;
	r = check_names(&chain, names, n_names, &res, &ok);
	if (r < 0 || !ok)
		goto out;
	r = key_pem_matches(key, pem_chain, len);
	if (r < 0)
		goto out;
	if (r == 0) {
		r = verdict(&res, CERTCHECK_KEY_DIFFERS,
			    "the certificate's public key is not the key we sent the CSR for");
		goto out;
	}
	r = check_links(&chain, &res, &ok);
	if (r < 0 || !ok)
		goto out;
	r = verdict(&res, CERTCHECK_OK, "the certificate is fit to install");
out:
	mbedtls_x509_crt_free(&chain);
	if (r < 0) {
		certcheck_result_done(&res);
		return r;
	}
	*ret = res;
	return 0;
}
