/* Unit tests for common/arena: memory handed out in order, freed all at once. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/arena.h"

static void test_copies_stay(void **state)
{
	struct arena a = { 0 };
	char *copies[5000];
	char want[64];

	(void)state;
	/* Many blocks' worth: every copy stays where it was, unchanged. */
	for (int i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "/etc/persistd/certs.d/c%05d.conf", i);
		copies[i] = arena_strdup(&a, want);
		assert_non_null(copies[i]);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "/etc/persistd/certs.d/c%05d.conf", i);
		assert_string_equal(copies[i], want);
	}
	/* Packed: 5000 copies of 34 bytes, and at most one block not yet full. */
	assert_true(arena_bytes(&a) >= 5000 * 34);
	assert_true(arena_bytes(&a) <= 5000 * 34 + 64 * 1024);
	arena_done(&a);
	assert_null(a.head);
	/* Empty again, and usable again. */
	assert_string_equal(arena_strdup(&a, "again"), "again");
	arena_done(&a);
}

static void test_alignment_and_sizes(void **state)
{
	struct arena a = { 0 };

	(void)state;
	for (int i = 0; i < 1000; i++) {
		size_t align = (size_t)1 << (i % 5); /* 1 .. 16 */
		unsigned char *p = arena_alloc(&a, (size_t)(i % 37), align);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % align, 0);
		memset(p, 0xab, (size_t)(i % 37));
	}
	/* A request larger than any block gets one of its own; the small ones go on. */
	unsigned char *big = arena_alloc(&a, 300000, 8);
	assert_non_null(big);
	memset(big, 1, 300000);
	char *small = arena_strdup(&a, "after the big one");
	assert_string_equal(small, "after the big one");
	assert_int_equal(big[299999], 1);
	/* Alignments it cannot promise are refused. */
	assert_null(arena_alloc(&a, 8, 3));
	assert_null(arena_alloc(&a, 8, 0));
	assert_null(arena_alloc(&a, 8, 2 * alignof(max_align_t)));
	assert_null(arena_alloc(&a, SIZE_MAX - 8, 1));
	arena_done(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies_stay),
		cmocka_unit_test(test_alignment_and_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
