/* Unit tests for daemon/certlevel: the level policy of a name and of a cert, pure,
 * with `now` passed in: a name's record, its persistUntil and DNS failures; a cert's
 * expiry, failed renewals and failed deploys. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/timeutil.h"
#include "daemon/certlevel.h"

#define NOW ((int64_t)1900000000)

static const struct config_daemon dc = {
	.warn_before_ms = (uint64_t)21 * SEC_PER_DAY * 1000,
	.critical_before_ms = (uint64_t)7 * SEC_PER_DAY * 1000,
};

static void test_name(void **state)
{
	struct state_name n = { .name = (char *)"www.example.com" };
	char why[512];
	bool unverifiable;

	(void)state;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_OK);
	assert_string_equal(why, "not checked yet");

	n.checked = true;
	n.status = (char *)"VALID";
	n.has_until = true;
	n.persist_until = NOW + 3 * SEC_PER_DAY;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_CRITICAL);
	n.persist_until = NOW + 14 * SEC_PER_DAY;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_WARNING);
	n.persist_until = NOW - 1;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_ERROR);

	/* The record must outlive the next renewal. */
	struct state_cert st = { .next_renewal = NOW + 60 * SEC_PER_DAY };
	n.persist_until = NOW + 50 * SEC_PER_DAY;
	assert_int_equal(certlevel_name(&dc, &st, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_WARNING);
	assert_non_null(strstr(why, "before the next renewal"));

	/* DNS errors keep the level known before until there were enough of them. */
	n.has_until = false;
	n.dns_error = true;
	n.level = LEVEL_OK;
	n.dns_failures = 3;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_OK);
	assert_false(unverifiable);
	n.dns_failures = 4;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_WARNING);
	assert_true(unverifiable);
	assert_int_equal(certlevel_name_kind(LEVEL_WARNING, true), ALERT_RECORD_UNVERIFIABLE);
	assert_int_equal(certlevel_name_kind(LEVEL_WARNING, false), ALERT_RECORD_WARNING);

	n.dns_error = false;
	n.status = (char *)"WRONG_ACCOUNT";
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_ERROR);
}

static void test_cert(void **state)
{
	struct config_cert cfg = { .name = (char *)"c" };
	struct state_cert st = { 0 };
	char why[512];

	(void)state;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_OK);
	st.failures = 1;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_ERROR);

	st.has_cert = true;
	st.not_before = NOW - 30 * SEC_PER_DAY;
	st.not_after = NOW + 60 * SEC_PER_DAY - 1;
	st.failures = 0;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_OK);

	/* A failed deploy counts only while a deploy hook is configured. */
	st.deploy_failed = true;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_OK);
	struct config_cert_opts opts = { .deploy_hook = (char *)"/bin/true" };
	cfg.opts = &opts;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_WARNING);
	st.deploy_failed = false;

	/* The revoked certificate in use is ERROR until another one is. */
	struct state_cert_orders revoked = { .revoked_serial = (char *)"0a1b",
					     .revoked_reason = (char *)"keyCompromise" };
	assert_int_equal(state_cert_set_serial(&st, "0A1B"), 0);
	st.orders = &revoked;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_ERROR);
	assert_non_null(strstr(why, "serial 0a1b"));
	assert_non_null(strstr(why, "revoked"));
	assert_non_null(strstr(why, "keyCompromise"));
	assert_int_equal(state_cert_set_serial(&st, "0c0d"), 0);
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_OK);
	assert_int_equal(state_cert_set_serial(&st, NULL), 0);
	st.orders = NULL;

	st.failures = 2;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_WARNING);
	st.not_after = NOW + 3 * SEC_PER_DAY;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_CRITICAL);
	st.cert_rejected = true;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_ERROR);
	st.not_after = NOW - 1;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_ERROR);
	assert_non_null(strstr(why, "expired"));
}

/* A new cert inside record_grace waits for its record at WARNING; a cert with a
 * certificate, or one past the grace, is ERROR as before. */
