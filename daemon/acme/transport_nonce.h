/* daemon/acme/transport_nonce.h: the Replay-Nonce pool of one ACME CA (RFC 8555 section 7.2).
 *
 * Owns: up to ACME_MAX_NONCES nonces, each a copy of a Replay-Nonce header value that was
 * a valid base64url token of at most ACME_MAX_NONCE_BYTES. The newest is handed out
 * first, since it is the most likely to be still valid; when the pool is full, the oldest
 * makes room. Invalid values are ignored (logged at debug level) and so is out-of-memory:
 * a nonce is an optimization, and the next request asks for one.
 *
 * Part of daemon/acme/transport (see transport.h for the policy); a plain struct embedded
 * in its owner, zeroed to start with and emptied with transport_nonce_clear(). No loop, no
 * I/O. */
#pragma once

#include <stddef.h>

#include "common/limits.h"

struct transport_nonce_pool {
	char *nonces[ACME_MAX_NONCES]; /* owned; oldest first */
	size_t n_nonces;
};

/* nonce may be NULL (an answer without one: a no-op). from names the CA for the log. */
void transport_nonce_add(struct transport_nonce_pool *p, const char *nonce, const char *from);
/* The newest nonce (most likely still valid), owned by the caller; NULL when empty. */
char *transport_nonce_take(struct transport_nonce_pool *p);
size_t transport_nonce_count(const struct transport_nonce_pool *p);
/* Frees every nonce; the pool may be used again. */
void transport_nonce_clear(struct transport_nonce_pool *p);
