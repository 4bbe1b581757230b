/* Unit tests for common/hostport: check_served's HOST:PORT. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/hostport.h"

static void test_good(void **state)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
	} cases[] = {
		{ "www.example.com:443", "www.example.com", 443 },
		{ "127.0.0.1:8443", "127.0.0.1", 8443 },
		{ "[::1]:25", "::1", 25 },
		{ "[fe80::1%eth0]:993", "fe80::1%eth0", 993 },
		{ "mail_relay.internal:65535", "mail_relay.internal", 65535 },
		{ "a:1", "a", 1 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *host = NULL;
		uint16_t port = 0;
		assert_int_equal(hostport_parse(cases[i].in, &host, &port, NULL), 0);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
		free(host);
	}
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"www.example.com", "www.example.com:", ":443", "host:0", "host:65536",
		"host:99999999999999999999", "host:44x", "host:-1", "::1:443", "[::1]443",
		"[::1:443", "[]:443", "ho st:443", "host/x:443", "-host:443", ".host:443",
		"host:+443", "[::1]:", "",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *host = (char *)"untouched";
		uint16_t port = 7;
		const char *why = NULL;
		assert_int_equal(hostport_parse(bad[i], &host, &port, &why), -EINVAL);
		assert_non_null(why);
		assert_string_equal(host, "untouched");
		assert_int_equal(port, 7);
	}
}

static void test_long_host(void **state)
{
	char s[400];
	char *host = NULL;
	uint16_t port;

	(void)state;
	memset(s, 'a', 300);
	strcpy(s + 300, ":443");
	assert_int_equal(hostport_parse(s, &host, &port, NULL), -E2BIG);
	assert_null(host);
	memset(s, 'a', 253);
	strcpy(s + 253, ":443");
	assert_int_equal(hostport_parse(s, &host, &port, NULL), 0);
	assert_int_equal(strlen(host), 253);
	free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
