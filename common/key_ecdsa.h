/* common/key_ecdsa.h: ECDSA P-256 and P-384 key generation and signing through libcrypto
 * (OpenSSL 3), for common/key. It owns one EVP_PKEY per EC key; common/key keeps the same
 * scalar and point in mbedTLS for everything else (PEM, JWK, CSR, X.509), so the key
 * files and every other format stay as they were.
 * Why a second crypto library: an mbedTLS 2.28 ECDSA signature costs 0.43 ms and a key
 * 0.89 ms on our reference machine, libcrypto's 0.024 ms and about as little; signing is
 * most of persistd's own CPU in an ACME renewal (one JWS per request, about ten per
 * certificate). libcrypto is loaded anyway, by libcurl and getdns.
 * Promises: keys made here are checked pairwise (the point is the scalar times the
 * generator) before they are handed out; signatures are r || s, each left-padded to the
 * curve's width (RFC 7518 section 3.4), with a fresh random nonce from libcrypto's DRBG;
 * scalar bytes pass only through buffers the caller wipes.
 * Errors: -EINVAL for a curve width other than 32 or 48 or a key that fails the pairwise
 * check, -ENOMEM, -EIO for any other failure inside libcrypto. Pure: no logging, no
 * files (key_ecdsa_library_init() aside). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define KEY_ECDSA_MAX_WIDTH 48
#define KEY_ECDSA_MAX_POINT (1 + 2 * KEY_ECDSA_MAX_WIDTH)

struct key_ecdsa; /* opaque */

/* Loads libcrypto's configuration and seeds its DRBG now: a process that confines itself
 * (the signer) calls this first, so that neither happens later under seccomp/Landlock. */
void key_ecdsa_library_init(void);

/* A new key on the curve of width w (32: P-256, 48: P-384). Its scalar is written to
 * d[0..w) and its uncompressed point (04 || X || Y) to point[0..1+2w). */
int key_ecdsa_generate(size_t w, uint8_t *d, uint8_t *point, struct key_ecdsa **ret);

/* The key with scalar d (w bytes) and uncompressed point (1 + 2w bytes): -EINVAL when the
 * point is not d times the generator. */
int key_ecdsa_from_raw(size_t w, const uint8_t *d, const uint8_t *point,
		       struct key_ecdsa **ret);

/* The SHA-256 (w 32) or SHA-384 (w 48) ECDSA signature of data as r || s in out[0..2w). */
int key_ecdsa_sign(struct key_ecdsa *e, const void *data, size_t len, uint8_t *out);

void key_ecdsa_free(struct key_ecdsa *e); /* NULL is a no-op */
DEFINE_FREEP(struct key_ecdsa, key_ecdsa_free)
