/* Unit tests for daemon/alert: stable IDs, priorities, the stderr line and
 * the JSON event (the journal path is tested for real in
 * tests/integration/test_systemd_integration.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "common/json.h"
#include "daemon/alert.h"
#include "daemon/log.h"

static void test_ids(void **state)
{
	(void)state;
	/* The IDs are a promise to operators (and the catalog): they never change. */
	assert_string_equal(alert_kind_message_id(ALERT_RECORD_CRITICAL),
			    "d84cf540e9d248bd924f16fee1c0d06e");
	for (int i = 0; i < _ALERT_KIND_MAX; i++) {
		assert_int_equal(strlen(alert_kind_message_id(i)), 32);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(alert_kind_message_id(i), alert_kind_message_id(k));
	}
	assert_int_equal(alert_level_priority(LEVEL_WARNING), LOG_WARNING);
	assert_int_equal(alert_level_priority(LEVEL_CRITICAL), LOG_CRIT);
	assert_int_equal(alert_level_priority(LEVEL_ERROR), LOG_ERR);
}

static void test_json_and_stderr(void **state)
{
	(void)state;
	struct alert a = {
		.kind = ALERT_RECORD_WARNING,
		.level = LEVEL_WARNING,
		.cert = "www",
		.fqdn = "*.example.com",
		.owner = "_validation-persist.example.com",
		.status = "VALID",
		.has_until = true,
		.until = 1800000000 + 20 * 86400,
		.now = 1800000000,
		.message = "www: expires in 20 days",
	};
	char *json = NULL;
	size_t len;
	yajl_val v = NULL;
	int64_t days;

	assert_int_equal(alert_to_json(&a, &json, &len), 0);
	assert_int_equal(json_parse(json, len, 4096, &v, NULL, 0), 0);
	assert_string_equal(json_get_string(v, "kind"), "record-warning");
	assert_string_equal(json_get_string(v, "level"), "WARNING");
	assert_string_equal(json_get_string(v, "fqdn"), "*.example.com");
	assert_true(json_get_int(v, "days_left", &days));
	assert_int_equal(days, 20);
	yajl_tree_free(v);
	free(json);

	/* Without a journal the alert is one line on stderr. */
	log_setup(LOG_TARGET_STDERR, LOG_INFO);
	char *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	FILE *saved = stderr;
	stderr = mem;
	alert_write(&a);
	stderr = saved;
	fclose(mem);
	assert_non_null(strstr(buf, "ALERT WARNING record-warning cert=www fqdn=*.example.com"));
	assert_non_null(strstr(buf, "days_left=20 message_id=ebf9273003b34d988258547cd4899ecc"));
	/* exactly one line */
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_json_and_stderr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
