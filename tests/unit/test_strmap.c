/* Unit tests for common/strmap: behaviour, and that a lookup costs a few
 * probes whatever the number of entries (counted, not timed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/strmap.h"

#define N 20000

static char keys[N][16];

static void test_basic(void **state)
{
	(void)state;
	struct strmap m = { 0 };
	/* The default: a struct keyed by its first member. */
	struct item {
		const char *name;
		int n;
	} a = { "x", 1 }, b = { "x", 2 }, c = { "y", 3 };

	assert_null(strmap_get(&m, "x"));
	assert_null(strmap_remove(&m, "x"));
	assert_int_equal(strmap_add(&m, &a), 0);
	assert_int_equal(strmap_add(&m, &b), -EEXIST);
	assert_int_equal(strmap_add(&m, NULL), -EINVAL);
	assert_ptr_equal(strmap_get(&m, "x"), &a);
	assert_int_equal(strmap_put(&m, &b), 0);
	assert_ptr_equal(strmap_get(&m, "x"), &b);
	assert_int_equal(strmap_put(&m, &c), 0);
	assert_ptr_equal(strmap_get(&m, "y"), &c);
	assert_ptr_equal(strmap_remove(&m, "y"), &c);
	assert_int_equal(strmap_size(&m), 1);
	assert_ptr_equal(strmap_remove(&m, "x"), &b);
	assert_null(strmap_get(&m, "x"));
	assert_int_equal(strmap_size(&m), 0);
	strmap_done(&m);
	strmap_done(&m);
}

/* Many keys, every other one removed, then re-added: every key stays
 * reachable (backward-shift removal keeps probe runs intact), and the
 * average lookup stays a handful of probes at 20,000 entries. */
static void test_many(void **state)
{
	(void)state;
	struct strmap m = { .values_are_keys = true };

	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "c%05zu", i);
		assert_int_equal(strmap_add(&m, keys[i]), 0);
	}
	assert_int_equal(strmap_size(&m), N);
	for (size_t i = 0; i < N; i += 2)
		assert_ptr_equal(strmap_remove(&m, keys[i]), keys[i]);
	assert_int_equal(strmap_size(&m), N / 2);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(strmap_get(&m, keys[i]), i % 2 ? keys[i] : NULL);
	for (size_t i = 0; i < N; i += 2)
		assert_int_equal(strmap_add(&m, keys[i]), 0);
	uint64_t before = m.probes;
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(strmap_get(&m, keys[i]), keys[i]);
	uint64_t per_lookup_x100 = (m.probes - before) * 100 / N;
	/* Linear probing at a load of at most 1/2 expects 1.5 probes per hit;
	 * a linear search would need N/2. */
	assert_true(per_lookup_x100 < 400);
	strmap_done(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
