#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "common/b64.h"
#include "common/jws.h"
#include "common/key.h"
#include "common/macro.h"
#include "common/mberr.h"

/* A growing string for building JSON. The first failure sticks; jbuf_finish() reports it,
 * so the building code need not check every append. */
struct jbuf {
	char *p;        /* owned */
	size_t len, cap;
	int err;
};

static void jbuf_done(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
}

static void jbuf_put(struct jbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (n >= b->cap - b->len || !b->p) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				b->err = -ENOMEM;
				return;
			}
			cap *= 2;
		}
		char *p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void jbuf_puts(struct jbuf *b, const char *s)
{
	jbuf_put(b, s, strlen(s));
}

/* s as a JSON string, quotes included: '"', '\\' and control characters escaped, every
 * other byte (UTF-8 included) as it is, like yajl_gen does. */
static void jbuf_string(struct jbuf *b, const char *s)
{
	jbuf_put(b, "\"", 1);
	for (const char *run = s;; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c != '\0' && c != '"' && c != '\\' && c >= 0x20)
			continue;
		jbuf_put(b, run, (size_t)(s - run));
		if (c == '\0')
			break;
		run = s + 1;
		switch (c) {
		case '"':
			jbuf_puts(b, "\\\"");
			break;
		case '\\':
			jbuf_puts(b, "\\\\");
			break;
		case '\n':
			jbuf_puts(b, "\\n");
			break;
		case '\r':
			jbuf_puts(b, "\\r");
			break;
		case '\t':
			jbuf_puts(b, "\\t");
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jbuf_puts(b, esc);
		}
	}
	jbuf_put(b, "\"", 1);
}

static int jbuf_finish(struct jbuf *b, char **ret)
{
	if (b->err)
		return b->err;
	if (!b->p)
		return -ENOMEM;
	*ret = TAKE_PTR(b->p);
	return 0;
}

int jws_protected_header(const struct key *k, const char *nonce, const char *url,
			 const char *kid, char **ret_json)
{
	_cleanup_(jbuf_done) struct jbuf b = { 0 };
	_cleanup_free_ char *jwk = NULL;
	int r;

	if (!k || !url)
		return -EINVAL;
	jbuf_puts(&b, "{\"alg\":");
	jbuf_string(&b, key_jws_alg(k));
	if (kid) {
		jbuf_puts(&b, ",\"kid\":");
		jbuf_string(&b, kid);
	} else {
		/* The canonical JWK is also what the CA hashes for the key authorization. */
		r = key_jwk(k, &jwk);
		if (r < 0)
			return r;
		jbuf_puts(&b, ",\"jwk\":");
		jbuf_puts(&b, jwk);
	}
	if (nonce) {
		jbuf_puts(&b, ",\"nonce\":");
		jbuf_string(&b, nonce);
	}
	jbuf_puts(&b, ",\"url\":");
	jbuf_string(&b, url);
	jbuf_puts(&b, "}");
	return jbuf_finish(&b, ret_json);
}

/* {"protected":"..","payload":"..","signature":".."}: all three are base64url, which
 * needs no escaping. */
static int jws_flatten(const char *protected_b64, const char *payload_b64, const uint8_t *sig,
		       size_t sig_len, char **ret_body)
{
	_cleanup_(jbuf_done) struct jbuf b = { 0 };
	_cleanup_free_ char *sig_b64 = NULL;
	int r;

	r = b64url_encode(sig, sig_len, &sig_b64);
	if (r < 0)
		return r;
	jbuf_puts(&b, "{\"protected\":\"");
	jbuf_puts(&b, protected_b64);
	jbuf_puts(&b, "\",\"payload\":\"");
	jbuf_puts(&b, payload_b64);
	jbuf_puts(&b, "\",\"signature\":\"");
	jbuf_puts(&b, sig_b64);
	jbuf_puts(&b, "\"}");
	return jbuf_finish(&b, ret_body);
}

/* B64U(protected) and B64U(payload), and the signing input "B64U(protected).B64U(payload)". */
static int jws_encode_parts(const char *protected_json, const char *payload, size_t payload_len,
			    char **ret_protected_b64, char **ret_payload_b64, char **ret_input)
{
	_cleanup_free_ char *protected_b64 = NULL, *payload_b64 = NULL, *input = NULL;
	int r;

	if (!protected_json || (!payload && payload_len > 0))
		return -EINVAL;
	r = b64url_encode(protected_json, strlen(protected_json), &protected_b64);
	if (r < 0)
		return r;
	/* POST-as-GET: zero bytes encode to "", never to B64U("{}"). */
	r = b64url_encode(payload_len ? payload : "", payload_len, &payload_b64);
	if (r < 0)
		return r;
	if (asprintf(&input, "%s.%s", protected_b64, payload_b64) < 0) {
		input = NULL;
		return -ENOMEM;
	}
	*ret_protected_b64 = TAKE_PTR(protected_b64);
	*ret_payload_b64 = TAKE_PTR(payload_b64);
	*ret_input = TAKE_PTR(input);
	return 0;
}

