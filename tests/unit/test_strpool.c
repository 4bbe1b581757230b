/* Unit tests for common/strpool: equal strings share one copy, counted, and the copy
 * goes with its last holder. ASan fails these tests on a copy freed early or leaked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/strpool.h"

static void test_equal_strings_share_a_copy(void **state)
{
	(void)state;
	struct strpool p = { 0 };
	char a[] = "VALID", b[] = "VALID";

	const char *x = strpool_hold(&p, a);
	const char *y = strpool_hold(&p, b);
	assert_non_null(x);
	assert_ptr_equal(x, y);
	assert_ptr_not_equal(x, a); /* a copy, not the caller's buffer */
	a[0] = 'X';
	assert_string_equal(x, "VALID");
	assert_int_equal(strpool_size(&p), 1);

	const char *z = strpool_hold(&p, "secure");
	assert_ptr_not_equal(x, z);
	assert_int_equal(strpool_size(&p), 2);

	/* Two holders: the first drop keeps the copy, the second frees it. */
	strpool_drop(&p, x);
	assert_int_equal(strpool_size(&p), 2);
	assert_string_equal(y, "VALID");
	strpool_drop(&p, y);
	assert_int_equal(strpool_size(&p), 1);
	strpool_drop(&p, NULL);
	strpool_drop(&p, z);
	assert_int_equal(strpool_size(&p), 0);
	strpool_done(&p);
}

static void test_many_and_done(void **state)
{
	(void)state;
	struct strpool p = { 0 };
	char s[32];

	/* 1000 distinct strings, each held three times; then done frees them all. */
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 1000; i++) {
			snprintf(s, sizeof(s), "reason %d", i);
			assert_non_null(strpool_hold(&p, s));
		}
	assert_int_equal(strpool_size(&p), 1000);
	snprintf(s, sizeof(s), "reason %d", 7);
	const char *held = strpool_hold(&p, s);
	for (int i = 0; i < 4; i++)
		strpool_drop(&p, held);
	assert_int_equal(strpool_size(&p), 999);
	strpool_done(&p);
	assert_int_equal(strpool_size(&p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_strings_share_a_copy),
		cmocka_unit_test(test_many_and_done),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
