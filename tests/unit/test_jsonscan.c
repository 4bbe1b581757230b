/* Unit tests for common/jsonscan: what it accepts and refuses, the events
 * in order, strings decoded as yajl decodes them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/jsonscan.h"
#include "tests/unit/jsonscan_feed.h"

/* Events as text: n b(0|1) #num "str" {k: } [ ] */
struct log {
	char buf[512];
	size_t len;
	int stop_after; /* stop at this event (0: never) */
	int events;
};

/* Appends pre, n bytes of s, post. */
static bool add(void *ctx, const char *pre, const char *s, size_t n, const char *post)
{
	struct log *l = ctx;
	size_t a = strlen(pre), b = strlen(post);

	assert_true(l->len + a + n + b < sizeof(l->buf));
	memcpy(l->buf + l->len, pre, a);
	memcpy(l->buf + l->len + a, s, n);
	memcpy(l->buf + l->len + a + n, post, b + 1);
	l->len += a + n + b;
	return ++l->events != l->stop_after;
}

static bool e_null(void *c) { return add(c, "n", "", 0, ""); }
static bool e_bool(void *c, bool v) { return add(c, "b", v ? "1" : "0", 1, ""); }
static bool e_num(void *c, const char *s, size_t n) { return add(c, "#", s, n, ""); }
static bool e_str(void *c, const char *s, size_t n, bool raw) { return add(c, raw ? "\"" : "~\"", s, n, "\""); }
static bool e_key(void *c, const char *s, size_t n, bool raw) { return add(c, raw ? "" : "~", s, n, ":"); }
static bool e_om(void *c) { return add(c, "{", "", 0, ""); }
static bool e_cm(void *c) { return add(c, "}", "", 0, ""); }
static bool e_oa(void *c) { return add(c, "[", "", 0, ""); }
static bool e_ca(void *c) { return add(c, "]", "", 0, ""); }

static const struct jsonscan_events ev = {
	.null = e_null, .boolean = e_bool, .number = e_num, .string = e_str, .map_key = e_key,
	.start_map = e_om, .end_map = e_cm, .start_array = e_oa, .end_array = e_ca,
};

/* jsonscan() on the whole text, and jsonscan_stream() on it in pieces of 1, 2, 3
 * and 7 bytes, keeping the text or dropping what the scan is done with: the
 * same result and the same events. */
static int scan_all_ways(const char *in, size_t len, struct log *ret)
{
	int r = jsonscan(in, len, &ev, ret);
	for (size_t piece = 1; piece <= 7; piece += piece < 3 ? 1 : 4) {
		for (int drop = 0; drop <= 1; drop++) {
			struct log l = { .stop_after = ret->stop_after };
			struct jsonscan_feed f = { .all = in, .all_len = len, .piece = piece,
						   .drop = drop };
			assert_int_equal(jsonscan_stream("", 0, jsonscan_feed_more, &f, &ev, &l), r);
			assert_string_equal(l.buf, ret->buf);
			free(f.copy);
		}
	}
	return r;
}

static void scans_to(const char *in, const char *want)
{
	struct log l = { 0 };
	assert_int_equal(scan_all_ways(in, strlen(in), &l), 0);
	assert_string_equal(l.buf, want);
}

static void refused(const char *in, size_t len, int err)
{
	struct log l = { 0 };
	assert_int_equal(scan_all_ways(in, len, &l), err);
}

static void test_events(void **state)
{
	(void)state;
	scans_to(" {\"a\" : [1, -2.5e+3, true,false ,null,{}, []], \"b\":\"x\"}\n",
		 "{a:[#1#-2.5e+3b1b0n{}[]]b:\"x\"}");
	scans_to("0", "#0");
	scans_to("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"",
		 "~\"\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* A lone high surrogate is "?", as yajl makes it. */
	scans_to("\"a\\ud800b\"", "~\"a?b\"");
	/* Strings and keys without an escape come raw (in place); with one, decoded ("~"). */
	scans_to("{\"k\":\"v\xc3\xa9\",\"\\u006b\":\"\\n\"}", "{k:\"v\xc3\xa9\"~k:~\"\n\"}");
}

static void test_refused(void **state)
{
	char deep[2 * JSONSCAN_MAX_DEPTH + 8];
	static const char *const bad[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\"}", "{1:2}", "01", "-", "1.", "1e",
		".5", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\x01\"", "[1 2]",
		"1 2", "\"\xc3\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"", "// c\n1", "\f1",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], strlen(bad[i]), -EINVAL);
	refused("[1]\0", 4, -EINVAL);
	memset(deep, '[', JSONSCAN_MAX_DEPTH + 1);
	memset(deep + JSONSCAN_MAX_DEPTH + 1, ']', JSONSCAN_MAX_DEPTH + 1);
	refused(deep, 2 * (JSONSCAN_MAX_DEPTH + 1), -E2BIG);
	/* One level less is fine. */
	scans_to("[[]]", "[[]]");
	struct log l = { 0 };
	assert_int_equal(jsonscan(deep + 1, 2 * JSONSCAN_MAX_DEPTH, &ev, &l), 0);
}

static void test_a_callback_stops_it(void **state)
{
	struct log l = { .stop_after = 3 };

	(void)state;
	assert_int_equal(jsonscan("[1,2,3,4]", 9, &ev, &l), -EINVAL);
	assert_int_equal(l.events, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_a_callback_stops_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
