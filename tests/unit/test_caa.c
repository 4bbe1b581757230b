/* tests/unit/test_caa.c: CAA evaluation (RFC 8659, RFC 8657). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "common/caa.h"
#include "common/limits.h"
#include "common/macro.h"

#define ACCT "https://ca.test/acct/1"

static const char *const issuers[] = { "ca.test" };

static struct caa_rr rr(uint8_t flags, const char *tag, const char *value)
{
	return (struct caa_rr){ flags, tag, strlen(tag), value, strlen(value) };
}

static enum caa_outcome eval(const struct caa_rr *rrs, size_t n, bool wildcard)
{
	struct caa_query q = { issuers, 1, ACCT, NULL, wildcard };
	struct caa_verdict v;

	assert_int_equal(caa_evaluate(rrs, n, &q, &v), 0);
	assert_true(v.reason[0] != 0);
	return v.outcome;
}

static void test_rr_parse(void **state)
{
	(void)state;
	struct caa_rr r;
	const uint8_t ok[] = { 0x80, 5, 'i', 's', 's', 'u', 'e', 'c', 'a' };
	const uint8_t empty_value[] = { 0, 5, 'i', 's', 's', 'u', 'e' };
	const uint8_t no_tag[] = { 0, 0, 'x' };
	const uint8_t past_end[] = { 0, 9, 'i', 's', 's' };

	assert_int_equal(caa_rr_parse(ok, sizeof(ok), &r), 0);
	assert_int_equal(r.flags, 0x80);
	assert_int_equal(r.tag_len, 5);
	assert_memory_equal(r.tag, "issue", 5);
	assert_int_equal(r.value_len, 2);
	assert_memory_equal(r.value, "ca", 2);
	assert_int_equal(caa_rr_parse(empty_value, sizeof(empty_value), &r), 0);
	assert_int_equal(r.value_len, 0);
	assert_int_equal(caa_rr_parse(no_tag, sizeof(no_tag), &r), -EINVAL);
	assert_int_equal(caa_rr_parse(past_end, sizeof(past_end), &r), -EINVAL);
	assert_int_equal(caa_rr_parse(ok, 1, &r), -EINVAL);
}

static void test_no_records(void **state)
{
	(void)state;
	assert_int_equal(eval(NULL, 0, false), CAA_NO_RECORDS);
	assert_true(caa_outcome_permits(CAA_NO_RECORDS));
}

static void test_issue(void **state)
{
	(void)state;
	struct caa_rr ok[] = { rr(0, "issue", "other.example"), rr(0, "issue", "ca.test") };
	struct caa_rr other[] = { rr(0, "issue", "other.example") };
	struct caa_rr nobody[] = { rr(0, "issue", ";") };
	struct caa_rr iodef[] = { rr(0, "iodef", "mailto:x@example.com") };
	struct caa_rr cases[] = { rr(0, "ISSUE", "  CA.Test  ") };

	assert_int_equal(eval(ok, 2, false), CAA_PERMITTED);
	assert_int_equal(eval(other, 1, false), CAA_WRONG_ISSUER);
	assert_int_equal(eval(nobody, 1, false), CAA_WRONG_ISSUER);
	assert_int_equal(eval(iodef, 1, false), CAA_UNRESTRICTED);
	assert_int_equal(eval(cases, 1, false), CAA_PERMITTED);
	assert_false(caa_outcome_permits(CAA_WRONG_ISSUER));
	assert_true(caa_outcome_permits(CAA_UNRESTRICTED));
}

static void test_issuewild(void **state)
{
	(void)state;
	struct caa_rr split[] = { rr(0, "issue", "ca.test"), rr(0, "issuewild", "other.example") };
	struct caa_rr only_issue[] = { rr(0, "issue", "ca.test") };
	struct caa_rr wild_none[] = { rr(0, "issue", "ca.test"), rr(0, "issuewild", ";") };
	struct caa_rr wild_ok[] = { rr(0, "issue", ";"), rr(0, "issuewild", "ca.test") };
	struct caa_query q = { issuers, 1, ACCT, NULL, true };
	struct caa_verdict v;

	assert_int_equal(eval(split, 2, false), CAA_PERMITTED);
	assert_int_equal(eval(split, 2, true), CAA_WRONG_ISSUER);
	assert_int_equal(caa_evaluate(split, 2, &q, &v), 0);
	assert_true(v.issuewild);
	assert_int_equal(eval(only_issue, 1, true), CAA_PERMITTED);
	assert_int_equal(eval(wild_none, 2, true), CAA_WRONG_ISSUER);
	assert_int_equal(eval(wild_ok, 2, true), CAA_PERMITTED);
	assert_int_equal(eval(wild_ok, 2, false), CAA_WRONG_ISSUER);
}

static void test_accounturi(void **state)
{
	(void)state;
	struct caa_rr ok[] = { rr(0, "issue", "ca.test; accounturi=" ACCT) };
	struct caa_rr wrong[] = { rr(0, "issue", "ca.test; accounturi=https://ca.test/acct/2") };
	struct caa_rr spaced[] = { rr(0, "issue", "ca.test ;  accounturi =  " ACCT "  ") };
	struct caa_rr mixed[] = { rr(0, "issue", "ca.test; accounturi=https://ca.test/acct/2"),
				  rr(0, "issue", "ca.test; accounturi=" ACCT) };
	struct caa_rr other_ca[] = { rr(0, "issue", "ca.test; accounturi=https://ca.test/acct/2"),
				     rr(0, "issue", "other.example") };
	struct caa_query none = { issuers, 1, NULL, NULL, false };
	struct caa_verdict v;

	assert_int_equal(eval(ok, 1, false), CAA_PERMITTED);
	assert_int_equal(eval(wrong, 1, false), CAA_WRONG_ACCOUNT);
	assert_int_equal(eval(spaced, 1, false), CAA_PERMITTED);
	assert_int_equal(eval(mixed, 2, false), CAA_PERMITTED);
	assert_int_equal(eval(other_ca, 2, false), CAA_WRONG_ACCOUNT);
	/* Case matters in a URI (RFC 3986 simple string comparison). */
	struct caa_rr upper[] = { rr(0, "issue", "ca.test; accounturi=HTTPS://ca.test/acct/1") };
	assert_int_equal(eval(upper, 1, false), CAA_WRONG_ACCOUNT);
	assert_int_equal(caa_evaluate(ok, 1, &none, &v), 0);
	assert_int_equal(v.outcome, CAA_WRONG_ACCOUNT);
	assert_int_equal(v.match, 0);
}

