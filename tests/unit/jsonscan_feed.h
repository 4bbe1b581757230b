/* tests/unit/jsonscan_feed.h: a jsonscan_more_fn for tests (test_jsonscan,
 * fuzz_jsonscan) that hands the text out `piece` bytes at a time, each time
 * from a new copy, the old one poisoned and freed: a reader whose buffer
 * moves as it grows, so a scan that keeps a stale pointer reads garbage. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct jsonscan_feed {
	const char *all;
	size_t all_len, piece;
	char *copy; /* the caller frees it after the scan */
};

static inline bool jsonscan_feed_more(void *ctx, const char **text, size_t *len)
{
	struct jsonscan_feed *f = ctx;

	if (*len >= f->all_len)
		return false;
	size_t n = *len + f->piece < f->all_len ? *len + f->piece : f->all_len;
	char *copy = malloc(n);
	if (!copy)
		abort();
	memcpy(copy, f->all, n);
	if (f->copy) {
		memset(f->copy, 'x', *len);
		free(f->copy);
	}
	f->copy = copy;
	*text = copy;
	*len = n;
	return true;
}
