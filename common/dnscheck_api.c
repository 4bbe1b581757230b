/* common/dnscheck_api.c: see dnscheck_api.h and dnscheck.h.
 *
 * The checker is built in pieces, bottom up (each has a header that says
 * what it owns and promises; their shared data is in dnscheck_internal.h):
 *   query   one attempt at one server: a getdns_general() call on its
 *           context (dnscheck_ctx), a libunbound query, or, when nobody
 *           here validates the answer, one query of our own stub transport
 *           (dnscheck_stub); waits in dc->waiting until the window
 *           (max_inflight) has room, then runs with a uv timer of its own.
 *           When the timer fires the attempt is cancelled (none of them
 *           retransmits). Freed once it called back and the timer closed.
 *           (dnscheck_lookup)
 *   lookup  one (name, type) resolution: attempts at each question until
 *           one gets a usable reply (a lost or failed attempt is asked
 *           again of the next resolver within the question's budget), plus
 *           more questions when the answer ends at a CNAME whose target
 *           data is not in it (dnscheck_lookup, reading RRs with
 *           dnscheck_rr). Lookups of CAA, NS and A/AAAA are memoised in a
 *           small cache and shared by every name that needs them (waiters;
 *           dnscheck_cache); TXT and the per-server lookups belong to one
 *           job.
 *   job     one submitted name: the TXT part (dnscheck_txt), the CAA part
 *           (dnscheck_caa) and the authoritative part (dnscheck_auth) run
 *           side by side; when the last one ends the job goes to dc->done
 *           and its callback runs from a uv_idle handle, never from inside
 *           getdns or dnscheck_submit() (dnscheck_job).
 * Names wait in dc->queued (a few bytes each) until one of max_inflight job
 * slots is free, so memory stays flat however many names are submitted.
 * This file is the entry points: making and freeing the checker, and
 * queueing names. */
#include "common/dnscheck_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/dnscheck_cache.h"
#include "common/dnscheck_ctx.h"
#include "common/dnscheck_internal.h"
#include "common/dnscheck_job.h"
#include "common/dnscheck_lookup.h"
#include "common/dnscheck_sigs.h"
#include "common/dnscheck_stub.h"
#include "common/dnscheck_unbound.h"
#include "common/limits.h"
#include "common/list.h"
#include "common/strutil.h"

static unsigned clamp_inflight(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		/* Half the descriptors at most: getdns also needs TCP sockets,
		 * and the caller its own files. */
		rlim_t avail = 1;
		if (rl.rlim_cur > 2 * DNSCHECK_FD_RESERVE)
			avail = (rl.rlim_cur - DNSCHECK_FD_RESERVE) / 2;
		if (want > avail)
			want = (unsigned)avail;
	}
	return want ? want : 1;
}

