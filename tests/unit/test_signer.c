/* Unit tests for daemon/signer (the loop's client) and daemon/signer_proc (the signer process):
 * the framing, URL origins, every request kind and its refusals, and the real forked signer
 * (seccomp on, non-dumpable) answering on a uv loop and refusing a foreign URL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/b64.h"
#include "common/json.h"
#include "daemon/signer.h"
#include "daemon/signer_proc.h"

#define DIR_URL "https://ca.example:14000/dir"

struct fixture {
	char dir[64];
	char state[128];
	struct signer_proc *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/persistd-signer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	assert_int_equal(signer_proc_new(f->state, &f->p), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	signer_proc_free(f->p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* One request; returns the parsed reply (the caller frees it). */
static yajl_val call(struct signer_proc *p, const char *req)
{
	char *reply = NULL;
	yajl_val v = NULL;

	assert_int_equal(signer_proc_handle(p, req, strlen(req), &reply), 0);
	assert_int_equal(json_parse(reply, strlen(reply), 1 << 20, &v, NULL, 0), 0);
	free(reply);
	return v;
}

static int64_t reply_errno(yajl_val v)
{
	int64_t e = 0;

	if (!json_get_string(v, "error"))
		return 0;
	assert_true(json_get_int(v, "errno", &e));
	return e;
}

static void test_frames(void **state)
{
	uint8_t buf[16] = { 0 };
	size_t len = 0;

	(void)state;
	signer_frame_put(buf, 5);
	assert_int_equal(signer_frame_len(buf), 5);
	memcpy(buf + 4, "{...}", 5);
	assert_int_equal(signer_frame_next(buf, 3, 100, &len), 0); /* header incomplete */
	assert_int_equal(signer_frame_next(buf, 8, 100, &len), 0); /* body incomplete */
	assert_int_equal(signer_frame_next(buf, 9, 100, &len), 1);
	assert_int_equal(len, 5);
	assert_int_equal(signer_frame_next(buf, 16, 100, &len), 1); /* the next frame's bytes */
	assert_int_equal(signer_frame_next(buf, 9, 4, &len), -EPROTO);  /* over the bound */
	signer_frame_put(buf, 0);
	assert_int_equal(signer_frame_next(buf, 9, 100, &len), -EPROTO); /* empty */
	signer_frame_put(buf, 0xffffffffu);
	assert_int_equal(signer_frame_len(buf), 0xffffffffu);
	assert_int_equal(signer_frame_next(buf, 9, SIGNER_MAX_MSG_BYTES, &len), -EPROTO);
}

static void test_origin(void **state)
{
	static const struct {
		const char *url, *origin;
	} good[] = {
		{ "https://ca.example/dir", "https://ca.example:443" },
		{ "HTTPS://CA.Example:14000/x?y", "https://ca.example:14000" },
		{ "https://127.0.0.1:14000", "https://127.0.0.1:14000" },
		{ "https://[::1]:8443/acme", "https://[::1]:8443" },
		{ "http://ca.example#frag", "http://ca.example:80" },
	};
	static const char *const bad[] = {
		"ftp://ca.example/", "https://", "https:///x", "https://user@ca.example/",
		"https://ca.example:/x", "https://ca.example:12345678/", "https://ca.example:8a/",
		"https://[::1/x", "https://[::1]x/", "ca.example/dir",
	};
	char *o;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		assert_int_equal(signer_url_origin(good[i].url, &o), 0);
		assert_string_equal(o, good[i].origin);
		free(o);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(signer_url_origin(bad[i], &o), -EINVAL);
}

