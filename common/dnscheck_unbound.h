/* common/dnscheck_unbound.h: the DNS checker's libunbound backend
 * (internal to common/dnscheck*.c, except the pure mapping at the end).
 *
 * With `dns_backend = unbound` and validation on, the TXT lookups that
 * need a DNSSEC status are resolved by libunbound's validator inside
 * persistd instead of by getdns: one ub_ctx per checker, forwarding to the
 * configured resolvers (or those /etc/resolv.conf names), anchored at the
 * checker's trust anchor. getdns verifies every answer's chain again for
 * every name; unbound keeps validated DNSKEY and DS sets in its key cache
 * for their TTL, so after the first names of a zone a name costs its own
 * queries only. It validates itself: no resolver's AD bit is trusted.
 *
 * Owns: dc->ub, the ub_ctx (in thread mode: libunbound runs its resolver
 * in one thread of its own and hands results back through a pipe, ub_fd),
 * and one uv_poll_t on that pipe, referenced only while a query is out, so
 * uv_run() returns when nothing waits. ub_process() runs the callbacks on
 * the loop's thread. libunbound retransmits and fails over across the
 * forwarders itself, so a lookup here is one attempt with the whole
 * question budget (see "Retries" in common/dnscheck.h); the checker's
 * timer ub_cancel()s it when the budget is spent.
 *
 * Why a thread and not ub_ctx_async(ctx, 0): without a thread libunbound
 * forks a worker process, which would inherit the daemon's descriptors
 * (the control socket, the signer's socket), escape its accounting (the
 * CPU the benchmark and the metrics see) and outlive a crash of the
 * daemon. The thread does network I/O and validation only; it never calls
 * back into persistd.
 *
 * Errors: -EINVAL a trust anchor or a setting libunbound refused, the
 * errors of dnscheck_ctx_read_trust_anchors() for the anchor file, -EIO
 * libunbound could not start, -ENOMEM. */
#pragma once

#include "common/dnscheck_internal.h"

#include <stddef.h>
#include <unbound.h>

/* dc->ub: forwarding to the n addresses, or with n 0 to the servers
 * resolv.conf names; anchored at the DNSKEY/DS RRs of anchor_file. */
int dnscheck_unbound_new(struct dnscheck *dc, const struct dnscheck_addr *addrs, size_t n,
			 const char *anchor_file);

/* The pseudo-context lookups through dc->ub note their outcome under. */
struct dc_ctx *dnscheck_unbound_ctx(struct dnscheck *dc);

/* Asks (name, qtype) with class IN; cb runs later from the loop (from
 * ub_process(), never from inside this call) unless the query is
 * cancelled. Each query accepted here is ended by exactly one
 * dnscheck_unbound_release(): from its callback, or after
 * dnscheck_unbound_cancel(). */
int dnscheck_unbound_resolve(struct dnscheck *dc, const char *name, uint16_t qtype, void *arg,
			     ub_callback_type cb, int *ret_id);
void dnscheck_unbound_cancel(struct dnscheck *dc, int id);
void dnscheck_unbound_release(struct dnscheck *dc);

/* Deletes the ub_ctx (no callback runs after this) and closes the poll
 * handle, counted in dc->draining. NULL dc->ub is a no-op. */
void dnscheck_unbound_free(struct dnscheck *dc);

/* ---- pure: what an ub_result says ---- */

/* The DNSSEC status of a result: secure, bogus, or (neither) insecure.
 * Bogus wins over secure: it is never reported as anything better. */
enum dnscheck_dnssec dnscheck_unbound_dnssec(int secure, int bogus);

/* The outcome of a result without a usable answer packet: a bogus one is
 * DNSCHECK_ERR_BOGUS, a SERVFAIL or an empty one SERVFAIL, another error
 * rcode REFUSED or RCODE; DNSCHECK_OK when the rcode is NOERROR or
 * NXDOMAIN (the packet decides). */
enum dnscheck_error dnscheck_unbound_error(int rcode, int bogus, bool have_packet);
