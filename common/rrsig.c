/* common/rrsig.c: see rrsig.h. */
#include "common/rrsig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/macro.h"
#include "common/p256verify.h"
#include "common/sigmemo.h"
#include "common/timeutil.h"

#define RRSIG_FIXED 18            /* RDATA before the signer's name */
#define RRSIG_MAX_RRS 256         /* RRs of one RRset we sort */
#define DNSKEY_FLAG_ZONE 0x0100
#define DNSKEY_FLAG_REVOKE 0x0080
#define DNSKEY_PROTOCOL 3
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 4096

enum {
	ALG_RSASHA256 = 8,
	ALG_ECDSAP256SHA256 = 13,
	ALG_ECDSAP384SHA384 = 14,
	ALG_ED25519 = 15,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void lower_name(uint8_t *w, size_t len)
{
	/* Label length bytes are below 64, so never in 'A'..'Z'. */
	for (size_t i = 0; i < len; i++)
		if (w[i] >= 'A' && w[i] <= 'Z')
			w[i] = (uint8_t)(w[i] + 32);
}

/* Labels of a wire name, the root and a leading "*" not counted (RFC 4034
 * section 3.1.3). */
static unsigned label_count(const uint8_t *w, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len && w[i]; i += 1 + (size_t)w[i])
		n++;
	if (n && w[0] == 1 && w[1] == '*')
		n--;
	return n;
}

/* Is signer owner itself or one of its ancestors? */
static bool name_at_or_above(const uint8_t *owner, size_t owner_len, const uint8_t *signer,
			     size_t signer_len)
{
	for (size_t i = 0; i < owner_len; i += 1 + (size_t)owner[i]) {
		if (owner_len - i == signer_len &&
		    dnswire_name_equal(owner + i, owner_len - i, signer, signer_len))
			return true;
		if (owner[i] == 0)
			break;
	}
	return false;
}

/* Types whose RDATA holds no domain name: their canonical form is the
 * wire form (RFC 4034 section 6.2, item 3 lists the others). */
static bool rdata_has_no_names(uint16_t type)
{
	return type == 16 /* TXT */ || type == 257 /* CAA */ || type == 1 /* A */ ||
	       type == 28 /* AAAA */;
}

/* An RRSIG at owner covering type: its signer's name (lowercase) and
 * where the signature starts. false when rr is not one, or malformed. */
static bool rrsig_parse(const struct dnswire_msg *m, const struct dnswire_rr *rr,
			const uint8_t *owner, size_t owner_len, uint16_t type, uint8_t *signer,
			size_t *signer_len, size_t *sig_at)
{
	size_t end = rr->rdata_at + rr->rdlen;

	if (rr->section != DNSWIRE_ANSWER || rr->type != RRSIG_TYPE || rr->rclass != 1 ||
	    rr->rdlen < RRSIG_FIXED + 1 ||
	    !dnswire_name_equal(rr->owner, rr->owner_len, owner, owner_len) ||
	    get16(m->buf + rr->rdata_at) != type)
		return false;
	/* The signer's name is never compressed (RFC 4034 section 3.1.7):
	 * read it as a name bounded by the RDATA, and refuse pointers. */
	size_t at = rr->rdata_at + RRSIG_FIXED;
	for (size_t i = at; i < end; i += 1 + (size_t)m->buf[i]) {
		if (m->buf[i] & 0xc0)
			return false;
		if (m->buf[i] == 0)
			break;
	}
	if (dnswire_name(m->buf, end, at, signer, signer_len, sig_at) < 0 || *sig_at >= end)
		return false;
	lower_name(signer, *signer_len);
	return name_at_or_above(owner, owner_len, signer, *signer_len);
}

