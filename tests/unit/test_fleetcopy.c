/* Unit tests for daemon/fleetcopy's choice between two versions of a cert: the later
 * notAfter wins; on a tie (two renewals within one second) the stored one does, so every
 * host converges on the database's version and none moves to an earlier notAfter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/fleetcopy.h"

static void test_stored_wins(void **state)
{
	(void)state;
	/* Nothing here yet: anything stored wins; nothing stored never does. */
	assert_true(fleetcopy_stored_wins("0a", 100, NULL, 0));
	assert_false(fleetcopy_stored_wins(NULL, 100, NULL, 0));
	assert_false(fleetcopy_stored_wins("", 100, "0a", 50));
	/* The same version: nothing to do. */
	assert_false(fleetcopy_stored_wins("0a", 100, "0a", 100));
	/* Later, and a tie: the stored one; earlier: never. */
	assert_true(fleetcopy_stored_wins("0b", 200, "0a", 100));
	assert_true(fleetcopy_stored_wins("0b", 100, "0a", 100));
	assert_false(fleetcopy_stored_wins("0b", 99, "0a", 100));
}

static void test_local_wins(void **state)
{
	(void)state;
	assert_true(fleetcopy_local_wins("0a", 100, NULL, 0));
	assert_false(fleetcopy_local_wins(NULL, 0, "0a", 100));
	assert_false(fleetcopy_local_wins("0a", 100, "0a", 100));
	assert_true(fleetcopy_local_wins("0b", 200, "0a", 100));
	/* A tie is the database's: the host that has the other one installs the stored one. */
	assert_false(fleetcopy_local_wins("0b", 100, "0a", 100));
	assert_false(fleetcopy_local_wins("0b", 99, "0a", 100));
	/* Never both: the two sides agree on every pair. */
	const char *serials[] = { "0a", "0b" };
	const int64_t times[] = { 99, 100, 101 };
	for (size_t a = 0; a < 2; a++)
		for (size_t b = 0; b < 2; b++)
			for (size_t i = 0; i < 3; i++)
				for (size_t k = 0; k < 3; k++)
					assert_false(fleetcopy_stored_wins(serials[a], times[i],
									   serials[b], times[k]) &&
						     fleetcopy_local_wins(serials[b], times[k],
									  serials[a], times[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stored_wins),
		cmocka_unit_test(test_local_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
