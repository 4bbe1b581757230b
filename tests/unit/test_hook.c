/* Unit tests for daemon/hook: real children on a real loop. Every way a
 * hook ends gives its own result (success, a status, a signal, the timeout,
 * a stop), the output reaches the log and the tail, the environment gets
 * the extra entries, stdin is /dev/null, nothing of the daemon's but
 * stdout and stderr is open in the child, and a timeout kills the hook's
 * whole process group, not just the hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/hook.h"

struct outcome {
	bool done;
	int r;
	char message[256];
	char tail[2048];
};

static void on_done(int r, const char *message, const char *err_tail, void *userdata)
{
	struct outcome *o = userdata;

	o->done = true;
	o->r = r;
	snprintf(o->message, sizeof(o->message), "%s", message);
	snprintf(o->tail, sizeof(o->tail), "%s", err_tail);
}

/* Runs sh -c script to its report. */
static int run_script(const char *script, const char *const *env, uint64_t timeout_ms,
		      struct outcome *o)
{
	uv_loop_t loop;
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	memset(o, 0, sizeof(*o));
	assert_int_equal(uv_loop_init(&loop), 0);
	int r = hook_run(&loop, argv, env, timeout_ms, "test hook", on_done, o, NULL);
	if (r == 0) {
		assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
		assert_true(o->done);
	} else {
		assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
		assert_false(o->done);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
	return r;
}

static void test_success_and_tail(void **state)
{
	(void)state;
	struct outcome o;

	assert_int_equal(run_script("echo to-stdout; echo first >&2; echo second >&2", NULL, 5000,
				    &o),
			 0);
	assert_int_equal(o.r, 0);
	assert_string_equal(o.message, "succeeded");
	assert_string_equal(o.tail, "first\nsecond");
}

static void test_status_and_signal(void **state)
{
	(void)state;
	struct outcome o;

	assert_int_equal(run_script("echo why >&2; exit 7", NULL, 5000, &o), 0);
	assert_int_equal(o.r, -ECHILD);
	assert_string_equal(o.message, "exited with status 7");
	assert_string_equal(o.tail, "why");

	assert_int_equal(run_script("kill -KILL $$", NULL, 5000, &o), 0);
	assert_int_equal(o.r, -ECHILD);
	assert_non_null(strstr(o.message, "killed by signal"));
}

/* A daemon started with SIGCHLD ignored (inherited through exec) still
 * learns how its hooks ended. */
static void test_sigchld_ignored_at_start(void **state)
{
	(void)state;
	struct outcome o;

	assert_true(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	assert_int_equal(run_script("exit 7", NULL, 5000, &o), 0);
	assert_string_equal(o.message, "exited with status 7");
	assert_true(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
}

/* The extra entries are there, beside the daemon's environment; stdin
 * reads as empty at once. */
static void test_environment_and_stdin(void **state)
{
	(void)state;
	struct outcome o;
	const char *env[] = { "PERSISTD_TEST_EXTRA=yes", NULL };

	assert_int_equal(setenv("PERSISTD_TEST_INHERITED", "also", 1), 0);
	assert_int_equal(run_script("test \"$PERSISTD_TEST_EXTRA\" = yes || exit 3; "
				    "test \"$PERSISTD_TEST_INHERITED\" = also || exit 4; "
				    "test -z \"$(cat)\" || exit 5",
				    env, 5000, &o),
			 0);
	assert_string_equal(o.message, "succeeded");
	unsetenv("PERSISTD_TEST_INHERITED");
}

/* A descriptor the daemon holds without O_CLOEXEC still does not reach
 * the hook: only 0, 1 and 2 are open in it. */
static void test_only_stdio_open(void **state)
{
	(void)state;
	struct outcome o;
	int leaked = open("/dev/null", O_RDONLY); /* no O_CLOEXEC, on purpose */
	char script[256];

	assert_true(leaked > 2);
	snprintf(script, sizeof(script),
		 "for fd in /proc/self/fd/*; do n=${fd##*/}; "
		 "case $n in 0|1|2) ;; *) [ -e /proc/$$/fd/$n ] && echo open $n >&2;; esac; done; "
		 "[ -e /proc/$$/fd/%d ] && exit 9; exit 0",
		 leaked);
	assert_int_equal(run_script(script, NULL, 5000, &o), 0);
	close(leaked);
	if (o.r != 0)
		fail_msg("%s: %s", o.message, o.tail);
}

/* The timeout ends the hook and what it started in the background. */
static void test_timeout_kills_the_group(void **state)
{
	(void)state;
	struct outcome o;
	char dir[] = "/tmp/test_hook.XXXXXX", script[512], pidfile[64];

	assert_non_null(mkdtemp(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	snprintf(script, sizeof(script),
		 "sleep 60 </dev/null >/dev/null 2>&1 & echo $! > %s; sleep 60", pidfile);
	assert_int_equal(run_script(script, NULL, 300, &o), 0);
	assert_int_equal(o.r, -ETIMEDOUT);
	assert_string_equal(o.message, "killed after its timeout");

	FILE *f = fopen(pidfile, "r");
	int pid = 0;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	/* The background sleep is its own child's: it is gone or a zombie of
	 * a dead parent (reaped by init). Either way it no longer runs. */
	for (int i = 0; i < 100; i++) {
		char stat[64], buf[256] = "";
		snprintf(stat, sizeof(stat), "/proc/%d/stat", pid);
		FILE *s = fopen(stat, "r");
		if (!s)
			break;
		size_t n = fread(buf, 1, sizeof(buf) - 1, s);
		fclose(s);
		buf[n] = '\0';
		char *paren = strrchr(buf, ')');
		if (paren && paren[1] == ' ' && paren[2] == 'Z')
			break;
		if (i == 99)
			fail_msg("the hook's background child %d still runs", pid);
		usleep(20 * 1000);
	}
	unlink(pidfile);
	rmdir(dir);
}

/* A program that cannot be run: hook_run() says why. (Under valgrind,
 * which runs posix_spawn's vfork as a fork, the exec's error cannot come
 * back; then the child exits 127, as a shell's does.) */
static void test_missing_program(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct outcome o = { 0 };
	const char *argv[] = { "/nonexistent/hook", "set", NULL };

	assert_int_equal(uv_loop_init(&loop), 0);
	int r = hook_run(&loop, argv, NULL, 1000, "test hook", on_done, &o, NULL);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	if (r == 0) {
		assert_true(o.done);
		assert_string_equal(o.message, "exited with status 127");
	} else {
		assert_int_equal(r, -ENOENT);
		assert_false(o.done);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Many at once, all reported once. */
static void test_many_at_once(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct outcome o[40];
	char scripts[40][32];

	memset(o, 0, sizeof(o));
	assert_int_equal(uv_loop_init(&loop), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(scripts[i], sizeof(scripts[i]), "exit %d", i % 3);
		const char *argv[] = { "/bin/sh", "-c", scripts[i], NULL };
		int r = hook_run(&loop, argv, NULL, 5000, "test hook", on_done, &o[i], NULL);
		assert_int_equal(r, 0);
	}
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	for (int i = 0; i < 40; i++) {
		assert_true(o[i].done);
		assert_int_equal(o[i].r, i % 3 ? -ECHILD : 0);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Last: after it, hook_run() refuses. */
static void test_stop_all(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct outcome o = { 0 };
	const char *argv[] = { "/bin/sh", "-c", "sleep 60", NULL };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(hook_run(&loop, argv, NULL, 0, "test hook", on_done, &o, NULL), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
	hook_stop_all();
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_true(o.done);
	assert_int_equal(o.r, -ECANCELED);
	assert_int_equal(hook_run(&loop, argv, NULL, 0, "test hook", on_done, &o, NULL),
			 -ESHUTDOWN);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_and_tail),
		cmocka_unit_test(test_status_and_signal),
		cmocka_unit_test(test_sigchld_ignored_at_start),
		cmocka_unit_test(test_environment_and_stdin),
		cmocka_unit_test(test_only_stdio_open),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_many_at_once),
		cmocka_unit_test(test_stop_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
