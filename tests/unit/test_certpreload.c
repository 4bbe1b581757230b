/* Unit tests for daemon/certpreload: every result is its own cert's, in order,
 * on one thread or many, past the ring's length (workers wait for room); a cert
 * with no certificate or one that does not parse is an error in its result
 * only; and a run stopped early ends without hanging or leaking. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "common/workahead.h"
#include "daemon/certpreload.h"
#include "daemon/store.h"
#include "testdata.h"

/* More than WORKAHEAD_SLOTS, so the ring wraps and workers wait for room. */
#define N (WORKAHEAD_SLOTS * 2 + 100)

static char names_buf[N][16];
static const char *names[N];

static void put_current(const char *state_dir, const char *name, unsigned version,
			const char *pem, size_t len)
{
	char p[512], link[64];

	snprintf(p, sizeof(p), "%s/certs/%s/archive/%u", state_dir, name, version);
	assert_int_equal(dir_make_parents(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/certs/%s/archive/%u/fullchain.pem", state_dir, name, version);
	assert_int_equal(file_write_atomic(p, pem, len, 0644), 0);
	snprintf(p, sizeof(p), "%s/certs/%s/current", state_dir, name);
	snprintf(link, sizeof(link), "archive/%u", version);
	assert_int_equal(symlink(link, p), 0);
}

static void check_result(const struct cert_preloaded *p, size_t i)
{
	switch (i % 3) {
	case 0: /* good<i>, stored as version i + 1 */
		assert_int_equal(p->load_r, 0);
		assert_int_equal(p->parse_r, 0);
		assert_true(p->has_version);
		assert_int_equal(p->version, i + 1);
		assert_string_equal(p->info.serial_hex, "87654321");
		break;
	case 1: /* bad<i>: not a certificate */
		assert_int_equal(p->load_r, 0);
		assert_int_equal(p->parse_r, -EINVAL);
		assert_false(p->has_version);
		break;
	default: /* none<i>: nothing stored yet */
		assert_int_equal(p->load_r, -ENOENT);
		break;
	}
}

static void test_preload(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-certpreload-XXXXXX", sub[128], cmd[160];
	struct store *store = NULL;
	char *pem = NULL;
	size_t len = 0;

	alarm(60); /* a lost wake-up hangs; SIGALRM fails the test instead */
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	assert_int_equal(store_open(sub, &store), 0);
	assert_int_equal(testdata_read("chain-ari.pem", &pem, &len), 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(names_buf[i], sizeof(names_buf[i]), "%s%zu",
			 i % 3 == 0 ? "good" : i % 3 == 1 ? "bad" : "none", i);
		names[i] = names_buf[i];
		if (i % 3 == 0)
			put_current(sub, names[i], (unsigned)i + 1, pem, len);
		else if (i % 3 == 1)
			put_current(sub, names[i], 1, "garbage\n", 8);
	}

	const unsigned threads[] = { 1, 4, 16 };
	for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		struct certpreload *pre = NULL;
		assert_int_equal(certpreload_start(store, names, N, threads[t], &pre), 0);
		for (size_t i = 0; i < N; i++) {
			const struct cert_preloaded *p = certpreload_next(pre);
			assert_non_null(p);
			check_result(p, i);
		}
		assert_null(certpreload_next(pre));
		certpreload_finish(pre);
	}

	/* Stopped early: after some results, with workers waiting for room. */
	struct certpreload *pre = NULL;
	assert_int_equal(certpreload_start(store, names, N, 4, &pre), 0);
	for (size_t i = 0; i < 10; i++)
		check_result(certpreload_next(pre), i);
	usleep(200 * 1000);
	certpreload_finish(pre);
	assert_int_equal(certpreload_start(store, names, N, 4, &pre), 0);
	certpreload_finish(pre);

	/* Nothing to read. */
	assert_int_equal(certpreload_start(store, names, 0, 4, &pre), 0);
	assert_null(certpreload_next(pre));
	certpreload_finish(pre);

	struct cert_preloaded one;
	certpreload_one(store, "good3", &one);
	check_result(&one, 3);
	x509_info_done(&one.info);
	alarm(0);

	free(pem);
	store_free(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
