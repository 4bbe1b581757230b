/* common/dnscheck_ctx.h: the DNS checker's getdns contexts (internal to
 * common/dnscheck*.c). One context per server: getdns neither retransmits
 * nor fails over on an error rcode, so the checker picks the server of
 * every attempt. Stub mode, UDP then TCP, on the checker's uv loop through
 * common/getdns_uv.
 *
 * Owns: dc->res[] (one per resolver, with the trust anchors when DNSSEC is
 * validated) and dc->auth[] (one per authoritative server address, at most
 * DNSCHECK_MAX_AUTH_CONTEXTS in one run), and the count of handles and
 * contexts still closing in dc->draining: the last one to close frees dc.
 *
 * Errors: -EINVAL a setting getdns refused or a bad anchor file, -ENOENT
 * and the other errors of file_read_bounded() for the anchor file, -EIO
 * getdns could not make a context, -ENOMEM. */
#pragma once

#include "common/dnscheck_internal.h"

#include <stddef.h>

/* One context per resolver in dc->res: the n addresses given, or with n
 * 0 the system's (each server resolv.conf names, at most
 * DNSCHECK_MAX_RESOLVERS; getdns' defaults when it names none). anchors
 * (borrowed) may be NULL: no validation. */
int dnscheck_ctx_resolvers_new(struct dnscheck *dc, const struct dnscheck_addr *addrs, size_t n,
			       getdns_list *anchors);

/* The context for the authoritative server at address (text form), made
 * on first use. NULL when out of memory or DNSCHECK_MAX_AUTH_CONTEXTS are
 * in use. */
struct dc_ctx *dnscheck_ctx_auth(struct dnscheck *dc, const char *address);

/* Destroys c's getdns context (getdns calls back with CANCEL for what is
 * in flight); c itself is freed at once or, when its adapter still has
 * handles closing, counted in dc->draining until they have. NULL is a
 * no-op. */
void dnscheck_ctx_destroy(struct dc_ctx *c);

/* One of what dc->draining counts has closed: the last frees dc. */
void dnscheck_ctx_drain_one(struct dnscheck *dc);

/* The DNSKEY and DS RRs in the file at path, as getdns wants trust
 * anchors. -EINVAL when it holds none or anything else. */
int dnscheck_ctx_read_trust_anchors(const char *path, getdns_list **ret);
