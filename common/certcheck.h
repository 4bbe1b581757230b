/* common/certcheck.h: is a certificate chain that the CA just sent fit to install?
 *
 * A CA can issue something we must not serve: already expired (a profile with a
 * 1-second validity), not yet valid (its clock runs 100 days ahead), for other
 * names, for another key, or with a chain that does not link. certcheck_chain()
 * looks at the downloaded chain before the store switches `current`, and says
 * in one line for an operator what is wrong.
 *
 * The rules, in the order they are checked (the first failure is the verdict):
 *  - every certificate of the chain parses (MALFORMED);
 *  - notBefore <= now + CERTCHECK_SKEW_SEC (NOT_YET_VALID): a CA's clock a few
 *    minutes ahead of ours is normal and harmless, 100 days is not;
 *  - now <= notAfter (EXPIRED);
 *  - what is left, notAfter - now + 1, is at least min(CERTCHECK_MIN_LEFT_SEC,
 *    half the validity period), and never less than CERTCHECK_FLOOR_LEFT_SEC
 *    (SHORT_LIFETIME): a 90-day cert must have a day left, a 6-hour cert three
 *    hours, and a cert valid for one second (a CA profile gone wrong) is
 *    refused even if it arrives within that second, so we never install what
 *    we would have to renew at once and so loop against the CA;
 *  - the subjectAltName holds dNSNames only, and their set equals the set of
 *    ordered names exactly, compared case-insensitively: none missing, none
 *    extra (NAMES_DIFFER);
 *  - the leaf's public key is the key we sent a CSR for (KEY_DIFFERS);
 *  - each certificate's issuer DN is the next one's subject DN and its
 *    signature verifies with the next one's key (CHAIN_BROKEN). The last
 *    certificate is not checked against anything: trust in a root is the
 *    relying party's business. A lone leaf passes this rule: RFC 8555 lets the
 *    CA send just the leaf, and it still has to pass every other rule.
 *
 * Pure: no I/O, no logging, no clock (the caller passes `now`, Unix seconds).
 * Errors: -ENOMEM only; a bad chain is a verdict, never an error. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define CERTCHECK_SKEW_SEC 300
#define CERTCHECK_MIN_LEFT_SEC 86400
#define CERTCHECK_FLOOR_LEFT_SEC 300   /* too little to deploy a certificate and use it */

enum certcheck_verdict {
	CERTCHECK_OK,
	CERTCHECK_MALFORMED,
	CERTCHECK_NOT_YET_VALID,
	CERTCHECK_EXPIRED,
	CERTCHECK_SHORT_LIFETIME,
	CERTCHECK_NAMES_DIFFER,
	CERTCHECK_KEY_DIFFERS,
	CERTCHECK_CHAIN_BROKEN,
	_CERTCHECK_VERDICT_MAX,
};

/* "OK", "MALFORMED", "NOT_YET_VALID", ...; "UNKNOWN" out of range. */
const char *certcheck_verdict_to_string(enum certcheck_verdict v);

struct certcheck_result {
	enum certcheck_verdict verdict;
	char *reason;           /* owned: one line for humans, set for every verdict */
};

void certcheck_result_done(struct certcheck_result *r); /* frees reason, zeroes *r */

struct key;

/* Checks the PEM chain (len bytes, leaf first) against the names that were ordered
 * (n_names of them, as configured) and the key whose CSR was sent (key; its public half
 * is what matters). *ret is filled when the return is 0. */
int certcheck_chain(const char *pem_chain, size_t len, const char *const *names, size_t n_names,
		    const struct key *key, int64_t now, struct certcheck_result *ret);
