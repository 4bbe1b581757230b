/* Unit tests for common/json: the bounds on input, typed getters, the writer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "common/json.h"
#include "common/limits.h"

static void test_parse_bounds(void **state)
{
	(void)state;
	yajl_val v = NULL;
	char err[128];
	char deep[2 * (JSON_MAX_DEPTH + 1) + 1];

	assert_int_equal(json_parse("{\"a\":1}", 7, 100, &v, err, sizeof(err)), 0);
	yajl_tree_free(v);
	assert_int_equal(json_parse("{\"a\":1}", 7, 6, &v, err, sizeof(err)), -E2BIG);
	assert_int_equal(json_parse("{\"a\":1}\0x", 9, 100, &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	/* An escaped NUL would cut the string short inside yajl. */
	const char *esc = "{\"u\":\"https://ca/acct/1\\u0000x\"}";
	assert_int_equal(json_parse(esc, strlen(esc), 1000, &v, err, sizeof(err)), -EINVAL);
	/* ... but an escaped backslash followed by "u0000" is just text. */
	const char *ok = "{\"u\":\"a\\\\u0000\"}";
	assert_int_equal(json_parse(ok, strlen(ok), 1000, &v, err, sizeof(err)), 0);
	assert_string_equal(json_get_string(v, "u"), "a\\u0000");
	yajl_tree_free(v);

	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(json_parse(deep, strlen(deep), 1000, &v, err, sizeof(err)), -E2BIG);
	/* Brackets inside strings do not count. */
	assert_int_equal(json_check_depth("[\"[[[[\\\"[[\"]", 12, 2), 1);

	assert_int_equal(json_parse("{\"a\":", 5, 100, &v, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, '\n'));
}

static void test_getters(void **state)
{
	(void)state;
	yajl_val v = NULL;
	const char *t = "{\"s\":\"x\",\"i\":42,\"b\":true,\"o\":{},\"a\":[1],\"big\":12345678901234567890}";
	int64_t n;
	bool b;

	assert_int_equal(json_parse(t, strlen(t), 1000, &v, NULL, 0), 0);
	assert_string_equal(json_get_string(v, "s"), "x");
	assert_null(json_get_string(v, "i"));
	assert_true(json_get_int(v, "i", &n));
	assert_int_equal(n, 42);
	assert_false(json_get_int(v, "big", &n));
	assert_false(json_get_int(v, "s", &n));
	assert_true(json_get_bool(v, "b", &b));
	assert_true(b);
	assert_non_null(json_get_object(v, "o"));
	assert_null(json_get_object(v, "a"));
	assert_non_null(json_get_array(v, "a"));
	assert_null(json_get(v, "missing"));
	yajl_tree_free(v);
}

static void test_writer(void **state)
{
	(void)state;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	char *one = NULL;

	json_begin_object(w);
	json_kv_string(w, "s", "a\"b\n");
	json_kv_int(w, "i", -5);
	json_key(w, "u");
	json_uint(w, UINT64_MAX);
	json_kv_bool(w, "b", false);
	json_kv_string(w, "n", NULL);
	json_key(w, "raw");
	json_raw(w, "[1,{\"x\":\"y\"}]", 13);
	json_end_object(w);
	assert_int_equal(json_writer_finish(w, &out, &len), 0);
	assert_string_equal(out, "{\"s\":\"a\\\"b\\n\",\"i\":-5,\"u\":18446744073709551615,\"b\":false,"
				 "\"n\":null,\"raw\":[1,{\"x\":\"y\"}]}");
	/* A second top-level value is an error, latched until reset. */
	json_int(w, 1);
	assert_true(json_writer_finish(w, &out, &len) < 0);
	json_writer_reset(w);
	json_int(w, 1);
	assert_int_equal(json_writer_finish(w, &out, &len), 0);
	assert_string_equal(out, "1");

	/* json_int formats by hand: the extremes and zero as sprintf would. */
	json_writer_reset(w);
	json_begin_array(w);
	json_int(w, INT64_MIN);
	json_int(w, INT64_MAX);
	json_int(w, 0);
	json_int(w, -1);
	json_int(w, 1000000007);
	json_end_array(w);
	assert_int_equal(json_writer_finish(w, &out, &len), 0);
	assert_string_equal(out, "[-9223372036854775808,9223372036854775807,0,-1,1000000007]");

	assert_int_equal(json_object_1("name", "w\"x", &one), 0);
	assert_string_equal(one, "{\"name\":\"w\\\"x\"}");
	free(one);
}