int jws_sign(const struct key *k, const char *protected_json, const char *payload,
	     size_t payload_len, char **ret_body)
{
	_cleanup_free_ char *protected_b64 = NULL, *payload_b64 = NULL, *input = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	size_t sig_len;
	int r;

	if (!k)
		return -EINVAL;
	r = jws_encode_parts(protected_json, payload, payload_len, &protected_b64, &payload_b64,
			     &input);
	if (r < 0)
		return r;
	r = key_sign(k, input, strlen(input), &sig, &sig_len);
	if (r < 0)
		return r;
	return jws_flatten(protected_b64, payload_b64, sig, sig_len, ret_body);
}

int jws_build(const struct key *k, const char *nonce, const char *url, const char *kid,
	      const char *payload, size_t payload_len, char **ret_body)
{
	_cleanup_free_ char *protected_json = NULL;
	int r;

	r = jws_protected_header(k, nonce, url, kid, &protected_json);
	if (r < 0)
		return r;
	return jws_sign(k, protected_json, payload, payload_len, ret_body);
}

int jws_hs256(const uint8_t *key, size_t keylen, const void *data, size_t len, uint8_t out[32])
{
	int r;

	r = mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, keylen, data, len,
			    out);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	return 0;
}

int jws_eab(const char *eab_kid, const uint8_t *hmac_key, size_t hmac_key_len,
	    const char *url, const struct key *account_key, char **ret_json)
{
	_cleanup_free_ char *jwk = NULL;
	int r;

	if (!account_key)
		return -EINVAL;
	r = key_jwk(account_key, &jwk);
	if (r < 0)
		return r;
	return jws_eab_jwk(eab_kid, hmac_key, hmac_key_len, url, jwk, ret_json);
}

int jws_eab_jwk(const char *eab_kid, const uint8_t *hmac_key, size_t hmac_key_len,
		const char *url, const char *jwk, char **ret_json)
{
	_cleanup_(jbuf_done) struct jbuf b = { 0 };
	_cleanup_free_ char *protected_json = NULL;
	_cleanup_free_ char *protected_b64 = NULL, *payload_b64 = NULL, *input = NULL;
	uint8_t mac[32];
	int r;

	if (!eab_kid || !hmac_key || hmac_key_len == 0 || !url || !jwk || !*jwk)
		return -EINVAL;
	jbuf_puts(&b, "{\"alg\":\"HS256\",\"kid\":");
	jbuf_string(&b, eab_kid);
	jbuf_puts(&b, ",\"url\":");
	jbuf_string(&b, url);
	jbuf_puts(&b, "}");
	r = jbuf_finish(&b, &protected_json);
	if (r < 0)
		return r;
	r = jws_encode_parts(protected_json, jwk, strlen(jwk), &protected_b64, &payload_b64,
			     &input);
	if (r < 0)
		return r;
	r = jws_hs256(hmac_key, hmac_key_len, input, strlen(input), mac);
	if (r < 0)
		return r;
	r = jws_flatten(protected_b64, payload_b64, mac, sizeof(mac), ret_json);
	mbedtls_platform_zeroize(mac, sizeof(mac));
	return r;
}

int jws_key_change_inner(const struct key *new_key, const char *url, const char *account_url,
			 const struct key *old_key, char **ret_json)
{
	_cleanup_(jbuf_done) struct jbuf b = { 0 };
	_cleanup_free_ char *protected_json = NULL, *old_jwk = NULL, *payload = NULL;
	int r;

	if (!new_key || !url || !account_url || !old_key)
		return -EINVAL;
	r = jws_protected_header(new_key, NULL, url, NULL, &protected_json);
	if (r < 0)
		return r;
	r = key_jwk(old_key, &old_jwk);
	if (r < 0)
		return r;
	jbuf_puts(&b, "{\"account\":");
	jbuf_string(&b, account_url);
	jbuf_puts(&b, ",\"oldKey\":");
	jbuf_puts(&b, old_jwk);
	jbuf_puts(&b, "}");
	r = jbuf_finish(&b, &payload);
	if (r < 0)
		return r;
	return jws_sign(new_key, protected_json, payload, strlen(payload), ret_json);
}
