/* common/sigmemo.h: a bounded memory of DNSSEC signatures already verified
 * (issue 12). A re-check round asks again for every name, and an unchanged
 * RRset comes back with the same RRSIG for days; verifying it again would
 * give the same answer, at the cost of one public-key operation per name.
 * The memory holds a digest of (signed data, signature, key): the exact
 * input of a verification that succeeded. Verification is deterministic,
 * so a later identical input needs no second one. Everything else a
 * validator checks (the validity window, which key, the zone's keys still
 * being secure) is checked again by the caller on every use.
 *
 * Owns: its table, at most max_entries digests of SIGMEMO_DIGEST bytes
 * (SHA-256, truncated: a forgery needs a second preimage of 96 bits
 * against one of the entries), 16 bytes an entry with its expiry, the
 * table at most 85% full: a daemon with 100k signed names holds 2 MiB.
 * When full it forgets the expired ones first, then everything.
 *
 * Pure: no loop, no clock (the caller says what time it is). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGMEMO_DIGEST 12

struct sigmemo;

/* NULL on out of memory. max_entries > 0. */
struct sigmemo *sigmemo_new(size_t max_entries);

void sigmemo_free(struct sigmemo *m);

/* The digest of one verification's input, in parts (data, signature,
 * key), each part length-prefixed so that no two inputs collide by
 * moving bytes between parts. 0, or -ENOMEM. */
int sigmemo_digest(const uint8_t *data, size_t data_len, const uint8_t *sig, size_t sig_len,
		   const uint8_t *key, size_t key_len, uint8_t out[SIGMEMO_DIGEST]);

/* Was this digest added, with an expiry not before now? Serial arithmetic
 * (RFC 1982) on the 32-bit times, as RRSIG's fields use. */
bool sigmemo_has(const struct sigmemo *m, const uint8_t digest[SIGMEMO_DIGEST], uint32_t now);

/* Remembers digest until `expires` (the signature's expiration). now: to
 * forget expired entries when the table is full. 0, or -ENOMEM (then it is
 * simply not remembered). */
int sigmemo_add(struct sigmemo *m, const uint8_t digest[SIGMEMO_DIGEST], uint32_t expires,
		uint32_t now);

/* Digests held now. */
size_t sigmemo_count(const struct sigmemo *m);