int rrsig_signer(const struct dnswire_msg *m, const uint8_t *owner, size_t owner_len,
		 uint16_t type, uint8_t *signer, size_t *signer_len)
{
	struct dnswire_iter it = { 0 };
	struct dnswire_rr rr;
	size_t sig_at;

	while (dnswire_rr_next(m, &it, &rr) > 0 && rr.section == DNSWIRE_ANSWER)
		if (rrsig_parse(m, &rr, owner, owner_len, type, signer, signer_len, &sig_at))
			return 1;
	return 0;
}

uint16_t rrsig_key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;

	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

/* ---- public-key verification ---- */

static EVP_PKEY *spki_key(const uint8_t *prefix, size_t prefix_len, const uint8_t *pk,
			  size_t pk_len)
{
	uint8_t der[128];
	const uint8_t *p = der;

	if (prefix_len + pk_len > sizeof(der))
		return NULL;
	memcpy(der, prefix, prefix_len);
	memcpy(der + prefix_len, pk, pk_len);
	return d2i_PUBKEY(NULL, &p, (long)(prefix_len + pk_len));
}

static EVP_PKEY *rsa_key(const uint8_t *pk, size_t len)
{
	size_t elen, at;

	/* RFC 3110 section 2: the exponent's length in one byte, or in
	 * three when the first is 0. */
	if (len < 1)
		return NULL;
	if (pk[0]) {
		elen = pk[0];
		at = 1;
	} else {
		if (len < 3)
			return NULL;
		elen = get16(pk + 1);
		at = 3;
	}
	/* Real exponents are 3 or 65537; a huge one would make every
	 * verification slow. Such a key is left to the validator. */
	if (elen == 0 || elen > 8 || elen > len - at || len - at - elen == 0)
		return NULL;
	BIGNUM *e = BN_bin2bn(pk + at, (int)elen, NULL);
	BIGNUM *n = BN_bin2bn(pk + at + elen, (int)(len - at - elen), NULL);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *key = NULL;

	if (e && n && b && BN_num_bits(n) >= RSA_MIN_BITS && BN_num_bits(n) <= RSA_MAX_BITS &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(b)) &&
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) && EVP_PKEY_fromdata_init(pc) > 0)
		(void)EVP_PKEY_fromdata(pc, &key, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_free(n);
	BN_free(e);
	return key;
}

/* DNSSEC's ECDSA signature is r | s, each w bytes (RFC 6605 section 4);
 * libcrypto takes DER. */
static int ecdsa_der(const uint8_t *sig, size_t w, uint8_t *out, size_t size, size_t *ret_len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)w, NULL), *ss = BN_bin2bn(sig + w, (int)w, NULL);
	int n = -1;

	if (s && r && ss && ECDSA_SIG_set0(s, r, ss)) {
		r = ss = NULL;
		if (i2d_ECDSA_SIG(s, NULL) <= (int)size) {
			uint8_t *p = out;
			n = i2d_ECDSA_SIG(s, &p);
		}
	}
	BN_free(r);
	BN_free(ss);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return -ENOMEM;
	*ret_len = (size_t)n;
	return 0;
}

struct rrsig_pubkey {
	uint8_t alg;
	size_t sig_len;               /* the only length a signature may have; 0: any */
	EVP_PKEY *pkey;
	EVP_MD *md;                   /* fetched once: an implicit fetch per use takes locks */
	EVP_PKEY_CTX *ctx;            /* initialised for verify over a digest (not Ed25519) */
	uint32_t verifications;       /* so far, up to RRSIG_P256_TABLE_AFTER */
	uint8_t p256[64];             /* ALG_ECDSAP256SHA256: Q as x | y */
	struct p256verify *table;     /* from RRSIG_P256_TABLE_AFTER on; NULL if it failed */
};

void rrsig_pubkey_free(struct rrsig_pubkey *k)
{
	if (!k)
		return;
	p256verify_free(k->table);
	EVP_PKEY_CTX_free(k->ctx);
	EVP_MD_free(k->md);
	EVP_PKEY_free(k->pkey);
	free(k);
}

