/* Unit tests for daemon/archive: archive_keep's pruning on a real temp directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/archive.h"

static void touch(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void make_version(const char *archive, unsigned n)
{
	char d[512];
	snprintf(d, sizeof(d), "%s/%u", archive, n);
	assert_int_equal(mkdir(d, 0700), 0);
	static const char *const files[] = { "privkey.pem", "cert.pem", "chain.pem",
					     "fullchain.pem", "domains" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(d, files[i]);
}

static bool exists(const char *archive, const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", archive, rel);
	return stat(p, &st) == 0;
}

static void test_prune(void **state)
{
	char dir[] = "/tmp/test_archive.XXXXXX";
	unsigned *v = NULL, pruned = 99;
	size_t n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (unsigned i = 1; i <= 7; i++)
		make_version(dir, i);
	touch(dir, "09");        /* not a version: a leading zero */
	touch(dir, "notes");     /* not a version */
	assert_int_equal(mkdir(strcat(strcpy((char[600]){ 0 }, dir), "/8x"), 0700), 0);

	assert_int_equal(archive_versions(dir, &v, &n), 0);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], i + 1);
	free(v);

	/* keep 0: everything stays, as certbot keeps it. */
	assert_int_equal(archive_prune(dir, 0, NULL, 0, &pruned), 0);
	assert_int_equal(pruned, 0);
	assert_true(exists(dir, "1/privkey.pem"));

	/* keep 2 newest (6, 7), and protect 3 (a deploy runs on it) and 7. */
	unsigned protect[] = { 7, 3 };
	assert_int_equal(archive_prune(dir, 2, protect, 2, &pruned), 0);
	assert_int_equal(pruned, 4);
	assert_int_equal(archive_versions(dir, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 3);
	assert_int_equal(v[1], 6);
	assert_int_equal(v[2], 7);
	free(v);
	assert_false(exists(dir, "1"));
	assert_true(exists(dir, "3/privkey.pem"));
	assert_true(exists(dir, "notes") && exists(dir, "09") && exists(dir, "8x"));

	/* A version holding a directory cannot go whole: its key goes, the rest stays,
	 * and the error is reported while the others are still pruned. */
	assert_int_equal(mkdir(strcat(strcpy((char[600]){ 0 }, dir), "/3/sub"), 0700), 0);
	assert_int_equal(archive_prune(dir, 1, NULL, 0, &pruned), -EISDIR);
	assert_int_equal(pruned, 1);
	assert_false(exists(dir, "3/privkey.pem"));
	assert_true(exists(dir, "3/sub"));
	assert_false(exists(dir, "6"));
	assert_true(exists(dir, "7/privkey.pem"));

	assert_int_equal(archive_versions("/nonexistent/archive", &v, &n), -ENOENT);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
