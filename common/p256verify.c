/* common/p256verify.c: see p256verify.h. */

/* EC_GROUP_precompute_mult() is deprecated since OpenSSL 3.0, and is the
 * only public way to give a point other than the curve's generator a
 * table. Should a later OpenSSL drop the table (the function would then
 * do nothing), p256verify_new() sees it and says NULL. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "common/p256verify.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#define LIMBS 5  /* 64-bit words, least significant first */

struct p256verify {
	EC_GROUP *curve;  /* P-256 as named: G and its table */
	EC_GROUP *keyed;  /* P-256 with Q as its generator, and Q's table */
	BN_CTX *bn;
	BIGNUM *r, *s, *e, *w, *u1, *u2, *x;
	BIGNUM *unscale;  /* 2^-512 mod n, for almost_inverse() */
	uint64_t n[LIMBS];
	unsigned slow_inverses;
	EC_POINT *p1, *p2, *sum;
};

/* ---- s^-1 mod n ----
 * BN_mod_inverse() took 9 to 13 µs of a 35 µs verification here: a loop
 * of BN calls per bit. Kaliski's almost inverse (IEEE Trans. Computers 44:8,
 * 1995) runs the same binary steps on fixed-size words and leaves the
 * halvings modulo n for the end, where one multiplication does them all.
 * Variable time, which is right for verification: everything in it is
 * public. The result is checked (s·w = 1 mod n) before it is used. */

/* Numbers of LIMBS words; u and v of the inverse are below n and use
 * the low WORDS_N of them, which the helpers' len says. */
#define WORDS_N 4

static bool limbs_zero(const uint64_t *a, int len)
{
	uint64_t any = 0;
	for (int i = 0; i < len; i++)
		any |= a[i];
	return !any;
}

static int limbs_cmp(const uint64_t *a, const uint64_t *b, int len)
{
	for (int i = len - 1; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] > b[i] ? 1 : -1;
	return 0;
}

static void limbs_sub(uint64_t *a, const uint64_t *b, int len)
{
	uint64_t borrow = 0;
	for (int i = 0; i < len; i++) {
		uint64_t d = a[i] - b[i] - borrow;
		borrow = (a[i] < b[i]) || (a[i] == b[i] && borrow);
		a[i] = d;
	}
}

static void limbs_add(uint64_t *a, const uint64_t *b, int len)
{
	uint64_t carry = 0;
	for (int i = 0; i < len; i++) {
		uint64_t t = a[i] + carry;
		carry = t < carry;
		a[i] = t + b[i];
		carry += a[i] < t;
	}
}

/* 0 < k < 64. */
static void limbs_shr(uint64_t *a, unsigned k, int len)
{
	for (int i = 0; i < len - 1; i++)
		a[i] = (a[i] >> k) | (a[i + 1] << (64 - k));
	a[len - 1] >>= k;
}

static void limbs_shl(uint64_t *a, unsigned k, int len)
{
	for (int i = len - 1; i > 0; i--)
		a[i] = (a[i] << k) | (a[i - 1] >> (64 - k));
	a[0] <<= k;
}

/* The trailing zero bits of a nonzero even a, at most 63 at a time. */
static unsigned limbs_twos(const uint64_t *a)
{
	return a[0] ? (unsigned)__builtin_ctzll(a[0]) : 63;
}

static void limbs_from_be32(uint64_t *out, const uint8_t be[32])
{
	memset(out, 0, LIMBS * sizeof(*out));
	for (int i = 0; i < 32; i++)
		out[i / 8] |= (uint64_t)be[31 - i] << (8 * (i % 8));
}

static void limbs_to_be32(uint8_t be[32], const uint64_t *in)
{
	for (int i = 0; i < 32; i++)
		be[31 - i] = (uint8_t)(in[i / 8] >> (8 * (i % 8)));
}

/* a^-1 · 2^k mod n into out, for 0 < a < n, n odd: true, with k.
 * Kaliski's steps, with a run of halvings taken at once: the invariant
 * n = u·s + v·r keeps s and r at most n while v > 0, and the last r at
 * most 2n, which is why r and s have a fifth word. u stays odd. */