struct rrsig_pubkey *rrsig_pubkey_new(const uint8_t *key, size_t key_len)
{
	static const uint8_t p256[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
					0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
					0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 };
	static const uint8_t p384[] = { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
					0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
					0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04 };
	static const uint8_t ed25519[] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					   0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	const char *md = NULL;

	if (key_len < 4)
		return NULL;
	struct rrsig_pubkey *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	const uint8_t *pk = key + 4;
	size_t pk_len = key_len - 4;
	k->alg = key[3];
	switch (k->alg) {
	case ALG_RSASHA256:
		md = "SHA2-256";
		k->pkey = rsa_key(pk, pk_len);
		break;
	case ALG_ECDSAP256SHA256:
		md = "SHA2-256";
		k->sig_len = 64;
		k->pkey = pk_len == 64 ? spki_key(p256, sizeof(p256), pk, pk_len) : NULL;
		if (k->pkey)
			memcpy(k->p256, pk, 64);
		break;
	case ALG_ECDSAP384SHA384:
		md = "SHA2-384";
		k->sig_len = 96;
		k->pkey = pk_len == 96 ? spki_key(p384, sizeof(p384), pk, pk_len) : NULL;
		break;
	case ALG_ED25519:
		k->sig_len = 64;
		k->pkey = pk_len == 32 ? spki_key(ed25519, sizeof(ed25519), pk, pk_len) : NULL;
		break;
	default:
		break;
	}
	if (!k->pkey)
		goto fail;
	if (md) {
		k->md = EVP_MD_fetch(NULL, md, NULL);
		k->ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
		if (!k->md || !k->ctx || EVP_PKEY_verify_init(k->ctx) <= 0 ||
		    EVP_PKEY_CTX_set_signature_md(k->ctx, k->md) <= 0)
			goto fail;
		if (k->alg == ALG_RSASHA256 &&
		    EVP_PKEY_CTX_set_rsa_padding(k->ctx, RSA_PKCS1_PADDING) <= 0)
			goto fail;
	}
	return k;
fail:
	rrsig_pubkey_free(k);
	return NULL;
}

uint8_t rrsig_pubkey_algorithm(const struct rrsig_pubkey *k)
{
	return k->alg;
}

int rrsig_pubkey_verify(struct rrsig_pubkey *k, const uint8_t *data, size_t data_len,
			const uint8_t *sig, size_t sig_len)
{
	uint8_t der[160], digest[EVP_MAX_MD_SIZE];
	unsigned digest_len = 0;

	if (k->sig_len && sig_len != k->sig_len)
		return 0;
	if (k->alg == ALG_ED25519) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		int ok = c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
			 EVP_DigestVerify(c, sig, sig_len, data, data_len) == 1;
		EVP_MD_CTX_free(c);
		return ok;
	}
	if (EVP_Digest(data, data_len, digest, &digest_len, k->md, NULL) != 1)
		return -ENOMEM;
	if (P256VERIFY_FAST && k->alg == ALG_ECDSAP256SHA256 &&
	    k->verifications < RRSIG_P256_TABLE_AFTER &&
	    ++k->verifications == RRSIG_P256_TABLE_AFTER)
		k->table = p256verify_new(k->p256);
	if (k->table)
		return p256verify_check(k->table, digest, sig);
	if (k->alg == ALG_ECDSAP256SHA256 || k->alg == ALG_ECDSAP384SHA384) {
		size_t n;
		if (ecdsa_der(sig, sig_len / 2, der, sizeof(der), &n) < 0)
			return -ENOMEM;
		sig = der;
		sig_len = n;
	}
	return EVP_PKEY_verify(k->ctx, sig, sig_len, digest, digest_len) == 1;
}

int rrsig_verify(uint8_t alg, const uint8_t *key, size_t key_len, const uint8_t *data,
		 size_t data_len, const uint8_t *sig, size_t sig_len)
{
	if (key_len < 4 || key[3] != alg)
		return 0;
	struct rrsig_pubkey *k = rrsig_pubkey_new(key, key_len);
	if (!k)
		return 0;
	int r = rrsig_pubkey_verify(k, data, data_len, sig, sig_len);
	rrsig_pubkey_free(k);
	return r;
}