static void test_waiting_for_record(void **state)
{
	struct state_name n = {
		.name = (char *)"www.example.com",
		.checked = true,
		.status = (char *)"NO_RECORD",
		.reason = (char *)"no TXT record",
	};
	struct state_cert st = {
		.record_grace_until = NOW + 60,
		.failures = 1,
		.last_error = (char *)"waiting for the record, no order placed",
		.records_hint = (char *)"_validation-persist.www.example.com. 3600 IN TXT \"x\"",
	};
	struct config_cert cfg = { .name = (char *)"www" };
	char why[1024];
	bool unverifiable;

	(void)state;
	assert_true(certlevel_waiting_record(&st, NOW));
	assert_true(certlevel_name_waiting(&st, &n, NOW));
	assert_int_equal(certlevel_name(&dc, &st, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_WARNING);
	assert_non_null(strstr(why, "waiting for the record"));
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_WARNING);
	assert_non_null(strstr(why, st.records_hint));

	/* A DNS error is not a missing record: the name keeps its level. */
	n.dns_error = true;
	assert_false(certlevel_name_waiting(&st, &n, NOW));
	n.dns_error = false;

	/* Past the grace: ERROR, as for any cert. */
	assert_false(certlevel_waiting_record(&st, NOW + 61));
	assert_int_equal(certlevel_name(&dc, &st, &n, NOW + 61, why, sizeof(why), &unverifiable),
			 LEVEL_ERROR);
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW + 61, why, sizeof(why)), LEVEL_ERROR);

	/* A failure that is not about records (no records_hint) is no waiting. */
	st.records_hint = NULL;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_ERROR);

	/* A cert with a certificate never waits. */
	st.has_cert = true;
	st.not_before = NOW - 10;
	st.not_after = NOW + 90 * SEC_PER_DAY;
	assert_false(certlevel_waiting(&st, NOW));
	assert_int_equal(certlevel_name(&dc, &st, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_ERROR);
}

/* The plain reasons are not stored, and read back the same as what certlevel said. */
static void test_plain_reasons(void **state)
{
	struct state_name n = { .name = (char *)"www.example.com", .status = "VALID" };
	struct state_cert st = { .has_cert = true, .not_before = NOW - 86400,
				 .not_after = NOW + 60 * 86400 };
	const struct config_cert cfg = { .name = (char *)"c" };
	char why[CERTLEVEL_REASON_MAX], plain[CERTLEVEL_REASON_MAX];
	bool unverifiable;

	(void)state;
	assert_null(certlevel_name_reason(&n, plain, sizeof(plain)));
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_OK);
	assert_false(certlevel_name_reason_is_plain(&n, why)); /* "not checked yet" */

	n.checked = true;
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_OK);
	assert_true(certlevel_name_reason_is_plain(&n, why));
	assert_string_equal(certlevel_name_reason(&n, plain, sizeof(plain)),
			    "record _validation-persist.www.example.com is valid");
	assert_string_equal(plain, why);

	n.status = (char *)"WRONG_ACCOUNT";
	assert_int_equal(certlevel_name(&dc, NULL, &n, NOW, why, sizeof(why), &unverifiable),
			 LEVEL_ERROR);
	assert_false(certlevel_name_reason_is_plain(&n, why));
	n.level_reason = why;
	assert_ptr_equal(certlevel_name_reason(&n, plain, sizeof(plain)), why);

	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_OK);
	assert_true(certlevel_cert_reason_is_plain(&st, why));
	assert_string_equal(certlevel_cert_reason(&st, plain, sizeof(plain)), why);
	st.failures = 1;
	assert_int_equal(certlevel_cert(&dc, &cfg, &st, NOW, why, sizeof(why)), LEVEL_WARNING);
	assert_false(certlevel_cert_reason_is_plain(&st, why));
	st.has_cert = false;
	assert_null(certlevel_cert_reason(&st, plain, sizeof(plain)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_cert),
		cmocka_unit_test(test_waiting_for_record),
		cmocka_unit_test(test_plain_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
