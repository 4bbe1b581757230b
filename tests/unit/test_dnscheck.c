/* tests/unit/test_dnscheck.c: the parts of common/dnscheck that need no DNS
 * server: address parsing, reply classification (NO_RECORD versus
 * DNS_ERROR), names, option and request validation, the RLIMIT_NOFILE
 * clamp, teardown with queries in flight, the question check, the attempt
 * schedule and the choice of the next resolver. Some tests run real lookups
 * against UDP sockets of their own on 127.0.0.1 that never answer (the
 * timeout and retry paths); everything with answers is in tests/integration
 * (test_dns_faults.py has the misbehaving servers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/macro.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "common/dnscheck.h"
#include "common/limits.h"
#include "tests/unit/silentdns.h"

static const char *const issuers[] = { "ca.test" };

static void test_parse_addr(void **state)
{
	(void)state;
	struct dnscheck_addr a;

	assert_int_equal(dnscheck_parse_addr("192.0.2.1", 53, &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.port, 53);
	assert_memory_equal(a.addr, "\xc0\x00\x02\x01", 4);
	assert_int_equal(dnscheck_parse_addr("127.0.0.1@5353", 53, &a), 0);
	assert_int_equal(a.port, 5353);
	assert_int_equal(dnscheck_parse_addr("2001:db8::1", 53, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.port, 53);
	assert_int_equal(dnscheck_parse_addr("2001:db8::1@5300", 53, &a), 0);
	assert_int_equal(a.port, 5300);
	assert_int_equal(dnscheck_parse_addr("[::1]:5301", 53, &a), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.port, 5301);
	assert_int_equal(dnscheck_parse_addr("[::1]", 53, &a), 0);

	const char *bad[] = {
		"", "example.com", "192.0.2.1@", "192.0.2.1@0", "192.0.2.1@65536", "192.0.2.1@53x",
		"192.0.2.1@-1", "[::1", "[::1]x", "300.1.1.1", "192.0.2.1@+53",
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(dnscheck_parse_addr(bad[i], 53, &a), -EINVAL);
}

static enum dnscheck_reply_kind classify(struct dnscheck_reply r, enum dnscheck_error *e)
{
	return dnscheck_classify(&r, e);
}

static void test_classify(void **state)
{
	(void)state;
	enum dnscheck_error e;

	/* Data, NXDOMAIN and NODATA are answers... */
	assert_int_equal(classify((struct dnscheck_reply){ .answered = true, .has_data = true }, &e),
			 DNSCHECK_REPLY_DATA);
	assert_int_equal(e, DNSCHECK_OK);
	assert_int_equal(classify((struct dnscheck_reply){ .answered = true, .rcode = 3, .aa = true },
				  &e),
			 DNSCHECK_REPLY_NXDOMAIN);
	assert_int_equal(e, DNSCHECK_OK);
	assert_int_equal(classify((struct dnscheck_reply){ .answered = true, .has_soa = true }, &e),
			 DNSCHECK_REPLY_NODATA);
	assert_int_equal(e, DNSCHECK_OK);
	/* ...from a recursive resolver too (no AA, SOA or not). */
	assert_int_equal(classify((struct dnscheck_reply){ .answered = true }, &e),
			 DNSCHECK_REPLY_NODATA);
	assert_int_equal(e, DNSCHECK_OK);

	/* A transient error is never a missing record. */
	struct {
		struct dnscheck_reply r;
		enum dnscheck_error e;
	} errors[] = {
		{ { .answered = false }, DNSCHECK_ERR_TIMEOUT },
		{ { .answered = true, .rcode = 2 }, DNSCHECK_ERR_SERVFAIL },
		{ { .answered = true, .rcode = 5 }, DNSCHECK_ERR_REFUSED },
		{ { .answered = true, .rcode = 1 }, DNSCHECK_ERR_RCODE },
		{ { .answered = true, .rcode = 4 }, DNSCHECK_ERR_RCODE },
		{ { .answered = true, .tc = true, .rcode = 3 }, DNSCHECK_ERR_TRUNCATED },
		{ { .answered = true, .tc = true, .has_data = true }, DNSCHECK_ERR_TRUNCATED },
		{ { .answered = true, .bogus = true, .rcode = 3 }, DNSCHECK_ERR_BOGUS },
		{ { .answered = true, .bogus = true, .has_data = true }, DNSCHECK_ERR_BOGUS },
		/* a referral is not NODATA */
		{ { .answered = true, .has_ns = true }, DNSCHECK_ERR_REFERRAL },
		/* asked directly, a server must answer with authority */
		{ { .answered = true, .require_aa = true, .rcode = 3 }, DNSCHECK_ERR_REFERRAL },
		{ { .answered = true, .require_aa = true, .has_data = true }, DNSCHECK_ERR_REFERRAL },
	};
	for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
		assert_int_equal(classify(errors[i].r, &e), DNSCHECK_REPLY_ERROR);
		assert_int_equal(e, errors[i].e);
	}
	/* An authoritative NODATA with NS in authority is still NODATA. */
	assert_int_equal(classify((struct dnscheck_reply){ .answered = true, .aa = true,
							   .has_ns = true, .require_aa = true },
				  &e),
			 DNSCHECK_REPLY_NODATA);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dnscheck_parent("a.b.example"), "b.example");
	assert_string_equal(dnscheck_parent("b.example"), "example");
	assert_null(dnscheck_parent("example"));
	assert_string_equal(dnscheck_parent("a\\.b.example"), "example");
	assert_string_equal(dnscheck_error_to_string(DNSCHECK_ERR_SERVFAIL), "SERVFAIL");
	assert_string_equal(dnscheck_error_to_string(DNSCHECK_ERR_TIMEOUT), "TIMEOUT");
	assert_string_equal(dnscheck_error_to_string(DNSCHECK_ERR_QUESTION), "WRONG_QUESTION");
	assert_string_equal(dnscheck_error_to_string(DNSCHECK_ERR_MALFORMED), "MALFORMED_REPLY");
	assert_null(dnscheck_error_to_string(_DNSCHECK_ERR_MAX));
	assert_string_equal(dnscheck_dnssec_to_string(DNSCHECK_DNSSEC_BOGUS), "bogus");
	assert_null(dnscheck_dnssec_to_string(_DNSCHECK_DNSSEC_MAX));

	struct dnscheck_result r = { .error = DNSCHECK_ERR_TIMEOUT };
	assert_string_equal(dnscheck_result_status(&r), "DNS_ERROR");
	r.error = DNSCHECK_OK;
	r.verdict.status = RECORD_NO_RECORD;
	assert_string_equal(dnscheck_result_status(&r), "NO_RECORD");
}

