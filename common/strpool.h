/* common/strpool.h: one shared copy of strings that many owners hold the same.
 *
 * What 100k checked names need: each keeps its check's status, reason, record text,
 * DNSSEC outcome and level reason, and for the names of one account most of those are
 * the same words ("VALID", the record that names the account). Held here, equal strings
 * are one allocation with a count of holders, not one copy per name.
 *
 * Owns: the copies and a table of them (common/strmap). Promises: strpool_hold() of
 * equal strings returns the same pointer until the last strpool_drop() of it; a copy
 * is never written; a zeroed struct strpool is an empty pool. Pure, and not for use
 * from two threads. Errors: NULL from strpool_hold() is out of memory. */
#pragma once

#include <stddef.h>

#include "common/strmap.h"

struct strpool {
	struct strmap map; /* the copies' texts, each its own key */
};

/* s's shared copy, with one more holder; NULL when out of memory. */
const char *strpool_hold(struct strpool *p, const char *s);
/* One holder fewer of held, a pointer strpool_hold() returned; NULL is a no-op. */
void strpool_drop(struct strpool *p, const char *held);
size_t strpool_size(const struct strpool *p);
/* Frees every copy, however many hold it: the pool and its holders are done. */
void strpool_done(struct strpool *p);
