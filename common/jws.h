/* common/jws.h: JSON Web Signatures for ACME (RFC 7515 flattened JSON serialization, as
 * RFC 8555 section 6.2 uses it), External Account Binding (section 7.3.4) and the inner JWS
 * of a key change (section 7.3.5).
 * Pure: no I/O, no logging, no clock. Every string it returns is NUL-terminated, owned by
 * the caller (free()), and is the exact byte string that was base64url-encoded or signed:
 * send it as it is, never re-serialize it. Strings put into JSON (url, kid, nonce,
 * account URL) are escaped; they must not be NULL unless said otherwise.
 * Errors: -EINVAL bad input, -ENOMEM, -EIO for a signing failure inside mbedTLS. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/key.h"

/* {"alg":..,"jwk":{..}|"kid":..,"nonce":..,"url":..}. nonce NULL leaves it out (only
 * EAB and the inner key-change JWS go without one); kid NULL embeds k's JWK, as newAccount
 * and revokeCert by the certificate key need. */
int jws_protected_header(const struct key *k, const char *nonce, const char *url,
			 const char *kid, char **ret_json);

/* {"protected":B64U(protected_json),"payload":B64U(payload),"signature":B64U(sig)} where
 * sig is key_sign() of the ASCII B64U(protected) "." B64U(payload). payload_len 0 (payload
 * may then be NULL) is POST-as-GET: "payload":"". */
int jws_sign(const struct key *k, const char *protected_json, const char *payload,
	     size_t payload_len, char **ret_body);

/* jws_protected_header() and jws_sign() in one call. */
int jws_build(const struct key *k, const char *nonce, const char *url, const char *kid,
	      const char *payload, size_t payload_len, char **ret_body);

/* The value of newAccount's "externalAccountBinding": an HS256 JWS with protected
 * {"alg":"HS256","kid":eab_kid,"url":url} (no nonce) over B64U(key_jwk(account_key)).
 * hmac_key is the decoded key the CA handed out (base64url-decode it first). */
int jws_eab(const char *eab_kid, const uint8_t *hmac_key, size_t hmac_key_len,
	    const char *url, const struct key *account_key, char **ret_json);

/* The same over an account JWK the caller already has (canonical, as key_jwk() makes it):
 * for a process that holds only the public half of the account key. */
int jws_eab_jwk(const char *eab_kid, const uint8_t *hmac_key, size_t hmac_key_len,
		const char *url, const char *jwk, char **ret_json);

/* HMAC-SHA-256 of data. */
int jws_hs256(const uint8_t *key, size_t keylen, const void *data, size_t len, uint8_t out[32]);

/* The inner JWS of a keyChange request (the payload of the outer JWS, which the old key
 * signs with its kid): signed by new_key, protected {"alg":..,"jwk":<new>,"url":url}, no
 * nonce, payload {"account":account_url,"oldKey":<old jwk>}. */
int jws_key_change_inner(const struct key *new_key, const char *url, const char *account_url,
			 const struct key *old_key, char **ret_json);
