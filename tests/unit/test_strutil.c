/* Unit tests for common/strutil. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/strutil.h"

static void test_escape_and_join(void **state)
{
	(void)state;
	char buf[32];
	const char *parts[] = { "a", "", "ccc" };
	char *j;

	str_escape_line(buf, sizeof(buf), "ok\n\x01\xff", 5, 100);
	assert_string_equal(buf, "ok\\x0a\\x01\\xff");
	str_escape_line(buf, sizeof(buf), "abcdefghij", 10, 4);
	assert_string_equal(buf, "abcd...");
	/* Never overruns a small buffer, always terminates. */
	str_escape_line(buf, 8, "\x01\x02\x03\x04", 4, 100);
	assert_true(strlen(buf) < 8);
	str_printf(buf, 6, "%s", "truncated text");
	assert_string_equal(buf, "trunc");

	j = str_join(parts, 3, ", ");
	assert_string_equal(j, "a, , ccc");
	free(j);
	j = str_join(parts, 0, ", ");
	assert_string_equal(j, "");
	free(j);
	assert_true(str_has_prefix("mailto:x", "mailto:"));
	assert_false(str_has_prefix("mail", "mailto:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_and_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
