/* common/key.h: ACME account keys and certificate keys (P-256, P-384, RSA 2048/3072/4096).
 * A struct key owns one mbedTLS private key and its own entropy source and CTR-DRBG, so there
 * is no global RNG: a key can be generated or used on a worker thread. One key must not be
 * used from two threads at once. After fork() without exec(), do not use a key created
 * before the fork (the child would repeat the parent's random stream).
 * Pure: no logging, no clock, no globals; only key_load_file() reads a file.
 * Errors: -EINVAL bad or unsupported input, -E2BIG over KEY_MAX_BYTES (or CERT_MAX_BYTES),
 * -ENOMEM, -EIO for a failure inside mbedTLS (RNG, signing), -errno from open()/read().
 * Private key material is wiped with mbedtls_platform_zeroize() before it is freed.
 * Everything mbedTLS stays behind this header, jws.h, csr.h and x509.h.
 * EC keys are also held by libcrypto (common/key_ecdsa), which generates them and makes
 * their JWS signatures, 18 times faster than mbedTLS 2.28 here; a key file whose public
 * point is not its scalar's is refused at load. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

enum key_type {
	KEY_EC_P256,
	KEY_EC_P384,
	KEY_RSA_2048,
	KEY_RSA_3072,
	KEY_RSA_4096,
	_KEY_TYPE_MAX,
};

/* "ec-p256", "ec-p384", "rsa2048", "rsa3072", "rsa4096"; NULL when out of range. */
const char *key_type_to_string(enum key_type t);
/* The inverse, exact names only; returns the enum value or -EINVAL. */
int key_type_from_string(const char *s);

struct key; /* opaque */

/* RSA 4096 takes one or two seconds: never call this on the loop thread. */
int key_generate(enum key_type t, struct key **ret);
/* pem holds len bytes (no NUL needed, none allowed) of a SEC1, PKCS#1 or PKCS#8 private key
 * in PEM. Anything but P-256, P-384 and RSA 2048/3072/4096 is -EINVAL, as are encrypted keys. */
int key_load_pem(const char *pem, size_t len, struct key **ret);
/* A regular file (-EISDIR for a directory, -EINVAL for other types) of at most
 * KEY_MAX_BYTES, read and parsed as key_load_pem() does. */
int key_load_file(const char *path, struct key **ret);
/* SEC1 (EC) or PKCS#1 (RSA) PEM, NUL-terminated; free it with key_pem_free(). */
int key_write_pem(const struct key *k, char **ret_pem);
void key_pem_free(char *pem); /* wipes, then frees; NULL is a no-op */

void key_free(struct key *k); /* NULL is a no-op */
DEFINE_FREEP(struct key, key_free)

enum key_type key_get_type(const struct key *k);
/* "ES256", "ES384" or "RS256": static strings. */
const char *key_jws_alg(const struct key *k);

/* The canonical RFC 7638 public JWK: required members only, in lexicographic order, no
 * whitespace. It is both the "jwk" JWS header value and the thumbprint input. */
int key_jwk(const struct key *k, char **ret_json);
/* b64url(SHA-256(key_jwk(k))): 43 characters. */
int key_thumbprint(const struct key *k, char **ret_b64);
/* b64url(SHA-256(canonical_jwk)) of any JWK string the caller already made canonical. */
int key_jwk_thumbprint_from_json(const char *canonical_jwk, char **ret_b64);

/* The JWS signature of data with key_jws_alg(k): ES256/ES384 as r||s (always 64 or 96 bytes,
 * RFC 7518 section 3.4), RS256 as PKCS#1 v1.5 (the modulus length). *ret_sig is the caller's
 * to free(). */
int key_sign(const struct key *k, const void *data, size_t len, uint8_t **ret_sig,
	     size_t *ret_len);

/* 1 if the public key of the first certificate of the PEM chain (len bytes, no NUL) is k's,
 * 0 if not (or mbedTLS cannot tell), -EINVAL for a bad chain, -E2BIG over CERT_MAX_BYTES. */
int key_pem_matches(const struct key *k, const char *cert_pem, size_t len);

/* For csr.c and jws.c only: the mbedTLS side of a key. */
struct mbedtls_pk_context;
/* Borrowed from k. It is not const because mbedTLS signs through a mutable context. */
struct mbedtls_pk_context *key_get_pk(const struct key *k);
/* An mbedTLS f_rng; p_rng is a struct key *, whose own DRBG produces the bytes. */
int key_rng(void *p_rng, unsigned char *out, size_t len);
