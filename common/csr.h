/* common/csr.h: PKCS#10 certificate signing requests for ACME finalize (RFC 8555 section
 * 7.4, which sends B64U of the DER).
 * Pure: no I/O, no logging, no clock.
 * The CSR carries every name, in the given order, as a dNSName in a non-critical
 * subjectAltName extension. The subject is CN=<first name> when that name has at most 64
 * characters (the X.520 limit) and empty otherwise: CAs look at the SANs. It is signed
 * with SHA-256 (SHA-384 for a P-384 key).
 * Names are checked only enough to keep the DER and the subject string sane: 1 to
 * DNS_NAME_MAX_BYTES characters from [A-Za-z0-9.*_-]; at most CONFIG_MAX_NAMES_PER_CERT.
 * Errors: -EINVAL bad names, -E2BIG too many names, -ENOMEM, -EIO inside mbedTLS.
 * Known wart of mbedTLS 2.28.3: an ECDSA CSR's signatureAlgorithm carries a NULL parameter
 * that RFC 5758 says must be absent; OpenSSL, Go (Boulder, pebble) and
 * python3-cryptography accept it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/key.h"

/* *ret_der is the caller's to free(). */
int csr_create(const struct key *k, const char *const *names, size_t n_names, uint8_t **ret_der,
	       size_t *ret_len);
