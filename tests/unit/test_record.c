/* Unit tests for common/record: every vector of spec/record-vectors.json,
 * the hashed accounturi of spec 2.5, parse errors, generation and the
 * zone-file rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "common/limits.h"
#include "common/record.h"
#include "tests/unit/testdata.h"

static void test_vectors(void **state)
{
	(void)state;
	_cleanup_free_ char *text = NULL;
	size_t len;
	char err[256];
	unsigned n = 0, failed = 0;

	assert_int_equal(testdata_read("record-vectors.json", &text, &len), 0);
	yajl_val root = yajl_tree_parse(text, err, sizeof(err));
	assert_non_null(root);
	assert_true(YAJL_IS_ARRAY(root));

	for (size_t i = 0; i < root->u.array.len; i++) {
		yajl_val v = root->u.array.values[i];
		const char *name_path[] = { "name", NULL }, *issuer_path[] = { "issuer", NULL },
			   *acct_path[] = { "account_uri", NULL }, *now_path[] = { "now", NULL },
			   *wild_path[] = { "wildcard", NULL }, *txt_path[] = { "txt", NULL },
			   *expect_path[] = { "expect", NULL };
		const char *name = YAJL_GET_STRING(yajl_tree_get(v, name_path, yajl_t_string));
		const char *issuer = YAJL_GET_STRING(yajl_tree_get(v, issuer_path, yajl_t_string));
		const char *acct = YAJL_GET_STRING(yajl_tree_get(v, acct_path, yajl_t_string));
		const char *expect = YAJL_GET_STRING(yajl_tree_get(v, expect_path, yajl_t_string));
		yajl_val now = yajl_tree_get(v, now_path, yajl_t_number);
		yajl_val txt = yajl_tree_get(v, txt_path, yajl_t_array);
		bool wildcard = YAJL_IS_TRUE(yajl_tree_get(v, wild_path, yajl_t_any));

		assert_non_null(name);
		assert_non_null(txt);
		struct record_rr rrs[RECORD_MAX_RRS];
		char *joined[RECORD_MAX_RRS];
		size_t n_rrs = txt->u.array.len;
		assert_true(n_rrs <= RECORD_MAX_RRS);
		for (size_t k = 0; k < n_rrs; k++) {
			yajl_val strs = txt->u.array.values[k];
			const uint8_t *parts[64];
			size_t lens[64];
			assert_true(strs->u.array.len <= 64);
			for (size_t j = 0; j < strs->u.array.len; j++) {
				parts[j] = (const uint8_t *)YAJL_GET_STRING(strs->u.array.values[j]);
				lens[j] = strlen((const char *)parts[j]);
			}
			assert_int_equal(record_join(parts, lens, strs->u.array.len, &joined[k],
						     &rrs[k].len),
					 0);
			rrs[k].text = joined[k];
		}
		const char *issuers[] = { issuer };
		struct record_query q = { .issuers = issuers, .n_issuers = 1, .account_uri = acct,
					  .wildcard = wildcard, .now = YAJL_GET_INTEGER(now) };
		struct record_verdict verdict;
		assert_int_equal(record_evaluate(rrs, n_rrs, &q, &verdict), 0);
		const char *got = record_status_to_string(verdict.status);
		if (!streq(got, expect)) {
			print_error("vector %s: expected %s, got %s (%s)\n", name, expect, got,
				    verdict.reason);
			failed++;
		}
		assert_true(verdict.reason[0] != '\0');
		for (size_t k = 0; k < n_rrs; k++)
			free(joined[k]);
		n++;
	}
	yajl_tree_free(root);
	print_message("%u vectors, %u failed\n", n, failed);
	assert_true(n >= 60);
	assert_int_equal(failed, 0);
}

static void test_hashed_uri(void **state)
{
	(void)state;
	char *uri = NULL;
	const char *thumb = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
	const char *url = "https://ca.example/acct/123";

	assert_int_equal(record_hashed_account_uri("acct-hash:", "example.com", thumb, url, &uri), 0);
	assert_string_equal(uri, "acct-hash:sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw");
	free(uri);
	/* The name is normalized first: case and a trailing dot do not change it. */
	assert_int_equal(record_hashed_account_uri("acct-hash:", "Example.COM.", thumb, url, &uri), 0);
	assert_string_equal(uri, "acct-hash:sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw");
	free(uri);
	assert_int_equal(record_hashed_account_uri("acct-hash:", "*", thumb, url, &uri), 0);
	assert_string_equal(uri, "acct-hash:sha-256/NpDnSwUthQK8zCgFdefYxAdAVPnygMLbs9US6oO-5ug");
	free(uri);
	/* A wildcard cert name binds the base name, where the record lives. */
	assert_int_equal(record_hashed_account_uri("p/", "*.example.com", thumb, url, &uri), 0);
	assert_string_equal(uri, "p/sha-256/5SQm7n6tPh2-PlLbCKGnViTXX5z19SCN4cPGQHSk-kw");
	free(uri);
	assert_int_equal(record_hashed_account_uri("", "example.com", thumb, url, &uri), -EINVAL);
	assert_int_equal(record_hashed_account_uri("p", "bad name", thumb, url, &uri), -EINVAL);
}

