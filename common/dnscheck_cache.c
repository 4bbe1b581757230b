/* common/dnscheck_cache.c: see dnscheck_cache.h. */
#include "common/dnscheck_cache.h"

#include <stdlib.h>
#include <string.h>

#include "common/dnscheck_lookup.h"
#include "common/dnscheck_pure.h"
#include "common/strutil.h"

static uint64_t cache_hash(uint16_t qtype, const char *name)
{
	return dnscheck_pure_fnv1a(dnscheck_pure_fnv1a(DNSCHECK_FNV_OFFSET, &qtype, sizeof(qtype)),
				   name, strlen(name));
}

static void cache_unlink(struct dnscheck *dc, struct dc_lookup *l)
{
	struct dc_lookup **p = &dc->buckets[l->hash & (dc->n_buckets - 1)];

	while (*p && *p != l)
		p = &(*p)->hnext;
	if (*p)
		*p = l->hnext;
	list_del(&l->fifo);
	dc->n_entries--;
}

static void cache_evict(struct dnscheck *dc)
{
	uint64_t now = uv_now(dc->loop);

	while (!list_empty(&dc->fifo)) {
		struct dc_lookup *l = container_of(dc->fifo.next, struct dc_lookup, fifo);
		if (dc->n_entries < DNSCHECK_MAX_CACHE_ENTRIES && now - l->done_at_ms < dc->cache_ms)
			break;
		cache_unlink(dc, l);
		dnscheck_lookup_free(l);
	}
}

static void on_cache_timer(uv_timer_t *t);

/* Armed for when the oldest complete lookup expires, while there is one. */
static void arm_timer(struct dnscheck *dc)
{
	if (list_empty(&dc->fifo) || uv_is_active((uv_handle_t *)&dc->cache_timer))
		return;
	struct dc_lookup *oldest = container_of(dc->fifo.next, struct dc_lookup, fifo);
	uint64_t now = uv_now(dc->loop), expires = oldest->done_at_ms + dc->cache_ms;
	(void)uv_timer_start(&dc->cache_timer, on_cache_timer, expires > now ? expires - now : 0,
			     0);
}

static void on_cache_timer(uv_timer_t *t)
{
	struct dnscheck *dc = t->data;

	cache_evict(dc);
	arm_timer(dc);
}

void dnscheck_cache_init_timer(struct dnscheck *dc)
{
	(void)uv_timer_init(dc->loop, &dc->cache_timer);
	dc->cache_timer.data = dc;
	uv_unref((uv_handle_t *)&dc->cache_timer);
}

/* The done callback of every memoised lookup. */
static void cache_on_done(struct dc_lookup *l)
{
	struct dnscheck *dc = l->dc;

	l->complete = true;
	l->done_at_ms = uv_now(dc->loop);
	/* A waiter may start lookups that evict: l joins the fifo only after. */
	while (!list_empty(&l->waiters)) {
		struct dc_waiter *w = container_of(list_pop(&l->waiters), struct dc_waiter, link);
		w->fn(w, l);
	}
	list_add_tail(&dc->fifo, &l->fifo);
	cache_evict(dc);
	arm_timer(dc);
}

/* Keeps chains short: doubles the bucket array when it is as full as it is
 * long. Out of memory just leaves the chains longer. */
static void cache_grow(struct dnscheck *dc)
{
	size_t n = dc->n_buckets * 2;
	struct dc_lookup **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < dc->n_buckets; i++)
		while (dc->buckets[i]) {
			struct dc_lookup *l = dc->buckets[i];
			dc->buckets[i] = l->hnext;
			l->hnext = b[l->hash & (n - 1)];
			b[l->hash & (n - 1)] = l;
		}
	free(dc->buckets);
	dc->buckets = b;
	dc->n_buckets = n;
}

/* The memoised lookup for (qtype, name) on the resolver; started if new.
 * Check ->complete on return: it may be done already. */
struct dc_lookup *dnscheck_cache_get(struct dnscheck *dc, uint16_t qtype, const char *name)
{
	uint64_t h = cache_hash(qtype, name);
	struct dc_lookup *l;

	for (l = dc->buckets[h & (dc->n_buckets - 1)]; l; l = l->hnext)
		if (l->hash == h && l->qtype == qtype && streq(l->qname, name))
			break;
	if (l && l->complete && uv_now(dc->loop) - l->done_at_ms >= dc->cache_ms) {
		cache_unlink(dc, l);
		dnscheck_lookup_free(l);
		l = NULL;
	}
	if (l) {
		dc->stats.cache_hits++;
		return l;
	}
	if (dc->n_entries >= DNSCHECK_MAX_CACHE_ENTRIES)
		cache_evict(dc);
	if (dc->n_entries >= dc->n_buckets)
		cache_grow(dc);
	/* A zone's keys are asked for to check signatures with
	 * (common/dnscheck_sigs): only validated ones will do. */
	l = dnscheck_lookup_new(dc, NULL, qtype, name, qtype == GETDNS_RRTYPE_DNSKEY);
	if (!l)
		return NULL;
	l->done = cache_on_done;
	l->hash = h;
	l->hnext = dc->buckets[h & (dc->n_buckets - 1)];
	dc->buckets[h & (dc->n_buckets - 1)] = l;
	dc->n_entries++;
	if (dnscheck_lookup_start(l) < 0) {
		l->error = DNSCHECK_ERR_INTERNAL;
		l->kind = DNSCHECK_REPLY_ERROR;
		l->complete = true;
		l->done_at_ms = uv_now(dc->loop);
		list_add_tail(&dc->fifo, &l->fifo);
		arm_timer(dc);
	}
	return l;
}

void dnscheck_cache_clear(struct dnscheck *dc)
{
	for (size_t b = 0; b < dc->n_buckets; b++)
		while (dc->buckets[b]) {
			struct dc_lookup *l = dc->buckets[b];
			dc->buckets[b] = l->hnext;
			dnscheck_lookup_free(l);
		}
	free(dc->buckets);
	dc->buckets = NULL;
}
