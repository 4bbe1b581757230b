/* common/b64.h: base64url without padding (RFC 4648 section 5), as JOSE and
 * the dns-persist-01 hashed accounturi use it; and the decoding of standard
 * base64 (section 4) as a PEM block's body carries it (RFC 7468).
 * Pure. Errors: -EINVAL bad input, -E2BIG input too large, -ENOMEM.
 * b64url_decode() rejects padding, whitespace and any character outside the
 * base64url alphabet, and rejects non-canonical trailing bits. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes, without the NUL. */
size_t b64url_encoded_len(size_t n);

/* *ret is NUL-terminated and owned by the caller. */
int b64url_encode(const void *in, size_t n, char **ret);

/* Encodes into buf (size bytes, NUL included); -E2BIG if it does not fit. */
int b64url_encode_buf(const void *in, size_t n, char *buf, size_t size);

/* *ret is owned by the caller and NUL-terminated for convenience (the NUL is
 * not counted in *retlen). */
int b64url_decode(const char *in, size_t n, uint8_t **ret, size_t *retlen);

/* A PEM body: the standard alphabet, line breaks and blanks skipped, "=" padding
 * only at the end, as long as the length needs. out holds at least n * 3 / 4
 * bytes. -EINVAL for anything else. Not constant-time: for public data
 * (certificates), not keys. */
int b64_decode_lines(const char *in, size_t n, uint8_t *out, size_t *ret_len);
