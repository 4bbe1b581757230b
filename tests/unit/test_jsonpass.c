/* Unit tests for ctl/jsonpass: the tree-less `persistctl --json status`
 * printer prints exactly what the tree path (json_parse + a pretty
 * json_writer, as remotecall_print_json) prints, finds the result's level,
 * and declines every line that is not a plain result for our id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

static void same_as_tree(const char *line, const char *level)
{
	struct jsonpass p;
	char *want = tree_print(line);

	assert_int_equal(jsonpass_result(line, strlen(line), "7", &p), 1);
	assert_string_equal(p.text, want);
	assert_int_equal(p.len, strlen(want));
	assert_string_equal(p.level, level);
	jsonpass_done(&p);
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

static void declined(const char *line)
{
	struct jsonpass p = { 0 };

	assert_int_equal(jsonpass_result(line, strlen(line), "7", &p), 0);
	assert_null(p.text);
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
	declined("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{},\"extra\":1}");
	declined("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":[1,2}}");
	declined("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}} trailing");
	declined("[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}]");
	declined("\"x\"");
	declined("");
	const char nul[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"a\0b\"}";
	struct jsonpass p = { 0 };
	assert_int_equal(jsonpass_result(nul, sizeof(nul) - 1, "7", &p), 0);
}

/* Deeper than yajl's printer allows: declined, not a crash. */
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_text_as_tree),
		cmocka_unit_test(test_declines_all_but_a_result),
		cmocka_unit_test(test_deep_declined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
