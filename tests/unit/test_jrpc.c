/* Unit tests for common/jrpc: line framing, request validation, response
 * parsing and the builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/macro.h"

static void feed(struct jrpc_reader *r, const char *s, size_t len)
{
	while (len > 0) {
		char *space;
		size_t n;

		assert_int_equal(jrpc_reader_space(r, &space, &n), 0);
		n = MIN(n, len);
		memcpy(space, s, n);
		jrpc_reader_commit(r, n);
		s += n;
		len -= n;
	}
}

static void test_reader_lines(void **state)
{
	struct jrpc_reader r;
	const char *line;
	size_t len;

	(void)state;
	jrpc_reader_init(&r, 10);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 0);
	feed(&r, "ab", 2);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 0);
	feed(&r, "c\n\nde\r\n", 7);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "abc", 3);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_int_equal(len, 0);
	assert_true(jrpc_line_is_blank(line, len));
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "de\r", 3);
	assert_false(jrpc_line_is_blank(line, len));
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 0);
	/* Unconsumed bytes are bounded by max_line_bytes + 1 in all. */
	feed(&r, "0123456789\n", 11);
	char *space;
	assert_int_equal(jrpc_reader_space(&r, &space, &len), -E2BIG);
	/* exactly max_line_bytes is fine */
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_int_equal(len, 10);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 0);
	feed(&r, "xy", 2);
	assert_int_equal(jrpc_reader_pending(&r), 2);
	assert_int_equal(jrpc_reader_take_rest(&r, &line, &len), 1);
	assert_memory_equal(line, "xy", 2);
	assert_int_equal(jrpc_reader_take_rest(&r, &line, &len), 0);
	assert_int_equal(jrpc_reader_pending(&r), 0);
	jrpc_reader_done(&r);
}

/* peek shows the line as far as it came, takes nothing, and leaves the '\n'
 * for jrpc_reader_line(). */
static void test_reader_peek(void **state)
{
	struct jrpc_reader r;
	const char *line;
	size_t len;
	bool complete;

	(void)state;
	jrpc_reader_init(&r, 10);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	assert_int_equal(len, 0);
	assert_false(complete);
	feed(&r, "ab", 2);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(line, "ab", 2);
	assert_false(complete);
	feed(&r, "c\nde", 4);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	assert_int_equal(len, 3);
	assert_true(complete);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	assert_int_equal(len, 3);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(line, "abc", 3);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(line, "de", 2);
	assert_false(complete);
	feed(&r, "456789012", 9);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), -E2BIG);
	jrpc_reader_done(&r);
}

/* Dropping the front of a line being peeked: the rest goes on, the buffer
 * does not grow with the line, and the dropped bytes still count. */
static void test_reader_drop(void **state)
{
	struct jrpc_reader r;
	const char *line;
	size_t len;
	bool complete;
	char *space;

	(void)state;
	jrpc_reader_init(&r, 100000);
	for (int i = 0; i < 20; i++) {
		feed(&r, "0123456789", 10);
		assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
		assert_int_equal(len, 10);
		assert_memory_equal(line, "0123456789", 10);
		jrpc_reader_drop(&r, 10);
	}
	assert_true(r.cap <= 4096);
	/* Never more than peek showed. */
	feed(&r, "ab", 2);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	jrpc_reader_drop(&r, 1000);
	feed(&r, "c\nnext\n", 7);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_int_equal(len, 1);
	assert_memory_equal(line, "c", 1);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	assert_memory_equal(line, "next", 4); /* a new line: nothing dropped of it */
	jrpc_reader_done(&r);

	/* 95 bytes dropped of a line of at most 100: 6 more are too many. */
	jrpc_reader_init(&r, 100);
	for (int i = 0; i < 19; i++) {
		feed(&r, "01234", 5);
		assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
		jrpc_reader_drop(&r, len);
	}
	feed(&r, "01234", 5);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), 0);
	feed(&r, "5", 1);
	assert_int_equal(jrpc_reader_peek(&r, &line, &len, &complete), -E2BIG);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), -E2BIG);
	jrpc_reader_done(&r);

	/* space_min: room for a useful read, up to the line limit. */
	jrpc_reader_init(&r, 1 << 20);
	assert_int_equal(jrpc_reader_space_min(&r, 128 * 1024, &space, &len), 0);
	assert_true(len >= 128 * 1024);
	jrpc_reader_done(&r);
	jrpc_reader_init(&r, 1000);
	assert_int_equal(jrpc_reader_space_min(&r, 128 * 1024, &space, &len), 0);
	assert_int_equal(len, 1001);
	jrpc_reader_done(&r);
}