static void expect_parse_error(const char *txt, size_t offset, const char *reason_part)
{
	struct record *r = NULL;
	struct record_error err = { 0 };

	assert_int_equal(record_parse(txt, strlen(txt), &r, &err), -EINVAL);
	assert_null(r);
	if (!strstr(err.reason, reason_part))
		fail_msg("'%s': reason '%s' lacks '%s'", txt, err.reason, reason_part);
	assert_int_equal(err.offset, offset);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("ca.example; accounturi=https://x/ 1", 33, "whitespace inside the value");
	expect_parse_error("ca.example; accounturi=https://x/1;", 34, "after the last parameter");
	expect_parse_error("ca.example;; accounturi=x", 11, "two ';' in a row");
	expect_parse_error("ca.example; accounturi=x; x_ext=1", 27, "bad parameter tag");
	expect_parse_error("ca.example; accounturi=x; word", 30, "expected '=' after tag 'word'");
	expect_parse_error("ca.example; accounturi=x; persistUntil=soon", 26, "not a base-10 integer");
	expect_parse_error("ca.example; accounturi=x; persistUntil=99999999999999999999", 26,
			   "signed 64-bit range");
	expect_parse_error("ca.example; accounturi=x; AccountURI=x", 26, "duplicate parameter");
	expect_parse_error("ca.example; policy=wildcard", 27, "accounturi parameter is missing");
	expect_parse_error("ca.example; accounturi=", 12, "accounturi is empty");
	expect_parse_error("", 0, "expected the issuer domain name");
	expect_parse_error("ca.example accounturi=x", 11, "expected ';' after the issuer");
	expect_parse_error("ca.example; accounturi=caf\xc3\xa9", 26, "byte 0xc3");
	expect_parse_error("ca.example; accounturi=x\x01", 24, "byte 0x01");
	expect_parse_error("-ca.example; accounturi=x", 0, "expected the issuer domain name");
}

static void test_parse_ok(void **state)
{
	(void)state;
	_cleanup_(record_freep) struct record *r = NULL;
	const char *txt = "\tCA.Example ; AccountURI = https://x/1?a=b ; Policy=WildCard; "
			  "persistUntil=-5; x-ext=";

	assert_int_equal(record_parse(txt, strlen(txt), &r, NULL), 0);
	assert_string_equal(r->issuer, "CA.Example");
	assert_string_equal(r->accounturi, "https://x/1?a=b");
	assert_string_equal(r->policy, "WildCard");
	assert_true(r->policy_wildcard);
	assert_true(r->has_persist_until);
	assert_int_equal(r->persist_until, -5);
	assert_int_equal(r->n_params, 4);
	assert_string_equal(r->params[3].tag, "x-ext");
	assert_string_equal(r->params[3].value, "");

	/* A NUL byte inside the value is data, not an end of string. */
	struct record *bad = NULL;
	const char nul[] = "ca.example; accounturi=a\0b";
	assert_int_equal(record_parse(nul, sizeof(nul) - 1, &bad, NULL), -EINVAL);

	char big[RECORD_MAX_BYTES + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(record_parse(big, sizeof(big), &bad, NULL), -E2BIG);
}

static void test_generate(void **state)
{
	(void)state;
	char *v = NULL;
	struct record_spec s = { .issuer = "ca.example", .account_uri = "https://ca.example/acct/1" };

	assert_int_equal(record_generate(&s, &v), 0);
	assert_string_equal(v, "ca.example; accounturi=https://ca.example/acct/1");
	free(v);
	s.wildcard = true;
	s.has_persist_until = true;
	s.persist_until = 1798761600;
	assert_int_equal(record_generate(&s, &v), 0);
	assert_string_equal(v, "ca.example; accounturi=https://ca.example/acct/1; policy=wildcard; "
			       "persistUntil=1798761600");

	/* Whatever we generate, our own evaluator accepts. */
	const char *issuers[] = { "ca.example" };
	struct record_rr rr = { v, strlen(v) };
	struct record_query q = { issuers, 1, "https://ca.example/acct/1", true, 1798761600 };
	struct record_verdict verdict;
	assert_int_equal(record_evaluate(&rr, 1, &q, &verdict), 0);
	assert_int_equal(verdict.status, RECORD_VALID);
	assert_true(verdict.policy_wildcard);
	assert_int_equal(verdict.persist_until, 1798761600);
	q.now++;
	assert_int_equal(record_evaluate(&rr, 1, &q, &verdict), 0);
	assert_int_equal(verdict.status, RECORD_EXPIRED);
	free(v);

	s.issuer = "CA.example";
	assert_int_equal(record_generate(&s, &v), -EINVAL);
	s.issuer = "ca.example.";
	assert_int_equal(record_generate(&s, &v), -EINVAL);
	s.issuer = "ca.example";
	s.account_uri = "https://x/a b";
	assert_int_equal(record_generate(&s, &v), -EINVAL);
	s.account_uri = "https://x/a;b";
	assert_int_equal(record_generate(&s, &v), -EINVAL);
}

static void test_owner_name(void **state)
{
	(void)state;
	char *o = NULL;
	bool w = true;

	assert_int_equal(record_owner_name("WWW.Example.com.", &o, &w), 0);
	assert_string_equal(o, "_validation-persist.www.example.com");
	assert_false(w);
	free(o);
	assert_int_equal(record_owner_name("*.example.com", &o, &w), 0);
	assert_string_equal(o, "_validation-persist.example.com");
	assert_true(w);
	free(o);
	assert_int_equal(record_owner_name("*.*.example.com", &o, &w), -EINVAL);
	assert_int_equal(record_owner_name("exa mple.com", &o, &w), -EINVAL);
	assert_int_equal(record_owner_name("-a.example.com", &o, &w), -EINVAL);
	assert_int_equal(record_owner_name("a..example.com", &o, &w), -EINVAL);
	assert_int_equal(record_owner_name("", &o, &w), -EINVAL);
	assert_int_equal(record_owner_name("caf\xc3\xa9.example", &o, &w), -EINVAL);
	char longname[250];
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 60; i < sizeof(longname); i += 61)
		longname[i] = '.';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(record_owner_name(longname, &o, &w), -E2BIG);
}