static void test_requests(void **state)
{
	struct fixture *f = *state;
	yajl_val v;
	char path[256];
	struct stat st;
	bool b;

	/* Malformed input gets an error reply, never a crash. */
	v = call(f->p, "not json");
	assert_int_equal(reply_errno(v), EINVAL);
	yajl_tree_free(v);
	v = call(f->p, "{\"op\":\"load\"}");
	assert_int_equal(reply_errno(v), EINVAL); /* no id */
	yajl_tree_free(v);
	v = call(f->p, "{\"id\":1,\"op\":\"sign\",\"ca\":\"nope\",\"url\":\"" DIR_URL "\","
		       "\"nonce\":\"n\"}");
	assert_int_equal(reply_errno(v), ENOENT); /* unknown CA */
	yajl_tree_free(v);
	v = call(f->p, "{\"id\":2,\"op\":\"load\",\"ca\":\"../evil\",\"directory\":\"" DIR_URL
		       "\",\"key_type\":\"ec-p256\"}");
	assert_int_equal(reply_errno(v), EINVAL);
	yajl_tree_free(v);

	/* load: no key yet. */
	v = call(f->p, "{\"id\":3,\"op\":\"load\",\"ca\":\"test\",\"directory\":\"" DIR_URL
		       "\",\"key_type\":\"ec-p256\"}");
	assert_int_equal(reply_errno(v), 0);
	assert_true(json_get_bool(v, "have_key", &b));
	assert_false(b);
	yajl_tree_free(v);
	/* The origin is pinned. */
	v = call(f->p, "{\"id\":4,\"op\":\"load\",\"ca\":\"test\",\"directory\":"
		       "\"https://evil.example/dir\",\"key_type\":\"ec-p256\"}");
	assert_int_equal(reply_errno(v), EPERM);
	yajl_tree_free(v);

	/* key: created, 0600, only the public half in the reply. */
	v = call(f->p, "{\"id\":5,\"op\":\"key\",\"ca\":\"test\"}");
	assert_int_equal(reply_errno(v), 0);
	assert_true(json_get_bool(v, "created", &b));
	assert_true(b);
	assert_non_null(json_get_object(v, "jwk"));
	assert_null(json_get(json_get_object(v, "jwk"), "d"));
	assert_int_equal(strlen(json_get_string(v, "thumbprint")), 43);
	assert_string_equal(json_get_string(v, "key_type"), "ec-p256");
	yajl_tree_free(v);
	snprintf(path, sizeof(path), "%s/accounts/test/account.key", f->state);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	v = call(f->p, "{\"id\":6,\"op\":\"key\",\"ca\":\"test\"}");
	assert_true(json_get_bool(v, "created", &b));
	assert_false(b);
	yajl_tree_free(v);

	/* sign on the CA's origin. */
	v = call(f->p, "{\"id\":7,\"op\":\"sign\",\"ca\":\"test\",\"url\":"
		       "\"https://ca.example:14000/new-order\",\"nonce\":\"abc\",\"kid\":"
		       "\"https://ca.example:14000/acct/1\",\"payload\":\"{}\"}");
	assert_int_equal(reply_errno(v), 0);
	int64_t id;
	assert_true(json_get_int(v, "id", &id));
	assert_int_equal(id, 7);
	assert_non_null(strstr(json_get_string(v, "jws"), "\"signature\":\""));
	yajl_tree_free(v);

	/* Refusals: another host, another port, another scheme, a foreign kid. */
	static const char *const foreign[] = {
		"{\"id\":8,\"op\":\"sign\",\"ca\":\"test\",\"url\":\"https://evil.example:14000/x\","
		"\"nonce\":\"n\"}",
		"{\"id\":8,\"op\":\"sign\",\"ca\":\"test\",\"url\":\"https://ca.example:14001/x\","
		"\"nonce\":\"n\"}",
		"{\"id\":8,\"op\":\"sign\",\"ca\":\"test\",\"url\":\"http://ca.example:14000/x\","
		"\"nonce\":\"n\"}",
		"{\"id\":8,\"op\":\"sign\",\"ca\":\"test\",\"url\":\"https://ca.example:14000/x\","
		"\"nonce\":\"n\",\"kid\":\"https://evil.example/acct/1\"}",
		"{\"id\":8,\"op\":\"rollover\",\"ca\":\"test\",\"url\":\"https://evil.example/kc\","
		"\"account\":\"https://ca.example:14000/acct/1\"}",
	};
	for (size_t i = 0; i < ELEMENTSOF(foreign); i++) {
		v = call(f->p, foreign[i]);
		assert_int_equal(reply_errno(v), EPERM);
		assert_non_null(strstr(json_get_string(v, "error"), "refused"));
		yajl_tree_free(v);
	}

	/* rollover, commit: the new key is on disk and in use. */
	v = call(f->p, "{\"id\":9,\"op\":\"commit\",\"ca\":\"test\"}");
	assert_int_equal(reply_errno(v), EINVAL); /* nothing staged */
	yajl_tree_free(v);
	v = call(f->p, "{\"id\":10,\"op\":\"rollover\",\"ca\":\"test\",\"url\":"
		       "\"https://ca.example:14000/key-change\",\"account\":"
		       "\"https://ca.example:14000/acct/1\"}");
	assert_int_equal(reply_errno(v), 0);
	assert_non_null(json_get_string(v, "inner"));
	char *tp_new = strdup(json_get_string(v, "thumbprint"));
	yajl_tree_free(v);
	snprintf(path, sizeof(path), "%s/accounts/test/account.key.next", f->state);
	assert_int_equal(stat(path, &st), 0);
	v = call(f->p, "{\"id\":11,\"op\":\"commit\",\"ca\":\"test\"}");
	assert_int_equal(reply_errno(v), 0);
	assert_string_equal(json_get_string(v, "thumbprint"), tp_new);
	free(tp_new);
	yajl_tree_free(v);
	assert_int_equal(stat(path, &st), -1);

	/* rollover, abort: account.key.next is gone. */
	v = call(f->p, "{\"id\":12,\"op\":\"rollover\",\"ca\":\"test\",\"url\":"
		       "\"https://ca.example:14000/key-change\",\"account\":"
		       "\"https://ca.example:14000/acct/1\"}");
	yajl_tree_free(v);
	assert_int_equal(stat(path, &st), 0);
	v = call(f->p, "{\"id\":13,\"op\":\"abort\",\"ca\":\"test\"}");
	assert_int_equal(reply_errno(v), 0);
	yajl_tree_free(v);
	assert_int_equal(stat(path, &st), -1);

	/* info: a JSON object only. */
	v = call(f->p, "{\"id\":14,\"op\":\"info\",\"ca\":\"test\",\"json\":\"[1]\"}");
	assert_int_equal(reply_errno(v), EINVAL);
	yajl_tree_free(v);
	v = call(f->p, "{\"id\":15,\"op\":\"info\",\"ca\":\"test\",\"json\":\"{\\\"url\\\":1}\"}");
	assert_int_equal(reply_errno(v), 0);
	yajl_tree_free(v);
	v = call(f->p, "{\"id\":16,\"op\":\"frobnicate\",\"ca\":\"test\"}");
	assert_int_equal(reply_errno(v), EINVAL);
	yajl_tree_free(v);
}