static bool almost_inverse(const uint64_t *a, const uint64_t *n, uint64_t *out, unsigned *ret_k)
{
	uint64_t u[LIMBS], v[LIMBS], r[LIMBS] = { 0 }, s[LIMBS] = { 1 };
	unsigned k = 0, t;

	memcpy(u, n, sizeof(u));
	memcpy(v, a, sizeof(v));
	while (!limbs_zero(v, WORDS_N)) {
		if (!(v[0] & 1)) {
			t = limbs_twos(v);
			limbs_shr(v, t, WORDS_N);
			limbs_shl(r, t, LIMBS);
		} else if (!(u[0] & 1)) {
			t = limbs_twos(u);  /* only after a run of 64 zeros below */
			limbs_shr(u, t, WORDS_N);
			limbs_shl(s, t, LIMBS);
		} else if (limbs_cmp(u, v, WORDS_N) > 0) {
			limbs_sub(u, v, WORDS_N);
			t = limbs_twos(u);
			limbs_shr(u, t, WORDS_N);
			limbs_add(r, s, LIMBS);
			limbs_shl(s, t, LIMBS);
		} else {
			limbs_sub(v, u, WORDS_N);
			t = limbs_zero(v, WORDS_N) ? 1 : limbs_twos(v);
			limbs_shr(v, t, WORDS_N);
			limbs_add(s, r, LIMBS);
			limbs_shl(r, t, LIMBS);
		}
		k += t;
		if (k > 2 * 256)
			return false;  /* cannot happen for 0 < a < n; never trust it */
	}
	uint64_t one[LIMBS] = { 1 };
	if (limbs_cmp(u, one, LIMBS) != 0)
		return false;  /* a and n not coprime */
	if (limbs_cmp(r, n, LIMBS) >= 0)
		limbs_sub(r, n, LIMBS);
	memcpy(out, n, LIMBS * sizeof(*out));
	limbs_sub(out, r, LIMBS);
	*ret_k = k;
	return true;
}

/* v->w = s^-1 mod n, s in [1, n-1] as 32 bytes. */
static int inverse_of_s(struct p256verify *v, const uint8_t s_be[32])
{
	const BIGNUM *n = EC_GROUP_get0_order(v->curve);
	uint64_t a[LIMBS], almost[LIMBS];
	uint8_t be[32];
	unsigned k;

	limbs_from_be32(a, s_be);
	if (almost_inverse(a, v->n, almost, &k)) {
		limbs_to_be32(be, almost);
		/* almost = s^-1 · 2^k, so w = almost · 2^(512-k) · 2^-512. */
		if (!BN_bin2bn(be, 32, v->x) || !BN_lshift(v->x, v->x, (int)(512 - k)) ||
		    !BN_mod_mul(v->w, v->x, v->unscale, n, v->bn) ||
		    !BN_mod_mul(v->x, v->w, v->s, n, v->bn))
			return -ENOMEM;
		if (BN_is_one(v->x))
			return 0;
	}
	v->slow_inverses++;
	return BN_mod_inverse(v->w, v->s, n, v->bn) ? 0 : -ENOMEM;
}

void p256verify_free(struct p256verify *v)
{
	if (!v)
		return;
	EC_POINT_free(v->sum);
	EC_POINT_free(v->p2);
	EC_POINT_free(v->p1);
	BN_free(v->unscale);
	BN_free(v->x);
	BN_free(v->u2);
	BN_free(v->u1);
	BN_free(v->w);
	BN_free(v->e);
	BN_free(v->s);
	BN_free(v->r);
	BN_CTX_free(v->bn);
	EC_GROUP_free(v->keyed);
	EC_GROUP_free(v->curve);
	free(v);
}

struct p256verify *p256verify_new(const uint8_t q_xy[64])
{
	struct p256verify *v = calloc(1, sizeof(*v));
	uint8_t oct[65];
	EC_POINT *q = NULL;

