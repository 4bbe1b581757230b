/* Unit tests for ctl/rpc, persistctl's control socket client: connection
 * errors, a scripted server that misbehaves on purpose (forked, on a Unix
 * socket in a temporary directory), and the real daemon/control server on
 * a uv loop in a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/limits.h"
#include "ctl/jsonpass.h"
#include "ctl/rpc.h"
#include "daemon/control.h"
#include "daemon/log.h"

struct fixture {
	char dir[64];
	char path[128];
	int listen_fd;
	pid_t child;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_rpc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chmod(f->dir, 0755), 0);
	snprintf(f->path, sizeof(f->path), "%s/s.sock", f->dir);
	f->listen_fd = -1;
	f->child = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int status;

	if (f->child > 0) {
		(void)kill(f->child, SIGTERM);
		(void)waitpid(f->child, &status, 0);
	}
	if (f->listen_fd >= 0)
		(void)close(f->listen_fd);
	(void)unlink(f->path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static int bind_socket(const char *path, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* ---- a scripted server, in a child ---- */

/* Reads one request line from fd and returns its id's JSON (static). */
static const char *child_read_request(int fd)
{
	static char line[65536];
	static char id[64];
	size_t len = 0;

	while (len < sizeof(line)) {
		ssize_t n = read(fd, line + len, 1);
		if (n <= 0)
			_exit(10);
		if (line[len] == '\n')
			break;
		len++;
	}
	struct jrpc_request *req = NULL;
	struct jrpc_parse_error e;
	if (jrpc_parse_request(line, len, sizeof(line), &req, &e) < 0)
		_exit(11);
	snprintf(id, sizeof(id), "%s", req->id_json ? req->id_json : "none");
	jrpc_request_free(req);
	return id;
}

static void child_write(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n <= 0)
			_exit(12);
		s += n;
		len -= (size_t)n;
	}
}

static void child_writef(int fd, const char *fmt, ...) _printf_(2, 3);
static void child_writef(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	child_write(fd, buf);
}

/* Forks a child that accepts one connection and runs script on it. */
static void serve(struct fixture *f, void (*script)(int fd))
{
	f->listen_fd = bind_socket(f->path, true);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		int fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			_exit(13);
		script(fd);
		(void)close(fd);
		_exit(0);
	}
}

static void script_normal(int fd)
{
	const char *id = child_read_request(fd);

	/* A notification may arrive before the answer: it is kept for later. */
	child_write(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ev\",\"params\":{\"n\":1}}\n");
	child_writef(fd, "\n{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"ok\":true}}\n", id);
	id = child_read_request(fd);
	child_writef(fd, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32004,"
		     "\"message\":\"no cert 'x'\",\"data\":{\"name\":\"x\"}}}\n", id);
	child_write(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ev\",\"params\":[2]}\n");
}

static void test_call_and_notifications(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	_cleanup_(yajl_tree_freep) yajl_val result = NULL;
	_cleanup_(yajl_tree_freep) yajl_val params = NULL;
	_cleanup_free_ char *method = NULL;
	struct rpc_error e = { 0 };
	bool ok;

	serve(f, script_normal);
	assert_int_equal(rpc_connect(f->path, 5000, &c), 0);
	assert_int_equal(rpc_call(c, "status", NULL, &result, &e), 0);
	assert_true(json_get_bool(result, "ok", &ok) && ok);

	assert_int_equal(rpc_call(c, "certs.get", "{\"name\":\"x\"}", NULL, &e), 1);
	assert_int_equal(e.code, JRPC_NOT_FOUND);
	assert_string_equal(e.message, "no cert 'x'");
	assert_string_equal(e.data_json, "{\"name\":\"x\"}");
	assert_false(e.refused); /* an answer to this call */
	rpc_error_done(&e);

	assert_int_equal(rpc_next_notification(c, 1000, &method, &params), 1);
	assert_string_equal(method, "ev");
	assert_true(YAJL_IS_OBJECT(params));
	free(TAKE_PTR(method));
	yajl_tree_free(TAKE_PTR(params));
	assert_int_equal(rpc_next_notification(c, 5000, &method, &params), 1);
	assert_true(YAJL_IS_ARRAY(params));
	free(TAKE_PTR(method));
	yajl_tree_free(TAKE_PTR(params));
	/* The server has gone. */
	assert_int_equal(rpc_next_notification(c, 5000, &method, &params), -ECONNRESET);
	assert_int_equal(rpc_call(c, "status", NULL, NULL, NULL), -ECONNRESET);
	assert_int_equal(rpc_call(c, "status", "[", NULL, NULL), -ECONNRESET);
}

