/* Unit tests for daemon/heaptrim: memory freed in the middle of the heap, which glibc
 * keeps resident by itself, leaves the process's RSS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/heaptrim.h"

static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_gives_freed_heap_back(void **state)
{
	(void)state;
#ifdef __SANITIZE_ADDRESS__
	skip(); /* ASan's allocator is not glibc's: there is nothing of glibc's to give back */
#endif
	enum { N = 40000, SIZE = 1000, KEEP_EVERY = 64 };
	char **p = calloc(N, sizeof(*p));

	assert_non_null(p);
	for (size_t i = 0; i < N; i++) {
		p[i] = malloc(SIZE);
		assert_non_null(p[i]);
		memset(p[i], 0x5a, SIZE);
	}
	/* Holes of 63 KB between chunks still in use, and the last one kept, so that no
	 * free() can shrink the heap from its top. */
	for (size_t i = 0; i < N; i++)
		if (i % KEEP_EVERY != 0 && i != N - 1) {
			free(p[i]);
			p[i] = NULL;
		}
	long before = rss_kb();
	heaptrim_release();
	long after = rss_kb();
	/* 40 MB were allocated and about 39 MB freed. */
	assert_true(after < before - 20 * 1024);
	for (size_t i = 0; i < N; i++)
		free(p[i]);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gives_freed_heap_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