static void test_question_matches(void **state)
{
	(void)state;
	static const uint8_t www[] = "\3www\7example\0";
	static const uint8_t upper[] = "\3WwW\7EXAMPLE\0";
	static const uint8_t other[] = "\5other\7example\0";
	static const uint8_t longer[] = "\1x\3www\7example\0";
	static const uint8_t root[] = "\0";
	static const uint8_t overrun[] = "\3www\11example\0";

	assert_true(dnscheck_question_matches(www, sizeof(www) - 1, 16, 1, "www.example", 16));
	assert_true(dnscheck_question_matches(www, sizeof(www) - 1, 16, 1, "www.example.", 16));
	/* DNS names compare case-insensitively, both ways (0x20 mixing). */
	assert_true(dnscheck_question_matches(upper, sizeof(upper) - 1, 16, 1, "www.example", 16));
	assert_true(dnscheck_question_matches(www, sizeof(www) - 1, 16, 1, "WWW.Example", 16));
	/* Another name, type or class is another question. */
	assert_false(dnscheck_question_matches(other, sizeof(other) - 1, 16, 1, "www.example", 16));
	assert_false(dnscheck_question_matches(longer, sizeof(longer) - 1, 16, 1, "www.example",
					       16));
	assert_false(dnscheck_question_matches(www, sizeof(www) - 1, 16, 1, "x.www.example", 16));
	assert_false(dnscheck_question_matches(www, sizeof(www) - 1, 1, 1, "www.example", 16));
	assert_false(dnscheck_question_matches(www, sizeof(www) - 1, 16, 3, "www.example", 16));
	assert_false(dnscheck_question_matches(root, sizeof(root) - 1, 16, 1, "www.example", 16));
	/* Unreadable names never match. */
	assert_false(dnscheck_question_matches(overrun, sizeof(overrun) - 1, 16, 1, "www.example",
					       16));
	assert_false(dnscheck_question_matches(www, 4, 16, 1, "www.example", 16));
	assert_false(dnscheck_question_matches(NULL, 0, 16, 1, "www.example", 16));
}