static void script_busy(int fd)
{
	child_write(fd, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32003,"
			"\"message\":\"too many connections (limit 1), try again later\"}}\n");
}

static void test_busy(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	struct rpc_error e = { 0 };
	int status;

	serve(f, script_busy);
	assert_int_equal(rpc_connect(f->path, 5000, &c), 0);
	/* Make sure the server has written and closed before we send. */
	assert_int_equal(waitpid(f->child, &status, 0), f->child);
	f->child = -1;
	assert_int_equal(rpc_call(c, "status", NULL, NULL, &e), 1);
	assert_int_equal(e.code, JRPC_BUSY);
	/* A refusal, not an answer about what was asked: persistctl tells
	 * "cannot tell" (exit 3) from a failure by this flag. */
	assert_true(e.refused);
	rpc_error_done(&e);
}

static void script_garbage(int fd)
{
	(void)child_read_request(fd);
	child_write(fd, "this is not json\n");
	(void)child_read_request(fd);
}

static void script_wrong_id(int fd)
{
	(void)child_read_request(fd);
	child_write(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"other\",\"result\":1}\n");
	(void)child_read_request(fd);
}

static void script_request(int fd)
{
	(void)child_read_request(fd);
	child_write(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ask\",\"id\":5}\n");
	(void)child_read_request(fd);
}

static void test_protocol_errors(void **state)
{
	static void (*const scripts[])(int fd) = { script_garbage, script_wrong_id,
						   script_request };
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(scripts); i++) {
		_cleanup_(rpc_closep) struct rpc_client *c = NULL;
		int status;

		serve(f, scripts[i]);
		assert_int_equal(rpc_connect(f->path, 5000, &c), 0);
		assert_int_equal(rpc_call(c, "status", NULL, NULL, NULL), -EPROTO);
		/* Sticky: the stream cannot be trusted any more. */
		assert_int_equal(rpc_call(c, "status", NULL, NULL, NULL), -EPROTO);
		rpc_close(TAKE_PTR(c));
		(void)waitpid(f->child, &status, 0);
		f->child = -1;
		(void)close(f->listen_fd);
		f->listen_fd = -1;
		(void)unlink(f->path);
	}
}

static void script_late(int fd)
{
	const char *id = child_read_request(fd);
	char first[64];

	snprintf(first, sizeof(first), "%s", id);
	id = child_read_request(fd);
	/* The answer to the call that timed out comes first and is skipped. */
	child_writef(fd, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":\"late\"}\n", first);
	child_writef(fd, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":\"second\"}\n", id);
	(void)child_read_request(fd);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	_cleanup_(yajl_tree_freep) yajl_val result = NULL;
	char *method;
	yajl_val params;

	serve(f, script_late);
	assert_int_equal(rpc_connect(f->path, 5000, &c), 0);
	assert_int_equal(rpc_next_notification(c, 0, &method, &params), 0);
	rpc_set_timeout(c, 100);
	assert_int_equal(rpc_call(c, "slow", NULL, NULL, NULL), -ETIMEDOUT);
	rpc_set_timeout(c, 5000);
	assert_int_equal(rpc_call(c, "status", NULL, &result, NULL), 0);
	assert_string_equal(YAJL_GET_STRING(result), "second");
}

/* Writes head, then chunk over and over until past the reply limit, or until
 * the client gives up (as it should). */
static void child_write_past_limit(int fd, const char *head, const char *chunk, size_t size)
{
	child_write(fd, head);
	for (size_t sent = 0; sent <= CTL_MAX_RESPONSE_BYTES; sent += size) {
		size_t len = size;
		const char *p = chunk;
		while (len > 0) {
			ssize_t n = write(fd, p, len);
			if (n <= 0)
				return;
			p += n;
			len -= (size_t)n;
		}
	}
}

static void script_huge(int fd)
{
	static char chunk[1 << 16];

	(void)child_read_request(fd);
	memset(chunk, 'x', sizeof(chunk));
	child_write_past_limit(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"", chunk,
			       sizeof(chunk));
}

