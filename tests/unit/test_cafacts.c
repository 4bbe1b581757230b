/* Unit tests for daemon/cafacts and the account view of daemon/acme/account:
 * the issuer names ranked as the order engine and the record checks need
 * them, the accounturi mode, what is remembered in state (and whether that
 * changed), the expected accounturi in url and hashed mode, and that a view
 * copy owns its strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/record.h"
#include "daemon/acme/account.h"
#include "daemon/cafacts.h"
#include "daemon/state.h"

static char *cfg_issuers[] = { "override.test", NULL };
static char *dir_issuers[] = { "dir.test", NULL };
static char *caa[] = { "caa.test", NULL };
static char *learned[] = { "learned.test", "other.test", NULL };

static void test_issuer_ranking(void **state)
{
	(void)state;
	struct config_ca cfg = { 0 };
	struct acme_directory dir = { 0 };
	struct state_ca st = { .offers_persist = -1 };
	size_t n;
	const char *const *v;

	/* nothing known */
	assert_null(cafacts_issuers(&cfg, NULL, NULL, &n));
	assert_int_equal(n, 0);
	/* caaIdentities is the last resort */
	dir.meta.caa_identities = caa;
	dir.meta.n_caa_identities = 1;
	v = cafacts_issuers(&cfg, &dir, &st, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "caa.test");
	/* a challenge's list, remembered, beats it */
	assert_int_equal(cafacts_remember_issuers(&st, learned, 2), 1);
	assert_int_equal(cafacts_remember_issuers(&st, learned, 2), 0); /* unchanged */
	v = cafacts_issuers(&cfg, &dir, &st, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[1], "other.test");
	/* the directory's issuerDomainNames beat that */
	dir.meta.issuer_domain_names = dir_issuers;
	dir.meta.n_issuer_domain_names = 1;
	v = cafacts_issuers(&cfg, &dir, &st, &n);
	assert_string_equal(v[0], "dir.test");
	/* and the config's override beats everything */
	cfg.issuers = cfg_issuers;
	cfg.n_issuers = 1;
	v = cafacts_issuers(&cfg, &dir, &st, &n);
	assert_string_equal(v[0], "override.test");

	/* the order's view holds only the fixed names (config, directory) */
	struct acme_account_view view;
	cafacts_account_view(&cfg, &dir, &st, "https://ca.test/acct/1", "tp", &view);
	assert_int_equal(view.n_issuers, 1);
	assert_string_equal(view.issuers[0], "override.test");
	cfg.n_issuers = 0;
	dir.meta.n_issuer_domain_names = 0;
	cafacts_account_view(&cfg, &dir, &st, "https://ca.test/acct/1", "tp", &view);
	assert_int_equal(view.n_issuers, 0);
	assert_int_equal(view.n_caa_identities, 1);

	for (size_t i = 0; i < st.n_issuers; i++)
		free(st.issuers[i]);
	free(st.issuers);
}

static void test_uri_mode_and_offers(void **state)
{
	(void)state;
	struct config_ca cfg = { 0 };
	struct acme_directory dir = { 0 };
	struct state_ca st = { .offers_persist = -1 };

	assert_int_equal(cafacts_uri_mode(&cfg, &dir, &st), RECORD_URI_URL);
	dir.meta.account_hash_prefix = "https://ca.test/acct-hash/";
	assert_int_equal(cafacts_uri_mode(&cfg, &dir, &st), RECORD_URI_HASHED);
	cfg.uri_mode = CONFIG_URI_URL;
	assert_int_equal(cafacts_uri_mode(&cfg, &dir, &st), RECORD_URI_URL);
	cfg.uri_mode = CONFIG_URI_AUTO;
	/* while the CA is away, the remembered prefix counts */
	st.hash_prefix = "https://ca.test/acct-hash/";
	assert_int_equal(cafacts_uri_mode(&cfg, NULL, &st), RECORD_URI_HASHED);
	st.hash_prefix = NULL;

	assert_int_equal(cafacts_offers_persist(&dir, &st), -1);
	dir.meta.issuer_domain_names = dir_issuers;
	dir.meta.n_issuer_domain_names = 1;
	assert_int_equal(cafacts_offers_persist(&dir, &st), 1); /* draft -02 announces it */
	assert_int_equal(cafacts_learn_offers_persist(&st, false), 1);
	assert_int_equal(cafacts_learn_offers_persist(&st, false), 0);
	assert_int_equal(cafacts_offers_persist(&dir, &st), 0); /* an authorization said no */
}

static void test_expected_uri(void **state)
{
	(void)state;
	struct acme_account_view a = { .uri_mode = RECORD_URI_URL };
	_cleanup_free_ char *u1 = NULL, *u2 = NULL, *h1 = NULL, *h2 = NULL, *want = NULL;

	assert_int_equal(acme_account_expected_uri(&a, "www.example.test", NULL, &u1), -EINVAL);
	a.url = "https://ca.test/acct/7";
	assert_int_equal(acme_account_expected_uri(&a, "www.example.test", NULL, &u1), 0);
	assert_string_equal(u1, "https://ca.test/acct/7");
	/* draft -01: the challenge's own accounturi wins */
	assert_int_equal(acme_account_expected_uri(&a, "www.example.test", "https://x/acct/7", &u2),
			 0);
	assert_string_equal(u2, "https://x/acct/7");

	a.uri_mode = RECORD_URI_HASHED;
	assert_int_equal(acme_account_expected_uri(&a, "www.example.test", NULL, &h1), -EINVAL);
	a.hash_prefix = "https://ca.test/acct-hash/";
	a.thumbprint = "abc";
	assert_int_equal(acme_account_expected_uri(&a, "www.example.test", NULL, &h1), 0);
	assert_int_equal(record_hashed_account_uri(a.hash_prefix, "www.example.test", "abc", a.url,
						   &want),
			 0);
	assert_string_equal(h1, want);
	a.hash_any_domain = true;
	assert_int_equal(acme_account_expected_uri(&a, "www.example.test", NULL, &h2), 0);
	assert_string_not_equal(h2, h1);
}

static void test_view_copy_owns(void **state)
{
	(void)state;
	char url[] = "https://ca.test/acct/1", tp[] = "thumb";
	char *iss[] = { strdup("a.test"), NULL };
	struct acme_account_view src = {
		.url = url, .thumbprint = tp, .issuers = (const char *const *)iss, .n_issuers = 1,
	}, copy;

	assert_non_null(iss[0]);
	assert_int_equal(acme_account_view_copy(&src, &copy), 0);
	url[0] = 'X';
	tp[0] = 'X';
	free(iss[0]);
	assert_string_equal(copy.url, "https://ca.test/acct/1");
	assert_string_equal(copy.thumbprint, "thumb");
	assert_string_equal(copy.issuers[0], "a.test");
	assert_null(copy.hash_prefix);
	acme_account_view_done(&copy);
	assert_null(copy.url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issuer_ranking),
		cmocka_unit_test(test_uri_mode_and_offers),
		cmocka_unit_test(test_expected_uri),
		cmocka_unit_test(test_view_copy_owns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