static void test_reader_too_long(void **state)
{
	struct jrpc_reader r;
	const char *line;
	size_t len;
	char *space;

	(void)state;
	/* A partial line one byte over the limit is an error before its '\n'. */
	jrpc_reader_init(&r, 10);
	feed(&r, "0123456789", 10);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 0);
	feed(&r, "A", 1);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), -E2BIG);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), -E2BIG);
	assert_int_equal(jrpc_reader_space(&r, &space, &len), -E2BIG);
	jrpc_reader_done(&r);

	/* The same with the '\n' already there. */
	jrpc_reader_init(&r, 4);
	feed(&r, "ok\n", 3);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
	feed(&r, "12345", 5);
	assert_int_equal(jrpc_reader_line(&r, &line, &len), -E2BIG);
	jrpc_reader_done(&r);

	jrpc_reader_init(&r, 4);
	feed(&r, "12345", 5);
	assert_int_equal(jrpc_reader_take_rest(&r, &line, &len), -E2BIG);
	jrpc_reader_done(&r);
}

static void test_reader_compacts(void **state)
{
	struct jrpc_reader r;
	const char *line;
	size_t len;

	(void)state;
	/* Many lines through a small buffer: consumed lines make room. */
	jrpc_reader_init(&r, 8);
	for (int i = 0; i < 1000; i++) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d\n", i);
		feed(&r, buf, (size_t)n);
		assert_int_equal(jrpc_reader_line(&r, &line, &len), 1);
		assert_int_equal(len, (size_t)n - 1);
		assert_memory_equal(line, buf, len);
	}
	assert_true(r.cap <= 9);
	jrpc_reader_done(&r);
}

static struct jrpc_request *parse_ok(const char *line)
{
	struct jrpc_request *req = NULL;
	struct jrpc_parse_error e;
	int r = jrpc_parse_request(line, strlen(line), 65536, &req, &e);

	if (r < 0)
		fail_msg("'%s' refused: %d %s", line, e.code, e.message);
	return req;
}

/* The start of a request: version and method "m". */
#define RQ "{\"jsonrpc\":\"2.0\",\"method\":\"m\""
#define JP JRPC_PARSE_ERROR
#define JI JRPC_INVALID_REQUEST

static void test_parse_request_ok(void **state)
{
	static const struct {
		const char *line, *method, *id;
		int params; /* 0 none, 1 object, 2 array */
	} ok[] = {
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"id\":1}", "status", "1", 0 },
		{ " {\"id\":\"a\\\"b\",\"method\":\"x.y\",\"jsonrpc\":\"2.0\",\"params\":{}}\r",
		  "x.y", "\"a\\\"b\"", 1 },
		{ RQ ",\"params\":[1,2],\"id\":null}", "m", "null", 2 },
		{ RQ ",\"params\":[]}", "m", NULL, 2 },
		{ RQ ",\"id\":-1.5e3}", "m", "-1.5e3", 0 },
		{ RQ ",\"id\":123456789012345678901234567890}", "m",
		  "123456789012345678901234567890", 0 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"\\u00e9\",\"id\":\"\\u00e9\"}", "\xc3\xa9",
		  "\"\xc3\xa9\"", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		_cleanup_(jrpc_request_freep) struct jrpc_request *req = parse_ok(ok[i].line);
		assert_string_equal(req->method, ok[i].method);
		if (ok[i].id)
			assert_string_equal(req->id_json, ok[i].id);
		else
			assert_null(req->id_json);
		switch (ok[i].params) {
		case 0:
			assert_null(req->params);
			break;
		case 1:
			assert_true(YAJL_IS_OBJECT(req->params));
			break;
		default:
			assert_true(YAJL_IS_ARRAY(req->params));
		}
	}
}