static void test_attempt_schedule(void **state)
{
	(void)state;

	/* 5 s: 1 s, 2 s, then what is left. */
	assert_int_equal(dnscheck_attempt_ms(5000, 0, 5000), 1000);
	assert_int_equal(dnscheck_attempt_ms(5000, 1, 4000), 2000);
	assert_int_equal(dnscheck_attempt_ms(5000, 2, 2000), 2000);
	/* Short budgets: a third of it first, so a lost datagram costs a third. */
	assert_int_equal(dnscheck_attempt_ms(300, 0, 300), 100);
	assert_int_equal(dnscheck_attempt_ms(300, 1, 200), 200);
	assert_int_equal(dnscheck_attempt_ms(2, 0, 2), 1);
	/* Never more than what is left, nothing once it is spent. */
	assert_int_equal(dnscheck_attempt_ms(5000, 0, 400), 400);
	assert_int_equal(dnscheck_attempt_ms(5000, 3, 0), 0);
	/* Many attempts do not overflow the doubling. */
	assert_int_equal(dnscheck_attempt_ms(120000, 200, 120000), 120000);
	assert_int_equal(dnscheck_attempt_ms(UINT64_MAX, 80, UINT64_MAX), UINT64_MAX);
	/* The whole schedule of a budget fits the budget, in few attempts. */
	uint64_t budgets[] = { 100, 300, 1000, 5000, 120000 };
	for (size_t i = 0; i < ELEMENTSOF(budgets); i++) {
		uint64_t left = budgets[i];
		unsigned n = 0;
		while (left > 0) {
			uint64_t ms = dnscheck_attempt_ms(budgets[i], n++, left);
			assert_true(ms > 0 && ms <= left);
			left -= ms;
		}
		assert_true(n >= 2);
		assert_true(n <= DNSCHECK_MAX_ATTEMPTS / 2);
	}
}

static void test_next_resolver(void **state)
{
	(void)state;

	/* One resolver: asked again after a timeout, not after a failure. */
	assert_int_equal(dnscheck_next_resolver(0, 1, 0), 0);
	assert_int_equal(dnscheck_next_resolver(0, 1, 1), -1);
	/* Several: in turn, skipping those that failed, the current last. */
	assert_int_equal(dnscheck_next_resolver(0, 3, 0), 1);
	assert_int_equal(dnscheck_next_resolver(2, 3, 0), 0);
	assert_int_equal(dnscheck_next_resolver(0, 3, 1u << 0), 1);
	assert_int_equal(dnscheck_next_resolver(0, 3, 1u << 1), 2);
	assert_int_equal(dnscheck_next_resolver(0, 3, (1u << 1) | (1u << 2)), 0);
	assert_int_equal(dnscheck_next_resolver(1, 3, (1u << 0) | (1u << 1)), 2);
	assert_int_equal(dnscheck_next_resolver(1, 3, 7), -1);
	assert_int_equal(dnscheck_next_resolver(7, DNSCHECK_MAX_RESOLVERS, 0x7f), 7);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_dnscheck.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void drain(uv_loop_t *loop)
{
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void test_new_errors(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	const char *bad_resolver[] = { "not-an-address" };
	const char *many[DNSCHECK_MAX_RESOLVERS + 1];
	_cleanup_free_ char *garbage = write_temp("this is not a zone file\n");
	_cleanup_free_ char *a_record = write_temp("example. 3600 IN A 192.0.2.1\n");

	for (size_t i = 0; i < ELEMENTSOF(many); i++)
		many[i] = "127.0.0.1";
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = bad_resolver,
									 .n_resolvers = 1,
									 .no_dnssec = true },
				      &dc),
			 -EINVAL);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .resolvers = many,
						     .n_resolvers = ELEMENTSOF(many),
						     .no_dnssec = true },
				      &dc),
			 -E2BIG);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .max_inflight = DNSCHECK_MAX_INFLIGHT + 1,
						     .no_dnssec = true },
				      &dc),
			 -E2BIG);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .trust_anchor_file = "/nonexistent/root.key" },
				      &dc),
			 -ENOENT);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .trust_anchor_file = garbage },
				      &dc),
			 -EINVAL);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .trust_anchor_file = a_record },
				      &dc),
			 -EINVAL);
	assert_null(dc);
	unlink(garbage);
	unlink(a_record);
	drain(&loop);
}

