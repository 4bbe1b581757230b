/* Unit tests for common/fileio: bounded reads, atomic writes with modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"

static void test_read_write(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fileio-XXXXXX", path[128], cmd[160];
	char *text = NULL;
	size_t len;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(dir_make_parents(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	snprintf(path, sizeof(path), "%s/secret", dir);
	assert_int_equal(file_write_atomic(path, "key", 3, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(file_read_bounded(path, 3, &text, &len), 0);
	assert_string_equal(text, "key");
	free(text);
	assert_int_equal(file_read_bounded(path, 2, &text, &len), -E2BIG);
	/* fstat() says 0 for /proc's files: they are read to the end all the same. */
	assert_int_equal(file_read_bounded("/proc/self/status", 65536, &text, &len), 0);
	assert_true(len > 100 && strlen(text) == len && strstr(text, "\nPid:"));
	free(text);
	/* Replacing keeps the new mode and leaves no temp file behind. */
	assert_int_equal(file_write_atomic(path, "new key", 7, 0640), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(cmd, sizeof(cmd), "test $(ls '%s' | wc -l) -eq 2", dir);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(file_read_bounded(dir, 100, &text, &len), -EISDIR);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(file_read_bounded(path, 100, &text, &len), -ENOENT);
	assert_int_equal(file_read_bounded("/dev/null", 100, &text, &len), -EINVAL);
	snprintf(path, sizeof(path), "%s/nodir/x", dir);
	assert_int_equal(file_write_atomic(path, "x", 1, 0600), -ENOENT);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* The batch variant (one directory fsync for several files, by the caller):
 * the same content, mode and atomic replacement, no temp file left, and the
 * same errors. */
static void test_write_batch(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fileio-XXXXXX", path[128], cmd[160];
	char *text = NULL;
	size_t len;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/privkey.pem", dir);
	assert_int_equal(file_write_atomic_batch(path, "old", 3, 0600), 0);
	assert_int_equal(file_write_atomic_batch(path, "new key", 7, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(file_read_bounded(path, 100, &text, &len), 0);
	assert_string_equal(text, "new key");
	free(text);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	assert_int_equal(file_write_atomic_batch(path, "cert", 4, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(dir_fsync(dir), 0);
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 2", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/nodir/x", dir);
	assert_int_equal(file_write_atomic_batch(path, "x", 1, 0600), -ENOENT);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A new file only: an existing one is never replaced, and no temp file stays. */
static void test_write_new(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fileio-XXXXXX", path[128], cmd[160];
	char *text = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/www.conf", dir);
	assert_int_equal(file_write_atomic_new(path, "first", 5, 0644), 0);
	assert_int_equal(file_write_atomic_new(path, "second", 6, 0644), -EEXIST);
	assert_int_equal(file_read_bounded(path, 100, &text, &len), 0);
	assert_string_equal(text, "first");
	free(text);
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A FIFO without a writer blocks a plain open(): reads must refuse it at once. */
static void test_read_refuses_fifo(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fileio-XXXXXX", path[128];
	char *text = NULL;
	size_t len;
	struct stat st;

	alarm(10); /* a regression hangs in open(); SIGALRM fails it instead */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(file_read_bounded(path, 100, &text, &len), -EINVAL);
	assert_int_equal(file_read_bounded_stat(path, 100, &text, &len, &st), -EINVAL);
	assert_true(S_ISFIFO(st.st_mode));
	assert_string_equal(file_type_name(st.st_mode), "fifo");
	assert_int_equal(file_open_regular(path, NULL), -EINVAL);
	alarm(0);

	/* A regular file's fd is blocking again for its reader. */
	snprintf(path, sizeof(path), "%s/file", dir);
	assert_int_equal(file_write_atomic(path, "x", 1, 0600), 0);
	int fd = file_open_regular(path, &st);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);

	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_write_batch),
		cmocka_unit_test(test_write_new),
		cmocka_unit_test(test_read_refuses_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