static void test_validationmethods(void **state)
{
	(void)state;
	struct caa_rr ok[] = { rr(0, "issue", "ca.test; validationmethods=dns-persist-01") };
	struct caa_rr list[] = { rr(0, "issue", "ca.test; validationmethods=http-01,dns-persist-01") };
	struct caa_rr wrong[] = { rr(0, "issue", "ca.test; validationmethods=dns-01,http-01") };
	struct caa_rr bad[] = { rr(0, "issue", "ca.test; validationmethods=dns-01,,http-01") };
	struct caa_rr both[] = {
		rr(0, "issue", "ca.test; accounturi=" ACCT "; validationmethods=dns-01"),
	};
	struct caa_rr rank[] = {
		rr(0, "issue", "ca.test; accounturi=https://other/1"),
		rr(0, "issue", "ca.test; accounturi=" ACCT "; validationmethods=http-01"),
	};
	struct caa_query q = { issuers, 1, ACCT, "dns-01", false };
	struct caa_verdict v;

	assert_int_equal(eval(ok, 1, false), CAA_PERMITTED);
	assert_int_equal(eval(list, 1, false), CAA_PERMITTED);
	assert_int_equal(eval(wrong, 1, false), CAA_WRONG_METHOD);
	assert_int_equal(eval(bad, 1, false), CAA_MALFORMED);
	assert_int_equal(eval(both, 1, false), CAA_WRONG_METHOD);
	assert_int_equal(eval(rank, 2, false), CAA_WRONG_METHOD);
	assert_int_equal(caa_evaluate(wrong, 1, &q, &v), 0);
	assert_int_equal(v.outcome, CAA_PERMITTED);
}

