/* Unit tests for daemon/state: a full round trip through JSON, tolerance of
 * unknown members, and clear errors for wrong types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <yajl/yajl_tree.h>

#include "daemon/state.h"
#include "daemon/statejson.h"

static void test_round_trip(void **state)
{
	(void)state;
	_cleanup_(state_freep) struct state *s = state_new();
	struct state *back = NULL;
	char *json = NULL, *json2 = NULL, err[128];
	size_t len, len2;

	struct state_ca *ca = state_get_ca(s, "le", true);
	assert_non_null(ca);
	assert_int_equal(state_set_str(&ca->account_url, "https://ca/acct/1"), 0);
	ca->offers_persist = 1;
	struct state_cert *c = state_get_cert(s, "www", true);
	c->has_cert = true;
	c->not_after = 1800000000;
	c->failures = 3;
	c->cert_rejected = true;
	c->ca_retry_until = 1800000100;
	c->orders_held_until = 1800003600;
	struct state_cert_orders *o = state_cert_orders_mut(c);
	assert_non_null(o);
	o->order_times = calloc(2, sizeof(int64_t));
	assert_non_null(o->order_times);
	o->order_times[0] = 1800000000;
	o->order_times[1] = 1800000300;
	o->n_order_times = 2;
	assert_int_equal(state_set_str(&o->order_url, "https://ca/order/9"), 0);
	assert_int_equal(state_cert_set_serial(c, "0a1b"), 0);
	assert_int_equal(state_set_str(&o->revoked_serial, "0a1b"), 0);
	assert_int_equal(state_set_str(&o->revoked_reason, "keyCompromise"), 0);
	o->revoked_at = 1800000200;
	struct state_name *n = state_cert_get_name(c, "*.example.com", true);
	n->level = LEVEL_CRITICAL;
	n->has_until = true;
	n->persist_until = -5;
	assert_int_equal(state_set_shared(&n->status, "VALID"), 0);
	assert_ptr_equal(state_cert_get_name(c, "*.example.com", false), n);

	assert_int_equal(state_to_json(s, &json, &len), 0);
	/* state.json stores a level by its word, not its number */
	assert_non_null(strstr(json, "\"CRITICAL\""));
	assert_int_equal(state_from_json(json, len, &back, err, sizeof(err)), 0);
	assert_int_equal(state_to_json(back, &json2, &len2), 0);
	assert_string_equal(json, json2);
	struct state_cert *c2 = state_get_cert(back, "www", false);
	assert_int_equal(c2->failures, 3);
	/* The circuit breaker's memory survives a restart. */
	assert_true(c2->cert_rejected);
	assert_int_equal(c2->ca_retry_until, 1800000100);
	assert_int_equal(c2->orders_held_until, 1800003600);
	assert_int_equal(state_cert_orders(c2)->n_order_times, 2);
	assert_int_equal(state_cert_orders(c2)->order_times[1], 1800000300);
	assert_string_equal(state_cert_orders(c2)->order_url, "https://ca/order/9");
	/* A revocation survives a restart: the certificate stays marked. */
	assert_true(state_cert_is_revoked(c2));
	assert_string_equal(state_cert_orders(c2)->revoked_reason, "keyCompromise");
	assert_int_equal(state_cert_orders(c2)->revoked_at, 1800000200);
	char hex[STATE_SERIAL_HEX_MAX];
	assert_string_equal(state_cert_serial_hex(c2, hex), "0a1b");
	assert_int_equal(state_cert_set_serial(c2, "0c0d"), 0);
	assert_false(state_cert_is_revoked(c2)); /* replaced */
	assert_int_equal(c2->names[0].level, LEVEL_CRITICAL);
	assert_int_equal(c2->names[0].persist_until, -5);
	assert_int_equal(state_get_ca(back, "le", false)->offers_persist, 1);
	state_free(back);
	free(json);
	free(json2);

	/* Names no longer configured are dropped. */
	char *keep[] = { (char *)"www.example.com" };
	state_cert_retain_names(c, keep, 1);
	assert_int_equal(c->n_names, 0);
	const char *certs[] = { "other" };
	state_retain_certs(s, certs, 1);
	assert_int_equal(s->n_certs, 0);
}

/* A member at its default is not written, and reads back as that default; one
 * that is not (a 0 tristate, a non-OK level, a true bool) is written. */