static void test_parse_request_bad(void **state)
{
	static const struct {
		const char *line;
		int code;
		const char *id;    /* recovered id, NULL for none */
		const char *words; /* in the message */
	} bad[] = {
		{ "", JP, NULL, "parse error" },
		{ "garbage", JP, NULL, "parse error" },
		{ RQ ",\"id\":1", JP, NULL, "parse" },
		{ RQ ",\"id\":1}{}", JP, NULL, "trailing" },
		{ "[]", JI, NULL, "batch" },
		{ "[" RQ ",\"id\":1}]", JI, NULL, "batch" },
		{ "42", JI, NULL, "object" },
		{ "\"x\"", JI, NULL, "object" },
		{ "{\"method\":\"m\",\"id\":7}", JI, "7", "jsonrpc" },
		{ "{\"jsonrpc\":\"1.0\",\"method\":\"m\",\"id\":7}", JI, "7", "2.0" },
		{ "{\"jsonrpc\":2.0,\"method\":\"m\",\"id\":\"k\"}", JI, "\"k\"", "2.0" },
		{ "{\"jsonrpc\":\"2.0\",\"id\":7}", JI, "7", "method" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":1,\"id\":7}", JI, "7", "method" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"\",\"id\":7}", JI, "7", "empty" },
		{ RQ ",\"params\":\"p\",\"id\":7}", JI, "7", "params" },
		{ RQ ",\"params\":null,\"id\":7}", JI, "7", "params" },
		{ RQ ",\"id\":{}}", JI, NULL, "id" },
		{ RQ ",\"id\":true}", JI, NULL, "id" },
		{ RQ ",\"id\":1,\"id\":2}", JI, NULL, "more than once" },
		{ RQ ",\"method\":\"n\",\"id\":1}", JI, "1", "more than once" },
		{ RQ ",\"result\":1,\"id\":1}", JI, "1", "unexpected member 'result'" },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"m\\u0000x\",\"id\":1}", JP, NULL, "U+0000" },
		{ RQ ",\"params\":{\"k\":\"\\u0000\"},\"id\":1}", JP, NULL, "U+0000" },
		{ RQ ",\"id\":\"\xff\"}", JP, NULL, "UTF8" },
		{ RQ "\0,\"id\":1}", JP, NULL, "NUL" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct jrpc_request *req = NULL;
		struct jrpc_parse_error e;
		size_t len = strlen(bad[i].line);

		if (strstr(bad[i].words, "NUL"))
			len += 1 + strlen(bad[i].line + len + 1);
		int r = jrpc_parse_request(bad[i].line, len, 65536, &req, &e);
		if (r >= 0)
			fail_msg("'%s' accepted", bad[i].line);
		assert_null(req);
		if (e.code != bad[i].code || !strstr(e.message, bad[i].words))
			fail_msg("'%s': code %d message '%s'", bad[i].line, e.code, e.message);
		if (bad[i].id)
			assert_string_equal(e.id_json, bad[i].id);
		else
			assert_null(e.id_json);
		jrpc_parse_error_done(&e);
	}
}

static void test_parse_request_limits(void **state)
{
	struct jrpc_request *req = NULL;
	struct jrpc_parse_error e;
	char deep[256];
	size_t n = 0;

	(void)state;
	const char *line = "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":1}";
	assert_int_equal(jrpc_parse_request(line, strlen(line), 10, &req, &e), -E2BIG);
	assert_int_equal(e.code, JRPC_REQUEST_TOO_LARGE);
	jrpc_parse_error_done(&e);

	n += (size_t)snprintf(deep, sizeof(deep), RQ ",\"params\":");
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, ",\"id\":1}");
	assert_int_equal(jrpc_parse_request(deep, n, 65536, &req, &e), -E2BIG);
	assert_int_equal(e.code, JRPC_INVALID_REQUEST);
	assert_non_null(strstr(e.message, "deeper"));
	jrpc_parse_error_done(&e);
}

