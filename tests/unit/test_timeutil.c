/* Unit tests for common/timeutil: durations, dates, days left, expiry levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "common/macro.h"
#include "common/timeutil.h"

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{ "6h", 6 * 3600000ULL },   { "30d", 30 * 86400000ULL }, { "90", 90000 },
		{ "1d12h", 129600000ULL }, { "1d 12h", 129600000ULL }, { "2w", 14 * 86400000ULL },
		{ "500ms", 500 },	    { "15m", 900000 },	       { "0", 0 },
		{ " 5s", 5000 },
	};
	static const char *bad[] = { "", "h", "6x", "1d5", "-1d", "1.5h", "6 h", "d6",
				     "99999999999999999999d" };
	uint64_t ms;

	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		assert_int_equal(time_parse_duration_ms(ok[i].s, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		if (time_parse_duration_ms(bad[i], &ms) >= 0)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(time_parse_duration_ms("999999999999999w", &ms), -ERANGE);

	char buf[32];
	time_format_duration(129600000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "1d 12h");
	time_format_duration(86400000ULL + 5000, buf, sizeof(buf));
	assert_string_equal(buf, "1d");
	time_format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
	time_format_duration(90000, buf, sizeof(buf));
	assert_string_equal(buf, "1m 30s");
}

static void test_dates(void **state)
{
	(void)state;
	int64_t t;
	char buf[40];

	assert_int_equal(time_parse_date("2027-06-01", &t), 0);
	assert_int_equal(t, 1811808000);
	assert_int_equal(time_parse_date("2027-06-01T12:30:05Z", &t), 0);
	assert_int_equal(t, 1811808000 + 12 * 3600 + 30 * 60 + 5);
	assert_int_equal(time_parse_date("2027-06-01 12:30", &t), 0);
	assert_int_equal(t, 1811808000 + 12 * 3600 + 30 * 60);
	assert_int_equal(time_parse_date("1798761600", &t), 0);
	assert_int_equal(t, 1798761600);
	assert_int_equal(time_parse_date("@-1", &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(time_parse_date("2024-02-29", &t), 0);
	assert_int_equal(time_parse_date("2023-02-29", &t), -EINVAL);
	assert_int_equal(time_parse_date("2027-13-01", &t), -EINVAL);
	assert_int_equal(time_parse_date("2027-06-01T25:00Z", &t), -EINVAL);
	assert_int_equal(time_parse_date("next tuesday", &t), -EINVAL);
	assert_int_equal(time_parse_date("2027-6-1", &t), -EINVAL);
	assert_int_equal(time_parse_date("99999999999999999999", &t), -ERANGE);

	assert_int_equal(time_parse_rfc3339("2027-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1798761600);
	assert_int_equal(time_parse_rfc3339("2027-01-01T01:30:00.123456+01:30", &t), 0);
	assert_int_equal(t, 1798761600);
	assert_int_equal(time_parse_rfc3339("2026-12-31t23:00:00-01:00", &t), 0);
	assert_int_equal(t, 1798761600);
	assert_int_equal(time_parse_rfc3339("2027-01-01T00:00:00", &t), -EINVAL);
	assert_int_equal(time_parse_rfc3339("2027-01-01 00:00:00Z", &t), -EINVAL);
	assert_int_equal(time_parse_rfc3339("2027-01-01T00:00:00.Z", &t), -EINVAL);
	assert_int_equal(time_parse_rfc3339("2027-02-30T00:00:00Z", &t), -EINVAL);
	assert_int_equal(time_parse_rfc3339("2027-01-01T00:00:00Zjunk", &t), -EINVAL);

	time_format_iso(1798761600, buf, sizeof(buf));
	assert_string_equal(buf, "2027-01-01T00:00:00Z");
	time_format_iso(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	time_format_iso(INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "@9223372036854775807");
	time_format_iso(253402300799, buf, sizeof(buf));
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	time_format_iso(-62135596800, buf, sizeof(buf));
	assert_string_equal(buf, "0001-01-01T00:00:00Z");
	/* Formatted by hand: the same text as snprintf over many instants, and
	 * a buffer too small for it still gets a terminated prefix. */
	for (int64_t at = -62135596800; at < 253402300799; at += 86399 * 97 + 12345) {
		char want[40];
		time_t tt = (time_t)at;
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		time_format_iso(at, buf, sizeof(buf));
		if (tm.tm_year + 1900 >= 1000)
			assert_string_equal(buf, want);
	}
	char small[8];
	time_format_iso(1798761600, small, sizeof(small));
	assert_string_equal(small, "2027-01");

	/* Round trip across a wide range of days. */
	for (int64_t d = -800000; d < 2000000; d += 997) {
		int64_t y;
		unsigned m, dd;
		time_civil_from_days(d, &y, &m, &dd);
		assert_int_equal(time_days_from_civil(y, m, dd), d);
	}
}

static void test_days_left(void **state)
{
	(void)state;
	assert_int_equal(time_days_left(86400 * 3, 0), 3);
	assert_int_equal(time_days_left(86400 * 3 - 1, 0), 2);
	assert_int_equal(time_days_left(0, 1), -1);
	assert_int_equal(time_days_left(0, 0), 0);
	assert_int_equal(time_days_left(INT64_MAX, INT64_MIN), INT64_MAX / 86400);
	assert_int_equal(time_days_left(INT64_MIN, INT64_MAX), INT64_MIN / 86400 - 1); /* floor */
	assert_int_equal(time_add_ms(INT64_MAX - 1, 5000), INT64_MAX);
	assert_int_equal(time_add_ms(10, 5000), 15);
}

static void test_expiry(void **state)
{
	(void)state;
	const uint64_t warn = 30 * 86400000ULL, crit = 7 * 86400000ULL;
	const int64_t now = 1800000000;

	assert_int_equal(time_expiry_level(now + 31 * 86400, now, warn, crit), LEVEL_OK);
	assert_int_equal(time_expiry_level(now + 30 * 86400, now, warn, crit), LEVEL_WARNING);
	assert_int_equal(time_expiry_level(now + 8 * 86400, now, warn, crit), LEVEL_WARNING);
	assert_int_equal(time_expiry_level(now + 7 * 86400, now, warn, crit), LEVEL_CRITICAL);
	assert_int_equal(time_expiry_level(now + 1, now, warn, crit), LEVEL_CRITICAL);
	assert_int_equal(time_expiry_level(now, now, warn, crit), LEVEL_ERROR);
	assert_int_equal(time_expiry_level(INT64_MIN, INT64_MAX, warn, crit), LEVEL_ERROR);
	assert_int_equal(time_expiry_level(INT64_MAX, INT64_MIN, warn, crit), LEVEL_OK);
	/* the words persistctl prints for a record's expiry ("expiry" in
	 * `persistctl record --json`): expired, not ERROR */
	assert_string_equal(time_expiry_to_string(LEVEL_OK), "ok");
	assert_string_equal(time_expiry_to_string(LEVEL_WARNING), "warning");
	assert_string_equal(time_expiry_to_string(LEVEL_CRITICAL), "critical");
	assert_string_equal(time_expiry_to_string(LEVEL_ERROR), "expired");
	assert_string_equal(time_expiry_to_string(LEVEL_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_days_left),
		cmocka_unit_test(test_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