/* trust_ad takes the AD flag only from resolvers on this host: one that is
 * not a loopback address is refused before anything is asked, unless the
 * operator said trust_ad_remote. */
static void test_trust_ad_needs_loopback(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	const char *remote[] = { "192.0.2.1" };
	const char *mixed[] = { "127.0.0.1@5353", "[2001:db8::1]@53" };
	const char *local[] = { "127.0.0.53", "::1" };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .resolvers = remote, .n_resolvers = 1,
						     .trust_ad = true },
				      &dc),
			 -EPERM);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .resolvers = mixed, .n_resolvers = 2,
						     .trust_ad = true },
				      &dc),
			 -EPERM);
	assert_null(dc);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .resolvers = local, .n_resolvers = 2,
						     .trust_ad = true },
				      &dc),
			 0);
	dnscheck_free(dc);
	dc = NULL;
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){
						     .resolvers = remote, .n_resolvers = 1,
						     .trust_ad = true, .trust_ad_remote = true },
				      &dc),
			 0);
	dnscheck_free(dc);
	drain(&loop);
}

static unsigned callbacks, cancelled;
static bool in_free;

static void on_unexpected(const struct dnscheck_result *r, void *userdata)
{
	(void)userdata;
	callbacks++;
	/* The one callback a request still gets once the checker is freed. */
	if (r->error == DNSCHECK_ERR_CANCELLED && in_free)
		cancelled++;
}

static void test_submit_errors_and_free_in_flight(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	const char *resolver[] = { "127.0.0.1@9" };
	_cleanup_free_ char *ta = write_temp(
		"example. IN DS 12345 13 2 "
		"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n");
	struct dnscheck_request rq = {
		.name = "www.example",
		.issuers = issuers,
		.n_issuers = 1,
		.account_uri = "https://ca.test/acct/1",
		.caa = true,
		.authoritative = true,
	};

	callbacks = cancelled = 0;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .trust_anchor_file = ta },
				      &dc),
			 0);
	assert_int_equal(dnscheck_max_inflight(dc), DNSCHECK_DEFAULT_INFLIGHT);

	struct dnscheck_request bad = rq;
	bad.name = "not a name";
	assert_int_equal(dnscheck_submit(dc, &bad, on_unexpected, NULL), -EINVAL);
	bad = rq;
	bad.n_issuers = 0;
	assert_int_equal(dnscheck_submit(dc, &bad, on_unexpected, NULL), -EINVAL);
	bad = rq;
	bad.account_uri = "";
	assert_int_equal(dnscheck_submit(dc, &bad, on_unexpected, NULL), -EINVAL);
	assert_int_equal(dnscheck_pending(dc), 0);

	/* Queries go out at once (more than the window, so some wait in the
	 * queue); freeing answers each of them once, CANCELLED, from inside
	 * dnscheck_free(), so their owners can free what they lent. */
	size_t n = DNSCHECK_DEFAULT_INFLIGHT + 10;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dnscheck_submit(dc, &rq, on_unexpected, NULL), 0);
	assert_int_equal(dnscheck_pending(dc), n);
	struct dnscheck_stats st;
	dnscheck_get_stats(dc, &st);
	assert_true(st.queries > 0);
	assert_int_equal(callbacks, 0);
	in_free = true;
	dnscheck_free(dc);
	in_free = false;
	assert_int_equal(callbacks, n);
	assert_int_equal(cancelled, n);
	drain(&loop);
	assert_int_equal(callbacks, n);
	unlink(ta);
}

