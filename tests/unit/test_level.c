/* Unit tests for common/level: the words, the order, the exit codes, and the
 * numeric values that the metrics export. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/level.h"
#include "common/macro.h"

static void test_values(void **state)
{
	(void)state;
	/* persistd_cert_level and persistd_name_level export these numbers
	 * (docs/web.md); changing them breaks dashboards and alert rules. */
	assert_int_equal(LEVEL_OK, 0);
	assert_int_equal(LEVEL_WARNING, 1);
	assert_int_equal(LEVEL_CRITICAL, 2);
	assert_int_equal(LEVEL_ERROR, 3);
	assert_int_equal(LEVEL_UNKNOWN, 4);
}

static void test_strings(void **state)
{
	(void)state;
	static const struct {
		enum level l;
		const char *upper, *lower;
	} words[] = {
		{ LEVEL_OK, "OK", "ok" },
		{ LEVEL_WARNING, "WARNING", "warning" },
		{ LEVEL_CRITICAL, "CRITICAL", "critical" },
		{ LEVEL_ERROR, "ERROR", "error" },
		{ LEVEL_UNKNOWN, "UNKNOWN", "unknown" },
	};

	assert_int_equal(ELEMENTSOF(words), _LEVEL_MAX);
	for (size_t i = 0; i < ELEMENTSOF(words); i++) {
		assert_string_equal(level_to_string(words[i].l), words[i].upper);
		assert_string_equal(level_to_lower_string(words[i].l), words[i].lower);
		assert_int_equal(level_from_string(words[i].upper), (int)words[i].l);
		/* state.json and the API are upper case: nothing else is a level */
		assert_int_equal(level_from_string(words[i].lower), -EINVAL);
	}
	assert_string_equal(level_to_string(_LEVEL_MAX), "UNKNOWN");
	assert_string_equal(level_to_string((enum level)-1), "UNKNOWN");
	assert_string_equal(level_to_lower_string(_LEVEL_MAX), "unknown");
	assert_int_equal(level_from_string(NULL), -EINVAL);
	assert_int_equal(level_from_string(""), -EINVAL);
	assert_int_equal(level_from_string("OK "), -EINVAL);
	assert_int_equal(level_from_string("EXPIRED"), -EINVAL);
}

static void test_merge(void **state)
{
	(void)state;
	/* worst first: ERROR > CRITICAL > UNKNOWN > WARNING > OK */
	static const enum level order[] = { LEVEL_OK, LEVEL_WARNING, LEVEL_UNKNOWN,
					    LEVEL_CRITICAL, LEVEL_ERROR };

	assert_int_equal(ELEMENTSOF(order), _LEVEL_MAX);
	for (size_t i = 0; i < ELEMENTSOF(order); i++)
		for (size_t k = 0; k < ELEMENTSOF(order); k++) {
			enum level want = order[i > k ? i : k];
			assert_int_equal(level_merge(order[i], order[k]), want);
		}
	/* a value out of range is never hidden behind a better level */
	assert_int_equal(level_merge(LEVEL_OK, _LEVEL_MAX), LEVEL_UNKNOWN);
	assert_int_equal(level_merge(_LEVEL_MAX, LEVEL_WARNING), LEVEL_UNKNOWN);
	assert_int_equal(level_merge(LEVEL_CRITICAL, _LEVEL_MAX), LEVEL_CRITICAL);
	/* among the daemon's levels the numeric order is the severity order,
	 * which daemon/cert.c relies on when it takes MAX() of two levels */
	for (int a = LEVEL_OK; a <= LEVEL_ERROR; a++)
		for (int b = LEVEL_OK; b <= LEVEL_ERROR; b++)
			assert_int_equal(level_merge(a, b), MAX(a, b));
}

static void test_exit_code(void **state)
{
	(void)state;
	assert_int_equal(level_exit_code(LEVEL_OK), 0);
	assert_int_equal(level_exit_code(LEVEL_WARNING), 1);
	assert_int_equal(level_exit_code(LEVEL_CRITICAL), 2);
	assert_int_equal(level_exit_code(LEVEL_ERROR), 2);
	assert_int_equal(level_exit_code(LEVEL_UNKNOWN), 3);
	assert_int_equal(level_exit_code(_LEVEL_MAX), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_exit_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