	if (!v)
		return NULL;
	oct[0] = POINT_CONVERSION_UNCOMPRESSED;
	for (int i = 0; i < 64; i++)
		oct[i + 1] = q_xy[i];
	v->curve = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	v->keyed = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	v->bn = BN_CTX_new();
	if (!v->curve || !v->keyed || !v->bn)
		goto fail;
	q = EC_POINT_new(v->keyed);
	/* oct2point checks that Q is on the curve. P-256's cofactor is 1,
	 * so every point of it but infinity has the order n: Q is as good a
	 * generator as G. */
	if (!q || !EC_POINT_oct2point(v->keyed, q, oct, sizeof(oct), v->bn) ||
	    EC_POINT_is_at_infinity(v->keyed, q) ||
	    !EC_GROUP_set_generator(v->keyed, q, EC_GROUP_get0_order(v->curve), BN_value_one()) ||
	    !EC_GROUP_precompute_mult(v->keyed, v->bn) || !EC_GROUP_have_precompute_mult(v->keyed))
		goto fail;
	EC_POINT_free(q);
	q = NULL;
	v->r = BN_new();
	v->s = BN_new();
	v->e = BN_new();
	v->w = BN_new();
	v->u1 = BN_new();
	v->u2 = BN_new();
	v->x = BN_new();
	v->unscale = BN_new();
	v->p1 = EC_POINT_new(v->curve);
	v->p2 = EC_POINT_new(v->keyed);
	v->sum = EC_POINT_new(v->curve);
	if (!v->r || !v->s || !v->e || !v->w || !v->u1 || !v->u2 || !v->x || !v->p1 || !v->p2 ||
	    !v->sum || !v->unscale)
		goto fail;
	const BIGNUM *n = EC_GROUP_get0_order(v->curve);
	uint8_t n_be[32];
	if (BN_bn2binpad(n, n_be, 32) != 32 || !BN_set_bit(v->unscale, 512) ||
	    !BN_mod_inverse(v->unscale, v->unscale, n, v->bn))
		goto fail;
	limbs_from_be32(v->n, n_be);
	return v;
fail:
	EC_POINT_free(q);
	p256verify_free(v);
	return NULL;
}

int p256verify_check(struct p256verify *v, const uint8_t digest[32], const uint8_t sig[64])
{
	const BIGNUM *n = EC_GROUP_get0_order(v->curve);

	if (!BN_bin2bn(sig, 32, v->r) || !BN_bin2bn(sig + 32, 32, v->s) ||
	    !BN_bin2bn(digest, 32, v->e))
		return -ENOMEM;
	if (BN_is_zero(v->r) || BN_is_zero(v->s) || BN_cmp(v->r, n) >= 0 || BN_cmp(v->s, n) >= 0)
		return 0;
	/* e is the whole digest: SHA-256 is as long as n, nothing to cut. */
	if (inverse_of_s(v, sig + 32) < 0 || !BN_mod_mul(v->u1, v->e, v->w, n, v->bn) ||
	    !BN_mod_mul(v->u2, v->r, v->w, n, v->bn))
		return -ENOMEM;
	if (!EC_POINT_mul(v->curve, v->p1, v->u1, NULL, NULL, v->bn) ||
	    !EC_POINT_mul(v->keyed, v->p2, v->u2, NULL, NULL, v->bn) ||
	    !EC_POINT_add(v->curve, v->sum, v->p1, v->p2, v->bn))
		return -ENOMEM;
	if (EC_POINT_is_at_infinity(v->curve, v->sum))
		return 0;
	if (!EC_POINT_get_affine_coordinates(v->curve, v->sum, v->x, NULL, v->bn) ||
	    !BN_nnmod(v->x, v->x, n, v->bn))
		return -ENOMEM;
	return BN_cmp(v->x, v->r) == 0;
}

unsigned p256verify_slow_inverses(const struct p256verify *v)
{
	return v->slow_inverses;
}
