/* common/dnscheck_auth.c: see dnscheck_auth.h. */
#include "common/dnscheck_auth.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck_cache.h"
#include "common/dnscheck_ctx.h"
#include "common/dnscheck_lookup.h"
#include "common/dnscheck_pure.h"
#include "common/dnscheck_txt.h"
#include "common/strutil.h"

/* The authoritative part: find the zone (NS at the owner name, then at the
 * apex the negative answer's SOA names, else the parent), the addresses of
 * its servers, and ask each one directly. */
static void auth_fail(struct dc_job *j, enum dnscheck_error e, const char *what, const char *name)
{
	j->res.auth_error = e;
	str_printf(j->res.auth_reason, sizeof(j->res.auth_reason), "%s %s failed: %s", what, name,
		   dnscheck_pure_error_text(e));
	j->part_done(j);
}

static void auth_finish(struct dc_job *j)
{
	struct dnscheck_result *res = &j->res;
	bool have = false;
	uint64_t fp = 0;

	if (res->n_servers == 0) {
		res->auth_error = DNSCHECK_ERR_NO_ZONE;
		str_printf(res->auth_reason, sizeof(res->auth_reason),
			   "no address found for any name server of %s", j->zone ? j->zone : "?");
	}
	for (size_t i = 0; i < res->n_servers; i++) {
		const struct dnscheck_server *s = &res->servers[i];
		if (s->error != DNSCHECK_OK)
			continue;
		if (have && s->fingerprint != fp)
			res->auth_disagree = true;
		fp = s->fingerprint;
		have = true;
	}
	j->part_done(j);
}

static void on_server_done(struct dc_lookup *l)
{
	struct dc_job *j = l->owner;
	struct dnscheck_server *s = &j->res.servers[l->index];

	s->error = l->error;
	dnscheck_txt_from_blobs(l->rrs, l->n_rrs, &s->rrs, &s->n_rrs);
	free(l->rrs);
	l->rrs = NULL;
	l->n_rrs = 0;
	if (s->error != DNSCHECK_OK) {
		str_printf(s->reason, sizeof(s->reason), "%s%s%s%s",
			   dnscheck_pure_error_text(s->error),
			   l->why ? " (" : "", l->why ? l->why : "", l->why ? ")" : "");
	} else if (!j->cb) {
		str_printf(s->reason, sizeof(s->reason), "%zu TXT RRs", s->n_rrs);
	} else {
		struct record_verdict v;
		if (dnscheck_txt_evaluate(j, s->rrs, s->n_rrs, &v) < 0) {
			s->error = DNSCHECK_ERR_INTERNAL;
			str_printf(s->reason, sizeof(s->reason), "evaluation failed");
		} else {
			s->status = v.status;
			str_printf(s->reason, sizeof(s->reason), "%s", v.reason);
		}
		/* Order-independent: the RRset is a set. */
		uint64_t h = 0;
		for (size_t i = 0; i < s->n_rrs; i++)
			h += dnscheck_pure_fnv1a(DNSCHECK_FNV_OFFSET, s->rrs[i].text,
						 s->rrs[i].len);
		for (size_t i = 0; i < l->n_chain; i++)
			h = dnscheck_pure_fnv1a(h, l->chain[i], strlen(l->chain[i]) + 1);
		s->fingerprint = h ^ (uint64_t)l->kind;
	}
	j->server_lookups[l->index] = NULL;
	dnscheck_lookup_free(l);
	assert(j->auth_outstanding > 0);
	if (--j->auth_outstanding == 0)
		auth_finish(j);
}

static void auth_add_server(struct dc_job *j, const char *ns, const char *address)
{
	struct dnscheck_result *res = &j->res;
	struct dnscheck *dc = j->dc;

	if (res->n_servers >= DNSCHECK_MAX_AUTH_SERVERS)
		return;
	for (size_t i = 0; i < res->n_servers; i++)
		if (streq(res->servers[i].address, address))
			return;
	if (res->n_servers == j->servers_cap) {
		size_t cap = j->servers_cap ? j->servers_cap * 2 : 4;
		struct dnscheck_server *s = realloc(res->servers, cap * sizeof(*s));
		if (!s)
			return;
		res->servers = s;
		struct dc_lookup **ls = realloc(j->server_lookups, cap * sizeof(*ls));
		if (!ls)
			return;
		j->server_lookups = ls;
		j->servers_cap = cap;
	}
	size_t idx = res->n_servers++;
	struct dnscheck_server *s = &res->servers[idx];
	*s = (struct dnscheck_server){ .ns = strdup(ns), .address = strdup(address) };
	j->server_lookups[idx] = NULL;

	struct dc_ctx *c = dnscheck_ctx_auth(dc, address);
	struct dc_lookup *l = c ? dnscheck_lookup_new(dc, c, GETDNS_RRTYPE_TXT, j->owner, false)
				: NULL;
	if (!l || dnscheck_lookup_start(l) < 0) {
		dnscheck_lookup_free(l);
		s->error = DNSCHECK_ERR_INTERNAL;
		str_printf(s->reason, sizeof(s->reason), "%s",
			   c ? "out of memory" : "too many authoritative servers in one run");
		return;
	}
	l->done = on_server_done;
	l->owner = j;
	l->index = idx;
	j->server_lookups[idx] = l;
	j->auth_outstanding++;
}