static void test_defaults_left_out(void **state)
{
	(void)state;
	_cleanup_(state_freep) struct state *s = state_new();
	struct state *back = NULL;
	char *json = NULL, *json2 = NULL, err[128];
	size_t len, len2;

	struct state_ca *ca = state_get_ca(s, "le", true);
	ca->offers_persist = -1;
	struct state_ca *ca2 = state_get_ca(s, "other", true);
	ca2->offers_persist = 0;
	struct state_cert *c = state_get_cert(s, "www", true);
	c->next_renewal = 1800000000;
	struct state_name *n = state_cert_get_name(c, "www.example.com", true);
	n->next_check = 1800000001;
	struct state_cert *d = state_get_cert(s, "warned", true);
	d->alerted_level = LEVEL_WARNING;
	d->deploy_failed = true;

	assert_int_equal(state_to_json(s, &json, &len), 0);
	assert_non_null(strstr(json, "\"www\":{\"next_renewal\":1800000000,\"names\":{"
				     "\"www.example.com\":{\"next_check\":1800000001}}}"));
	assert_non_null(strstr(json, "\"warned\":{\"alerted_level\":\"WARNING\","
				     "\"deploy_failed\":true,\"names\":{}}"));
	assert_non_null(strstr(json, "\"le\":{\"issuers\":[]}"));
	assert_non_null(strstr(json, "\"other\":{\"offers_persist\":false,\"issuers\":[]}"));
	assert_null(strstr(json, "order_times"));
	assert_null(strstr(json, "null"));

	assert_int_equal(state_from_json(json, len, &back, err, sizeof(err)), 0);
	assert_int_equal(state_get_ca(back, "le", false)->offers_persist, -1);
	assert_int_equal(state_get_ca(back, "other", false)->offers_persist, 0);
	struct state_cert *c2 = state_get_cert(back, "www", false);
	assert_int_equal(c2->next_renewal, 1800000000);
	assert_false(c2->has_cert);
	assert_int_equal(c2->level, LEVEL_OK);
	assert_int_equal(c2->serial_len, 0);
	assert_null(c2->last_error);
	assert_int_equal(c2->names[0].next_check, 1800000001);
	assert_int_equal(c2->names[0].level, LEVEL_OK);
	assert_null(c2->names[0].status);
	struct state_cert *d2 = state_get_cert(back, "warned", false);
	assert_int_equal(d2->alerted_level, LEVEL_WARNING);
	assert_true(d2->deploy_failed);
	assert_int_equal(state_to_json(back, &json2, &len2), 0);
	assert_string_equal(json, json2);
	state_free(back);
	free(json);
	free(json2);
}

/* The serial is kept as bytes: hex in and out, any case matches, and what is not a
 * conforming serial is not kept (nor does it match anything). */
static void test_serial(void **state)
{
	(void)state;
	struct state_cert c = { 0 };
	char hex[STATE_SERIAL_HEX_MAX];

	assert_false(state_cert_serial_is(&c, "00"));
	assert_string_equal(state_cert_serial_hex(&c, hex), "");
	assert_int_equal(state_cert_set_serial(&c, "00"), 0);
	assert_true(state_cert_serial_is(&c, "00"));
	const char *twenty = "0102030405060708090a0b0c0d0e0f10111213FF";
	assert_int_equal(state_cert_set_serial(&c, twenty), 0);
	assert_int_equal(c.serial_len, 20);
	assert_string_equal(state_cert_serial_hex(&c, hex), "0102030405060708090a0b0c0d0e0f10111213ff");
	assert_true(state_cert_serial_is(&c, "0102030405060708090A0B0C0D0E0F10111213ff"));
	assert_false(state_cert_serial_is(&c, "0102030405060708090a0b0c0d0e0f10111213"));
	assert_false(state_cert_serial_is(&c, NULL));
	const char *bad[] = { "", "0", "abc", "0g", "0102030405060708090a0b0c0d0e0f1011121314ff",
			      " 01" };
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		assert_int_equal(state_cert_set_serial(&c, twenty), 0);
		assert_int_equal(state_cert_set_serial(&c, bad[i]), -EINVAL);
		assert_int_equal(c.serial_len, 0);
		assert_false(state_cert_serial_is(&c, bad[i]));
	}
}

