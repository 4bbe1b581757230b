/* tests/unit/jsonscan_feed.h: a jsonscan_more_fn for tests (test_jsonscan,
 * fuzz_jsonscan) that hands the text out `piece` bytes at a time, each time
 * from a new copy, the old one poisoned and freed: a reader whose buffer
 * moves as it grows, so a scan that keeps a stale pointer reads garbage.
 * With drop, it also drops every byte the scan says it no longer needs, so
 * a scan that reads one of those again reads garbage too. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct jsonscan_feed {
	const char *all;
	size_t all_len, piece;
	bool drop;
	size_t from; /* of all: where the text handed out begins */
	char *copy;  /* the caller frees it after the scan */
};

static inline bool jsonscan_feed_more(void *ctx, size_t keep, const char **text, size_t *len,
				      size_t *dropped)
{
	struct jsonscan_feed *f = ctx;
	size_t end = f->from + *len; /* of all, handed out so far */

	if (end >= f->all_len)
		return false;
	*dropped = f->drop ? keep : 0;
	f->from += *dropped;
	end = end + f->piece < f->all_len ? end + f->piece : f->all_len;
	size_t n = end - f->from;
	char *copy = malloc(n ? n : 1);
	if (!copy)
		abort();
	memcpy(copy, f->all + f->from, n);
	if (f->copy) {
		memset(f->copy, 'x', *len);
		free(f->copy);
	}
	f->copy = copy;
	*text = copy;
	*len = n;
	return true;
}
