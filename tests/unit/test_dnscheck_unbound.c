/* tests/unit/test_dnscheck_unbound.c: the libunbound backend without a DNS
 * server that answers: what an ub_result maps to (DNSSEC status and error),
 * bad trust anchors, a silent forwarder (TIMEOUT within the budget, and the
 * loop still returns: the pipe's poll handle is referenced only while a
 * query is out), and teardown with queries in flight (no libunbound
 * callback after dnscheck_free()). Answers from real servers are in
 * tests/integration/test_dnssec_unbound.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/macro.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/dnscheck.h"
#include "common/dnscheck_unbound.h"
#include "tests/unit/silentdns.h"

static const char *const issuers[] = { "ca.test" };
static const char anchor_text[] =
	"example. IN DS 12345 13 2 "
	"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n";

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_dnscheck_unbound.XXXXXX");
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

static void test_dnssec_mapping(void **state)
{
	(void)state;
	assert_int_equal(dnscheck_unbound_dnssec(1, 0), DNSCHECK_DNSSEC_SECURE);
	assert_int_equal(dnscheck_unbound_dnssec(0, 1), DNSCHECK_DNSSEC_BOGUS);
	assert_int_equal(dnscheck_unbound_dnssec(0, 0), DNSCHECK_DNSSEC_INSECURE);
	/* never better than bogus, whatever else is set */
	assert_int_equal(dnscheck_unbound_dnssec(1, 1), DNSCHECK_DNSSEC_BOGUS);
}

static void test_error_mapping(void **state)
{
	(void)state;
	/* NOERROR and NXDOMAIN: the packet decides (data, NODATA, NXDOMAIN) */
	assert_int_equal(dnscheck_unbound_error(0, 0, true), DNSCHECK_OK);
	assert_int_equal(dnscheck_unbound_error(3, 0, true), DNSCHECK_OK);
	/* bogus wins over every rcode, with or without a packet */
	assert_int_equal(dnscheck_unbound_error(2, 1, true), DNSCHECK_ERR_BOGUS);
	assert_int_equal(dnscheck_unbound_error(0, 1, true), DNSCHECK_ERR_BOGUS);
	assert_int_equal(dnscheck_unbound_error(0, 1, false), DNSCHECK_ERR_BOGUS);
	assert_int_equal(dnscheck_unbound_error(2, 0, true), DNSCHECK_ERR_SERVFAIL);
	/* no packet to read: never NO_RECORD */
	assert_int_equal(dnscheck_unbound_error(0, 0, false), DNSCHECK_ERR_SERVFAIL);
	assert_int_equal(dnscheck_unbound_error(3, 0, false), DNSCHECK_ERR_SERVFAIL);
	assert_int_equal(dnscheck_unbound_error(5, 0, true), DNSCHECK_ERR_REFUSED);
	assert_int_equal(dnscheck_unbound_error(1, 0, true), DNSCHECK_ERR_RCODE);
	assert_int_equal(dnscheck_unbound_error(4, 0, true), DNSCHECK_ERR_RCODE);
}

static void test_bad_anchors(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	const char *resolver[] = { "127.0.0.1@9" };
	_cleanup_free_ char *garbage = write_temp("this is not a zone file\n");
	_cleanup_free_ char *a_record = write_temp("example. 3600 IN A 192.0.2.1\n");

	assert_int_equal(uv_loop_init(&loop), 0);
	struct dnscheck_options o = { .resolvers = resolver, .n_resolvers = 1, .unbound = true };
	o.trust_anchor_file = garbage;
	assert_int_equal(dnscheck_new(&loop, &o, &dc), -EINVAL);
	o.trust_anchor_file = a_record;
	assert_int_equal(dnscheck_new(&loop, &o, &dc), -EINVAL);
	o.trust_anchor_file = "/nonexistent/anchor.key";
	assert_int_equal(dnscheck_new(&loop, &o, &dc), -ENOENT);
	drain(&loop);
	unlink(garbage);
	unlink(a_record);
}

struct run {
	unsigned results, cancelled;
	bool in_free;
	enum dnscheck_error error;
	enum dnscheck_dnssec dnssec;
	char status[32];
};

static void on_result(const struct dnscheck_result *r, void *userdata)
{
	struct run *t = userdata;

	t->results++;
	if (r->error == DNSCHECK_ERR_CANCELLED && t->in_free)
		t->cancelled++;
	t->error = r->error;
	t->dnssec = r->dnssec;
	snprintf(t->status, sizeof(t->status), "%s", dnscheck_result_status(r));
}

static void test_silent_forwarder_times_out(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	char resolver_buf[64];
	const char *resolver[] = { resolver_buf };
	int fd = silent_server(resolver_buf, sizeof(resolver_buf));
	_cleanup_free_ char *ta = write_temp(anchor_text);
	struct run t = { 0 };
	struct dnscheck_request rq = {
		.name = "www.example",
		.issuers = issuers,
		.n_issuers = 1,
		.account_uri = "https://ca.test/acct/1",
	};

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .trust_anchor_file = ta,
									 .unbound = true,
									 .timeout_ms = 300 },
				      &dc),
			 0);
	uint64_t t0 = uv_hrtime();
	assert_int_equal(dnscheck_submit(dc, &rq, on_result, &t), 0);
	/* The loop returns once the name is answered: nothing else holds it. */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	uint64_t ms = (uv_hrtime() - t0) / 1000000;
	assert_int_equal(t.results, 1);
	assert_int_equal(t.error, DNSCHECK_ERR_TIMEOUT);
	assert_string_equal(t.status, "DNS_ERROR");
	assert_true(ms >= 250);
	assert_true(ms < 3000);
	dnscheck_free(dc);
	drain(&loop);
	close(fd);
	unlink(ta);
}

static void test_free_in_flight(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	char resolver_buf[64];
	const char *resolver[] = { resolver_buf };
	int fd = silent_server(resolver_buf, sizeof(resolver_buf));
	_cleanup_free_ char *ta = write_temp(anchor_text);
	struct run t = { 0 };
	struct dnscheck_request rq = {
		.name = "www.example",
		.issuers = issuers,
		.n_issuers = 1,
		.account_uri = "https://ca.test/acct/1",
	};

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dnscheck_new(&loop, &(struct dnscheck_options){ .resolvers = resolver,
									 .n_resolvers = 1,
									 .trust_anchor_file = ta,
									 .unbound = true },
				      &dc),
			 0);
	size_t n = DNSCHECK_DEFAULT_INFLIGHT + 10;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dnscheck_submit(dc, &rq, on_result, &t), 0);
	/* Let libunbound take the queries and send some of them. */
	for (int i = 0; i < 5; i++)
		(void)uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(t.results, 0);
	t.in_free = true;
	dnscheck_free(dc);
	t.in_free = false;
	assert_int_equal(t.results, n);
	assert_int_equal(t.cancelled, n);
	drain(&loop);
	assert_int_equal(t.results, n);
	close(fd);
	unlink(ta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnssec_mapping),
		cmocka_unit_test(test_error_mapping),
		cmocka_unit_test(test_bad_anchors),
		cmocka_unit_test(test_silent_forwarder_times_out),
		cmocka_unit_test(test_free_in_flight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