int dnscheck_new(uv_loop_t *loop, const struct dnscheck_options *o, struct dnscheck **ret)
{
	struct dnscheck_addr addrs[DNSCHECK_MAX_RESOLVERS];
	int r;

	if (!loop || !o || !ret)
		return -EINVAL;
	if (o->n_resolvers > DNSCHECK_MAX_RESOLVERS || o->max_inflight > DNSCHECK_MAX_INFLIGHT ||
	    o->timeout_ms > DNSCHECK_MAX_TIMEOUT_MS)
		return -E2BIG;
	for (size_t i = 0; i < o->n_resolvers; i++) {
		r = dnscheck_parse_addr(o->resolvers[i], 53, &addrs[i]);
		if (r < 0)
			return r;
	}

	struct dnscheck *dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	dc->loop = loop;
	dc->timeout_ms = o->timeout_ms ? o->timeout_ms : DNSCHECK_DEFAULT_TIMEOUT_MS;
	dc->cache_ms = o->cache_ms ? o->cache_ms : DNSCHECK_CACHE_MS;
	dc->max_inflight = clamp_inflight(o->max_inflight ? o->max_inflight : DNSCHECK_DEFAULT_INFLIGHT);
	dc->auth_port = o->auth_port;
	dc->auth_ipv6 = o->auth_ipv6;
	list_init(&dc->queued);
	list_init(&dc->active);
	list_init(&dc->done);
	list_init(&dc->waiting);
	list_init(&dc->inflight);
	list_init(&dc->fifo);
	dc->n_buckets = 256;
	dc->buckets = calloc(dc->n_buckets, sizeof(*dc->buckets));
	if (!dc->buckets) {
		free(dc);
		return -ENOMEM;
	}

	getdns_list *anchors = NULL;
	if (!o->no_dnssec && o->trust_ad) {
		/* The resolver validates: DO asks it to, and to say so in AD. */
		getdns_dict *opt = getdns_dict_create();
		dc->ext_dnssec = getdns_dict_create();
		dc->trust_ad = true;
		if (!opt || !dc->ext_dnssec || getdns_dict_set_int(opt, "do_bit", 1) ||
		    getdns_dict_set_dict(dc->ext_dnssec, "add_opt_parameters", opt)) {
			getdns_dict_destroy(opt);
			r = -ENOMEM;
			goto fail;
		}
		getdns_dict_destroy(opt);
	} else if (!o->no_dnssec) {
		/* With libunbound validating, getdns only asks (CAA, NS,
		 * addresses): it needs no anchors. */
		if (!o->unbound) {
			r = dnscheck_ctx_read_trust_anchors(o->trust_anchor_file ?
							    o->trust_anchor_file :
							    DNSCHECK_ROOT_ANCHOR, &anchors);
			if (r < 0)
				goto fail;
		}
		dc->ext_dnssec = getdns_dict_create();
		if (!dc->ext_dnssec ||
		    getdns_dict_set_int(dc->ext_dnssec, "dnssec_return_status", GETDNS_EXTENSION_TRUE) ||
		    getdns_dict_set_int(dc->ext_dnssec, "dnssec_return_all_statuses",
					GETDNS_EXTENSION_TRUE)) {
			r = -ENOMEM;
			goto fail;
		}
	}
	r = dnscheck_ctx_resolvers_new(dc, addrs, o->n_resolvers, anchors);
	if (r < 0)
		goto fail;
	/* Nothing authenticates the AD bit on the wire: only a resolver on
	 * this host (or one the operator vouches for) may set it. */
	for (size_t i = 0; dc->trust_ad && !o->trust_ad_remote && i < dc->n_res; i++)
		if (!dc->res[i]->loopback) {
			r = -EPERM;
			goto fail;
		}
	getdns_list_destroy(anchors);
	anchors = NULL;
	r = dnscheck_sigs_init(dc);
	if (r < 0)
		goto fail;
	if (dc->ext_dnssec && !dc->trust_ad && o->unbound) {
		/* Last but one: it initialises a handle when it succeeds. */
		r = dnscheck_unbound_new(dc, addrs, o->n_resolvers,
					 o->trust_anchor_file ? o->trust_anchor_file :
								DNSCHECK_ROOT_ANCHOR);
		if (r < 0)
			goto fail;
	}

	/* Last: a handle cannot be freed synchronously once initialised. */
	(void)uv_idle_init(loop, &dc->dispatch);
	dc->dispatch.data = dc;
	dnscheck_cache_init_timer(dc);
	*ret = dc;
	return 0;

fail:
	getdns_list_destroy(anchors);
	for (size_t i = 0; i < dc->n_res; i++) {
		/* Nothing was scheduled: nothing is left to drain. */
		getdns_context_destroy(dc->res[i]->g);
		free(dc->res[i]);
	}
	getdns_dict_destroy(dc->ext_dnssec);
	dnscheck_sigs_free(dc);
	free(dc->buckets);
	free(dc);
	return r;
}

static int dc_queue(struct dnscheck *dc, const char *name, const struct dnscheck_request *rq,
		    dnscheck_done_fn cb, dnscheck_txt_fn raw_cb, void *userdata)
{
	size_t n = strlen(name);
	struct dc_pending *p = malloc(sizeof(*p) + n + 1);

	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->raw_cb = raw_cb;
	p->userdata = userdata;
	p->rq = *rq;
	memcpy(p->name, name, n + 1);
	p->rq.name = p->name;
	list_add_tail(&dc->queued, &p->link);
	dc->n_queued++;
	dnscheck_job_admit(dc);
	dnscheck_lookup_pump(dc);
	return 0;
}

int dnscheck_submit(struct dnscheck *dc, const struct dnscheck_request *rq, dnscheck_done_fn cb,
		    void *userdata)
{
	if (!dc || !rq || !cb || !rq->name)
		return -EINVAL;
	if (dc->freeing)
		return -ESHUTDOWN;
	if (!rq->issuers || rq->n_issuers == 0 || rq->n_issuers > RECORD_MAX_ISSUERS ||
	    !rq->account_uri || !*rq->account_uri)
		return -EINVAL;
	for (size_t i = 0; i < rq->n_issuers; i++)
		if (!rq->issuers[i] || !*rq->issuers[i])
			return -EINVAL;

	_cleanup_free_ char *owner = NULL;
	bool wildcard;
	int r = record_owner_name(rq->name, &owner, &wildcard);
	if (r < 0)
		return r;
	if (strlen(owner) > DNS_NAME_MAX_BYTES)
		return -EINVAL;
	if (dc->n_queued >= DNSCHECK_MAX_QUEUED)
		return -E2BIG;

	return dc_queue(dc, rq->name, rq, cb, NULL, userdata);
}