/* ---- the RRset and its signatures ---- */

struct rdata_ref {
	const uint8_t *p;
	uint16_t len;
};

static int rdata_cmp(const void *a, const void *b)
{
	const struct rdata_ref *x = a, *y = b;
	int c = memcmp(x->p, y->p, MIN(x->len, y->len));

	/* Left-justified octet strings: a missing octet sorts first (RFC 4034
	 * section 6.3). */
	return c ? c : (int)x->len - (int)y->len;
}

/* The answer section as this module takes it: only (owner, type) RRs,
 * class IN, and RRSIGs at owner. Fills rrs (sorted, duplicates out). */
static bool collect_rrset(const struct dnswire_msg *m, const uint8_t *owner, size_t owner_len,
			  uint16_t type, struct rdata_ref *rrs, size_t *ret_n)
{
	struct dnswire_iter it = { 0 };
	struct dnswire_rr rr;
	size_t n = 0;
	int r;

	while ((r = dnswire_rr_next(m, &it, &rr)) > 0 && rr.section == DNSWIRE_ANSWER) {
		if (!dnswire_name_equal(rr.owner, rr.owner_len, owner, owner_len) || rr.rclass != 1)
			return false;
		if (rr.type == RRSIG_TYPE)
			continue;
		if (rr.type != type || n >= RRSIG_MAX_RRS)
			return false;
		rrs[n++] = (struct rdata_ref){ m->buf + rr.rdata_at, rr.rdlen };
	}
	if (r < 0 || n == 0)
		return false;
	qsort(rrs, n, sizeof(*rrs), rdata_cmp);
	size_t u = 1;
	for (size_t i = 1; i < n; i++)
		if (rdata_cmp(&rrs[i], &rrs[u - 1]) != 0)
			rrs[u++] = rrs[i];
	*ret_n = u;
	return true;
}

/* RFC 4034 section 3.1.8.1: RRSIG RDATA without the signature (signer in
 * canonical form), then each RR in canonical form and order, with the
 * RRSIG's original TTL. */
static uint8_t *signed_data(const uint8_t *rrsig_fixed, const uint8_t *signer, size_t signer_len,
			    const uint8_t *owner_lc, size_t owner_len, uint16_t type,
			    const struct rdata_ref *rrs, size_t n, size_t *ret_len)
{
	size_t len = RRSIG_FIXED + signer_len;

	for (size_t i = 0; i < n; i++)
		len += owner_len + 10 + rrs[i].len;
	uint8_t *d = malloc(len);
	if (!d)
		return NULL;
	uint8_t *p = d;
	memcpy(p, rrsig_fixed, RRSIG_FIXED);
	p += RRSIG_FIXED;
	memcpy(p, signer, signer_len);
	p += signer_len;
	for (size_t i = 0; i < n; i++) {
		memcpy(p, owner_lc, owner_len);
		p += owner_len;
		*p++ = (uint8_t)(type >> 8);
		*p++ = (uint8_t)type;
		*p++ = 0;
		*p++ = 1; /* IN */
		memcpy(p, rrsig_fixed + 4, 4); /* the original TTL */
		p += 4;
		*p++ = (uint8_t)(rrs[i].len >> 8);
		*p++ = (uint8_t)rrs[i].len;
		memcpy(p, rrs[i].p, rrs[i].len);
		p += rrs[i].len;
	}
	*ret_len = len;
	return d;
}