/* ---- the real process ---- */

struct wait {
	int r;
	bool done;
	char text[512];
};

static void on_reply(int r, yajl_val reply, const char *why, void *ud)
{
	struct wait *w = ud;

	w->r = r;
	w->done = true;
	snprintf(w->text, sizeof(w->text), "%s",
		 r < 0 ? why : (json_get_string(reply, "jws") ? json_get_string(reply, "jws") : ""));
}

static void run_until(uv_loop_t *loop, struct wait *w)
{
	while (!w->done)
		assert_int_equal(uv_run(loop, UV_RUN_ONCE) >= 0, 1);
}

static void test_process(void **state)
{
	struct fixture *f = *state;
	struct config_ca ca = { .name = (char *)"test", .directory = (char *)DIR_URL,
				.account_key_type = KEY_EC_P256 };
	struct config_ca *cas[] = { &ca };
	struct config cfg = { .cas = cas, .n_cas = 1 };
	struct signer *s = NULL;
	uv_loop_t loop;
	yajl_val v = NULL;
	char why[256], path[64], line[256];
	bool seccomp = false;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(signer_start(f->state, &cfg, &s), 0);
	pid_t pid = signer_get_pid(s);
	assert_true(pid > 0);

	/* The start-up round trip, before the loop owns the socket. */
	assert_int_equal(signer_load_now(s, "test", DIR_URL, "ec-p256", &v, why, sizeof(why)), 0);
	yajl_tree_free(v);
	assert_int_equal(signer_attach(s, &loop), 0);

	/* Confined: seccomp filter mode 2; not dumpable. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *st = fopen(path, "r");
	assert_non_null(st);
	while (fgets(line, sizeof(line), st))
		if (strncmp(line, "Seccomp:", 8) == 0)
			seccomp = strtol(line + 8, NULL, 10) == 2;
	fclose(st);
	assert_true(seccomp);

	/* A key is made and used inside the filter (entropy, file writes, signing). */
	struct wait w = { 0 };
	assert_int_equal(signer_request(s, "key", "test", NULL, on_reply, &w, NULL), 0);
	assert_false(w.done); /* never from inside the call */
	run_until(&loop, &w);
	assert_int_equal(w.r, 0);

	const char *good[] = { "url", "https://ca.example:14000/new-order", "nonce", "n1",
			       "payload", "{}", NULL };
	w = (struct wait){ 0 };
	assert_int_equal(signer_request(s, "sign", "test", good, on_reply, &w, NULL), 0);
	run_until(&loop, &w);
	assert_int_equal(w.r, 0);
	assert_non_null(strstr(w.text, "\"protected\":\""));

	/* The foreign URL is refused, and the signer lives on. */
	const char *bad[] = { "url", "https://attacker.example/new-order", "nonce", "n2", NULL };
	w = (struct wait){ 0 };
	assert_int_equal(signer_request(s, "sign", "test", bad, on_reply, &w, NULL), 0);
	run_until(&loop, &w);
	assert_int_equal(w.r, -EPERM);
	assert_non_null(strstr(w.text, "refused"));

	/* Several in flight; a cancelled one is never answered. */
	struct wait a = { 0 }, b = { 0 };
	uint64_t id_a;
	assert_int_equal(signer_request(s, "sign", "test", good, on_reply, &a, &id_a), 0);
	assert_int_equal(signer_request(s, "sign", "test", good, on_reply, &b, NULL), 0);
	signer_cancel(s, id_a);
	run_until(&loop, &b);
	assert_int_equal(b.r, 0);
	assert_false(a.done);

	signer_free(s);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(kill(pid, 0), -1); /* reaped */
}

