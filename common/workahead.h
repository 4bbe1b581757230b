/* common/workahead.h: items of a list worked on by threads ahead of one
 * consumer, which takes the results in the list's order.
 *
 * For start-up file work on many small files (100k drop-ins, 100k
 * certificates): with the page cache cold each file is a random read, and
 * one thread has one read in flight at a time; warm, the system calls of
 * reading move off the thread that parses.
 *
 * Promises:
 *   - work(ctx, i, slot) runs exactly once for each i in [0, n), on a worker
 *     thread, into a zeroed slot of slot_size bytes; workahead_next() hands
 *     the slots to its caller in order of i, blocking until the next one is
 *     done, and NULL after the last;
 *   - workers run at most WORKAHEAD_SLOTS items ahead of the caller, so what
 *     waits in memory is bounded at any n; each side sleeps only when the
 *     other is behind;
 *   - release(ctx, slot), if not NULL, runs once on every slot that work()
 *     filled: when the caller asks for the next one, or at workahead_finish()
 *     for the slots never taken;
 *   - workers run with every signal blocked; work() must be safe to run on
 *     several threads at once (ctx is shared);
 *   - workahead_finish() stops the workers (also before the last slot was
 *     taken; items not started then are skipped), joins them and frees all.
 *     No thread of this module outlives it.
 * workahead_start() returns 0, -ENOMEM, or -errno when no thread could start
 * (then nothing is left to free); with fewer threads than asked it runs on
 * those. A slot is the caller's until the next workahead_next() or
 * workahead_finish(). */
#pragma once

#include <stddef.h>

#define WORKAHEAD_SLOTS 1024

struct workahead;

struct workahead_ops {
	size_t slot_size;
	void (*work)(void *ctx, size_t i, void *slot);
	void (*release)(void *ctx, void *slot);
};

int workahead_start(const struct workahead_ops *ops, void *ctx, size_t n, unsigned threads,
		    struct workahead **ret);
void *workahead_next(struct workahead *w);
void workahead_finish(struct workahead *w);
