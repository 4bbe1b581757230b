/* tests/unit/test_getdns_uv.c: the getdns event-loop adapter.
 *
 * Without arguments: cmocka unit tests that drive the adapter's vmt the way
 * getdns does (docs/notes/getdns-libuv.md section 1) on socketpairs and timers, no
 * network.
 *
 * With --stress: the recipe of notes section 4 against a real server, run by
 * tests/integration/test_getdns_uv.py under ASan:
 *   test_getdns_uv --stress --server 127.0.0.1@PORT --name big.bench.test
 *       --count 50 --answers 20 --transport udp-tcp|tcp|udp [--limit N]
 * It prints one line of counters and exits 0 only if every query was
 * answered with exactly --answers RRs, schedules == clears + cleanup_closed,
 * nothing is left allocated and uv_loop_close() returned 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common/getdns_uv.h"
#include "common/macro.h"

/* ---- unit tests: fake getdns events ---- */

struct fake {
	struct getdns_uv *a;
	getdns_eventloop_event ev;
	int fd;
	unsigned reads, writes, timeouts;
	bool clear_on_read, clear_on_write, clear_on_timeout;
	bool resched_read_on_write; /* upstream_write_cb: clear, re-schedule for read */
	char buf[64];
};

static void fake_clear(struct fake *f)
{
	assert_int_equal(f->a->base.vmt->clear(&f->a->base, &f->ev), GETDNS_RETURN_GOOD);
	assert_null(f->ev.ev);
}

static void on_fake_read(void *arg)
{
	struct fake *f = arg;

	f->reads++;
	(void)!read(f->fd, f->buf, sizeof(f->buf));
	if (f->clear_on_read)
		fake_clear(f);
}

static void on_fake_write(void *arg)
{
	struct fake *f = arg;

	f->writes++;
	if (f->resched_read_on_write) {
		fake_clear(f);
		f->ev.write_cb = NULL;
		f->ev.read_cb = on_fake_read;
		assert_int_equal(f->a->base.vmt->schedule(&f->a->base, f->fd, UINT64_MAX, &f->ev),
				 GETDNS_RETURN_GOOD);
		return;
	}
	if (f->clear_on_write)
		fake_clear(f);
}

static void on_fake_timeout(void *arg)
{
	struct fake *f = arg;

	f->timeouts++;
	if (f->clear_on_timeout)
		fake_clear(f);
}

static unsigned drained_calls;

static void on_test_drained(struct getdns_uv *a)
{
	(void)a;
	drained_calls++;
}

static void count_handle(uv_handle_t *h, void *arg)
{
	unsigned *n = arg;

	if (!uv_is_closing(h))
		(*n)++;
}

static unsigned live_handles(uv_loop_t *loop)
{
	unsigned n = 0;

	uv_walk(loop, count_handle, &n);
	return n;
}

