/* Unit tests for daemon/acme/pollwait: the doubling wait, the cap, the CA's
 * Retry-After, the total bound and a reset. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/acme/dns01.h"
#include "daemon/acme/pollwait.h"

static void test_doubling_and_cap(void **state)
{
	struct pollwait p = { 0 };
	uint64_t ms, want = POLLWAIT_FIRST_MS;

	(void)state;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(pollwait_next(&p, -1, &ms), 0);
		assert_int_equal(ms, want);
		want = want * 2 > POLLWAIT_CAP_MS ? POLLWAIT_CAP_MS : want * 2;
	}
	assert_int_equal(ms, POLLWAIT_CAP_MS);
}

/* The schedule itself, written out: a renewal against a quick CA is not held
 * half a second per poll (issue 12), and a slow one is not asked more than
 * every 15 s. */
static void test_schedule(void **state)
{
	static const uint64_t want[] = { 100, 200, 400, 800, 1600, 3200, 6400, 12800, 15000, 15000 };
	struct pollwait p = { 0 };
	uint64_t ms, total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(pollwait_next(&p, -1, &ms), 0);
		assert_int_equal(ms, want[i]);
		total += ms;
	}
	assert_int_equal(p.waited_ms, total);
	/* Retry-After: 0 is no answer: the schedule goes on. */
	pollwait_reset(&p);
	assert_int_equal(pollwait_next(&p, 0, &ms), 0);
	assert_int_equal(ms, 100);
}

/* dns-01's wait for its record: 250 ms doubling to 10 s (it was 1 s first),
 * bounded by the propagation timeout, which the last wait may not overrun. */
static void test_dns01_schedule(void **state)
{
	static const uint64_t want[] = { 250, 500, 1000, 2000, 4000, 8000, 10000, 10000 };
	struct pollwait p = { 0 };
	uint64_t ms, total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(pollwait_next_in(&p, DNS01_POLL_FIRST_MS, DNS01_POLL_CAP_MS,
						  60000, -1, &ms), 0);
		assert_int_equal(ms, want[i]);
		total += ms;
	}
	assert_int_equal(total, 35750);
	/* 35.75 s waited, 10 s more would pass 40 s: timed out, nothing counted. */
	pollwait_reset(&p);
	for (total = 0; pollwait_next_in(&p, DNS01_POLL_FIRST_MS, DNS01_POLL_CAP_MS, 40000, -1,
					  &ms) == 0;)
		total += ms;
	assert_int_equal(total, 35750);
	assert_int_equal(p.waited_ms, 35750);
}

static void test_retry_after(void **state)
{
	struct pollwait p = { 0 };
	uint64_t ms;

	(void)state;
	assert_int_equal(pollwait_next(&p, 7, &ms), 0);
	assert_int_equal(ms, 7000);
	/* A CA asking for an hour is asked again within a minute. */
	assert_int_equal(pollwait_next(&p, 3600, &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(p.waited_ms, 67000);
}

static void test_total_bound_and_reset(void **state)
{
	struct pollwait p = { 0 };
	uint64_t ms = 0, total = 0;
	int r, n = 0;

	(void)state;
	while ((r = pollwait_next(&p, -1, &ms)) == 0) {
		total += ms;
		assert_true(++n < 1000);
	}
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(total <= POLLWAIT_MAX_MS);
	assert_true(total + POLLWAIT_CAP_MS > POLLWAIT_MAX_MS);
	assert_int_equal(p.waited_ms, total);
	pollwait_reset(&p);
	assert_int_equal(pollwait_next(&p, -1, &ms), 0);
	assert_int_equal(ms, POLLWAIT_FIRST_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_and_cap),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_dns01_schedule),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_total_bound_and_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
