/* Unit tests for daemon/sched: heap order, cancel/reschedule from callbacks,
 * and a wall-clock jump, with a clock the test controls and a real loop.
 * No assertion depends on how long the loop took: where the scheduler's own
 * 1 ms re-arm is involved, the test waits (with a generous deadline) for the
 * outcome and checks which loop iteration each callback ran in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* The source itself, not only its header: the seq wrap test sets next_seq. */
#include "daemon/sched.c"

struct world {
	int64_t now;
	struct sched *s;
	int order[64];
	size_t n_order;
	struct sched_item items[16];
	int reschedule_self;
	uint64_t iteration;           /* counted by a prepare handle: one per loop iteration */
	uint64_t self_runs_at[8];     /* the iteration of each run of item 0 */
	size_t n_self_runs;
};

static int64_t clock_fn(void *ud)
{
	return ((struct world *)ud)->now;
}

/* The world of the test that runs: items carry no pointer to it. */
static struct world *world;

static void on_item(struct sched_item *it)
{
	struct world *w = world;
	int id = (int)(it - w->items);

	w->order[w->n_order++] = id;
	if (id == 0 && w->n_self_runs < ELEMENTSOF(w->self_runs_at))
		w->self_runs_at[w->n_self_runs++] = w->iteration;
	if (id == 0 && w->reschedule_self-- > 0)
		assert_int_equal(sched_at(w->s, it, w->now), 0); /* due now: runs on the next wake */
	if (id == 1)
		sched_cancel(w->s, &w->items[2]); /* cancel another, due at the same time */
}

static void on_prepare(uv_prepare_t *p)
{
	((struct world *)p->data)->iteration++;
}

static void run_once(uv_loop_t *loop)
{
	/* sched_kick arms a 0 ms timer: one non-blocking iteration runs it. */
	uv_run(loop, UV_RUN_NOWAIT);
}

/* A loop, its scheduler on w's clock, and w's first 8 items calling on_item. */
static void world_open(uv_loop_t *loop, struct world *w)
{
	world = w;
	assert_int_equal(uv_loop_init(loop), 0);
	assert_int_equal(sched_new(loop, clock_fn, w, &w->s), 0);
	for (int i = 0; i < 8; i++)
		sched_item_init(&w->items[i], on_item);
}

