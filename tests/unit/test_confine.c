/* Unit tests for daemon/confine: Landlock keeps a process (and its children) out of one
 * directory while the rest of the file system works as before, and the signer's seccomp
 * filter kills a forbidden system call. Each case runs in a forked child, since both are
 * irreversible. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/confine.h"

static char base[64];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool can_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The child's checks; its exit code is the number of the first one that failed. */
static int confined_checks(const char *keydir)
{
	char p[256];

	if (confine_loop_away_from(keydir) < 0)
		return 1;
	snprintf(p, sizeof(p), "%s/account.key", keydir);
	if (can_read(p) || errno != EACCES)
		return 2; /* the key */
	snprintf(p, sizeof(p), "%s/sibling/file", base);
	if (!can_read(p))
		return 3; /* beside the key's path: as before */
	snprintf(p, sizeof(p), "%s/state/certs/x.pem", base);
	if (!can_read(p))
		return 4;
	if (!can_read("/etc/hostname") && !can_read("/etc/passwd"))
		return 5; /* the rest of the system */
	snprintf(p, sizeof(p), "%s/state/new.json", base);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "{}", 2) != 2)
		return 6; /* a new file beside the key directory: writable... */
	close(fd);
	if (can_read(p))
		return 7; /* ...but not readable */
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return 9; /* ...and it may be written over, as a hook's `> file` does */
	close(fd);
	/* A child (a hook) inherits it all. */
	pid_t c = fork();
	if (c == 0) {
		snprintf(p, sizeof(p), "%s/account.key", keydir);
		_exit(can_read(p) ? 1 : 0);
	}
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 8;
	return 0;
}

static void test_landlock(void **state)
{
	char p[256], keydir[128];

	(void)state;
	if (confine_landlock_abi() < 0)
		skip(); /* this kernel has no Landlock: the daemon warns and goes on */
	snprintf(base, sizeof(base), "/tmp/persistd-confine-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(keydir, sizeof(keydir), "%s/state/accounts", base);
	snprintf(p, sizeof(p), "%s/state", base);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(mkdir(keydir, 0700), 0);
	snprintf(p, sizeof(p), "%s/state/certs", base);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sibling", base);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/account.key", keydir);
	put(p, "secret");
	snprintf(p, sizeof(p), "%s/state/certs/x.pem", base);
	put(p, "public");
	snprintf(p, sizeof(p), "%s/sibling/file", base);
	put(p, "public");

	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0)
		_exit(confined_checks(keydir));
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* This process is not confined. */
	snprintf(p, sizeof(p), "%s/account.key", keydir);
	assert_true(can_read(p));
	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	assert_int_equal(system(p), 0);
}

static void test_seccomp_kills(void **state)
{
	(void)state;
	pid_t c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		if (confine_signer_seccomp() < 0)
			_exit(1);
		if (write(2, "", 0) < 0) /* allowed */
			_exit(2);
		(void)socket(AF_INET, SOCK_STREAM, 0); /* not allowed: killed here */
		_exit(3);
	}
	int st;
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_landlock),
		cmocka_unit_test(test_seccomp_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
