/* common/fleetkey.h: the fleet key, and the sealing of private keys stored in the database.
 *
 * Fleet mode (docs/fleet.md) keeps every certificate's private key in PostgreSQL, encrypted
 * with a key the database never sees: 32 random bytes that the operator gives each host as a
 * file (fleet_key_file) or a systemd credential. fleetkey_load() refuses a file that is not
 * exactly FLEETKEY_BYTES long or that its group or others may read. A sealed blob is
 * nonce (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes); the additional data binds it
 * to one certificate version (the caller passes its name and serial), so a row copied onto
 * another cert or version does not open.
 * Pure: reads only the path it is given, no logging, no clock; the nonce comes from the
 * caller. Errors: -EINVAL bad size or input, -EPERM a key readable by others, -EBADMSG a blob
 * that does not open (wrong key, tampered, other cert), -E2BIG over KEY_MAX_BYTES, -ENOMEM,
 * other -errno from reading the file. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FLEETKEY_BYTES 32
#define FLEETKEY_NONCE_BYTES 12
#define FLEETKEY_TAG_BYTES 16

/* Fills key; why (may be NULL) says in one line what is wrong with the file. */
int fleetkey_load(const char *path, uint8_t key[FLEETKEY_BYTES], char *why, size_t why_size);

/* *ret (free()) is nonce || ciphertext || tag, *ret_len = len + 28. */
int fleetkey_seal(const uint8_t key[FLEETKEY_BYTES], const uint8_t nonce[FLEETKEY_NONCE_BYTES],
		  const void *ad, size_t ad_len, const void *plain, size_t len, uint8_t **ret,
		  size_t *ret_len);

/* *ret (free() after wiping; NUL-terminated for PEM text) is the plaintext of a sealed blob. */
int fleetkey_open(const uint8_t key[FLEETKEY_BYTES], const void *ad, size_t ad_len,
		  const uint8_t *sealed, size_t len, uint8_t **ret, size_t *ret_len);