int dnscheck_lookup_txt(struct dnscheck *dc, const struct dnscheck_txt_request *rq,
			dnscheck_txt_fn cb, void *userdata)
{
	char name[DNS_NAME_MAX_BYTES + 2];
	size_t n, label = 0;

	if (!dc || !rq || !rq->owner || !cb)
		return -EINVAL;
	if (dc->freeing)
		return -ESHUTDOWN;
	n = strlen(rq->owner);
	if (n > 0 && rq->owner[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX_BYTES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = rq->owner[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			    c == '_') && ++label <= 63)
			;
		else
			return -EINVAL;
		name[i] = c;
	}
	name[n] = 0;
	if (dc->n_queued >= DNSCHECK_MAX_QUEUED)
		return -E2BIG;
	struct dnscheck_request req = { .name = name, .authoritative = rq->authoritative };
	return dc_queue(dc, name, &req, NULL, cb, userdata);
}

size_t dnscheck_pending(const struct dnscheck *dc)
{
	return dc->n_queued + dc->n_active + dc->n_done;
}

unsigned dnscheck_max_inflight(const struct dnscheck *dc)
{
	return dc->max_inflight;
}

void dnscheck_get_stats(const struct dnscheck *dc, struct dnscheck_stats *ret)
{
	*ret = dc->stats;
	ret->cached = dc->n_entries;
}

static void on_handle_closed(uv_handle_t *h)
{
	dnscheck_ctx_drain_one(h->data);
}

void dnscheck_free(struct dnscheck *dc)
{
	if (!dc || dc->freeing)
		return;
	dc->freeing = true;
	dc->draining = 1; /* held until the end of this function */

	/* getdns delivers CANCEL for everything in flight, synchronously;
	 * on_query_answer then closes the attempt's timer and touches nothing
	 * else (the timer's close callback frees the query). */
	for (size_t i = 0; i < dc->n_res; i++)
		dnscheck_stub_pool_close(dc->res[i]);
	for (size_t i = 0; i < dc->n_auth; i++)
		dnscheck_stub_pool_close(dc->auth[i]);
	for (size_t i = 0; i < dc->n_res; i++)
		dnscheck_ctx_destroy(dc->res[i]);
	dc->n_res = 0;
	for (size_t i = 0; i < dc->n_auth; i++)
		dnscheck_ctx_destroy(dc->auth[i]);
	dc->n_auth = 0;
	getdns_dict_destroy(dc->ext_dnssec);
	dc->ext_dnssec = NULL;

	/* No libunbound callback runs after this. */
	dnscheck_unbound_free(dc);
	dnscheck_lookup_drop_queries(dc);
	struct list_link *n;
	/* Every request still owed an answer gets one, CANCELLED: its owner may
	 * be waiting for the callback to free what it lent us (strings, its
	 * userdata), and no other callback will ever come. */
	while ((n = list_pop(&dc->queued))) {
		struct dc_pending *p = container_of(n, struct dc_pending, link);
		struct dc_job j = {
			.cb = p->cb, .raw_cb = p->raw_cb, .userdata = p->userdata,
			.res = { .name = p->name, .base = p->name, .owner = p->name },
		};
		dnscheck_job_cancel_deliver(&j);
		free(p);
	}
	struct list_link *lists[] = { &dc->active, &dc->done };
	for (size_t i = 0; i < ELEMENTSOF(lists); i++)
		while ((n = list_pop(lists[i]))) {
			struct dc_job *j = container_of(n, struct dc_job, link);
			dnscheck_job_cancel_deliver(j);
			/* An active job's TXT lookup is referenced only by its (freed) query. */
			dnscheck_job_free(j);
		}
	dnscheck_cache_clear(dc);
	dnscheck_sigs_free(dc);

	dc->draining += 2;
	uv_close((uv_handle_t *)&dc->dispatch, on_handle_closed);
	uv_close((uv_handle_t *)&dc->cache_timer, on_handle_closed);
	dnscheck_ctx_drain_one(dc);
}

