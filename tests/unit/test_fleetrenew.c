/* Unit tests for daemon/fleetrenew's merge of the renewal state a fleet's issuers stored
 * into a host's own: order times are a union (each newOrder counted once, the newest
 * STATE_MAX_ORDER_TIMES kept), the CA's Retry-After the later one, and a later attempt
 * elsewhere brings its failures, backoff and error, said as that issuer's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/fleetrenew.h"
#include "daemon/state.h"

static struct state_cert *fresh(struct state **s)
{
	*s = state_new();
	assert_non_null(*s);
	struct state_cert *st = state_get_cert(*s, "www", true);
	assert_non_null(st);
	return st;
}

static void set_times(struct state_cert *st, const int64_t *t, size_t n)
{
	struct state_cert_orders *o = state_cert_orders_mut(st);
	assert_non_null(o);
	free(o->order_times);
	o->order_times = malloc(n * sizeof(*t));
	assert_non_null(o->order_times);
	memcpy(o->order_times, t, n * sizeof(*t));
	o->n_order_times = n;
}

static void test_order_times_union(void **state)
{
	struct state *s;
	struct state_cert *st = fresh(&s);
	int64_t mine[] = { 10, 20 }, theirs[] = { 30, 20 };
	struct fleet_renewal ren = { .order_times = theirs, .n_order_times = 2 };
	(void)state;

	set_times(st, mine, 2);
	assert_false(fleetrenew_merge(st, &ren, "b"));
	assert_int_equal(state_cert_orders(st)->n_order_times, 3);
	assert_int_equal(state_cert_orders(st)->order_times[0], 10);
	assert_int_equal(state_cert_orders(st)->order_times[1], 20);
	assert_int_equal(state_cert_orders(st)->order_times[2], 30);
	/* Again: nothing new, nothing counted twice. */
	assert_false(fleetrenew_merge(st, &ren, "b"));
	assert_int_equal(state_cert_orders(st)->n_order_times, 3);
	state_free(s);

	/* Two orders within one second (one of them this host's) stay two. */
	st = fresh(&s);
	int64_t one[] = { 5 }, two[] = { 5, 5 };
	struct fleet_renewal both = { .order_times = two, .n_order_times = 2 };
	set_times(st, one, 1);
	fleetrenew_merge(st, &both, "b");
	assert_int_equal(state_cert_orders(st)->n_order_times, 2);
	assert_int_equal(state_cert_orders(st)->order_times[0], 5);
	assert_int_equal(state_cert_orders(st)->order_times[1], 5);
	state_free(s);
}

static void test_order_times_keep_the_newest(void **state)
{
	struct state *s;
	struct state_cert *st = fresh(&s);
	int64_t mine[STATE_MAX_ORDER_TIMES], theirs[] = { 1000 };
	struct fleet_renewal ren = { .order_times = theirs, .n_order_times = 1 };
	(void)state;

	for (size_t i = 0; i < STATE_MAX_ORDER_TIMES; i++)
		mine[i] = (int64_t)i + 1;
	set_times(st, mine, STATE_MAX_ORDER_TIMES);
	fleetrenew_merge(st, &ren, "b");
	assert_int_equal(state_cert_orders(st)->n_order_times, STATE_MAX_ORDER_TIMES);
	assert_int_equal(state_cert_orders(st)->order_times[0], 2);
	assert_int_equal(state_cert_orders(st)->order_times[STATE_MAX_ORDER_TIMES - 1], 1000);
	state_free(s);
}

static void test_later_failure_elsewhere_holds(void **state)
{
	struct state *s;
	struct state_cert *st = fresh(&s);
	struct fleet_renewal ren = { .failures = 2, .attempt_at = 500, .retry_at = 800,
				     .ca_retry_until = 700, .last_error = "boom",
				     .attempt_by = "a" };
	(void)state;

	st->last_attempt = 400;
	assert_true(fleetrenew_merge(st, &ren, "b"));
	assert_int_equal(st->failures, 2);
	assert_int_equal(st->retry_at, 800);
	assert_int_equal(st->ca_retry_until, 700);
	assert_int_equal(st->last_attempt, 500);
	assert_string_equal(st->last_error, "issuer 'a': boom");
	/* Read again under the next lock: already taken, no new wait. */
	assert_false(fleetrenew_merge(st, &ren, "b"));
	assert_int_equal(st->failures, 2);
	state_free(s);
}

static void test_own_failure_is_said_plainly(void **state)
{
	struct state *s;
	struct state_cert *st = fresh(&s);
	struct fleet_renewal ren = { .failures = 1, .attempt_at = 500, .retry_at = 800,
				     .last_error = "boom", .attempt_by = "b" };
	(void)state;

	assert_true(fleetrenew_merge(st, &ren, "b"));
	assert_string_equal(st->last_error, "boom");
	state_free(s);
}

static void test_older_attempt_changes_nothing(void **state)
{
	struct state *s;
	struct state_cert *st = fresh(&s);
	struct fleet_renewal ren = { .failures = 5, .attempt_at = 300, .retry_at = 9000,
				     .ca_retry_until = 50, .last_error = "old", .attempt_by = "a" };
	(void)state;

	st->last_attempt = 400;
	st->failures = 1;
	st->retry_at = 700;
	st->ca_retry_until = 100;
	assert_false(fleetrenew_merge(st, &ren, "b"));
	assert_int_equal(st->failures, 1);
	assert_int_equal(st->retry_at, 700);
	assert_int_equal(st->ca_retry_until, 100);
	assert_null(st->last_error);
	state_free(s);
}

static void test_later_success_elsewhere_resets(void **state)
{
	struct state *s;
	struct state_cert *st = fresh(&s);
	struct fleet_renewal ren = { .failures = 0, .attempt_at = 500, .attempt_by = "a" };
	(void)state;

	st->last_attempt = 400;
	st->failures = 3;
	st->retry_at = 9000;
	assert_int_equal(state_set_str(&st->last_error, "mine"), 0);
	assert_false(fleetrenew_merge(st, &ren, "b"));
	assert_int_equal(st->failures, 0);
	assert_int_equal(st->retry_at, 0);
	assert_null(st->last_error);
	state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_times_union),
		cmocka_unit_test(test_order_times_keep_the_newest),
		cmocka_unit_test(test_later_failure_elsewhere_holds),
		cmocka_unit_test(test_own_failure_is_said_plainly),
		cmocka_unit_test(test_older_attempt_changes_nothing),
		cmocka_unit_test(test_later_success_elsewhere_resets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