static void finish(uv_loop_t *loop, struct getdns_uv *a)
{
	a->base.vmt->cleanup(&a->base);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_true(getdns_uv_drained(a));
	assert_int_equal(a->stats.allocated, 0);
	assert_int_equal(a->stats.live, 0);
	assert_int_equal(a->stats.schedules, a->stats.clears + a->stats.cleanup_closed);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void test_timer_only(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	struct fake f = { .a = &a, .fd = -1, .clear_on_timeout = true };

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.ev = (getdns_eventloop_event){ .userarg = &f, .timeout_cb = on_fake_timeout };
	assert_int_equal(a.base.vmt->schedule(&a.base, -1, 5, &f.ev), GETDNS_RETURN_GOOD);
	assert_non_null(f.ev.ev);
	assert_int_equal(live_handles(&loop), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.timeouts, 1);
	assert_int_equal(a.stats.clears, 1);
	finish(&loop, &a);
}

static void test_forever_has_no_timer(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	struct fake f = { .a = &a, .fd = -1 };

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.ev = (getdns_eventloop_event){ .userarg = &f, .timeout_cb = on_fake_timeout };
	assert_int_equal(a.base.vmt->schedule(&a.base, -1, UINT64_MAX, &f.ev), GETDNS_RETURN_GOOD);
	assert_non_null(f.ev.ev);
	assert_int_equal(live_handles(&loop), 0);
	/* Nothing to wait for: the loop returns at once. */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	fake_clear(&f);
	/* A registration without handles is freed synchronously. */
	assert_int_equal(a.stats.allocated, 0);
	finish(&loop, &a);
}

static void test_clear_null_is_noop(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	getdns_eventloop_event ev = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	assert_int_equal(a.base.vmt->clear(&a.base, &ev), GETDNS_RETURN_GOOD);
	assert_int_equal(a.stats.clears, 0);
	/* run and run_once must not run the loop (re-entrancy). */
	a.base.vmt->run(&a.base);
	a.base.vmt->run_once(&a.base, 1);
	finish(&loop, &a);
}

/* upstream_write_cb: one event, write then (cleared, re-scheduled) read, on
 * the same fd, from inside its own callback. */
static void test_write_then_read_same_fd(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2];
	struct fake f = { .a = &a, .resched_read_on_write = true, .clear_on_read = true };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.fd = sv[0];
	f.ev = (getdns_eventloop_event){ .userarg = &f, .write_cb = on_fake_write,
					 .timeout_cb = on_fake_timeout };
	assert_int_equal(a.base.vmt->schedule(&a.base, f.fd, 10000, &f.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.reads, 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.reads, 1);
	assert_int_equal(f.timeouts, 0);
	assert_int_equal(a.stats.schedules, 2);
	assert_int_equal(a.stats.clears, 2);
	close(sv[0]);
	close(sv[1]);
	finish(&loop, &a);
}

/* Both callbacks on one event: exactly one poll handle for the fd (the bug
 * in Debian's extension was two), and the write runs before the read. */
static void test_read_and_write_one_handle(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2];
	struct fake f = { .a = &a };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.fd = sv[0];
	f.ev = (getdns_eventloop_event){ .userarg = &f, .read_cb = on_fake_read,
					 .write_cb = on_fake_write };
	f.clear_on_write = false;
	f.clear_on_read = true;
	assert_int_equal(a.base.vmt->schedule(&a.base, f.fd, UINT64_MAX, &f.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(live_handles(&loop), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.reads, 1);
	close(sv[0]);
	close(sv[1]);
	finish(&loop, &a);
}

/* A write callback that clears its event must keep the read side of the
 * same wake-up from running (the event may be gone). */
static void test_clear_in_write_skips_read(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2];
	struct fake f = { .a = &a, .clear_on_write = true };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.fd = sv[0];
	f.ev = (getdns_eventloop_event){ .userarg = &f, .read_cb = on_fake_read,
					 .write_cb = on_fake_write };
	assert_int_equal(a.base.vmt->schedule(&a.base, f.fd, UINT64_MAX, &f.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.reads, 0);
	close(sv[0]);
	close(sv[1]);
	finish(&loop, &a);
}

/* getdns closes the fd right after clear(); the next socket() reuses the
 * number at once and gets scheduled while the old handle is still closing. */
static void test_fd_reuse_after_clear(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2], sv2[2];
	struct fake f = { .a = &a, .clear_on_read = true };
	struct fake g = { .a = &a, .clear_on_read = true };

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	f.fd = sv[0];
	f.ev = (getdns_eventloop_event){ .userarg = &f, .read_cb = on_fake_read };
	assert_int_equal(a.base.vmt->schedule(&a.base, f.fd, UINT64_MAX, &f.ev), GETDNS_RETURN_GOOD);
	fake_clear(&f);
	int old = sv[0];
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv2), 0);
	assert_int_equal(sv2[0], old);
	g.fd = sv2[0];
	g.ev = (getdns_eventloop_event){ .userarg = &g, .read_cb = on_fake_read };
	assert_int_equal(a.base.vmt->schedule(&a.base, g.fd, UINT64_MAX, &g.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(write(sv2[1], "x", 1), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.reads, 0);
	assert_int_equal(g.reads, 1);
	close(sv2[0]);
	close(sv2[1]);
	finish(&loop, &a);
}

/* cleanup() closes what getdns left scheduled (limit_outstanding_queries'
 * timer); the close callbacks then drain the adapter. */
static void test_cleanup_closes_leftovers(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2];
	struct fake f = { .a = &a, .fd = -1 };
	struct fake g = { .a = &a };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	a.on_drained = on_test_drained;
	drained_calls = 0;
	f.ev = (getdns_eventloop_event){ .userarg = &f, .timeout_cb = on_fake_timeout };
	assert_int_equal(a.base.vmt->schedule(&a.base, -1, 60000, &f.ev), GETDNS_RETURN_GOOD);
	g.fd = sv[0];
	g.ev = (getdns_eventloop_event){ .userarg = &g, .read_cb = on_fake_read,
					 .timeout_cb = on_fake_timeout };
	assert_int_equal(a.base.vmt->schedule(&a.base, g.fd, 60000, &g.ev), GETDNS_RETURN_GOOD);
	a.base.vmt->cleanup(&a.base);
	assert_int_equal(a.stats.cleanup_closed, 2);
	assert_false(getdns_uv_drained(&a));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_true(getdns_uv_drained(&a));
	assert_int_equal(drained_calls, 1);
	assert_int_equal(f.timeouts, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	close(sv[0]);
	close(sv[1]);
}

/* Scheduling an event that is still scheduled replaces the registration
 * instead of leaking it. */
static void test_schedule_twice_replaces(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	struct fake f = { .a = &a, .fd = -1, .clear_on_timeout = true };

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.ev = (getdns_eventloop_event){ .userarg = &f, .timeout_cb = on_fake_timeout };
	assert_int_equal(a.base.vmt->schedule(&a.base, -1, 60000, &f.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(a.base.vmt->schedule(&a.base, -1, 1, &f.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(a.stats.breaches, 1);
	assert_int_equal(a.stats.live, 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.timeouts, 1);
	finish(&loop, &a);
}

/* The UDP pattern (write, then cleared and re-scheduled for read, then
 * cleared and closed) costs an ADD and a MOD on the adapter's EPOLLONESHOT
 * set: libuv's uv_poll_t per registration cost ten epoll_ctl and two ioctl
 * (docs/notes/getdns-libuv.md section 7). */
static void test_udp_pattern_costs_two_epoll_ctls(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2];
	struct fake f = { .a = &a, .resched_read_on_write = true, .clear_on_read = true };

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	f.fd = sv[0];
	f.ev = (getdns_eventloop_event){ .userarg = &f, .write_cb = on_fake_write };
	assert_int_equal(a.base.vmt->schedule(&a.base, f.fd, UINT64_MAX, &f.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
	assert_int_equal(f.writes, 1);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.reads, 1);
	assert_int_equal(a.stats.epoll_ctls, 2);
	close(sv[0]);
	close(sv[1]);
	finish(&loop, &a);
}

/* Two events on one fd, one reading and one writing: both are delivered
 * (Debian's extension and libuv's one-handle-per-fd rule refused the second
 * with EEXIST), and clearing one keeps the other watched. */
static void test_two_events_on_one_fd(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	int sv[2];
	struct fake r = { .a = &a, .clear_on_read = true };
	struct fake w = { .a = &a, .clear_on_write = true };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	r.fd = w.fd = sv[0];
	r.ev = (getdns_eventloop_event){ .userarg = &r, .read_cb = on_fake_read };
	w.ev = (getdns_eventloop_event){ .userarg = &w, .write_cb = on_fake_write };
	assert_int_equal(a.base.vmt->schedule(&a.base, sv[0], UINT64_MAX, &r.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(a.base.vmt->schedule(&a.base, sv[0], UINT64_MAX, &w.ev), GETDNS_RETURN_GOOD);
	assert_int_equal(a.stats.errors, 0);
	/* The writer runs and clears; the reader still waits for data. */
	assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
	assert_int_equal(w.writes, 1);
	assert_int_equal(r.reads, 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.reads, 1);
	assert_int_equal(w.writes, 1);
	close(sv[0]);
	close(sv[1]);
	finish(&loop, &a);
}

/* Two fds ready in one wake-up. The first callback clears the other's
 * event, closes its fd, and schedules a new socket that gets the same
 * number and has nothing to read: the event already fetched for the old
 * socket must not reach the new registration. */
struct reuse {
	struct getdns_uv *a;
	struct fake f[2];
	int peer[2];
	struct fake fresh;
	int fresh_peer;
	bool done;
};

static struct reuse *reuse_now;

static void on_reuse_read(void *arg)
{
	struct fake *f = arg;
	struct reuse *u = reuse_now;
	int me = f == &u->f[1];
	struct fake *other = &u->f[!me];

	f->reads++;
	fake_clear(f);
	if (u->done)
		return;
	u->done = true;
	fake_clear(other);
	int old = other->fd;
	close(other->fd);
	close(u->peer[!me]);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(sv[0], old);
	u->fresh.fd = sv[0];
	u->fresh_peer = sv[1];
	u->fresh.ev = (getdns_eventloop_event){ .userarg = &u->fresh, .read_cb = on_fake_read };
	assert_int_equal(u->a->base.vmt->schedule(&u->a->base, sv[0], UINT64_MAX, &u->fresh.ev),
			 GETDNS_RETURN_GOOD);
}

static void test_stale_event_after_reuse(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	struct reuse u = { .a = &a, .fresh = { .a = &a, .clear_on_read = true } };

	reuse_now = &u;

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	for (int i = 0; i < 2; i++) {
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
		u.f[i] = (struct fake){ .a = &a, .fd = sv[0] };
		u.peer[i] = sv[1];
		u.f[i].ev = (getdns_eventloop_event){ .userarg = &u.f[i], .read_cb = on_reuse_read };
		assert_int_equal(a.base.vmt->schedule(&a.base, sv[0], UINT64_MAX, &u.f[i].ev),
				 GETDNS_RETURN_GOOD);
		assert_int_equal(write(sv[1], "x", 1), 1);
	}
	assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 1);
	assert_int_equal(u.f[0].reads + u.f[1].reads, 1);
	assert_int_equal(u.fresh.reads, 0);
	assert_int_equal(a.stats.stale, 1);
	/* The new socket is watched for real. */
	assert_int_equal(write(u.fresh_peer, "y", 1), 1);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(u.fresh.reads, 1);
	for (int i = 0; i < 2; i++)
		if (u.f[i].reads) {
			close(u.f[i].fd);
			close(u.peer[i]);
		}
	close(u.fresh.fd);
	close(u.fresh_peer);
	finish(&loop, &a);
}

/* A real getdns context: attach, query nothing, destroy, drain. */
static void test_context_attach_destroy(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct getdns_uv a;
	getdns_context *ctx = NULL;

	assert_int_equal(uv_loop_init(&loop), 0);
	getdns_uv_init(&a, &loop);
	assert_int_equal(getdns_context_create(&ctx, 0), GETDNS_RETURN_GOOD);
	assert_int_equal(getdns_uv_attach(&a, ctx), 0);
	getdns_context_destroy(ctx);
	assert_true(a.detached);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_true(getdns_uv_drained(&a));
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- --stress: real queries against a server ---- */

struct stress {
	unsigned count, answers_expected;
	unsigned done, good, bad;
};

static void on_stress_answer(getdns_context *ctx, getdns_callback_type_t type,
			     getdns_dict *resp, void *userarg, getdns_transaction_t tid)
{
	struct stress *s = userarg;
	uint32_t status = 0;
	getdns_list *answer = NULL;
	size_t n = 0;

	(void)ctx;
	(void)tid;
	s->done++;
	if (type == GETDNS_CALLBACK_COMPLETE &&
	    getdns_dict_get_int(resp, "status", &status) == GETDNS_RETURN_GOOD &&
	    status == GETDNS_RESPSTATUS_GOOD &&
	    getdns_dict_get_list(resp, "/replies_tree/0/answer", &answer) == GETDNS_RETURN_GOOD &&
	    getdns_list_get_length(answer, &n) == GETDNS_RETURN_GOOD &&
	    n == s->answers_expected)
		s->good++;
	else {
		s->bad++;
		if (s->bad <= 3)
			fprintf(stderr, "stress: query failed: callback type %d, status %u, %zu answers\n",
				(int)type, status, n);
	}
	getdns_dict_destroy(resp);
}

static int stress_upstream(getdns_context *ctx, const char *server)
{
	char host[64];
	const char *at = strchr(server, '@');
	size_t hl = at ? (size_t)(at - server) : strlen(server);
	uint8_t addr[4];

	if (hl >= sizeof(host))
		return -1;
	memcpy(host, server, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, addr) != 1)
		return -1;
	getdns_dict *u = getdns_dict_create();
	getdns_list *l = getdns_list_create();
	getdns_bindata type = { 4, (uint8_t *)"IPv4" };
	getdns_bindata data = { 4, addr };
	getdns_dict_set_bindata(u, "address_type", &type);
	getdns_dict_set_bindata(u, "address_data", &data);
	if (at)
		getdns_dict_set_int(u, "port", (uint32_t)atoi(at + 1));
	getdns_list_set_dict(l, 0, u);
	getdns_return_t r = getdns_context_set_upstream_recursive_servers(ctx, l);
	getdns_dict_destroy(u);
	getdns_list_destroy(l);
	return r == GETDNS_RETURN_GOOD ? 0 : -1;
}

static int stress(int argc, char **argv)
{
	const char *server = NULL, *name = "big.bench.test", *transport = "udp-tcp";
	unsigned count = 50, answers = 20, limit = 0;

	for (int i = 2; i + 1 < argc; i += 2) {
		if (streq(argv[i], "--server"))
			server = argv[i + 1];
		else if (streq(argv[i], "--name"))
			name = argv[i + 1];
		else if (streq(argv[i], "--count"))
			count = (unsigned)atoi(argv[i + 1]);
		else if (streq(argv[i], "--answers"))
			answers = (unsigned)atoi(argv[i + 1]);
		else if (streq(argv[i], "--transport"))
			transport = argv[i + 1];
		else if (streq(argv[i], "--limit"))
			limit = (unsigned)atoi(argv[i + 1]);
		else {
			fprintf(stderr, "stress: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!server) {
		fprintf(stderr, "stress: --server ADDR@PORT is required\n");
		return 2;
	}

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	uv_loop_t loop;
	struct getdns_uv a;
	getdns_context *ctx = NULL;
	struct stress s = { .count = count, .answers_expected = answers };

	if (uv_loop_init(&loop) < 0)
		return 1;
	getdns_uv_init(&a, &loop);
	if (getdns_context_create(&ctx, 0) != GETDNS_RETURN_GOOD)
		return 1;
	getdns_transport_list_t udp_tcp[] = { GETDNS_TRANSPORT_UDP, GETDNS_TRANSPORT_TCP };
	getdns_transport_list_t tcp[] = { GETDNS_TRANSPORT_TCP };
	getdns_transport_list_t udp[] = { GETDNS_TRANSPORT_UDP };
	getdns_transport_list_t *tl = udp_tcp;
	size_t tn = 2;
	if (streq(transport, "tcp")) {
		tl = tcp;
		tn = 1;
	} else if (streq(transport, "udp")) {
		tl = udp;
		tn = 1;
	}
	if (getdns_context_set_resolution_type(ctx, GETDNS_RESOLUTION_STUB) ||
	    getdns_context_set_dns_transport_list(ctx, tn, tl) ||
	    getdns_context_set_timeout(ctx, 10000) || stress_upstream(ctx, server) < 0 ||
	    (limit && getdns_context_set_limit_outstanding_queries(ctx, (uint16_t)limit)) ||
	    getdns_uv_attach(&a, ctx) < 0) {
		fprintf(stderr, "stress: setting up the context failed\n");
		getdns_context_destroy(ctx);
		return 1;
	}

	uint64_t t0 = uv_hrtime();
	for (unsigned i = 0; i < count; i++) {
		getdns_transaction_t tid;
		if (getdns_general(ctx, name, GETDNS_RRTYPE_TXT, NULL, &s, &tid, on_stress_answer)) {
			fprintf(stderr, "stress: getdns_general failed\n");
			s.done++;
			s.bad++;
		}
	}
	while (s.done < count)
		if (uv_run(&loop, UV_RUN_ONCE) == 0 && s.done < count) {
			fprintf(stderr, "stress: loop ran dry with %u of %u answered\n", s.done, count);
			break;
		}
	double secs = (double)(uv_hrtime() - t0) / 1e9;
	uint64_t live_at_end = a.stats.live;

	getdns_context_destroy(ctx);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	int close_r = uv_loop_close(&loop);
	bool ok = s.good == count && s.bad == 0 &&
		  a.stats.schedules == a.stats.clears + a.stats.cleanup_closed &&
		  a.stats.allocated == 0 && a.stats.errors == 0 && a.stats.breaches == 0 &&
		  close_r == 0;

	printf("answered=%u/%u bad=%u time=%.3fs schedules=%llu clears=%llu cleanup_closed=%llu "
	       "live_at_end=%llu allocated=%llu errors=%llu breaches=%llu epoll_ctls=%llu "
	       "loop_close=%d %s\n",
	       s.good, count, s.bad, secs, (unsigned long long)a.stats.schedules,
	       (unsigned long long)a.stats.clears, (unsigned long long)a.stats.cleanup_closed,
	       (unsigned long long)live_at_end, (unsigned long long)a.stats.allocated,
	       (unsigned long long)a.stats.errors, (unsigned long long)a.stats.breaches,
	       (unsigned long long)a.stats.epoll_ctls, close_r,
	       ok ? "OK" : "FAIL");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && streq(argv[1], "--stress"))
		return stress(argc, argv);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_only),
		cmocka_unit_test(test_forever_has_no_timer),
		cmocka_unit_test(test_clear_null_is_noop),
		cmocka_unit_test(test_write_then_read_same_fd),
		cmocka_unit_test(test_read_and_write_one_handle),
		cmocka_unit_test(test_clear_in_write_skips_read),
		cmocka_unit_test(test_fd_reuse_after_clear),
		cmocka_unit_test(test_cleanup_closes_leftovers),
		cmocka_unit_test(test_schedule_twice_replaces),
		cmocka_unit_test(test_udp_pattern_costs_two_epoll_ctls),
		cmocka_unit_test(test_two_events_on_one_fd),
		cmocka_unit_test(test_stale_event_after_reuse),
		cmocka_unit_test(test_context_attach_destroy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
