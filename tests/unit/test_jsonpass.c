/* Unit tests for ctl/jsonpass: the tree-less `persistctl --json status`
 * printer prints exactly what the tree path (json_parse + a pretty
 * json_writer, as remotecall_print_json) prints, also when it writes it out
 * in pieces, finds the result's level, declines every line that is not a
 * plain result for our id without writing anything, and calls a line that
 * breaks after it began writing broken (-EPROTO). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ctl/jsonpass.h"

/* What remotecall_print_json() prints for the result of line. */
static char *tree_print(const char *line)
{
	yajl_val msg = NULL;
	const char *out;
	size_t len;

	assert_int_equal(json_parse(line, strlen(line), SIZE_MAX, &msg, NULL, 0), 0);
	struct json_writer *w = json_writer_new(true);
	assert_non_null(w);
	json_value(w, json_get(msg, "result"));
	assert_int_equal(json_writer_finish(w, &out, &len), 0);
	while (len > 0 && out[len - 1] == '\n')
		len--;
	char *text = calloc(1, len + 2);
	assert_non_null(text);
	memcpy(text, out, len);
	text[len] = '\n';
	json_writer_free(w);
	yajl_tree_free(msg);
	return text;
}

/* jsonpass_result() into a memory stream: its return, what it wrote in *ret_text. */
static int pass_to_memory(const char *line, size_t len, struct jsonpass *p, char **ret_text,
			  size_t *ret_len)
{
	*ret_text = NULL;
	p->out = open_memstream(ret_text, ret_len);
	assert_non_null(p->out);
	int r = jsonpass_result(line, len, "7", p);
	assert_int_equal(fclose(p->out), 0);
	return r;
}

static void same_as_tree(const char *line, const char *level)
{
	struct jsonpass p = { 0 };
	char *want = tree_print(line), *text;
	size_t len;

	assert_int_equal(pass_to_memory(line, strlen(line), &p, &text, &len), 1);
	assert_true(p.taken);
	assert_int_equal(len, strlen(want));
	assert_string_equal(text, want);
	assert_string_equal(p.level, level);
	free(text);
	free(want);
}