/* Invalid UTF-8 from outside becomes U+FFFD; valid text passes unchanged,
 * and the document still parses. */
static void test_writer_invalid_utf8(void **state)
{
	(void)state;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out = NULL;
	size_t len = 0;

	assert_non_null(w);
	json_begin_object(w);
	json_kv_string(w, "bad", "a\xff\xc3(b\xed\xa0\x80");
	json_kv_string(w, "good", "caf\xc3\xa9 \xf0\x9f\x94\x92");
	json_end_object(w);
	assert_int_equal(json_writer_finish(w, &out, &len), 0);
	assert_string_equal(out, "{\"bad\":\"a\xef\xbf\xbd\xef\xbf\xbd(b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
				 "\"good\":\"caf\xc3\xa9 \xf0\x9f\x94\x92\"}");
	yajl_val v = yajl_tree_parse(out, NULL, 0);
	assert_non_null(v);
	yajl_tree_free(v);
}

/* yajl_gen's rendering of a tree: what the writer promises to match. */
static void yajl_replay(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		const char *s = YAJL_GET_STRING(v);
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v)));
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			const char *k = v->u.object.keys[i];
			yajl_gen_string(g, (const unsigned char *)k, strlen(k));
			yajl_replay(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			yajl_replay(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

/* w wrote exactly want; w is freed. */
static void assert_writes_and_free(struct json_writer *w, const unsigned char *want,
				   size_t want_len)
{
	const char *got;
	size_t got_len;

	assert_int_equal(json_writer_finish(w, &got, &got_len), 0);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	json_writer_free(w);
}

static void test_writer_matches_yajl_gen(void **state)
{
	static const char *const docs[] = {
		"{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{},\"e\":[],\"f\":true,\"g\":false}",
		"[\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\", \"\xc3\xa9\u20ac\"]",
		"[[[[]]],{\"x\":[{}]},-1.5e10,0,\"\"]",
		"\"top\"",
		"{\"level\":\"ok\",\"cert_list\":[{\"name\":\"www\",\"days\":-3}]}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		for (int pretty = 0; pretty < 2; pretty++) {
			yajl_val v = NULL;
			assert_int_equal(json_parse(docs[i], strlen(docs[i]), 4096, &v, NULL, 0), 0);
			yajl_gen g = yajl_gen_alloc(NULL);
			if (pretty) {
				yajl_gen_config(g, yajl_gen_beautify, 1);
				yajl_gen_config(g, yajl_gen_indent_string, "  ");
			}
			yajl_replay(g, v);
			const unsigned char *want;
			size_t want_len;
			assert_int_equal(yajl_gen_get_buf(g, &want, &want_len), yajl_gen_status_ok);

			struct json_writer *w = json_writer_new(pretty);
			json_value(w, v);
			assert_writes_and_free(w, want, want_len);
			yajl_gen_free(g);
			yajl_tree_free(v);
		}
}

/* Every byte class at every place of a long string, so the eight-byte
 * fast path meets each of them at each offset of a word. */
static void test_writer_strings_match_yajl_gen(void **state)
{
	static const char *const specials[] = {
		"\"", "\\", "\n", "\x01", "\x1f", " ", "!", "#", "[", "]", "\x7f", "~",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	};
	(void)state;
	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++)
		for (size_t pos = 0; pos < 20; pos++) {
			char s[64];
			memset(s, 'a', sizeof(s));
			size_t sl = strlen(specials[k]);
			memcpy(s + pos, specials[k], sl);
			size_t len = 24 + (sl > 1 ? sl - 1 : 0);
			if (pos + sl > 24)
				len = pos + sl;
			yajl_gen g = yajl_gen_alloc(NULL);
			yajl_gen_string(g, (const unsigned char *)s, len);
			const unsigned char *want;
			size_t want_len;
			yajl_gen_get_buf(g, &want, &want_len);
			struct json_writer *w = json_writer_new(false);
			json_string_n(w, s, len);
			assert_writes_and_free(w, want, want_len);
			yajl_gen_free(g);
		}
}

static void test_writer_misuse(void **state)
{
	const char *out;
	size_t len;

	(void)state;
	struct json_writer *w = json_writer_new(false);
	json_begin_object(w);
	json_int(w, 1); /* a key must be a string */
	assert_int_equal(json_writer_finish(w, &out, &len), -EINVAL);
	json_writer_reset(w);
	json_begin_array(w);
	json_end_object(w);
	assert_int_equal(json_writer_finish(w, &out, &len), -EINVAL);
	json_writer_reset(w);
	json_int(w, 1);
	json_int(w, 2); /* after the document */
	assert_int_equal(json_writer_finish(w, &out, &len), -EINVAL);
	json_writer_reset(w);
	for (int i = 0; i < 200; i++)
		json_begin_array(w);
	assert_int_equal(json_writer_finish(w, &out, &len), -E2BIG);
	json_writer_reset(w);
	json_string(w, "ok");
	assert_int_equal(json_writer_finish(w, &out, &len), 0);
	assert_string_equal(out, "\"ok\"");
	json_writer_free(w);
}

/* Written out in pieces by json_writer_flush(), a document is the same bytes as written
 * whole; a plain string is what json_string_n() makes of it; a sink's error is latched. */
struct sink_buf {
	char buf[16384];
	size_t len;
	int fail;
};

static int sink_append(void *userdata, const char *p, size_t n)
{
	struct sink_buf *b = userdata;

	if (b->fail)
		return b->fail;
	assert_true(b->len + n < sizeof(b->buf));
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return 0;
}

static void write_sample(struct json_writer *w, struct sink_buf *flush_to)
{
	static const char *const words[] = { "plain", "caf\xc3\xa9", "", "a/b c" };

	json_begin_object(w);
	for (int i = 0; i < 40; i++) {
		json_key(w, "name");
		json_begin_array(w);
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
			json_string_plain(w, words[k], strlen(words[k]));
			json_string_n(w, words[k], strlen(words[k]));
		}
		json_int(w, i);
		json_end_array(w);
		if (flush_to && i % 3 == 0)
			assert_int_equal(json_writer_flush(w, sink_append, flush_to), 0);
	}
	json_end_object(w);
}