static void test_inflight_clamped_to_nofile(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	struct rlimit old, low;
	const char *resolver[] = { "127.0.0.1" };

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 200;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .no_dnssec = true,
									 .max_inflight = 4000 },
				      &dc),
			 0);
	assert_true(dnscheck_max_inflight(dc) <= (200 - DNSCHECK_FD_RESERVE) / 2);
	assert_true(dnscheck_max_inflight(dc) >= 1);
	dnscheck_free(dc);
	drain(&loop);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

struct timeout_run {
	bool in_submit;
	unsigned results;
	enum dnscheck_error error, caa_error;
	char status[32];
};

static void on_timeout_result(const struct dnscheck_result *r, void *userdata)
{
	struct timeout_run *t = userdata;

	assert_false(t->in_submit); /* never from inside dnscheck_submit() */
	t->results++;
	t->error = r->error;
	t->caa_error = r->caa.error;
	snprintf(t->status, sizeof(t->status), "%s", dnscheck_result_status(r));
	assert_string_equal(r->owner, "_validation-persist.example");
	assert_true(r->wildcard);
}

static void test_silent_server_is_dns_error(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	char resolver_buf[64];
	int fd = silent_server(resolver_buf, sizeof(resolver_buf));
	const char *resolver[] = { resolver_buf };
	struct timeout_run t = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .no_dnssec = true,
									 .timeout_ms = 100 },
				      &dc),
			 0);
	struct dnscheck_request rq = {
		.name = "*.example",
		.issuers = issuers,
		.n_issuers = 1,
		.account_uri = "https://ca.test/acct/1",
		.caa = true,
	};
	t.in_submit = true;
	assert_int_equal(dnscheck_submit(dc, &rq, on_timeout_result, &t), 0);
	t.in_submit = false;
	while (t.results == 0 && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	assert_int_equal(t.results, 1);
	assert_int_equal(t.error, DNSCHECK_ERR_TIMEOUT);
	assert_int_equal(t.caa_error, DNSCHECK_ERR_TIMEOUT);
	assert_string_equal(t.status, "DNS_ERROR");
	assert_int_equal(dnscheck_pending(dc), 0);
	dnscheck_free(dc);
	drain(&loop);
	close(fd);
}

static void on_wait_done(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop for ms with nothing of the test's own to do. */
static void run_for(uv_loop_t *loop, uv_timer_t *wait, uint64_t ms)
{
	bool fired = false;

	wait->data = &fired;
	assert_int_equal(uv_timer_start(wait, on_wait_done, ms, 0), 0);
	while (!fired)
		(void)uv_run(loop, UV_RUN_ONCE);
}

/* A memoised lookup (here the CAA lookup that timed out) is freed once it is cache_ms
 * old, though no later lookup comes to evict it: after a round of 100k names nothing
 * else would give that memory back. */
static void test_cache_expires_without_new_lookups(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_timer_t wait;
	struct dnscheck *dc = NULL;
	struct dnscheck_stats st;
	char resolver_buf[64];
	int fd = silent_server(resolver_buf, sizeof(resolver_buf));
	const char *resolver[] = { resolver_buf };
	struct timeout_run t = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .no_dnssec = true,
									 .timeout_ms = 100,
									 .cache_ms = 300 },
				      &dc),
			 0);
	struct dnscheck_request rq = {
		.name = "*.example" /* what on_timeout_result expects */,
		.issuers = issuers,
		.n_issuers = 1,
		.account_uri = "https://ca.test/acct/1",
		.caa = true,
	};
	assert_int_equal(dnscheck_submit(dc, &rq, on_timeout_result, &t), 0);
	while (t.results == 0 && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	assert_int_equal(t.results, 1);
	dnscheck_get_stats(dc, &st);
	assert_true(st.cached >= 1);
	assert_int_equal(uv_timer_init(&loop, &wait), 0);
	run_for(&loop, &wait, 100);
	dnscheck_get_stats(dc, &st);
	assert_true(st.cached >= 1); /* 100 ms: not yet */
	run_for(&loop, &wait, 400);
	dnscheck_get_stats(dc, &st);
	assert_int_equal(st.cached, 0);
	uv_close((uv_handle_t *)&wait, NULL);
	dnscheck_free(dc);
	drain(&loop);
	close(fd);
}