static void test_response_too_large(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;

	serve(f, script_huge);
	assert_int_equal(rpc_connect(f->path, 20000, &c), 0);
	assert_int_equal(rpc_call(c, "status", NULL, NULL, NULL), -E2BIG);
}

/* A result of small numbers past the reply limit: printed as it comes, the
 * line is dropped behind the scan, and it must still count whole. */
static void script_huge_list(int fd)
{
	static char chunk[1 << 16];

	(void)child_read_request(fd);
	for (size_t i = 0; i < sizeof(chunk); i += 2)
		memcpy(chunk + i, "0,", 2);
	child_write_past_limit(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[", chunk,
			       sizeof(chunk));
}

static void test_pass_response_too_large(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	struct rpc_error e = { 0 };
	struct jsonpass pass = { .out = fopen("/dev/null", "w") };

	assert_non_null(pass.out);
	serve(f, script_huge_list);
	assert_int_equal(rpc_connect(f->path, 20000, &c), 0);
	assert_int_equal(rpc_call_pass(c, "status", NULL, &pass, NULL, &e), -E2BIG);
	assert_false(pass.taken);
	assert_true(pass.partial);
	assert_int_equal(fclose(pass.out), 0);
}

/* The status reply for the pass tests: an array of n objects. */
static char *pass_reply(const char *id, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fprintf(f, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"level\":\"OK\",\"l\":[", id);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s{\"name\":\"c%05d\",\"n\":%d,\"s\":\"caf\\u00e9\",\"x\":null}",
			i ? "," : "", i, -i);
	fprintf(f, "]}}\n");
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Writes s in pieces of 1 to 4096 bytes, now and then after a pause, so that
 * the client's reads end anywhere in the line. */
static void child_write_in_pieces(int fd, const char *s)
{
	size_t len = strlen(s), at = 0;
	unsigned seed = 12345;

	while (at < len) {
		seed = seed * 1103515245 + 12345;
		size_t n = 1 + (seed >> 8) % 4096;
		if (n > len - at)
			n = len - at;
		char save = s[at + n];
		((char *)s)[at + n] = '\0';
		child_write(fd, s + at);
		((char *)s)[at + n] = save;
		at += n;
		if ((seed >> 20) % 8 == 0)
			(void)poll(NULL, 0, 1);
	}
}

static void script_pass(int fd)
{
	const char *id = child_read_request(fd);
	char first[64];

	snprintf(first, sizeof(first), "%s", id);
	child_writef(fd, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":\"one\"}\n", first);
	id = child_read_request(fd);
	/* A notification, a blank line and a stale answer come first: declined, then
	 * read whole the ordinary way. */
	child_write(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"ev\",\"params\":{\"n\":1}}\n\n");
	child_writef(fd, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":\"late\"}\n", first);
	char *reply = pass_reply(id, 3000);
	child_write_in_pieces(fd, reply);
	free(reply);
	/* The second call gets an error, in pieces too: jsonpass declines it. */
	id = child_read_request(fd);
	char err[256];
	snprintf(err, sizeof(err), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32004,"
		 "\"message\":\"no cert 'x'\"}}\n", id);
	child_write_in_pieces(fd, err);
	/* The third stops after more than a piece of its result went out. */
	id = child_read_request(fd);
	reply = pass_reply(id, 3000);
	reply[strlen(reply) / 2] = '\0';
	child_write_in_pieces(fd, reply);
	free(reply);
	(void)child_read_request(fd); /* until the client closes */
}

/* rpc_call_pass() prints a result that arrives in pieces as jsonpass_result()
 * prints it whole, declines what is not a plain result for this call, and
 * says why a line stopped short after part of it was printed. */
static void test_pass_in_pieces(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	char *got = NULL, *want = NULL, *method = NULL;
	size_t got_len = 0, want_len = 0;
	yajl_val params = NULL;
	struct rpc_error e = { 0 };

	serve(f, script_pass);
	assert_int_equal(rpc_connect(f->path, 5000, &c), 0);
	assert_int_equal(rpc_call(c, "version", NULL, NULL, NULL), 0);

	struct jsonpass pass = { .out = open_memstream(&got, &got_len) };
	assert_non_null(pass.out);
	assert_int_equal(rpc_call_pass(c, "status", NULL, &pass, NULL, &e), 0);
	assert_true(pass.taken);
	assert_string_equal(pass.level, "OK");
	assert_int_equal(fclose(pass.out), 0);

	char *line = pass_reply("2", 3000);
	struct jsonpass whole = { .out = open_memstream(&want, &want_len) };
	assert_non_null(whole.out);
	assert_int_equal(jsonpass_result(line, strlen(line) - 1, "2", &whole), 1);
	assert_int_equal(fclose(whole.out), 0);
	assert_true(got_len > 100000);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, got_len);
	free(line);
	free(got);
	free(want);

	assert_int_equal(rpc_next_notification(c, 0, &method, &params), 1);
	assert_string_equal(method, "ev");
	free(method);
	yajl_tree_free(params);

	got = NULL;
	pass = (struct jsonpass){ .out = open_memstream(&got, &got_len) };
	assert_int_equal(rpc_call_pass(c, "certs.get", NULL, &pass, NULL, &e), 1);
	assert_false(pass.taken);
	assert_int_equal(e.code, JRPC_NOT_FOUND);
	assert_string_equal(e.message, "no cert 'x'");
	rpc_error_done(&e);
	assert_int_equal(fclose(pass.out), 0);
	assert_int_equal(got_len, 0);
	free(got);

	got = NULL;
	pass = (struct jsonpass){ .out = open_memstream(&got, &got_len) };
	rpc_set_timeout(c, 300);
	assert_int_equal(rpc_call_pass(c, "status", NULL, &pass, NULL, &e), -ETIMEDOUT);
	assert_false(pass.taken);
	assert_true(pass.partial);
	assert_int_equal(fclose(pass.out), 0);
	assert_true(got_len >= 65536);
	free(got);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;

	serve(f, script_garbage);
	assert_int_equal(rpc_connect(f->path, 5000, &c), 0);
	assert_int_equal(rpc_call(c, "status", "1", NULL, NULL), -EINVAL);
	assert_int_equal(rpc_call(c, "status", "{", NULL, NULL), -EINVAL);
	assert_int_equal(rpc_call(c, "", NULL, NULL, NULL), -EINVAL);
}

/* ---- connecting ---- */

static void test_connect_errors(void **state)
{
	struct fixture *f = *state;
	struct rpc_client *c = NULL;
	char longpath[200];
	int status;

	assert_int_equal(rpc_connect(f->path, 1000, &c), -ENOENT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(rpc_connect(longpath, 1000, &c), -ENAMETOOLONG);
	assert_int_equal(rpc_connect("", 1000, &c), -EINVAL);

	/* A socket file with nobody listening: a daemon that died. */
	int fd = bind_socket(f->path, false);
	assert_int_equal(rpc_connect(f->path, 1000, &c), -ECONNREFUSED);
	(void)close(fd);
	(void)unlink(f->path);

	/* A socket we may not open: mode 0660, and we are not in its group.
	 * Seeing that needs a second uid, so root. */
	if (geteuid() != 0)
		return;
	f->listen_fd = bind_socket(f->path, true);
	assert_int_equal(chmod(f->path, 0660), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		int r = rpc_connect(f->path, 1000, &c);
		_exit(r == -EACCES ? 0 : 101);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_null(c);
}

/* ---- against the real server ---- */

static void on_echo(struct control_call *call, yajl_val params, void *userdata)
{
	_cleanup_free_ char *s = NULL;
	size_t len;

	(void)userdata;
	if (jrpc_json_dump(params, &s, &len) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "oom", NULL);
		return;
	}
	control_call_reply(call, s, len);
}

static void on_subscribe(struct control_call *call, yajl_val params, void *userdata)
{
	struct control **ctl = userdata;

	(void)params;
	control_call_subscribe(call);
	/* Notifications sent before the answer reach the client first. */
	(void)control_notify(*ctl, "test.event", "{\"seq\":0}", 9);
	control_call_reply(call, "true", 4);
	(void)control_notify(*ctl, "test.event", "{\"seq\":1}", 9);
}

static void on_poke(struct control_call *call, yajl_val params, void *userdata)
{
	(void)params;
	(void)userdata;
	control_call_reply(call, "\"poked\"", 7);
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
	struct control **ctl = h->data;

	(void)signum;
	control_free(TAKE_PTR(*ctl));
	uv_close((uv_handle_t *)h, NULL);
}

static void run_server(const char *path, int ready_fd)
{
	static const struct control_method methods[] = {
		{ "echo", false, on_echo },
		{ "events.subscribe", false, on_subscribe },
		{ "admin.poke", true, on_poke },
	};
	struct control *ctl = NULL;
	struct control_options o;
	uv_signal_t sig;
	uv_loop_t loop;

	log_setup(LOG_TARGET_STDERR, LOG_WARNING);
	control_options_init(&o);
	o.path = path;
	o.mode = 0666;
	o.daemon_uid = (uid_t)-1;
	o.admin_gid = 4242;
	o.admin_group = "persistd-admin";
	if (uv_loop_init(&loop) < 0 ||
	    control_new(&loop, &o, methods, ELEMENTSOF(methods), &ctl, &ctl) < 0)
		_exit(20);
	(void)uv_signal_init(&loop, &sig);
	sig.data = &ctl;
	(void)uv_signal_start(&sig, on_stop_signal, SIGTERM);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	(void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
	if (write(ready_fd, "R", 1) != 1)
		_exit(22);
	(void)close(ready_fd);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	_exit(uv_loop_close(&loop) == 0 ? 0 : 21);
}

/* In a child that drops to nobody: the mutating method is refused with a
 * message naming the admin group, and read-only ones still work. */
static void check_denied_as_nobody(const char *path)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rpc_client *n = NULL;
		struct rpc_error ne = { 0 };
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		if (rpc_connect(path, 5000, &n) < 0)
			_exit(101);
		if (rpc_call(n, "admin.poke", NULL, NULL, &ne) != 1 ||
		    ne.code != JRPC_PERMISSION_DENIED ||
		    !strstr(ne.message, "admin group 'persistd-admin'"))
			_exit(102);
		_exit(rpc_call(n, "echo", "[]", NULL, NULL) == 0 ? 0 : 103);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_real_server(void **state)
{
	struct fixture *f = *state;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	_cleanup_(yajl_tree_freep) yajl_val result = NULL;
	struct rpc_error e = { 0 };
	int64_t seq;
	int status;

	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	/* The child's uv_signal handler is installed after fork: block the
	 * signal in between, so that an early SIGTERM waits for it. */
	int ready[2];
	char byte;
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mask, &old), 0);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		(void)close(ready[0]);
		run_server(f->path, ready[1]);
	}
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	(void)close(ready[1]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	(void)close(ready[0]);
	assert_int_equal(rpc_connect(f->path, 5000, &c), 0);

	assert_int_equal(rpc_call(c, "echo", "{\"a\":[1,\"\\u00e9\"]}", &result, NULL), 0);
	assert_true(YAJL_IS_ARRAY(json_get_array(result, "a")));
	yajl_tree_free(TAKE_PTR(result));
	assert_int_equal(rpc_call(c, "nope", NULL, NULL, &e), 1);
	assert_int_equal(e.code, JRPC_METHOD_NOT_FOUND);
	rpc_error_done(&e);
	/* We run as root: an admin. */
	assert_int_equal(rpc_call(c, "admin.poke", NULL, NULL, &e), 0);

	assert_int_equal(rpc_call(c, "events.subscribe", NULL, &result, NULL), 0);
	assert_true(YAJL_IS_TRUE(result));
	for (int64_t want = 0; want < 2; want++) {
		_cleanup_(yajl_tree_freep) yajl_val params = NULL;
		_cleanup_free_ char *method = NULL;

		assert_int_equal(rpc_next_notification(c, 5000, &method, &params), 1);
		assert_string_equal(method, "test.event");
		assert_true(json_get_int(params, "seq", &seq));
		assert_int_equal(seq, want);
	}

	/* A non-admin (a second uid: root only) is denied the mutating method. */
	if (geteuid() == 0)
		check_denied_as_nobody(f->path);

	assert_int_equal(kill(f->child, SIGTERM), 0);
	assert_int_equal(waitpid(f->child, &status, 0), f->child);
	f->child = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* It removed its socket, so persistctl now says "not running". */
	rpc_close(TAKE_PTR(c));
	assert_int_equal(rpc_connect(f->path, 1000, &c), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_and_notifications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_response_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_server, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
