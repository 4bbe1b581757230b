/* common/p256verify.h: ECDSA P-256 verification under one public key that
 * verifies many signatures: a zone's signing key, over the TXT answers of
 * all the names under it (issue 12).
 *
 * Why: a verification computes u1·G + u2·Q. libcrypto multiplies the
 * generator G by way of a precomputed table (about 7 µs here), but the key
 * Q by doubling and adding (about 40 µs of a 49 µs verification). This
 * module gives Q a table of its own: a copy of the P-256 group whose
 * generator is Q, precomputed once, so that u2·Q costs what u1·G costs and
 * a verification about 17 µs. The table takes about 25 ms to build and
 * 150 KiB to keep, so it pays for itself only after about 800
 * verifications; the caller decides when (common/rrsig does).
 *
 * The curve arithmetic is libcrypto's own (EC_POINT_mul, EC_POINT_add);
 * this module arranges it, as SEC 1 section 4.1.4 and FIPS 186-4 section
 * 6.4 say: r and s in [1, n-1], w = s^-1, u1 = e·w, u2 = r·w, R = u1·G +
 * u2·Q not the point at infinity, x(R) mod n = r. Only s^-1 mod n is
 * computed here (BN_mod_inverse was a third of what was left), and its
 * result is checked before use.
 *
 * Owns: the copied group with its table, scratch numbers. One thread at a
 * time (the scratch is reused). Pure apart from libcrypto. */
#pragma once

#include <stdint.h>

/* Where libcrypto's P-256 keeps a table for a group's generator (its
 * nistz256 code: x86-64 and arm64 builds). Elsewhere the module is as
 * correct, but a multiplication by a scalar alone takes the generic
 * ladder, table or not, and a verification here would cost more than
 * libcrypto's own: callers then do not use it. */
#if defined(__x86_64__) || defined(__aarch64__)
#define P256VERIFY_FAST 1
#else
#define P256VERIFY_FAST 0
#endif

struct p256verify;

/* The key Q as x | y, 32 bytes each (a DNSKEY's public key for
 * algorithm 13, RFC 6605 section 4). NULL when Q is not a point of the
 * curve, when libcrypto gives no table for a point other than G, or on
 * out of memory: the caller then verifies the ordinary way. */
struct p256verify *p256verify_new(const uint8_t q_xy[64]);

void p256verify_free(struct p256verify *v);

/* Does sig (r | s, 32 bytes each) verify over the SHA-256 digest under
 * Q? 1 yes, 0 no, -ENOMEM. */
int p256verify_check(struct p256verify *v, const uint8_t digest[32], const uint8_t sig[64]);

/* How many times this module's s^-1 failed its check and libcrypto's was
 * used instead: 0, unless the fast inverse has a bug (the tests ask). */
unsigned p256verify_slow_inverses(const struct p256verify *v);