static void world_close(uv_loop_t *loop, struct world *w)
{
	sched_free(w->s);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

/* Runs the loop, an iteration at a time, until it is no longer scheduled (10 s at most).
 * NOWAIT, not ONCE: once the last run stops the scheduler's timer, a blocking iteration
 * would wait forever on a prepare handle. */
static void run_while_pending(uv_loop_t *loop, struct world *w, const struct sched_item *it)
{
	uint64_t deadline_ns = uv_hrtime() + 10 * 1000000000ULL;

	while (sched_item_pending(it) && uv_hrtime() < deadline_ns) {
		w->iteration++;
		uv_run(loop, UV_RUN_NOWAIT);
	}
}

static void test_order_and_cancel(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct world w = { .now = 1000 };

	world_open(&loop, &w);
	/* due times out of order; 1 and 2 tie and run in scheduling order */
	int64_t due[] = { 1005, 1001, 1001, 1003, 999, 2000, 1002, 1004 };
	for (int i = 0; i < 8; i++)
		assert_int_equal(sched_at(w.s, &w.items[i], due[i]), 0);
	assert_int_equal(sched_count(w.s), 8);
	assert_int_equal(sched_next_due(w.s), 999);

	run_once(&loop);
	assert_int_equal(w.n_order, 1);
	assert_int_equal(w.order[0], 4);

	/* A jump of the wall clock to 1004: everything due runs once, in order. */
	w.now = 1004;
	sched_kick(w.s);
	run_once(&loop);
	assert_int_equal(w.n_order, 5);
	assert_int_equal(w.order[1], 1);
	assert_int_equal(w.order[2], 6); /* 2 was cancelled by 1's callback */
	assert_int_equal(w.order[3], 3);
	assert_int_equal(w.order[4], 7);
	assert_false(sched_item_pending(&w.items[2]));

	/* Rescheduling pushes an item back; cancel removes it. */
	assert_int_equal(sched_at(w.s, &w.items[0], 3000), 0);
	sched_cancel(w.s, &w.items[5]);
	assert_int_equal(sched_count(w.s), 1);
	assert_int_equal(sched_next_due(w.s), 3000);

	/* An item that reschedules itself for "now" runs once per wake, not in
	 * a tight loop: each run is in a loop iteration of its own (counted by
	 * a prepare handle and by each uv_run() call), and it runs again
	 * without anything else happening. How many runs fit in one uv_run()
	 * depends on the machine's speed and the libuv version, so the test
	 * waits for all four (three reschedules) and checks the iterations,
	 * not the time taken. */
	uv_prepare_t prepare;
	assert_int_equal(uv_prepare_init(&loop, &prepare), 0);
	prepare.data = &w;
	assert_int_equal(uv_prepare_start(&prepare, on_prepare), 0);
	w.reschedule_self = 3;
	w.now = 3000;
	sched_kick(w.s);
	run_while_pending(&loop, &w, &w.items[0]);
	assert_false(sched_item_pending(&w.items[0]));
	assert_int_equal(w.n_self_runs, 4);
	assert_int_equal(w.n_order, 9);
	for (size_t i = 1; i < w.n_self_runs; i++)
		assert_true(w.self_runs_at[i] > w.self_runs_at[i - 1]);
	uv_close((uv_handle_t *)&prepare, NULL);

	world_close(&loop, &w);
}

static void test_many(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct world w = { .now = 0 };
	enum { N = 5000 };
	static struct sched_item items[N];
	static int64_t seen[N];
	static size_t n_seen;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(sched_new(&loop, clock_fn, &w, &w.s), 0);
	for (int i = 0; i < N; i++) {
		sched_item_init(&items[i], NULL);
		assert_int_equal(sched_at(w.s, &items[i], (i * 7919) % 10007), 0);
	}
	for (int i = 0; i < N; i += 3)
		sched_cancel(w.s, &items[i]);
	/* Drain by popping in order through the public interface. */
	n_seen = 0;
	while (sched_count(w.s) > 0) {
		int64_t d = sched_next_due(w.s);
		for (int i = 0; i < N; i++)
			if (sched_item_pending(&items[i]) && items[i].due == d) {
				seen[n_seen++] = d;
				sched_cancel(w.s, &items[i]);
				break;
			}
	}
	for (size_t i = 1; i < n_seen; i++)
		assert_true(seen[i - 1] <= seen[i]);
	assert_int_equal(n_seen, N - (N + 2) / 3);
	world_close(&loop, &w);
}

/* seq wraps at 2^32: ties still run in scheduling order across the wrap, an item
 * rescheduled for "now" across it still waits for the next wake, and an item whose seq
 * is more than 2^31 older than the rest (a renewal scheduled months ago) still runs. */
static void test_seq_wrap(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct world w = { .now = 1000 };

	world_open(&loop, &w);
	w.s->next_seq = UINT32_MAX - 1;
	/* 3, 4, 5 tie at 1001 and take seqs UINT32_MAX - 1, UINT32_MAX, 0 */
	for (int i = 3; i <= 5; i++)
		assert_int_equal(sched_at(w.s, &w.items[i], 1001), 0);
	assert_int_equal(w.items[5].seq, 0);
	/* 6 is due first, its seq from long ago */
	assert_int_equal(sched_at(w.s, &w.items[6], 1000), 0);
	w.items[6].seq = w.s->next_seq + (1u << 31) + 5;
	w.now = 1001;
	sched_kick(w.s);
	run_once(&loop);
	assert_int_equal(w.n_order, 4);
	assert_int_equal(w.order[0], 6);
	assert_int_equal(w.order[1], 3);
	assert_int_equal(w.order[2], 4);
	assert_int_equal(w.order[3], 5);

	/* Item 0 reschedules itself for now twice, its seqs across the wrap. */
	w.s->next_seq = UINT32_MAX;
	w.reschedule_self = 2;
	w.n_self_runs = 0;
	assert_int_equal(sched_at(w.s, &w.items[0], 1001), 0);
	run_while_pending(&loop, &w, &w.items[0]);
	assert_int_equal(w.n_self_runs, 3);
	for (size_t i = 1; i < w.n_self_runs; i++)
		assert_true(w.self_runs_at[i] > w.self_runs_at[i - 1]);

	world_close(&loop, &w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_cancel),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_seq_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
