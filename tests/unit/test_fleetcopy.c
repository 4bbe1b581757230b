/* Unit tests for daemon/fleetcopy's choice between two versions of a cert: the later
 * notAfter wins; on a tie (two renewals within one second) the one that replaced the other
 * here, else the stored one, so every host converges on one version and none moves to an
 * earlier notAfter; and fleetcopy_replaced_here on a real files store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/key.h"
#include "common/x509.h"
#include "daemon/fleetcopy.h"
#include "daemon/store.h"
#include "tests/unit/testdata.h"

static void test_stored_wins(void **state)
{
	(void)state;
	/* Nothing here yet: anything stored wins; nothing stored never does. */
	assert_true(fleetcopy_stored_wins("0a", 100, NULL, 0, false));
	assert_false(fleetcopy_stored_wins(NULL, 100, NULL, 0, false));
	assert_false(fleetcopy_stored_wins("", 100, "0a", 50, false));
	/* The same version: nothing to do. */
	assert_false(fleetcopy_stored_wins("0a", 100, "0a", 100, false));
	/* Later, and a tie: the stored one; earlier: never. */
	assert_true(fleetcopy_stored_wins("0b", 200, "0a", 100, false));
	assert_true(fleetcopy_stored_wins("0b", 100, "0a", 100, false));
	assert_false(fleetcopy_stored_wins("0b", 99, "0a", 100, false));
	/* A tie with a stored version this host replaced (an order that finished while the
	 * database was away, within the second of the version before it): the local one. */
	assert_false(fleetcopy_stored_wins("0b", 100, "0a", 100, true));
	/* A later stored version wins whatever this host replaced. */
	assert_true(fleetcopy_stored_wins("0b", 101, "0a", 100, true));
}

static void test_local_wins(void **state)
{
	(void)state;
	assert_true(fleetcopy_local_wins("0a", 100, NULL, 0, false));
	assert_false(fleetcopy_local_wins(NULL, 0, "0a", 100, false));
	assert_false(fleetcopy_local_wins("0a", 100, "0a", 100, false));
	assert_true(fleetcopy_local_wins("0b", 200, "0a", 100, false));
	/* A tie is the database's: the host that has the other one installs the stored one. */
	assert_false(fleetcopy_local_wins("0b", 100, "0a", 100, false));
	assert_false(fleetcopy_local_wins("0b", 99, "0a", 100, false));
	assert_true(fleetcopy_local_wins("0b", 100, "0a", 100, true));
	assert_false(fleetcopy_local_wins("0b", 99, "0a", 100, true));
	/* Never both: the two sides agree on every pair. */
	const char *serials[] = { "0a", "0b" };
	const int64_t times[] = { 99, 100, 101 };
	for (int replaced = 0; replaced < 2; replaced++)
		for (size_t a = 0; a < 2; a++)
			for (size_t b = 0; b < 2; b++)
				for (size_t i = 0; i < 3; i++)
					for (size_t k = 0; k < 3; k++)
						assert_false(
							fleetcopy_stored_wins(serials[a], times[i],
									      serials[b], times[k],
									      replaced) &&
							fleetcopy_local_wins(serials[b], times[k],
									     serials[a], times[i],
									     replaced));
}

static char *serial_of(const char *crt, size_t len)
{
	struct x509_info info;
	assert_int_equal(x509_parse_leaf(crt, len, &info), 0);
	char *serial = info.serial_hex;
	info.serial_hex = NULL;
	x509_info_done(&info);
	return serial;
}

/* Version 1 then version 2 installed here: version 1 was replaced here, the current one
 * was not, nor is anything this host never had; nothing is before a first version. */
static void test_replaced_here(void **state)
{
	char dir[64], sub[80], cmd[96], *pem, *crt_a, *crt_b;
	size_t len, len_a, len_b;
	struct key *ka, *kb;
	struct store *s;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/persistd-fleetcopy-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	assert_int_equal(store_open(sub, &s), 0);
	assert_int_equal(testdata_read("store-a.key", &pem, &len), 0);
	assert_int_equal(key_load_pem(pem, len, &ka), 0);
	free(pem);
	assert_int_equal(testdata_read("store-b.key", &pem, &len), 0);
	assert_int_equal(key_load_pem(pem, len, &kb), 0);
	free(pem);
	assert_int_equal(testdata_read("store-a.crt", &crt_a, &len_a), 0);
	assert_int_equal(testdata_read("store-b.crt", &crt_b, &len_b), 0);
	char *serial_a = serial_of(crt_a, len_a), *serial_b = serial_of(crt_b, len_b);
	struct fleetcopy fc = { .store = s };

	assert_false(fleetcopy_replaced_here(&fc, "www", serial_a));
	assert_int_equal(store_cert_install(s, "www", ka, crt_a, len_a, "", 0, NULL), 0);
	assert_false(fleetcopy_replaced_here(&fc, "www", serial_a));
	assert_int_equal(store_cert_install(s, "www", kb, crt_b, len_b, "", 0, NULL), 0);
	assert_true(fleetcopy_replaced_here(&fc, "www", serial_a));
	assert_false(fleetcopy_replaced_here(&fc, "www", serial_b));
	assert_false(fleetcopy_replaced_here(&fc, "www", "0123"));
	assert_false(fleetcopy_replaced_here(&fc, "other", serial_a));
	assert_false(fleetcopy_replaced_here(&fc, "www", NULL));

	free(serial_a);
	free(serial_b);
	free(crt_a);
	free(crt_b);
	key_free(ka);
	key_free(kb);
	store_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stored_wins),
		cmocka_unit_test(test_local_wins),
		cmocka_unit_test(test_replaced_here),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