/* One RRSIG against the keys: 1 verified (or remembered), 0 not, -ENOMEM. */
static int check_one(const uint8_t *fixed, const uint8_t *sig, size_t sig_len,
		     const uint8_t *data, size_t data_len, const struct rrsig_key *keys,
		     size_t n_keys, uint32_t now, struct sigmemo *memo, bool *memo_hit)
{
	uint8_t alg = fixed[2];
	uint16_t tag = get16(fixed + 16);
	uint32_t expiration = get32(fixed + 8);

	for (size_t k = 0; k < n_keys; k++) {
		const uint8_t *kd = keys[k].rdata;
		if (keys[k].len < 4 || kd[3] != alg || kd[2] != DNSKEY_PROTOCOL ||
		    !(get16(kd) & DNSKEY_FLAG_ZONE) || (get16(kd) & DNSKEY_FLAG_REVOKE) ||
		    rrsig_key_tag(kd, keys[k].len) != tag)
			continue;
		uint8_t digest[SIGMEMO_DIGEST] = { 0 };
		if (memo) {
			if (sigmemo_digest(data, data_len, sig, sig_len, kd, keys[k].len, digest) < 0)
				return -ENOMEM;
			if (sigmemo_has(memo, digest, now)) {
				*memo_hit = true;
				return 1;
			}
		}
		int r = keys[k].pub ? rrsig_pubkey_verify(keys[k].pub, data, data_len, sig, sig_len)
				    : rrsig_verify(alg, kd, keys[k].len, data, data_len, sig, sig_len);
		if (r < 0)
			return r;
		if (r == 1) {
			if (memo)
				(void)sigmemo_add(memo, digest, expiration, now);
			return 1;
		}
	}
	return 0;
}

int rrsig_check(const struct dnswire_msg *m, const uint8_t *owner, size_t owner_len,
		uint16_t type, const uint8_t *signer, size_t signer_len,
		const struct rrsig_key *keys, size_t n_keys, uint32_t now, struct sigmemo *memo,
		struct rrsig_outcome *ret)
{
	struct rdata_ref rrs[RRSIG_MAX_RRS];
	uint8_t owner_lc[DNSWIRE_MAX_NAME];
	size_t n;

	*ret = (struct rrsig_outcome){ .verdict = RRSIG_UNSURE };
	if (!rdata_has_no_names(type) || owner_len > sizeof(owner_lc) ||
	    !collect_rrset(m, owner, owner_len, type, rrs, &n))
		return 0;
	memcpy(owner_lc, owner, owner_len);
	lower_name(owner_lc, owner_len);
	unsigned labels = label_count(owner_lc, owner_len);

	struct dnswire_iter it = { 0 };
	struct dnswire_rr rr;
	while (dnswire_rr_next(m, &it, &rr) > 0 && rr.section == DNSWIRE_ANSWER) {
		uint8_t sname[DNSWIRE_MAX_NAME];
		size_t sname_len, sig_at;
		if (!rrsig_parse(m, &rr, owner, owner_len, type, sname, &sname_len, &sig_at) ||
		    sname_len != signer_len || memcmp(sname, signer, signer_len) != 0)
			continue;
		const uint8_t *fixed = m->buf + rr.rdata_at;
		/* Fewer labels: a wildcard expansion, which needs a proof that
		 * the name does not exist; more: malformed. The validator's job. */
		if (fixed[3] != labels || !time32_not_before(now, get32(fixed + 12)) ||
		    !time32_not_before(get32(fixed + 8), now))
			continue;
		size_t data_len;
		_cleanup_free_ uint8_t *data = signed_data(fixed, sname, sname_len, owner_lc,
							   owner_len, type, rrs, n, &data_len);
		if (!data)
			return -ENOMEM;
		bool hit = false;
		int r = check_one(fixed, m->buf + sig_at, rr.rdata_at + rr.rdlen - sig_at, data,
				  data_len, keys, n_keys, now, memo, &hit);
		if (r < 0)
			return r;
		if (r == 1) {
			*ret = (struct rrsig_outcome){ .verdict = RRSIG_SECURE, .memo_hit = hit };
			return 0;
		}
	}
	return 0;
}