static void test_writer_flush_and_plain(void **state)
{
	const char *whole;
	size_t whole_len;
	struct sink_buf b = { .len = 0 };

	(void)state;
	for (int pretty = 0; pretty < 2; pretty++) {
		struct json_writer *a = json_writer_new(pretty), *w = json_writer_new(pretty);

		b.len = 0;
		write_sample(a, NULL);
		assert_int_equal(json_writer_finish(a, &whole, &whole_len), 0);
		write_sample(w, &b);
		assert_true(json_writer_pending(w) > 0);
		assert_int_equal(json_writer_flush(w, sink_append, &b), 0);
		assert_int_equal(json_writer_pending(w), 0);
		assert_int_equal(b.len, whole_len);
		assert_memory_equal(b.buf, whole, whole_len);
		/* The two ways of writing each word gave the same bytes. */
		assert_non_null(strstr(whole, "\"caf\xc3\xa9\"") );
		json_writer_free(a);
		json_writer_free(w);
	}

	struct json_writer *w = json_writer_new(false);
	b.fail = -EIO;
	json_begin_array(w);
	assert_int_equal(json_writer_flush(w, sink_append, &b), -EIO);
	json_end_array(w);
	assert_int_equal(json_writer_finish(w, &whole, &whole_len), -EIO);
	json_writer_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_invalid_utf8),
		cmocka_unit_test(test_writer_matches_yajl_gen),
		cmocka_unit_test(test_writer_strings_match_yajl_gen),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_writer_flush_and_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
