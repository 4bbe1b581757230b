/* Unit tests for common/strutil. */
#include <errno.h>
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

static void test_hex(void **state)
{
	(void)state;
	const uint8_t bytes[] = { 0x00, 0x0a, 0xff, 0x10 };
	uint8_t out[4];
	char hex[9];

	str_hex_encode(bytes, 4, hex);
	assert_string_equal(hex, "000aff10");
	str_hex_encode(bytes, 0, hex);
	assert_string_equal(hex, "");
	assert_int_equal(str_hex_decode("000AfF10", out, sizeof(out)), 4);
	assert_memory_equal(out, bytes, 4);
	assert_int_equal(str_hex_decode("0a", out, 1), 1);
	assert_int_equal(out[0], 0x0a);
	const char *bad[] = { "", "0", "0a0", "0g", " 0a", "0a0b0c0d0e" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(str_hex_decode(bad[i], out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_and_join),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