static void test_zone_line(void **state)
{
	(void)state;
	char *line = NULL;
	char value[600];

	assert_int_equal(record_zone_line("_validation-persist.example.com", "a\"b\\c", 5, 3600,
					  &line),
			 0);
	assert_string_equal(line, "_validation-persist.example.com. 3600 IN TXT \"a\\\"b\\\\c\"");
	free(line);

	memset(value, 'x', sizeof(value));
	assert_int_equal(record_zone_line("o", value, sizeof(value), 0, &line), 0);
	/* 600 bytes: strings of 255, 255 and 90 */
	char *p = strchr(line, '"');
	size_t lens[4], n = 0;
	while (p && n < 4) {
		char *q = strchr(p + 1, '"');
		lens[n++] = (size_t)(q - p - 1);
		p = strchr(q + 1, '"');
	}
	assert_int_equal(n, 3);
	assert_int_equal(lens[0], 255);
	assert_int_equal(lens[1], 255);
	assert_int_equal(lens[2], 90);
	assert_int_equal(strncmp(line, "o. IN TXT \"", 11), 0);
	free(line);
}

static void test_evaluate_errors(void **state)
{
	(void)state;
	struct record_verdict v;
	const char *issuers[] = { "ca.example" };
	struct record_query q = { issuers, 1, "https://x/1", false, 0 };
	struct record_rr rrs[RECORD_MAX_RRS + 1];

	for (size_t i = 0; i < ELEMENTSOF(rrs); i++)
		rrs[i] = (struct record_rr){ "x", 1 };
	assert_int_equal(record_evaluate(rrs, ELEMENTSOF(rrs), &q, &v), -E2BIG);
	q.account_uri = "";
	assert_int_equal(record_evaluate(rrs, 1, &q, &v), -EINVAL);
	q.account_uri = "https://x/1";
	q.n_issuers = 0;
	assert_int_equal(record_evaluate(rrs, 1, &q, &v), -EINVAL);

	/* Several issuer names: a record for any of them counts. */
	const char *two[] = { "ca.example", "Other.Example." };
	struct record_rr rr = { "other.example; accounturi=https://x/1", 37 };
	q = (struct record_query){ two, 2, "https://x/1", false, 0 };
	assert_int_equal(record_evaluate(&rr, 1, &q, &v), 0);
	assert_int_equal(v.status, RECORD_VALID);
	assert_int_equal(v.match, 0);
	assert_int_equal(v.n_ours, 1);
}

static void test_status_names(void **state)
{
	(void)state;
	for (int s = 0; s < _RECORD_STATUS_MAX; s++)
		assert_int_equal(record_status_from_string(record_status_to_string(s)), s);
	assert_int_equal(record_status_from_string("valid"), -EINVAL);
	assert_int_equal(record_uri_mode_from_string("hashed"), RECORD_URI_HASHED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),	      cmocka_unit_test(test_hashed_uri),
		cmocka_unit_test(test_parse_errors),  cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_generate),      cmocka_unit_test(test_owner_name),
		cmocka_unit_test(test_zone_line),     cmocka_unit_test(test_evaluate_errors),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
