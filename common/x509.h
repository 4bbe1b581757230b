/* common/x509.h: facts about the certificates we download (PEM chains, leaf first, as in
 * application/pem-certificate-chain).
 * Pure: no I/O, no logging, no clock; instants are Unix seconds UTC computed from the
 * certificate's own fields, so any date from year 0 to 9999 is exact.
 * Errors: -EINVAL malformed (any certificate of the chain that mbedTLS refuses makes the
 * whole chain malformed), -E2BIG over CERT_MAX_BYTES, -ENOMEM, -ENOENT for a missing field
 * that the caller asked for. Inputs are len bytes with no NUL inside and need no NUL after.
 * This parser is fuzzed (tests/fuzz/fuzz_x509.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct x509_info {
	int64_t not_before;     /* Unix seconds UTC, inclusive */
	int64_t not_after;      /* Unix seconds UTC, inclusive: lifetime is after - before + 1 */
	char **dns_names;       /* owned: the dNSName SANs, in certificate order */
	size_t n_dns_names;
	char *subject_cn;       /* owned, may be NULL */
	char *issuer_cn;        /* owned, may be NULL */
	char *serial_hex;       /* owned: lowercase hex, no colons, leading zero bytes dropped as
				 * openssl prints it ("87654321", "05") */
	char *ari_cert_id;      /* owned: RFC 9773 section 4.1 CertID, "b64url(AKI keyIdentifier)
				 * .b64url(serial DER content bytes)"; NULL without an AKI
				 * keyIdentifier */
};

/* Parses the first certificate of a PEM chain. *ret is filled only on success; release it
 * with x509_info_done(). */
int x509_parse_leaf(const char *pem_chain, size_t len, struct x509_info *ret);
void x509_info_done(struct x509_info *i); /* frees the owned fields and zeroes *i */

/* The number of certificates in the chain (>= 1), or a negative errno. */
int x509_chain_count(const char *pem_chain, size_t len);
/* The issuer CN of the last certificate of the chain: what certbot's --preferred-chain
 * matches to pick an alternate chain. -ENOENT when that issuer has no CN. */
int x509_chain_top_issuer_cn(const char *pem_chain, size_t len, char **ret);

/* The DER of the first certificate (revokeCert sends it). *ret is the caller's to free(). */
int x509_leaf_der(const char *pem_chain, size_t len, uint8_t **ret, size_t *ret_len);

/* For key.c only: parses a whole PEM chain into chain, which the caller has initialised
 * with mbedtls_x509_crt_init() and frees with mbedtls_x509_crt_free() in every case. */
struct mbedtls_x509_crt;
int x509_chain_parse(const char *pem_chain, size_t len, struct mbedtls_x509_crt *chain);

/* A certificate's date (notBefore, notAfter) as Unix seconds UTC; -EINVAL for
 * fields out of range. For modules that hold a parsed chain (common/certcheck). */
struct mbedtls_x509_time;
int x509_time_to_unix(const struct mbedtls_x509_time *t, int64_t *ret);
