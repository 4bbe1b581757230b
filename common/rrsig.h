/* common/rrsig.h: the RRSIGs over one positive answer's RRset (RFC 4034,
 * RFC 4035 section 5.3, RFC 6840), checked against the DNSKEY RRset of
 * the signer's zone that a full validator (getdns or libunbound) has
 * already found secure.
 *
 * Why: with validation on, a re-check round used to hand every name to
 * the validator, which fetches and verifies the whole chain again (getdns)
 * or at least verifies the answer's signature (libunbound). Here the
 * validator judges each zone's keys once, and an answer signed by them is
 * checked in place; with common/sigmemo, an unchanged answer in a later
 * round costs a digest, not a public-key operation.
 *
 * Scope, on purpose narrow: the answer section must hold only the RRset
 * (owner, type) and RRSIGs at owner; no CNAME, no wildcard expansion
 * (RRSIG labels below the owner's count), algorithms 8 (RSA/SHA-256, 1024
 * to 4096 bits), 13 (P-256), 14 (P-384) and 15 (Ed25519). Anything else,
 * negative answers included, is RRSIG_UNSURE: the caller asks the full
 * validator, which knows the rest of DNSSEC. So this module can only ever
 * say "secure" for an answer a validator would also call secure, never
 * "bogus" or "insecure".
 *
 * Pure apart from libcrypto: no loop, no clock (now is given), no state
 * but the memo the caller passes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dnswire.h"

struct sigmemo;

#define RRSIG_TYPE 46
#define DNSKEY_TYPE 48

struct rrsig_pubkey;

/* A parsed P-256 key gets a table of its own (common/p256verify, where
 * P256VERIFY_FAST) once it has verified this many signatures: the table
 * costs about 500 ordinary verifications to build (25 ms), and saves about
 * two thirds of each one after. So a key that never gets this far pays
 * nothing, and one that does pays at most half as much again as it
 * already has. */
#define RRSIG_P256_TABLE_AFTER 1024

/* One DNSKEY's RDATA (flags, protocol, algorithm, public key), and
 * optionally its key parsed once by rrsig_pubkey_new() (NULL: parsed for
 * each verification; libcrypto's decoders cost more than a verification). */
struct rrsig_key {
	const uint8_t *rdata;
	size_t len;
	struct rrsig_pubkey *pub;
};

enum rrsig_verdict {
	RRSIG_UNSURE = 0,  /* not shown secure here: ask the validator */
	RRSIG_SECURE = 1,  /* a signature by one of the keys verifies, now inside its window */
};

struct rrsig_outcome {
	enum rrsig_verdict verdict;
	bool memo_hit;     /* secure from the memo, no public-key operation */
};

/* The signer named by the first RRSIG in m's answer section that covers
 * (owner, type), lowercase wire form into signer[DNSWIRE_MAX_NAME]: 1, or
 * 0 when there is none (or it is malformed, or not owner or above it). m
 * must have been read whole already (every RR readable). */
int rrsig_signer(const struct dnswire_msg *m, const uint8_t *owner, size_t owner_len,
		 uint16_t type, uint8_t *signer, size_t *signer_len);

/* Checks (owner, type) in m's answer against keys, the signer's validated
 * DNSKEY RRset. memo (may be NULL) is asked first and told of every new
 * successful verification. 0 with *ret filled in, or -ENOMEM. */
int rrsig_check(const struct dnswire_msg *m, const uint8_t *owner, size_t owner_len,
		uint16_t type, const uint8_t *signer, size_t signer_len,
		const struct rrsig_key *keys, size_t n_keys, uint32_t now, struct sigmemo *memo,
		struct rrsig_outcome *ret);

/* RFC 4034 appendix B's key tag of a DNSKEY RDATA (algorithms other
 * than 1). */
uint16_t rrsig_key_tag(const uint8_t *rdata, size_t len);

/* The public key of a DNSKEY RDATA, ready to verify: NULL for an
 * algorithm or key this module does not take, or out of memory. */
struct rrsig_pubkey *rrsig_pubkey_new(const uint8_t *rdata, size_t len);
void rrsig_pubkey_free(struct rrsig_pubkey *k);
uint8_t rrsig_pubkey_algorithm(const struct rrsig_pubkey *k);

/* Does the signature sig over data verify under k? 1 yes, 0 no, -ENOMEM. */
int rrsig_pubkey_verify(struct rrsig_pubkey *k, const uint8_t *data, size_t data_len,
			const uint8_t *sig, size_t sig_len);

/* Does the public-key signature sig over data verify under the DNSKEY
 * RDATA key, for DNSSEC algorithm alg? 1 yes, 0 no (or an algorithm or
 * key this module does not take), -ENOMEM. */
int rrsig_verify(uint8_t alg, const uint8_t *key, size_t key_len, const uint8_t *data,
		 size_t data_len, const uint8_t *sig, size_t sig_len);
