/* Unit tests for common/listen: the http_listen address syntax. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>
#include <cmocka.h>

#include "common/listen.h"

static void test_good(void **state)
{
	(void)state;
	struct listen_addr a;
	char why[200];

	assert_int_equal(listen_addr_parse("127.0.0.1:9108", &a, why, sizeof(why)), 0);
	assert_int_equal(a.sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&a.sa)->sin_port), 9108);
	assert_true(a.is_loopback);
	assert_false(a.is_unix);
	assert_int_equal(listen_addr_parse("127.8.9.10:1", &a, why, sizeof(why)), 0);
	assert_true(a.is_loopback);
	assert_int_equal(listen_addr_parse("192.0.2.7:65535", &a, why, sizeof(why)), 0);
	assert_false(a.is_loopback);
	assert_int_equal(listen_addr_parse("0.0.0.0:80", &a, why, sizeof(why)), 0);
	assert_false(a.is_loopback);
	assert_int_equal(listen_addr_parse("[::1]:9108", &a, why, sizeof(why)), 0);
	assert_int_equal(a.sa.ss_family, AF_INET6);
	assert_true(a.is_loopback);
	assert_int_equal(listen_addr_parse("[::]:9108", &a, why, sizeof(why)), 0);
	assert_false(a.is_loopback);
	assert_int_equal(listen_addr_parse("[::ffff:127.0.0.1]:9108", &a, why, sizeof(why)), 0);
	assert_true(a.is_loopback);
	assert_int_equal(listen_addr_parse("/run/persistd/http.sock", &a, why, sizeof(why)), 0);
	assert_true(a.is_unix && a.is_loopback);
	assert_string_equal(a.path, "/run/persistd/http.sock");
	assert_string_equal(((struct sockaddr_un *)&a.sa)->sun_path, "/run/persistd/http.sock");
}

static void test_bad(void **state)
{
	(void)state;
	struct listen_addr a;
	char why[200];
	char longpath[200];
	const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x",
		"localhost:80", "::1:80", "[::1]", "[::1]80", "[127.0.0.1]:80", "[zz]:80",
		"relative/path", "1.2.3.4:-1", "1.2.3.4: 80",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(listen_addr_parse(bad[i], &a, why, sizeof(why)), -EINVAL);
		assert_true(strlen(why) > 0);
	}
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(listen_addr_parse(longpath, &a, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