static void test_critical(void **state)
{
	(void)state;
	struct caa_rr unknown[] = { rr(0, "issue", "ca.test"), rr(CAA_FLAG_CRITICAL, "tbs", "x") };
	struct caa_rr unknown_plain[] = { rr(0, "issue", "ca.test"), rr(0, "tbs", "x") };
	struct caa_rr known[] = { rr(CAA_FLAG_CRITICAL, "issue", "ca.test") };

	assert_int_equal(eval(unknown, 2, false), CAA_CRITICAL);
	assert_int_equal(eval(unknown_plain, 2, false), CAA_PERMITTED);
	assert_int_equal(eval(known, 1, false), CAA_PERMITTED);
}

static void test_malformed(void **state)
{
	(void)state;
	const char *bad[] = {
		"ca.test; accounturi",         /* no '=' */
		"ca.test; accounturi=a b",     /* space inside a value */
		"ca.test; accounturi=" ACCT ";", /* trailing ';' */
		"ca.test;; accounturi=" ACCT,
		"ca.test; accounturi=" ACCT "; AccountURI=" ACCT, /* duplicate */
		"ca.test; _x=1",
		"ca.test; accounturi=caf\xc3\xa9",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct caa_rr r[] = { rr(0, "issue", bad[i]) };
		struct caa_rr with_good[] = { rr(0, "issue", bad[i]), rr(0, "issue", "ca.test") };
		struct caa_issue ci;

		assert_int_equal(eval(r, 1, false), CAA_MALFORMED);
		assert_int_equal(eval(with_good, 2, false), CAA_PERMITTED);
		caa_issue_parse(bad[i], strlen(bad[i]), &ci);
		assert_true(ci.malformed);
		assert_string_equal(ci.issuer, "ca.test");
	}
	/* Malformed values for other CAs are just other CAs. */
	struct caa_rr other[] = { rr(0, "issue", "other.example; x") };
	assert_int_equal(eval(other, 1, false), CAA_WRONG_ISSUER);
	/* An issuer with a trailing dot does not follow the grammar. */
	struct caa_rr dot[] = { rr(0, "issue", "ca.test.") };
	assert_int_equal(eval(dot, 1, false), CAA_MALFORMED);
}

static void test_issue_parse(void **state)
{
	(void)state;
	struct caa_issue ci;
	const char *v = " CA.test ; accounturi=" ACCT "; validationmethods=dns-persist-01 ";

	caa_issue_parse(v, strlen(v), &ci);
	assert_false(ci.malformed);
	assert_string_equal(ci.issuer, "ca.test");
	assert_true(ci.has_accounturi);
	assert_true(ci.has_methods);
	caa_issue_parse(";", 1, &ci);
	assert_false(ci.malformed);
	assert_string_equal(ci.issuer, "");
	caa_issue_parse("", 0, &ci);
	assert_false(ci.malformed);
}

static void test_errors(void **state)
{
	(void)state;
	struct caa_rr many[CAA_MAX_RRS + 1];
	struct caa_query q = { issuers, 1, ACCT, NULL, false };
	struct caa_query noissuer = { NULL, 0, ACCT, NULL, false };
	struct caa_verdict v = { .outcome = CAA_PERMITTED };

	for (size_t i = 0; i < ELEMENTSOF(many); i++)
		many[i] = rr(0, "issue", "ca.test");
	assert_int_equal(caa_evaluate(many, ELEMENTSOF(many), &q, &v), -E2BIG);
	assert_int_equal(caa_evaluate(many, CAA_MAX_RRS, &q, &v), 0);
	assert_int_equal(caa_evaluate(many, 1, &noissuer, &v), -EINVAL);
	assert_string_equal(caa_outcome_to_string(CAA_WRONG_METHOD), "WRONG_METHOD");
	assert_null(caa_outcome_to_string(_CAA_OUTCOME_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rr_parse),
		cmocka_unit_test(test_no_records),
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_issuewild),
		cmocka_unit_test(test_accounturi),
		cmocka_unit_test(test_validationmethods),
		cmocka_unit_test(test_critical),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_issue_parse),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
