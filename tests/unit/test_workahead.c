/* Unit tests for common/workahead: every item worked exactly once and handed
 * over in order, on one worker or many, past the ring's length; every filled
 * slot released exactly once, also when the run is stopped early; no hang
 * (alarm) when either side has to wait for the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/workahead.h"

#define N (WORKAHEAD_SLOTS * 3 + 7)

struct item {
	size_t i;
	uint64_t square;
	char *text; /* owned: release() frees it */
};

struct counts {
	atomic_uint worked[N];
	atomic_uint released;
	atomic_uint filled;
	atomic_uint unzeroed; /* slots handed to work() not zeroed */
	unsigned slow_every; /* 0: none; else item i % slow_every == 0 sleeps a little */
};

static void work(void *ctx, size_t i, void *slot)
{
	struct counts *c = ctx;
	struct item *it = slot;

	/* No cmocka assertion here: its longjmp() is for the test's own thread. */
	if (it->i != 0 || it->square != 0 || it->text)
		atomic_fetch_add(&c->unzeroed, 1);
	if (c->slow_every && i % c->slow_every == 0)
		usleep(200);
	it->i = i;
	it->square = (uint64_t)i * i;
	it->text = malloc(16);
	if (!it->text)
		abort();
	snprintf(it->text, 16, "%zu", i);
	atomic_fetch_add(&c->worked[i], 1);
	atomic_fetch_add(&c->filled, 1);
}

static void release(void *ctx, void *slot)
{
	struct counts *c = ctx;
	struct item *it = slot;

	free(it->text);
	it->text = NULL;
	atomic_fetch_add(&c->released, 1);
}

static const struct workahead_ops ops = { sizeof(struct item), work, release };

static void test_in_order(void **state)
{
	(void)state;
	const unsigned threads[] = { 1, 4, 16 };
	const unsigned slow[] = { 0, 97 };

	alarm(60);
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		for (size_t s = 0; s < sizeof(slow) / sizeof(slow[0]); s++) {
			struct counts *c = calloc(1, sizeof(*c));
			struct workahead *w = NULL;
			char want[16];

			c->slow_every = slow[s];
			assert_int_equal(workahead_start(&ops, c, N, threads[t], &w), 0);
			for (size_t i = 0; i < N; i++) {
				struct item *it = workahead_next(w);
				assert_non_null(it);
				assert_int_equal(it->i, i);
				assert_int_equal(it->square, (uint64_t)i * i);
				snprintf(want, sizeof(want), "%zu", i);
				assert_string_equal(it->text, want);
			}
			assert_null(workahead_next(w));
			workahead_finish(w);
			for (size_t i = 0; i < N; i++)
				assert_int_equal(atomic_load(&c->worked[i]), 1);
			assert_int_equal(atomic_load(&c->released), N);
			assert_int_equal(atomic_load(&c->unzeroed), 0);
			free(c);
		}
	}
	alarm(0);
}

static void test_stopped_early(void **state)
{
	(void)state;
	struct counts *c = calloc(1, sizeof(*c));
	struct workahead *w = NULL;

	alarm(60);
	/* Some taken, then the workers wait for room; finish must end them. */
	assert_int_equal(workahead_start(&ops, c, N, 4, &w), 0);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(((struct item *)workahead_next(w))->i, i);
	usleep(100 * 1000);
	workahead_finish(w);
	for (size_t i = 0; i < N; i++)
		assert_true(atomic_load(&c->worked[i]) <= 1);
	assert_int_equal(atomic_load(&c->released), atomic_load(&c->filled));
	assert_true(atomic_load(&c->filled) <= 10 + WORKAHEAD_SLOTS);

	/* None taken at all, and nothing to do. */
	memset(c, 0, sizeof(*c));
	assert_int_equal(workahead_start(&ops, c, N, 4, &w), 0);
	workahead_finish(w);
	assert_int_equal(atomic_load(&c->released), atomic_load(&c->filled));
	assert_int_equal(workahead_start(&ops, c, 0, 4, &w), 0);
	assert_null(workahead_next(w));
	workahead_finish(w);
	alarm(0);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_stopped_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