static void on_ns_address(struct dc_waiter *w, struct dc_lookup *e)
{
	struct dc_nswait *nw = container_of(w, struct dc_nswait, w);
	struct dc_job *j = nw->job;

	/* Errors in address lookups only mean fewer servers; auth_finish
	 * complains if none is left. */
	if (e->error == DNSCHECK_OK)
		for (size_t i = 0; i < e->n_rrs; i++)
			auth_add_server(j, nw->ns, e->rrs[i].data);
	assert(j->auth_outstanding > 0);
	if (--j->auth_outstanding == 0)
		auth_finish(j);
}

static void auth_resolve_ns(struct dc_job *j, struct dc_lookup *e)
{
	struct dnscheck *dc = j->dc;
	unsigned per_ns = dc->auth_ipv6 ? 2 : 1;
	size_t n = MIN(e->n_rrs, (size_t)DNSCHECK_MAX_AUTH_SERVERS);

	j->zone = strdup(e->qname);
	j->res.zone = j->zone;
	j->nsw = calloc(n * per_ns, sizeof(*j->nsw));
	if (!j->nsw) {
		auth_fail(j, DNSCHECK_ERR_INTERNAL, "resolving the name servers of",
			  e->qname);
		return;
	}
	/* Copy first: the dnscheck_cache_get() calls below may evict e. */
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < per_ns; k++) {
			struct dc_nswait *nw = &j->nsw[j->n_nsw++];
			nw->job = j;
			nw->ns = strdup(e->rrs[i].data);
			nw->qtype = k == 0 ? GETDNS_RRTYPE_A : GETDNS_RRTYPE_AAAA;
			nw->w.fn = on_ns_address;
			list_init(&nw->w.link);
		}
	/* Hold the part open while the address lookups are set up. */
	j->auth_outstanding = 1;
	for (size_t i = 0; i < j->n_nsw; i++) {
		struct dc_nswait *nw = &j->nsw[i];
		if (!nw->ns)
			continue;
		struct dc_lookup *a = dnscheck_cache_get(dc, nw->qtype, nw->ns);
		if (!a)
			continue;
		j->auth_outstanding++;
		if (a->complete)
			on_ns_address(&nw->w, a);
		else
			list_add_tail(&a->waiters, &nw->w.link);
	}
	if (--j->auth_outstanding == 0)
		auth_finish(j);
}

static bool auth_consider(struct dc_job *j, struct dc_lookup *e)
{
	if (e->error != DNSCHECK_OK) {
		auth_fail(j, e->error, "finding the zone of", e->qname);
		return true;
	}
	if (e->n_rrs > 0 && e->n_chain == 0) {
		auth_resolve_ns(j, e);
		return true;
	}
	if (e->n_rrs == 0 && e->n_chain == 0 && e->soa_owner && !streq(e->soa_owner, j->auth_name) &&
	    dnscheck_pure_name_under(j->auth_name, e->soa_owner) && e->soa_owner[0]) {
		memmove(j->auth_name, e->soa_owner, strlen(e->soa_owner) + 1);
		return false;
	}
	const char *parent = dnscheck_parent(j->auth_name);
	if (!parent) {
		auth_fail(j, DNSCHECK_ERR_NO_ZONE, "finding the zone of", j->owner);
		return true;
	}
	memmove(j->auth_name, parent, strlen(parent) + 1);
	return false;
}

static void auth_step(struct dc_job *j);

static void on_auth_ready(struct dc_waiter *w, struct dc_lookup *e)
{
	struct dc_job *j = container_of(w, struct dc_job, auth_wait);

	j->auth_waiting = false;
	if (!auth_consider(j, e))
		auth_step(j);
}

static void auth_step(struct dc_job *j)
{
	for (;;) {
		struct dc_lookup *e = dnscheck_cache_get(j->dc, GETDNS_RRTYPE_NS, j->auth_name);
		if (!e) {
			auth_fail(j, DNSCHECK_ERR_INTERNAL, "finding the zone of",
				  j->auth_name);
			return;
		}
		if (!e->complete) {
			j->auth_wait.fn = on_auth_ready;
			list_add_tail(&e->waiters, &j->auth_wait.link);
			j->auth_waiting = true;
			return;
		}
		if (auth_consider(j, e))
			return;
	}
}

void dnscheck_auth_start(struct dc_job *j)
{
	j->res.auth_checked = true;
	j->auth_name = strdup(j->owner);
	j->parts++;
	if (!j->auth_name) {
		j->res.auth_error = DNSCHECK_ERR_INTERNAL;
		j->part_done(j);
	} else
		auth_step(j);
}