static void test_same_text_as_tree(void **state)
{
	(void)state;
	same_as_tree("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"version\":\"1\",\"level\":"
		     "\"ERROR\",\"n\":-12,\"empty\":{},\"none\":[],\"cert_list\":[{\"name\":"
		     "\"c1\",\"level\":\"OK\",\"x\":null,\"b\":true,\"f\":false,\"s\":"
		     "\"a\\\"b\\\\c\\n\\u00e9/\",\"names\":[[1,2],{\"level\":\"WARNING\"}]}]}}\n",
		     "ERROR");
	/* Members in another order; the level only at the top of the result. */
	same_as_tree("{\"result\":{\"a\":{\"level\":\"OK\"}},\"id\":7,\"jsonrpc\":\"2.0\"}",
		     "");
	same_as_tree("{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":7}", "");
	same_as_tree("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":[1,\"x\",{\"level\":\"OK\"}]}",
		     "");
}

/* A result of about 1 MB goes out in many pieces; together they are the tree's text. */
static void test_long_result_in_pieces(void **state)
{
	size_t cap = 2 * 1024 * 1024, n = 0;
	char *line = malloc(cap);

	(void)state;
	assert_non_null(line);
	n += (size_t)snprintf(line, cap, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"level\":"
			      "\"WARNING\",\"cert_list\":[");
	for (int i = 0; i < 10000; i++)
		n += (size_t)snprintf(line + n, cap - n, "%s{\"name\":\"c%05d\",\"s\":\"%s\","
				      "\"n\":[%d,true,null]}", i ? "," : "", i,
				      i % 7 ? "plain text" : "esc\\u00e9\\n", i);
	n += (size_t)snprintf(line + n, cap - n, "]}}\n");
	assert_true(n < cap - 1);
	same_as_tree(line, "WARNING");
	free(line);
}

static void declined_len(const char *line, size_t len)
{
	struct jsonpass p = { 0 };
	char *text;
	size_t out_len;

	assert_int_equal(pass_to_memory(line, len, &p, &text, &out_len), 0);
	assert_false(p.taken);
	assert_false(p.partial);
	assert_int_equal(out_len, 0);
	free(text);
}

static void declined(const char *line)
{
	declined_len(line, strlen(line));
}

/* "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"big\":[0,1,...]," + tail: a result whose first
 * pieces go out (some 100 KiB of pretty text) before tail decides; NUL-terminated. */
static char *long_line(const char *tail)
{
	size_t cap = 64 * 1024 + strlen(tail), n;
	char *line = malloc(cap);

	assert_non_null(line);
	n = (size_t)snprintf(line, cap, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"big\":[0");
	for (int i = 1; i < 10000; i++)
		n += (size_t)snprintf(line + n, cap - n, ",%d", i % 10);
	n += (size_t)snprintf(line + n, cap - n, "],%s", tail);
	assert_true(n < cap - 1);
	return line;
}

/* Broken after part of the result went out: -EPROTO, not taken, and said to be partial.
 * The same fault before any piece went out (tail alone after "result":{) is declined. */
static void broken(const char *tail)
{
	struct jsonpass p = { 0 };
	char *line = long_line(tail), *text, short_line[256];
	size_t out_len;

	assert_int_equal(pass_to_memory(line, strlen(line), &p, &text, &out_len), -EPROTO);
	assert_false(p.taken);
	assert_true(p.partial);
	assert_true(out_len >= 64 * 1024);
	free(text);
	free(line);
	snprintf(short_line, sizeof(short_line), "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{%s",
		 tail);
	declined(short_line);
}

static void test_declines_all_but_a_result(void **state)
{
	(void)state;
	declined("{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32603,\"message\":\"x\"}}");
	declined("{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{}}");
	declined("{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}");     /* a stale reply */
	declined("{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"result\":{}}");  /* not our id */
	declined("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}");
	declined("{\"jsonrpc\":\"1.0\",\"id\":7,\"result\":{}}");
	declined("{\"id\":7,\"result\":{}}");                          /* no jsonrpc */
	declined("{\"jsonrpc\":\"2.0\",\"id\":7}");                    /* no result */
	declined("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1,\"result\":2}");
	broken("\"a\":1},\"extra\":1}");
	broken("\"a\":[1,2}}");
	broken("\"a\":1}} trailing");
	/* The same faults with the result first: nothing was written yet, so declined. */
	declined("{\"result\":{\"a\":[1,2}},\"jsonrpc\":\"2.0\",\"id\":7}");
	declined("{\"result\":{},\"jsonrpc\":\"2.0\",\"id\":7} trailing");
	declined("[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}]");
	declined("\"x\"");
	declined("");
	const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"a\0b\"}";
	declined_len(nul, sizeof(nul) - 1);
}

/* Deeper than yajl's printer allows: not taken and not a crash; declined, as nothing is
 * out yet, whether the result comes first or after jsonrpc and id. */
static void test_deep_declined(void **state)
{
	char line[2048];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":");
	for (int i = 0; i < 600; i++)
		line[n++] = '[';
	for (int i = 0; i < 600; i++)
		line[n++] = ']';
	line[n++] = '}';
	line[n] = '\0';
	declined(line);

	n = (size_t)snprintf(line, sizeof(line), "{\"result\":");
	for (int i = 0; i < 600; i++)
		line[n++] = '[';
	for (int i = 0; i < 600; i++)
		line[n++] = ']';
	n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"jsonrpc\":\"2.0\",\"id\":7}");
	declined(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_text_as_tree),
		cmocka_unit_test(test_long_result_in_pieces),
		cmocka_unit_test(test_declines_all_but_a_result),
		cmocka_unit_test(test_deep_declined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
