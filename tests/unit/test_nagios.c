/* Unit tests for ctl/nagios: the monitoring-plugin line from a status answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "ctl/nagios.h"

static char *format(const char *json, enum level *level)
{
	yajl_val v = NULL;
	char *line = NULL;
	char err[200];

	assert_int_equal(json_parse(json, strlen(json), 1 << 20, &v, err, sizeof(err)), 0);
	assert_int_equal(nagios_format(v, &line, level), 0);
	yajl_tree_free(v);
	return line;
}

static void test_ok(void **state)
{
	(void)state;
	enum level level;
	char *line = format(
		"{\"level\":\"OK\",\"certs\":1,\"warn_before\":2592000,\"critical_before\":604800,"
		"\"counts\":{\"OK\":1,\"WARNING\":0,\"CRITICAL\":0,\"ERROR\":0},"
		"\"cert_list\":[{\"name\":\"www\",\"cert_level\":\"OK\",\"days_left\":89,"
		"\"names\":[{\"name\":\"www.example.test\",\"level\":\"OK\",\"days_left\":180},"
		"{\"name\":\"*.example.test\",\"level\":\"OK\",\"days_left\":null}]}]}",
		&level);
	assert_int_equal(level, LEVEL_OK);
	assert_string_equal(line, "PERSISTD OK - 1 certs, 0 warning, 0 critical, 0 error | "
				  "'www_cert_days'=89;30;7 'www.example.test_record_days'=180;30;7 "
				  "'*.example.test_record_days'=U;30;7");
	free(line);
}

static void test_problem_and_quoting(void **state)
{
	(void)state;
	enum level level;
	char *line = format(
		"{\"level\":\"ERROR\",\"certs\":2,\"warn_before\":864000,\"critical_before\":86400,"
		"\"counts\":{\"OK\":0,\"WARNING\":1,\"CRITICAL\":0,\"ERROR\":1},"
		"\"cert_list\":[{\"name\":\"it's=x\",\"cert_level\":\"WARNING\","
		"\"cert_level_reason\":\"expires soon\",\"days_left\":3,\"names\":[]},"
		"{\"name\":\"b\",\"cert_level\":\"OK\",\"names\":[{\"name\":\"b.test\","
		"\"level\":\"ERROR\",\"level_reason\":\"no record | at\\nall\",\"days_left\":-2}]}]}",
		&level);
	/* ERROR is CRITICAL for a plugin; the worst problem is named, on one line,
	 * with no '|' before the performance data. */
	assert_int_equal(level, LEVEL_CRITICAL);
	assert_string_equal(line, "PERSISTD CRITICAL - 2 certs, 1 warning, 0 critical, 1 error: "
				  "b.test: no record   at all | 'it''s_x_cert_days'=3;10;1 "
				  "'b_cert_days'=U;10;1 'b.test_record_days'=-2;10;1");
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_problem_and_quoting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