static void test_builders(void **state)
{
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(jrpc_result("7", "{\n  \"a\": [1,\r\n 2]\n}", 19, &line, &len), 0);
	assert_string_equal(line,
			    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{   \"a\": [1,   2] }}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	assert_int_equal(jrpc_result(NULL, "null", 4, &line, &len), 0);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":null}\n");
	free(line);
	assert_int_equal(jrpc_result("\"x\"", "\"a\nb\"", 5, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result("1", "{", 1, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result("1", "1 2", 3, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result("1", "", 0, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result("{}", "1", 1, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result("true", "1", 1, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result("1}", "1", 1, &line, &len), -EINVAL);

	/* A writer's own result: copied as it is, the id still checked. */
	assert_int_equal(jrpc_result_trusted("7", "{\"a\":[1,2]}", 11, &line, &len), 0);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":[1,2]}}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	assert_int_equal(jrpc_result_trusted("1}", "1", 1, &line, &len), -EINVAL);
	assert_int_equal(jrpc_result_trusted("1", "", 0, &line, &len), -EINVAL);

	/* Written into its envelope in place: the same line as jrpc_result_trusted(). */
	static const char *const ids[] = { "7", "\"req-1\"", NULL };
	for (size_t i = 0; i < 3; i++) {
		struct json_writer *w = json_writer_new(false);
		char *want;
		size_t want_len;

		assert_int_equal(jrpc_result_trusted(ids[i], "{\"a\":[1,\"x\"]}", 13, &want,
						     &want_len), 0);
		assert_int_equal(jrpc_result_begin(w, ids[i]), 0);
		json_begin_object(w);
		json_key(w, "a");
		json_begin_array(w);
		json_int(w, 1);
		json_string(w, "x");
		json_end_array(w);
		json_end_object(w);
		assert_int_equal(jrpc_result_end(w, &line, &len), 0);
		assert_int_equal(len, want_len);
		assert_memory_equal(line, want, len);
		free(line);
		free(want);
		/* No result, or two: the writer's error, not a line. */
		assert_int_equal(jrpc_result_begin(w, "1"), 0);
		assert_int_equal(jrpc_result_end(w, &line, &len), -EINVAL);
		json_writer_reset(w);
		assert_int_equal(jrpc_result_begin(w, "1"), 0);
		json_int(w, 1);
		json_int(w, 2);
		assert_int_equal(jrpc_result_end(w, &line, &len), -EINVAL);
		json_writer_reset(w);
		assert_int_equal(jrpc_result_begin(w, "1}"), -EINVAL);
		json_writer_free(w);
	}

	assert_int_equal(jrpc_error("\"i\"", JRPC_NOT_FOUND, "no cert 'a\"b'\n", "{\"k\":[1]}",
				    &line, &len), 0);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":\"i\",\"error\":{\"code\":-32004,"
				  "\"message\":\"no cert 'a\\\"b'\\n\",\"data\":{\"k\":[1]}}}\n");
	free(line);
	assert_int_equal(jrpc_error(NULL, JRPC_BUSY, "busy", NULL, &line, &len), 0);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32003,"
				  "\"message\":\"busy\"}}\n");
	free(line);
	assert_int_equal(jrpc_error("1", JRPC_FAILED, "x", "{", &line, &len), -EINVAL);

	assert_int_equal(jrpc_notification("events.alert", "{\"level\":\"WARNING\"}", 19, &line,
					   &len), 0);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"method\":\"events.alert\","
				  "\"params\":{\"level\":\"WARNING\"}}\n");
	free(line);
	assert_int_equal(jrpc_notification("e", NULL, 0, &line, &len), 0);
	assert_string_equal(line, "{\"jsonrpc\":\"2.0\",\"method\":\"e\"}\n");
	free(line);
	assert_int_equal(jrpc_notification("e", "1", 1, &line, &len), -EINVAL);
	assert_int_equal(jrpc_notification("e", "[", 1, &line, &len), -EINVAL);
	assert_int_equal(jrpc_notification("", NULL, 0, &line, &len), -EINVAL);

	assert_int_equal(jrpc_call("3", "a\"b", "[1]", 3, &line, &len), 0);
	assert_string_equal(line,
			    "{\"jsonrpc\":\"2.0\",\"method\":\"a\\\"b\","
			    "\"params\":[1],\"id\":3}\n");
	free(line);
}

static void test_roundtrip(void **state)
{
	char *line;
	size_t len;

	(void)state;
	/* What the builders write, both parsers read back. */
	assert_int_equal(jrpc_call("\"q\"", "certs.get", "{\"name\":\"www\"}", 14, &line, &len), 0);
	_cleanup_(jrpc_request_freep) struct jrpc_request *req = parse_ok(line);
	free(line);
	assert_string_equal(req->method, "certs.get");
	assert_string_equal(json_get_string(req->params, "name"), "www");

	assert_int_equal(jrpc_result(req->id_json, "[true,{\"n\":1.5}]", 16, &line, &len), 0);
	_cleanup_(jrpc_message_freep) struct jrpc_message *m = NULL;
	assert_int_equal(jrpc_parse_message(line, len - 1, 1 << 20, &m), 0);
	free(line);
	assert_int_equal(m->kind, JRPC_MESSAGE_RESULT);
	assert_string_equal(m->id_json, "\"q\"");
	assert_true(YAJL_IS_ARRAY(m->result));

	assert_int_equal(jrpc_error("12", JRPC_PERMISSION_DENIED, "no", "[1,\"two\",null,false]",
				    &line, &len), 0);
	_cleanup_(jrpc_message_freep) struct jrpc_message *e = NULL;
	assert_int_equal(jrpc_parse_message(line, len, 1 << 20, &e), 0);
	free(line);
	assert_int_equal(e->kind, JRPC_MESSAGE_ERROR);
	assert_int_equal(e->error_code, JRPC_PERMISSION_DENIED);
	assert_string_equal(e->error_message, "no");
	assert_string_equal(e->error_data_json, "[1,\"two\",null,false]");

	assert_int_equal(jrpc_notification("ev", "{\"a\":{}}", 8, &line, &len), 0);
	_cleanup_(jrpc_message_freep) struct jrpc_message *n = NULL;
	assert_int_equal(jrpc_parse_message(line, len, 1 << 20, &n), 0);
	free(line);
	assert_int_equal(n->kind, JRPC_MESSAGE_NOTIFICATION);
	assert_string_equal(n->method, "ev");
	assert_null(n->id_json);
	assert_true(YAJL_IS_OBJECT(json_get_object(n->params, "a")));
}

static void test_parse_message_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"id\":1,\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,"
		"\"error\":{\"code\":1,\"message\":\"m\"}}",
		"{\"jsonrpc\":\"2.0\",\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":[],\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"result\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1.5,\"message\":\"m\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":99999999999,\"message\":\"m\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"boom\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":3}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"a\\u0000\"}",
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct jrpc_message *m = NULL;
		if (jrpc_parse_message(bad[i], strlen(bad[i]), 1 << 20, &m) >= 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(m);
	}
	/* Members a newer daemon may add are ignored. */
	struct jrpc_message *m = NULL;
	const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null,\"x-extra\":1}";
	assert_int_equal(jrpc_parse_message(ok, strlen(ok), 1 << 20, &m), 0);
	assert_true(YAJL_IS_NULL(m->result));
	jrpc_message_free(m);
	assert_int_equal(jrpc_parse_message(ok, strlen(ok), 10, &m), -E2BIG);
}

static void test_codes(void **state)
{
	(void)state;
	assert_string_equal(jrpc_code_to_string(JRPC_PARSE_ERROR), "parse-error");
	assert_string_equal(jrpc_code_to_string(JRPC_PERMISSION_DENIED), "permission-denied");
	assert_string_equal(jrpc_code_to_string(JRPC_FAILED), "failed");
	assert_null(jrpc_code_to_string(0));
	assert_int_equal(JRPC_REQUEST_TOO_LARGE, -32002);
	assert_int_equal(JRPC_BUSY, -32003);
	assert_int_equal(JRPC_NOT_FOUND, -32004);
}

static void test_json_dump(void **state)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	_cleanup_free_ char *s = NULL;
	const char *in = "{\"a\":[1,-2.5e10,\"\\u00e9\\n\",true,false,null],\"b\":{}}";
	size_t len;

	(void)state;
	assert_int_equal(json_parse(in, strlen(in), 1024, &v, NULL, 0), 0);
	assert_int_equal(jrpc_json_dump(v, &s, &len), 0);
	assert_string_equal(s, "{\"a\":[1,-2.5e10,\"\xc3\xa9\\n\",true,false,null],\"b\":{}}");
	assert_int_equal(len, strlen(s));
	free(TAKE_PTR(s));
	assert_int_equal(jrpc_json_dump(NULL, &s, NULL), 0);
	assert_string_equal(s, "null");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_lines),
		cmocka_unit_test(test_reader_peek),
		cmocka_unit_test(test_reader_drop),
		cmocka_unit_test(test_reader_too_long),
		cmocka_unit_test(test_reader_compacts),
		cmocka_unit_test(test_parse_request_ok),
		cmocka_unit_test(test_parse_request_bad),
		cmocka_unit_test(test_parse_request_limits),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_message_bad),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_json_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
