/* Unit tests for daemon/fsperm: the exact temp-file pattern it removes, and
 * one pass over a small state directory (modes fixed, keys refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "daemon/fsperm.h"
#include "daemon/log.h"

static void test_temp_names(void **state)
{
	(void)state;
	assert_true(fsperm_is_temp_name("privkey.pem.tmp.abc123"));
	assert_true(fsperm_is_temp_name("account.key.next.tmp.ZZZZZZ"));
	assert_true(fsperm_is_temp_name("state.json.tmp.0a1B2c"));
	assert_true(fsperm_is_temp_name("domains.tmp.0a1B2c"));
	assert_false(fsperm_is_temp_name("privkey.pem.tmp.abc12"));
	assert_false(fsperm_is_temp_name("privkey.pem.tmp.abc1234"));
	assert_false(fsperm_is_temp_name("privkey.pem.tmp.ab-123"));
	assert_false(fsperm_is_temp_name("notes.tmp.abc123"));
	assert_false(fsperm_is_temp_name("xprivkey.pem.tmp.abc123"));
	assert_false(fsperm_is_temp_name(".tmp.abc123"));
	assert_false(fsperm_is_temp_name("privkey.pem"));
	assert_false(fsperm_is_temp_name(""));
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_tidy(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fsperm-XXXXXX", p[256], q[256];

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/accounts/ca", dir);
	assert_int_equal(dir_make_parents(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/accounts/ca/account.key", dir);
	assert_int_equal(file_write_atomic(p, "k", 1, 0644), 0);
	snprintf(q, sizeof(q), "%s/accounts/ca/account.key.tmp.abc123", dir);
	assert_int_equal(file_write_atomic(q, "t", 1, 0600), 0);
	assert_int_equal(chmod(dir, 0777), 0);

	assert_int_equal(fsperm_tidy(dir), 0);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(p), 0600);
	snprintf(p, sizeof(p), "%s/accounts/ca", dir);
	assert_int_equal(mode_of(p), 0700);
	assert_int_equal(access(q, F_OK), -1);

	/* Writable by others: refused, and left as it was. */
	snprintf(p, sizeof(p), "%s/accounts/ca/account.key", dir);
	assert_int_equal(chmod(p, 0606), 0);
	assert_int_equal(fsperm_tidy(dir), -EPERM);
	assert_int_equal(mode_of(p), 0606);

	/* A link where the key belongs. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/dev/null", p), 0);
	assert_int_equal(fsperm_tidy(dir), -EPERM);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(fsperm_tidy(dir), 0);

	/* A missing state directory is the caller's error, not a refusal. */
	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(fsperm_tidy(p), -ENOENT);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* The levels below certs/: what a cert directory holds, as the store lays it out. */
static void test_tidy_cert_dirs(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fsperm-XXXXXX", p[256], q[256], r[256];

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/certs/www/archive/1", dir);
	assert_int_equal(dir_make_parents(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/certs/www/archive/1/privkey.pem", dir);
	assert_int_equal(file_write_atomic(p, "k", 1, 0644), 0);
	snprintf(q, sizeof(q), "%s/certs/www/archive/1/privkey.pem.tmp.Zz09aB", dir);
	assert_int_equal(file_write_atomic(q, "t", 1, 0600), 0);
	snprintf(r, sizeof(r), "%s/certs/www/current.tmp", dir);
	assert_int_equal(symlink("archive/1", r), 0);

	assert_int_equal(fsperm_tidy(dir), 0);
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(access(q, F_OK), -1);
	assert_int_equal(faccessat(AT_FDCWD, r, F_OK, AT_SYMLINK_NOFOLLOW), -1);
	snprintf(q, sizeof(q), "%s/certs/www/archive/1", dir);
	assert_int_equal(mode_of(q), 0700);
	snprintf(q, sizeof(q), "%s/certs/www/archive", dir);
	assert_int_equal(mode_of(q), 0700);

	/* A FIFO where the key belongs: refused, never opened for reading. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(fsperm_tidy(dir), -EPERM);
	assert_int_equal(unlink(p), 0);

	/* A link in the place of a version directory. */
	snprintf(q, sizeof(q), "%s/certs/www/archive/2", dir);
	assert_int_equal(symlink("/tmp", q), 0);
	assert_int_equal(fsperm_tidy(dir), -EPERM);
	assert_int_equal(unlink(q), 0);
	assert_int_equal(fsperm_tidy(dir), 0);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* The thread returns what the walk found: a repair, a refusal, a missing directory. */
static void test_tidy_on_thread(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fsperm-XXXXXX", p[256];
	struct fsperm_job *job = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/certs/www", dir);
	assert_int_equal(dir_make_parents(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/certs/www/pending.key", dir);
	assert_int_equal(file_write_atomic(p, "k", 1, 0640), 0);
	assert_int_equal(fsperm_tidy_start(dir, &job), 0);
	assert_int_equal(fsperm_tidy_wait(job), 0);
	assert_int_equal(mode_of(p), 0600);

	assert_int_equal(chmod(p, 0620), 0);
	assert_int_equal(fsperm_tidy_start(dir, &job), 0);
	assert_int_equal(fsperm_tidy_wait(job), -EPERM);
	assert_int_equal(mode_of(p), 0620);

	snprintf(p, sizeof(p), "%s/missing", dir);
	assert_int_equal(fsperm_tidy_start(p, &job), 0);
	assert_int_equal(fsperm_tidy_wait(job), -ENOENT);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* Many certs: the thread and the waiting caller share certs/; every loose key
 * is repaired and every refusal counted, whoever took its directory. */
static void test_tidy_shared_walk(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-fsperm-XXXXXX", p[256];
	struct fsperm_job *job = NULL;
	enum { N = 3000 };

	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "%s/certs/c%04d/archive/1", dir, i);
		assert_int_equal(dir_make_parents(p, 0755), 0);
		snprintf(p, sizeof(p), "%s/certs/c%04d/archive/1/privkey.pem", dir, i);
		assert_int_equal(file_write_atomic(p, "k", 1, 0640), 0);
	}
	assert_int_equal(fsperm_tidy_start(dir, &job), 0);
	assert_int_equal(fsperm_tidy_wait(job), 0);
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "%s/certs/c%04d/archive/1/privkey.pem", dir, i);
		assert_int_equal(mode_of(p), 0600);
		snprintf(p, sizeof(p), "%s/certs/c%04d/archive", dir, i);
		assert_int_equal(mode_of(p), 0700);
	}

	/* Two refusals at either end of the listing. */
	snprintf(p, sizeof(p), "%s/certs/c0000/archive/1/privkey.pem", dir);
	assert_int_equal(chmod(p, 0660), 0);
	snprintf(p, sizeof(p), "%s/certs/c%04d/archive/1/privkey.pem", dir, N - 1);
	assert_int_equal(chmod(p, 0606), 0);
	assert_int_equal(fsperm_tidy_start(dir, &job), 0);
	assert_int_equal(fsperm_tidy_wait(job), -EPERM);
	assert_int_equal(mode_of(p), 0606);
	assert_int_equal(fsperm_tidy(dir), -EPERM);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_temp_names),
		cmocka_unit_test(test_tidy),
		cmocka_unit_test(test_tidy_cert_dirs),
		cmocka_unit_test(test_tidy_on_thread),
		cmocka_unit_test(test_tidy_shared_walk),
	};
	log_setup(LOG_TARGET_STDERR, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
