/* common/dnscheck_sigs.h: TXT answers validated here, against keys the
 * validator judged (internal to common/dnscheck*.c; issue 12).
 *
 * With validation on (and not trust_ad), a TXT lookup first goes out
 * through the stub transport with the DO bit, like an unvalidated one, and
 * its reply is kept. This piece then looks for an RRSIG over the RRset,
 * asks the validator (getdns or libunbound, through the shared cache, so
 * once per zone per DNSCHECK_CACHE_MS) for the signer's DNSKEY RRset, and
 * when that is secure checks the signature itself (common/rrsig), or finds
 * it in dc->sigmemo from an earlier round. An answer it cannot show secure
 * (unsigned, negative, a CNAME, a wildcard, another algorithm, a key that
 * is not secure, a signature that does not verify) goes to the validator
 * as before, so every verdict other than "secure" is still the
 * validator's own.
 *
 * Owns: dc->sigmemo, dc->sigkeys (the zone keys it parsed, at most 64)
 * and dc->sigparents (what the answers under a parent name were, at most
 * 4096), made by dnscheck_sigs_init() when this applies. */
#pragma once

#include "common/dnscheck_internal.h"

enum dc_sigs {
	DC_SIGS_SECURE,   /* the kept reply's TXT RRset is signed by a secure key */
	DC_SIGS_UNSURE,   /* ask the validator */
	DC_SIGS_WAIT,     /* the signer's keys are being looked up: w->fn runs then */
};

/* Makes dc->sigmemo when TXT answers can be checked here: validation on,
 * not trust_ad, and every resolver's address known (the stub asks it).
 * -ENOMEM. */
int dnscheck_sigs_init(struct dnscheck *dc);

/* Frees what dnscheck_sigs_init() made. */
void dnscheck_sigs_free(struct dnscheck *dc);

/* Should this job's TXT lookup go out with want_sigs? */
bool dnscheck_sigs_wanted(const struct dnscheck *dc);

/* Is it worth asking through the stub first for this owner? Not when the
 * answers under its parent name were insecure SIGS_UNSIGNED_AFTER times
 * and never secure: an unsigned zone, where the stub's query would only
 * come before the validator's. A guess about cost only; the verdict is
 * the same either way. */
bool dnscheck_sigs_worth_trying(const struct dnscheck *dc, const char *owner);

/* Counts a TXT answer's DNSSEC status under its owner's parent (at most
 * 4096 parents are counted). */
void dnscheck_sigs_learn(struct dnscheck *dc, const char *owner, enum dnscheck_dnssec d);

/* Judges l's kept reply (l->want_sigs, ended without error). With
 * may_wait false, keys still being looked up count as UNSURE. On WAIT, w
 * is on the keys lookup's waiters (w->fn set by the caller) and the
 * caller judges again from it. Counts what it showed secure in dc->stats. */
enum dc_sigs dnscheck_sigs_judge(struct dnscheck *dc, const struct dc_lookup *l,
				 struct dc_waiter *w, bool may_wait);