/* PR_SET_DUMPABLE 0 shows as /proc/PID owned by root instead of the process' uid; root sees
 * every process anyway, so the signer runs as nobody here. */
static void test_not_dumpable(void **state)
{
	struct fixture *f = *state;
	struct config_ca ca = { .name = (char *)"test", .directory = (char *)DIR_URL,
				.account_key_type = KEY_EC_P256 };
	struct config_ca *cas[] = { &ca };
	struct config cfg = { .cas = cas, .n_cas = 1 };
	int to_parent[2], to_child[2];
	char path[64];
	struct stat st;

	if (geteuid() != 0)
		skip(); /* needs to become another uid */
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	assert_int_equal(pipe(to_parent), 0);
	assert_int_equal(pipe(to_child), 0);
	pid_t helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		struct signer *s = NULL;
		char c;
		/* Only its own ends: a failed parent must not leave it waiting forever. */
		close(to_parent[0]);
		close(to_child[1]);
		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(1);
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* setuid cleared it: the control */
		char state_dir[160]; /* not f->state: the fixture made that one as root */
		snprintf(state_dir, sizeof(state_dir), "%s/nobody", f->dir);
		if (signer_start(state_dir, &cfg, &s) < 0)
			_exit(2);
		pid_t spid = signer_get_pid(s);
		if (write(to_parent[1], &spid, sizeof(spid)) != sizeof(spid) ||
		    read(to_child[0], &c, 1) < 0)
			_exit(3);
		signer_free(s);
		_exit(0);
	}
	pid_t spid = 0;
	close(to_parent[1]);
	close(to_child[0]);
	assert_int_equal(read(to_parent[0], &spid, sizeof(spid)), sizeof(spid));
	/* The helper, dumpable, owns its /proc entry; the signer's turns root's once it ran
	 * prctl(): poll for that with a deadline (it happens right after fork). */
	snprintf(path, sizeof(path), "/proc/%d", (int)helper);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)spid);
	bool root_owned = false;
	for (int i = 0; i < 500 && !root_owned; i++) {
		assert_int_equal(stat(path, &st), 0);
		root_owned = st.st_uid == 0;
		if (!root_owned)
			usleep(10 * 1000);
	}
	assert_true(root_owned);
	/* Alive and running as nobody (a zombie's entries are root's too). */
	FILE *sf = fopen(path, "r");
	char line[256];
	bool alive = false, nobody = false;
	assert_non_null(sf);
	while (fgets(line, sizeof(line), sf)) {
		if (strncmp(line, "State:", 6) == 0)
			alive = strchr(line, 'Z') == NULL;
		if (strncmp(line, "Uid:", 4) == 0)
			nobody = strstr(line, "65534") != NULL;
	}
	fclose(sf);
	assert_true(alive);
	assert_true(nobody);
	assert_int_equal(write(to_child[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(helper, &status, 0), helper);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(to_parent[0]);
	close(to_child[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_origin),
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_dumpable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
