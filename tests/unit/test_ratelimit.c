/* Unit tests for daemon/ratelimit: one line per interval, the held-back
 * ones counted in the next line that passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/ratelimit.h"

static void test_one_line_per_interval(void **state)
{
	(void)state;
	struct ratelimit rl = { 0 };
	char more[64] = "junk";

	/* A zeroed limiter lets the first message through, with no suffix. */
	assert_true(ratelimit_pass(&rl, 5000, more, sizeof(more)));
	assert_string_equal(more, "");
	/* Within the interval: held back and counted. */
	assert_false(ratelimit_pass(&rl, 5000, more, sizeof(more)));
	assert_false(ratelimit_pass(&rl, 5000 + RATELIMIT_INTERVAL_MS - 1, more, sizeof(more)));
	/* The next one that passes says how many were held back. */
	assert_true(ratelimit_pass(&rl, 5000 + RATELIMIT_INTERVAL_MS, more, sizeof(more)));
	assert_string_equal(more, " (2 more since the last message)");
	/* And the count starts again. */
	assert_true(ratelimit_pass(&rl, 5000 + 3 * RATELIMIT_INTERVAL_MS, more, sizeof(more)));
	assert_string_equal(more, "");
}

static void test_small_suffix_buffer(void **state)
{
	(void)state;
	struct ratelimit rl = { 0 };
	char more[8];

	assert_true(ratelimit_pass(&rl, 0, more, sizeof(more)));
	assert_false(ratelimit_pass(&rl, 1, more, sizeof(more)));
	assert_true(ratelimit_pass(&rl, RATELIMIT_INTERVAL_MS, more, sizeof(more)));
	assert_string_equal(more, " (1 mor"); /* truncated, terminated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line_per_interval),
		cmocka_unit_test(test_small_suffix_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
