/* common/dnscheck_lookup.h: one (name, type) resolution of the DNS checker
 * (internal to common/dnscheck*.c): its attempts, their retransmission and
 * fail-over across resolvers, the window of queries in flight, and reading
 * each reply into the lookup.
 *
 * Owns: the lookups it makes (until the caller frees them) and every
 * attempt (struct dc_query, private here), each with a uv timer of its own.
 * An attempt waits on dc->waiting until the window (dc->max_inflight) has
 * room, then is on dc->inflight until getdns called back and its timer
 * closed. getdns never retransmits and never fails over on an error rcode:
 * an attempt that times out is cancelled and asked again, a server that
 * cannot answer is not asked that question again (see "Retries" in
 * common/dnscheck.h). With dc->ub (common/dnscheck_unbound), a validating
 * lookup of the resolvers is asked of libunbound instead: one attempt per
 * question with the whole budget (libunbound retransmits and fails over).
 * An attempt that nobody here validates goes out through our own stub
 * transport (common/dnscheck_stub) instead of getdns. Every reply, from
 * any of the three, is read from wire form (common/dnswire).
 *
 * Promises: a started lookup ends exactly once, by a call of l->done from
 * the loop (never from inside dnscheck_lookup_start()), with l->error,
 * l->kind, l->rrs, l->chain, l->soa_owner, the DNSSEC status and l->why
 * (what each server did) filled in. While dc->freeing, no lookup ends. */
#pragma once

#include "common/dnscheck_internal.h"

#include <stdbool.h>
#include <stdint.h>

/* A lookup of (qtype, name) asked of auth (an authoritative server's
 * context) or, with auth NULL, of the resolvers; dnssec: ask for the
 * DNSSEC status (when validation is on). NULL on out of memory. Set ->done
 * (and ->owner) before the loop runs. */
struct dc_lookup *dnscheck_lookup_new(struct dnscheck *dc, struct dc_ctx *auth,
				      uint16_t qtype, const char *name, bool dnssec);

/* Queues the first attempt. -ENOMEM; the lookup then never ends. */
int dnscheck_lookup_start(struct dc_lookup *l);

/* NULL is a no-op. Not while an attempt of l is queued or in flight. */
void dnscheck_lookup_free(struct dc_lookup *l);

/* Sends queued attempts while the window has room. */
void dnscheck_lookup_pump(struct dnscheck *dc);

/* For teardown, after every context was destroyed (getdns then has called
 * back for everything in flight): forgets the attempts still queued or in
 * flight, their lookups untouched. */
void dnscheck_lookup_drop_queries(struct dnscheck *dc);
