/* Unit tests for common/dnscheck_sigs' guess about unsigned zones: after
 * SIGS_UNSIGNED_AFTER (8) insecure answers under one parent name, and no
 * secure one, a name there goes straight to the validator; one secure
 * answer turns the stub back on; other parents are not affected; nothing
 * is counted when the check is off. (The checking itself is tested in
 * test_rrsig and tests/integration/test_dnssec_sigs.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dnscheck_sigs.h"
#include "common/sigmemo.h"

static void test_unsigned_parent_is_learnt(void **state)
{
	(void)state;
	struct dnscheck dc = { 0 };
	const char *a = "_validation-persist.n1.bench.test";
	const char *b = "_validation-persist.n2.bench.test";
	const char *other = "_validation-persist.www.example.com";

	dc.sigmemo = sigmemo_new(1);
	assert_non_null(dc.sigmemo);
	for (int i = 0; i < 7; i++)
		dnscheck_sigs_learn(&dc, i % 2 ? a : b, DNSCHECK_DNSSEC_INSECURE);
	assert_true(dnscheck_sigs_worth_trying(&dc, a));
	/* Bogus and unchecked answers say nothing about the zone. */
	dnscheck_sigs_learn(&dc, a, DNSCHECK_DNSSEC_BOGUS);
	dnscheck_sigs_learn(&dc, a, DNSCHECK_DNSSEC_UNCHECKED);
	assert_true(dnscheck_sigs_worth_trying(&dc, a));
	dnscheck_sigs_learn(&dc, a, DNSCHECK_DNSSEC_INSECURE);
	/* The eighth: every name under bench.test skips the stub now. */
	assert_false(dnscheck_sigs_worth_trying(&dc, a));
	assert_false(dnscheck_sigs_worth_trying(&dc, "_validation-persist.new.bench.test"));
	assert_true(dnscheck_sigs_worth_trying(&dc, other));
	/* A signed name under the same parent: worth trying again. */
	dnscheck_sigs_learn(&dc, b, DNSCHECK_DNSSEC_SECURE);
	assert_true(dnscheck_sigs_worth_trying(&dc, a));
	dnscheck_sigs_free(&dc);
}

static void test_nothing_counted_when_off(void **state)
{
	(void)state;
	struct dnscheck dc = { 0 };
	const char *a = "_validation-persist.n1.bench.test";

	for (int i = 0; i < 20; i++)
		dnscheck_sigs_learn(&dc, a, DNSCHECK_DNSSEC_INSECURE);
	assert_int_equal(strmap_size(&dc.sigparents), 0);
	assert_true(dnscheck_sigs_worth_trying(&dc, a));
	/* A name too short to have a parent still gets an answer. */
	assert_true(dnscheck_sigs_worth_trying(&dc, "_validation-persist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsigned_parent_is_learnt),
		cmocka_unit_test(test_nothing_counted_when_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