static unsigned datagrams(int fd)
{
	char buf[512];
	unsigned n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* A timed-out attempt is cancelled and the question asked of the next
 * resolver, within the one budget: both silent servers hear it. */
static void test_timeouts_rotate_resolvers(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	int fd[2];
	char buf[2][64];
	const char *resolver[] = { buf[0], buf[1] };
	struct timeout_run t = { 0 };

	for (int i = 0; i < 2; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);
		fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(bind(fd[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(getsockname(fd[i], (struct sockaddr *)&sa, &sl), 0);
		snprintf(buf[i], sizeof(buf[i]), "127.0.0.1@%u", ntohs(sa.sin_port));
	}
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 2,
									 .no_dnssec = true,
									 .timeout_ms = 300 },
				      &dc),
			 0);
	struct dnscheck_request rq = {
		.name = "*.example",
		.issuers = issuers,
		.n_issuers = 1,
		.account_uri = "https://ca.test/acct/1",
	};
	assert_int_equal(dnscheck_submit(dc, &rq, on_timeout_result, &t), 0);
	while (t.results == 0 && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	assert_int_equal(t.results, 1);
	assert_int_equal(t.error, DNSCHECK_ERR_TIMEOUT);
	assert_int_equal(datagrams(fd[0]), 1);
	assert_int_equal(datagrams(fd[1]), 1);
	struct dnscheck_stats st;
	dnscheck_get_stats(dc, &st);
	assert_int_equal(st.queries, 2);
	dnscheck_free(dc);
	drain(&loop);
	close(fd[0]);
	close(fd[1]);
}

struct raw_run {
	unsigned results;
	enum dnscheck_error error;
	char owner[64];
};

static void on_raw_result(const struct dnscheck_txt_result *r, void *userdata)
{
	struct raw_run *t = userdata;

	t->results++;
	t->error = r->error;
	snprintf(t->owner, sizeof(t->owner), "%s", r->owner);
	assert_false(r->auth_checked);
	assert_int_equal(r->n_rrs, 0);
}

static void test_raw_lookup(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	char resolver_buf[64];
	int fd = silent_server(resolver_buf, sizeof(resolver_buf));
	const char *resolver[] = { resolver_buf };
	struct raw_run t = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .no_dnssec = true,
									 .timeout_ms = 50 },
				      &dc),
			 0);
	const char *bad[] = { "", ".", "a..b", "a b.example", "*.example", "a\\.example" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(dnscheck_lookup_txt(dc, &(struct dnscheck_txt_request){ .owner = bad[i] },
						     on_raw_result, &t),
				 -EINVAL);
	assert_int_equal(dnscheck_lookup_txt(dc, &(struct dnscheck_txt_request){
							 .owner = "_ACME-Challenge.Example." },
					     on_raw_result, &t),
			 0);
	while (t.results == 0 && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	assert_int_equal(t.results, 1);
	assert_int_equal(t.error, DNSCHECK_ERR_TIMEOUT);
	assert_string_equal(t.owner, "_acme-challenge.example");
	dnscheck_free(dc);
	drain(&loop);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_question_matches),
		cmocka_unit_test(test_attempt_schedule),
		cmocka_unit_test(test_next_resolver),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_trust_ad_needs_loopback),
		cmocka_unit_test(test_submit_errors_and_free_in_flight),
		cmocka_unit_test(test_inflight_clamped_to_nofile),
		cmocka_unit_test(test_silent_server_is_dns_error),
		cmocka_unit_test(test_cache_expires_without_new_lookups),
		cmocka_unit_test(test_timeouts_rotate_resolvers),
		cmocka_unit_test(test_raw_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