static void test_bad_files(void **state)
{
	(void)state;
	struct state *s = NULL;
	char err[128];
	static const char *bad[] = {
		"{}",
		"{\"version\":2}",
		"{\"version\":1,\"certs\":{\"a\":{\"failures\":\"x\"}}}",
		"{\"version\":1,\"certs\":{\"a\":{\"names\":{\"n\":{\"level\":\"LOUD\"}}}}}",
		/* levels are the daemon's words: it never writes UNKNOWN or lower case */
		"{\"version\":1,\"certs\":{\"a\":{\"names\":{\"n\":{\"level\":\"UNKNOWN\"}}}}}",
		"{\"version\":1,\"certs\":{\"a\":{\"level\":\"UNKNOWN\"}}}",
		"{\"version\":1,\"certs\":{\"a\":{\"level\":\"critical\"}}}",
		"{\"version\":1,\"cas\":{\"a\":[]}}",
		/* Issuer lists and order times are taken whole or not at all. */
		"{\"version\":1,\"cas\":{\"a\":{\"issuers\":[\"1\",\"2\",\"3\",\"4\",\"5\","
		"\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}}}",
		"{\"version\":1,\"cas\":{\"a\":{\"issuers\":[\"ca.test\",5]}}}",
		"{\"version\":1,\"certs\":{\"a\":{\"order_times\":[1,\"x\"]}}}",
		"{\"version\":1,\"certs\":{\"a\":{\"order_times\":{}}}}",
		"[",
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		err[0] = '\0';
		assert_int_equal(state_from_json(bad[i], strlen(bad[i]), &s, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	const char *ok = "{\"version\":1,\"future\":[1,2],\"certs\":{\"a\":{\"x\":1}}}";
	assert_int_equal(state_from_json(ok, strlen(ok), &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_certs, 1);
	state_free(s);
}

/* A journal line replayed over an entry replaces all of it, the revocation
 * fields too (LeakSanitizer fails this test if the old strings leak). */
static void test_read_cert_replaces_revocation(void **state)
{
	(void)state;
	_cleanup_(state_freep) struct state *s = state_new();
	char err[200] = "";
	const char *lines[] = {
		"{\"has_cert\":true,\"serial\":\"01\",\"revoked_serial\":\"01\","
		"\"revoked_reason\":\"keyCompromise\",\"revoked_at\":5}",
		"{\"has_cert\":true,\"serial\":\"02\",\"revoked_serial\":\"01\","
		"\"revoked_reason\":\"superseded\",\"revoked_at\":6}",
	};

	assert_non_null(s);
	for (size_t i = 0; i < 2; i++) {
		yajl_val v = yajl_tree_parse(lines[i], NULL, 0);
		assert_non_null(v);
		assert_int_equal(state_read_cert(s, "www", v, err, sizeof(err)), 0);
		yajl_tree_free(v);
	}
	struct state_cert *c = state_get_cert(s, "www", false);
	assert_non_null(c);
	assert_string_equal(state_cert_orders(c)->revoked_reason, "superseded");
	assert_false(state_cert_is_revoked(c));
}

/* A name's check outcome is one shared copy per distinct string, however many names
 * hold it, and it is let go with the last of them. (ASan fails this test if a shared
 * copy is freed twice or leaks.) */
static void test_name_strings_are_shared(void **state)
{
	(void)state;
	_cleanup_(state_freep) struct state *s = state_new();
	char err[200] = "";
	yajl_val v = yajl_tree_parse(
		"{\"names\":{\"a.test\":{\"status\":\"VALID\",\"dnssec\":\"secure\","
		"\"record\":\"ca.test; accounturi=https://ca.test/acct/1\",\"reason\":\"ok\"},"
		"\"b.test\":{\"status\":\"VALID\",\"dnssec\":\"secure\","
		"\"record\":\"ca.test; accounturi=https://ca.test/acct/1\",\"reason\":\"ok\"}}}",
		NULL, 0);

	assert_non_null(s);
	assert_non_null(v);
	assert_int_equal(state_read_cert(s, "www", v, err, sizeof(err)), 0);
	yajl_tree_free(v);
	struct state_cert *c = state_get_cert(s, "www", false);
	assert_non_null(c);
	assert_int_equal(c->n_names, 2);
	struct state_name *a = &c->names[0], *b = &c->names[1];
	assert_ptr_equal(a->status, b->status);
	assert_ptr_equal(a->dnssec, b->dnssec);
	assert_ptr_equal(a->record, b->record);
	assert_ptr_equal(a->reason, b->reason);
	assert_string_equal(a->record, "ca.test; accounturi=https://ca.test/acct/1");

	/* One name changes: it gets its own copy, the other keeps the shared one. */
	char copy[] = "ok";
	assert_int_equal(state_set_shared(&a->reason, "the record is gone"), 0);
	assert_string_equal(a->reason, "the record is gone");
	assert_string_equal(b->reason, "ok");
	assert_int_equal(state_set_shared(&a->reason, copy), 0);
	assert_ptr_equal(a->reason, b->reason);
	assert_int_equal(state_set_shared(&b->reason, NULL), 0);
	assert_null(b->reason);
	assert_string_equal(a->reason, "ok");
}

/* A cert without orders keeps no orders part, through a read and once its order ends. */
static void test_orders_part_only_when_used(void **state)
{
	struct state *s = state_new();
	char err[256];
	(void)state;

	assert_non_null(s);
	yajl_val v = yajl_tree_parse("{\"has_cert\":true,\"order_url\":null,\"revoked_at\":0,"
				     "\"order_times\":[]}",
				     NULL, 0);
	assert_non_null(v);
	assert_int_equal(state_read_cert(s, "quiet", v, err, sizeof(err)), 0);
	yajl_tree_free(v);
	struct state_cert *c = state_get_cert(s, "quiet", false);
	assert_non_null(c);
	assert_null(c->orders);
	assert_null(state_cert_orders(c)->order_url);

	struct state_cert_orders *o = state_cert_orders_mut(c);
	assert_non_null(o);
	assert_int_equal(state_set_str(&o->order_url, "https://ca/order/1"), 0);
	assert_int_equal(state_mark_dirty(s, c), 0);
	state_trim_dirty(s); /* still in use */
	assert_ptr_equal(c->orders, o);
	assert_int_equal(state_set_str(&o->order_url, NULL), 0);
	state_trim_dirty(s);
	assert_null(c->orders);
	state_clear_dirty(s);
	state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_defaults_left_out),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_read_cert_replaces_revocation),
		cmocka_unit_test(test_name_strings_are_shared),
		cmocka_unit_test(test_orders_part_only_when_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
