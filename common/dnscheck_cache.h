/* common/dnscheck_cache.h: the DNS checker's memoised lookups (internal to
 * common/dnscheck*.c). CAA, NS and address lookups on the resolvers are
 * shared by every job that needs them, and reused for DNSCHECK_CACHE_MS.
 *
 * Owns: every lookup in the hash table (dc->buckets, chained through
 * hnext) and the fifo of complete ones (dc->fifo, oldest first). At most
 * DNSCHECK_MAX_CACHE_ENTRIES; the oldest complete ones go first, and a
 * lookup still running is never evicted.
 *
 * Promises: a waiter added to an incomplete lookup's waiters has its fn
 * called exactly once, from the loop, when the lookup ends; the lookup is
 * valid during that call only (a waiter may start lookups that evict
 * others). Counts hits in dc->stats.cache_hits. */
#pragma once

#include "common/dnscheck_internal.h"

#include <stdint.h>

/* The memoised lookup for (qtype, name) on the resolvers; started if new.
 * Check ->complete on return: it may be done already (then it is valid
 * until the next call here). NULL on out of memory. */
struct dc_lookup *dnscheck_cache_get(struct dnscheck *dc, uint16_t qtype, const char *name);

/* Frees every lookup in the cache, finished or not: for teardown, once no
 * attempt refers to them any more. */
void dnscheck_cache_clear(struct dnscheck *dc);
/* The timer that frees lookups once DNSCHECK_CACHE_MS old, even when no new lookup
 * comes to evict them (after a round of 100k names, tens of MB). Unreferenced: it never
 * keeps a loop alive. The caller closes it. */
void dnscheck_cache_init_timer(struct dnscheck *dc);
