/* tests/drivers/control_server.c: daemon/control on a real loop, with test
 * methods, for tests/integration/test_control.py and docs/control-api.md.
 *
 *   control_server --socket PATH [--listen-fd N] [--mode 0660] [--group GID]
 *       [--admin-gid GID] [--admin-group NAME] [--daemon-uid UID]
 *       [--max-conns N] [--idle-ms N] [--max-request-bytes N]
 *       [--max-pending-out-bytes N] [--verbose]
 *
 * Prints "READY\n" once listening; SIGTERM or SIGINT closes everything and
 * exits 0 when uv_loop_close() succeeds (3 when a handle leaked). Methods:
 *   echo              params back as the result (null without params)
 *   whoami            {"uid","gid","pid","admin"} of the caller
 *   admin.poke        mutating; {"poked":true}
 *   slow              {"ms":N,"value":V}: answers V after N ms (a uv timer)
 *   hold              never answers until shutdown (a call held past control_free)
 *   big               {"bytes":N}: a string of N 'x'
 *   fail              JRPC_FAILED with data {"reason":"requested"}
 *   bad.result        answers invalid JSON (the server must send an internal error)
 *   events.subscribe  subscribes the connection; {"subscribed":true}
 *   emit              {"count":N,"bytes":M}: N notifications "test.event"
 *                     {"seq":i,"pad":"x..."} to subscribers; {"subscribers":k}
 *   parts             {"count":N,"bytes":M}: [{"seq":0,"pad":"x..."}, ...] made in
 *                     parts (control_call_reply_parts())
 *   stats             {"connections":n, "parts_made":k, "parts_live":l}: of the
 *                     parts calls, how many parts were made in all, and how many
 *                     calls are under way (their userdata not yet freed)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/limits.h"
#include "daemon/control.h"
#include "daemon/log.h"

struct slow {
	uv_timer_t timer;           /* timer.data == this */
	struct driver *d;           /* borrowed */
	struct control_call *call;  /* owned until answered */
	char *value_json;           /* owned */
	struct slow *prev, *next;   /* in d->slows */
};

struct driver {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	struct control *control;    /* owned */
	struct slow *slows;         /* timers not yet closed */
	struct control_call *held[16]; /* owned: "hold" calls */
	size_t n_held;
	uint64_t parts_made;        /* make() calls of every "parts" call */
	unsigned parts_live;        /* "parts" calls whose userdata is not freed */
	bool stopping;
};

static void reply_writer(struct control_call *call, struct json_writer *w)
{
	const char *doc;
	size_t len;

	if (json_writer_finish(w, &doc, &len) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "cannot write the result", NULL);
		return;
	}
	control_call_reply(call, doc, len);
}

static void on_echo(struct control_call *call, yajl_val params, void *userdata)
{
	_cleanup_free_ char *json = NULL;
	size_t len;

	(void)userdata;
	if (jrpc_json_dump(params, &json, &len) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	control_call_reply(call, json, len);
}

static void on_whoami(struct control_call *call, yajl_val params, void *userdata)
{
	const struct control_peer *p = control_call_peer(call);
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	(void)params;
	(void)userdata;
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	json_begin_object(w);
	json_kv_int(w, "uid", p->uid);
	json_kv_int(w, "gid", p->gid);
	json_kv_int(w, "pid", p->pid);
	json_kv_bool(w, "admin", p->admin);
	json_end_object(w);
	reply_writer(call, w);
}

static void on_poke(struct control_call *call, yajl_val params, void *userdata)
{
	(void)params;
	(void)userdata;
	control_call_reply(call, "{\"poked\":true}", 14);
}

static void on_slow_closed(uv_handle_t *h)
{
	struct slow *s = h->data;

	if (s->prev)
		s->prev->next = s->next;
	else
		s->d->slows = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s->value_json);
	free(s);
}

static void on_slow_timer(uv_timer_t *t)
{
	struct slow *s = t->data;

	control_call_reply(TAKE_PTR(s->call), s->value_json, strlen(s->value_json));
	uv_close((uv_handle_t *)&s->timer, on_slow_closed);
}

static void on_slow(struct control_call *call, yajl_val params, void *userdata)
{
	struct driver *d = userdata;
	int64_t ms;

	if (!json_get_int(params, "ms", &ms) || ms < 0 || ms > 60000) {
		control_call_error(call, JRPC_INVALID_PARAMS, "\"ms\" must be 0..60000", NULL);
		return;
	}
	struct slow *s = calloc(1, sizeof(*s));
	if (!s || jrpc_json_dump(json_get(params, "value"), &s->value_json, NULL) < 0) {
		free(s);
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	s->d = d;
	s->call = call;
	(void)uv_timer_init(&d->loop, &s->timer);
	s->timer.data = s;
	s->next = d->slows;
	if (d->slows)
		d->slows->prev = s;
	d->slows = s;
	(void)uv_timer_start(&s->timer, on_slow_timer, (uint64_t)ms, 0);
}

static void on_hold(struct control_call *call, yajl_val params, void *userdata)
{
	struct driver *d = userdata;

	(void)params;
	if (d->n_held == ELEMENTSOF(d->held)) {
		control_call_error(call, JRPC_BUSY, "too many held calls", NULL);
		return;
	}
	d->held[d->n_held++] = call;
}

static void on_big(struct control_call *call, yajl_val params, void *userdata)
{
	int64_t bytes;

	(void)userdata;
	if (!json_get_int(params, "bytes", &bytes) || bytes < 0 || bytes > 64 * 1024 * 1024) {
		control_call_error(call, JRPC_INVALID_PARAMS, "\"bytes\" must be 0..64Mi", NULL);
		return;
	}
	_cleanup_free_ char *s = malloc((size_t)bytes + 3);
	if (!s) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	s[0] = '"';
	memset(s + 1, 'x', (size_t)bytes);
	s[bytes + 1] = '"';
	control_call_reply(call, s, (size_t)bytes + 2);
}

static void on_fail(struct control_call *call, yajl_val params, void *userdata)
{
	(void)params;
	(void)userdata;
	control_call_error(call, JRPC_FAILED, "the operation failed", "{\"reason\":\"requested\"}");
}

static void on_bad_result(struct control_call *call, yajl_val params, void *userdata)
{
	(void)params;
	(void)userdata;
	control_call_reply(call, "{\"unterminated\":", 16);
}

static void on_subscribe(struct control_call *call, yajl_val params, void *userdata)
{
	(void)params;
	(void)userdata;
	control_call_subscribe(call);
	control_call_reply(call, "{\"subscribed\":true}", 19);
}

static void on_emit(struct control_call *call, yajl_val params, void *userdata)
{
	struct driver *d = userdata;
	int64_t count = 1, bytes = 0;
	int sent = 0;

	(void)json_get_int(params, "count", &count);
	(void)json_get_int(params, "bytes", &bytes);
	if (count < 0 || count > 100000 || bytes < 0 || bytes > 1024 * 1024) {
		control_call_error(call, JRPC_INVALID_PARAMS, "count 0..100000, bytes 0..1Mi",
				   NULL);
		return;
	}
	_cleanup_free_ char *pad = malloc((size_t)bytes + 1);
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	if (!pad || !w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	memset(pad, 'x', (size_t)bytes);
	pad[bytes] = '\0';
	for (int64_t i = 0; i < count; i++) {
		const char *doc;
		size_t len;

		json_writer_reset(w);
		json_begin_object(w);
		json_kv_int(w, "seq", i);
		json_kv_string(w, "pad", pad);
		json_end_object(w);
		if (json_writer_finish(w, &doc, &len) < 0)
			break;
		sent = control_notify(d->control, "test.event", doc, len);
	}
	json_writer_reset(w);
	json_begin_object(w);
	json_kv_int(w, "subscribers", sent);
	json_end_object(w);
	reply_writer(call, w);
}

struct parts {
	struct driver *d;
	int64_t next, count, bytes;
	char *pad; /* owned */
};

static bool parts_make(struct json_writer *w, void *userdata)
{
	struct parts *p = userdata;

	p->d->parts_made++;
	if (p->next == 0)
		json_begin_array(w);
	while (p->next < p->count && json_writer_pending(w) < CONTROL_PART_BYTES) {
		json_begin_object(w);
		json_kv_int(w, "seq", p->next++);
		json_kv_string(w, "pad", p->pad);
		json_end_object(w);
	}
	if (p->next < p->count)
		return false;
	json_end_array(w);
	return true;
}

static void parts_free(void *userdata)
{
	struct parts *p = userdata;

	p->d->parts_live--;
	free(p->pad);
	free(p);
}

static void on_parts(struct control_call *call, yajl_val params, void *userdata)
{
	struct driver *d = userdata;
	int64_t count, bytes;

	if (!json_get_int(params, "count", &count) || count < 1 || count > 10 * 1000 * 1000 ||
	    !json_get_int(params, "bytes", &bytes) || bytes < 0 || bytes > 65536) {
		control_call_error(call, JRPC_INVALID_PARAMS,
				   "\"count\" must be 1..10M and \"bytes\" 0..65536", NULL);
		return;
	}
	struct parts *p = calloc(1, sizeof(*p));
	char *pad = malloc((size_t)bytes + 1);
	if (!p || !pad) {
		free(p);
		free(pad);
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	memset(pad, 'x', (size_t)bytes);
	pad[bytes] = '\0';
	*p = (struct parts){ .d = d, .count = count, .bytes = bytes, .pad = pad };
	d->parts_live++;
	control_call_reply_parts(call, parts_make, p, parts_free);
}

static void on_stats(struct control_call *call, yajl_val params, void *userdata)
{
	struct driver *d = userdata;
	char buf[128];
	int n;

	(void)params;
	n = snprintf(buf, sizeof(buf),
		     "{\"connections\":%u,\"parts_made\":%" PRIu64 ",\"parts_live\":%u}",
		     control_connections(d->control), d->parts_made, d->parts_live);
	control_call_reply(call, buf, (size_t)n);
}

static const struct control_method methods[] = {
	{ "echo", false, on_echo },
	{ "whoami", false, on_whoami },
	{ "admin.poke", true, on_poke },
	{ "slow", false, on_slow },
	{ "hold", false, on_hold },
	{ "big", false, on_big },
	{ "fail", false, on_fail },
	{ "bad.result", false, on_bad_result },
	{ "events.subscribe", false, on_subscribe },
	{ "emit", false, on_emit },
	{ "parts", false, on_parts },
	{ "stats", false, on_stats },
};

static void stop(struct driver *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	control_free(TAKE_PTR(d->control));
	/* Calls outlive the server: answering them now only frees them. */
	for (size_t i = 0; i < d->n_held; i++)
		control_call_error(d->held[i], JRPC_FAILED, "shutting down", NULL);
	d->n_held = 0;
	for (struct slow *s = d->slows; s; s = s->next) {
		if (uv_is_closing((uv_handle_t *)&s->timer))
			continue;
		control_call_reply(TAKE_PTR(s->call), "null", 4);
		uv_close((uv_handle_t *)&s->timer, on_slow_closed);
	}
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	stop(h->data);
}

static int parse_number(const char *s, unsigned long long max, unsigned long long *ret)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "listen-fd", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "admin-gid", required_argument, NULL, 'a' },
		{ "admin-group", required_argument, NULL, 'A' },
		{ "daemon-uid", required_argument, NULL, 'u' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "max-request-bytes", required_argument, NULL, 'r' },
		{ "max-pending-out-bytes", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{},
	};
	struct control_options o;
	struct driver d = { 0 };
	unsigned long long v;
	bool verbose = false;
	int opt, r;

	control_options_init(&o);
	while ((opt = getopt_long(argc, argv, "s:v", longopts, NULL)) >= 0) {
		if (opt == 'v') {
			verbose = true;
			continue;
		}
		if (opt == 's') {
			o.path = optarg;
			continue;
		}
		if (opt == 'A') {
			o.admin_group = optarg;
			continue;
		}
		if (opt == '?' || parse_number(optarg, UINT64_MAX, &v) < 0) {
			fprintf(stderr, "control_server: bad option or value\n");
			return 2;
		}
		switch (opt) {
		case 'f': o.listen_fd = (int)v; break;
		case 'm': o.mode = (mode_t)v; break;
		case 'g': o.group = (gid_t)v; break;
		case 'a': o.admin_gid = (gid_t)v; break;
		case 'u': o.daemon_uid = (uid_t)v; break;
		case 'c': o.max_conns = (unsigned)v; break;
		case 'i': o.idle_ms = v; break;
		case 'r': o.max_request_bytes = (size_t)v; break;
		case 'o': o.max_pending_out_bytes = (size_t)v; break;
		}
	}
	if (!o.path && o.listen_fd < 0) {
		fprintf(stderr, "control_server: --socket or --listen-fd is required\n");
		return 2;
	}
	log_setup(LOG_TARGET_STDERR, verbose ? LOG_DEBUG : LOG_INFO);

	if (uv_loop_init(&d.loop) < 0)
		return 1;
	r = control_new(&d.loop, &o, methods, ELEMENTSOF(methods), &d, &d.control);
	if (r < 0) {
		(void)uv_run(&d.loop, UV_RUN_NOWAIT);
		(void)uv_loop_close(&d.loop);
		return 1;
	}
	(void)uv_signal_init(&d.loop, &d.sigterm);
	(void)uv_signal_init(&d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	(void)uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	(void)uv_signal_start(&d.sigint, on_signal, SIGINT);
	printf("READY\n");
	fflush(stdout);

	(void)uv_run(&d.loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&d.loop);
	if (r < 0) {
		fprintf(stderr, "control_server: uv_loop_close: %s\n", uv_strerror(r));
		return 3;
	}
	return 0;
}
