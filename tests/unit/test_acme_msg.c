/* tests/unit/test_acme_msg.c: the ACME JSON parsers (daemon/acme/msg), on the examples of
 * RFC 8555, RFC 9773 and the dns-persist-01 drafts, and on malformed objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/macro.h"
#include "daemon/acme/msg.h"

static yajl_val parse(const char *text)
{
	yajl_val v = NULL;
	char err[256];

	if (json_parse(text, strlen(text), ACME_MAX_BODY_BYTES, &v, err, sizeof(err)) < 0)
		fail_msg("test JSON does not parse: %s", err);
	return v;
}

/* Runs one parser on text and returns its result; err gets the reason. */
#define PARSE(kind, text, out, err)                                                   \
	({                                                                            \
		_cleanup_(yajl_tree_freep) yajl_val _v = parse(text);                 \
		acme_##kind##_parse(_v, (out), (err), sizeof(err));                   \
	})

/* The result of parsing text with a parser that must fail, and the struct untouched. */
#define EXPECT_FAIL(kind, text, code, needle)                                          \
	do {                                                                           \
		struct acme_##kind _o;                                                 \
		char _err[256] = "";                                                   \
		memset(&_o, 0xa5, sizeof(_o));                                         \
		assert_int_equal(PARSE(kind, text, &_o, _err), (code));               \
		if ((needle) && !strstr(_err, (needle)))                               \
			fail_msg("error '%s' lacks '%s'", _err, (const char *)(needle)); \
		for (size_t _i = 0; _i < sizeof(_o); _i++)                             \
			assert_int_equal(((uint8_t *)&_o)[_i], 0xa5);                  \
	} while (0)

static void test_status(void **state)
{
	(void)state;
	for (int i = 0; i < _ACME_STATUS_MAX; i++) {
		const char *s = acme_status_to_string((enum acme_status)i);
		assert_non_null(s);
		assert_int_equal(acme_status_from_string(s), i);
	}
	assert_null(acme_status_to_string(_ACME_STATUS_MAX));
	assert_int_equal(acme_status_from_string("Valid"), -EINVAL);
	assert_int_equal(acme_status_from_string(""), -EINVAL);
	assert_int_equal(acme_status_from_string(NULL), -EINVAL);
	assert_string_equal(acme_status_to_string(ACME_STATUS_DEACTIVATED), "deactivated");
	assert_string_equal(acme_issuer_spelling_to_string(ACME_ISSUERS_DASHED),
			    "issuer-domain-names");
	assert_null(acme_issuer_spelling_to_string(_ACME_ISSUER_SPELLING_MAX));
}

/* ---- directory ----------------------------------------------------------------------- */

static const char rfc_directory[] =
	"{\"newNonce\":\"https://example.com/acme/new-nonce\","
	"\"newAccount\":\"https://example.com/acme/new-account\","
	"\"newOrder\":\"https://example.com/acme/new-order\","
	"\"newAuthz\":\"https://example.com/acme/new-authz\","
	"\"revokeCert\":\"https://example.com/acme/revoke-cert\","
	"\"keyChange\":\"https://example.com/acme/key-change\","
	"\"meta\":{\"termsOfService\":\"https://example.com/acme/terms/2017-5-30\","
	"\"website\":\"https://www.example.com/\",\"caaIdentities\":[\"example.com\"],"
	"\"externalAccountRequired\":false}}";

static void test_directory_rfc(void **state)
{
	struct acme_directory d;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(directory, rfc_directory, &d, err), 0);
	assert_string_equal(d.new_nonce, "https://example.com/acme/new-nonce");
	assert_string_equal(d.new_account, "https://example.com/acme/new-account");
	assert_string_equal(d.new_order, "https://example.com/acme/new-order");
	assert_string_equal(d.revoke_cert, "https://example.com/acme/revoke-cert");
	assert_string_equal(d.key_change, "https://example.com/acme/key-change");
	assert_null(d.renewal_info);
	assert_string_equal(d.meta.terms_of_service, "https://example.com/acme/terms/2017-5-30");
	assert_string_equal(d.meta.website, "https://www.example.com/");
	assert_int_equal(d.meta.n_caa_identities, 1);
	assert_string_equal(d.meta.caa_identities[0], "example.com");
	assert_false(d.meta.external_account_required);
	assert_int_equal(d.meta.n_profiles, 0);
	assert_false(d.meta.issuer_domain_names_present);
	assert_null(d.meta.account_hash_prefix);
	acme_directory_done(&d);
	acme_directory_done(&d); /* zeroed: a second done is harmless */
}

static void test_directory_draft02(void **state)
{
	struct acme_directory d;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(directory,
			       "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
			       "\"newOrder\":\"https://ca/o\",\"renewalInfo\":\"https://ca/ari\","
			       "\"meta\":{\"externalAccountRequired\":true,"
			       "\"profiles\":{\"classic\":\"90 days\",\"shortlived\":\"6 days\"},"
			       "\"issuerDomainNames\":[\"ca.test\",\"xn--bcher-kva.test\"],"
			       "\"accountHashPrefix\":\"https://ca/acct-hash/\"}}",
			       &d, err),
			 0);
	assert_string_equal(d.renewal_info, "https://ca/ari");
	assert_true(d.meta.external_account_required);
	assert_int_equal(d.meta.n_profiles, 2);
	assert_string_equal(d.meta.profiles[0].name, "classic");
	assert_string_equal(d.meta.profiles[1].description, "6 days");
	assert_string_equal(acme_directory_get_profile(&d, "shortlived"), "6 days");
	assert_null(acme_directory_get_profile(&d, "tlsserver"));
	assert_true(d.meta.issuer_domain_names_present);
	assert_false(d.meta.issuer_domain_names_malformed);
	assert_int_equal(d.meta.n_issuer_domain_names, 2);
	assert_string_equal(d.meta.issuer_domain_names[1], "xn--bcher-kva.test");
	assert_string_equal(d.meta.account_hash_prefix, "https://ca/acct-hash/");
	acme_directory_done(&d);
}

static void test_directory_bad_issuer_list_is_not_fatal(void **state)
{
	static const char *const lists[] = {
		"[]",
		"[\"CA.test\"]",
		"[\"ca.test.\"]",
		"[\"ca.test\",1]",
		"\"ca.test\"",
		"[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]",
	};
	struct acme_directory d;
	char err[256], text[512];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
		snprintf(text, sizeof(text),
			 "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\","
			 "\"newOrder\":\"https://ca/o\",\"meta\":{\"issuerDomainNames\":%s}}",
			 lists[i]);
		assert_int_equal(PARSE(directory, text, &d, err), 0);
		assert_true(d.meta.issuer_domain_names_present);
		assert_true(d.meta.issuer_domain_names_malformed);
		assert_int_equal(d.meta.n_issuer_domain_names, 0);
		assert_null(d.meta.issuer_domain_names);
		acme_directory_done(&d);
	}
}

static void test_directory_malformed(void **state)
{
	char long_url[ACME_MAX_URL_BYTES + 200];

	(void)state;
	EXPECT_FAIL(directory, "[]", -EINVAL, "not a JSON object");
	EXPECT_FAIL(directory, "{\"newAccount\":\"https://a\",\"newOrder\":\"https://o\"}", -EINVAL,
		    "'newNonce' missing");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":7,\"newAccount\":\"https://a\",\"newOrder\":\"https://o\"}",
		    -EINVAL, "'newNonce' is not a string");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\"}",
		    -EINVAL, "'newNonce' is empty");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"https://n\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\","
		    "\"keyChange\":[]}",
		    -EINVAL, "'keyChange'");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"https://n\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\","
		    "\"meta\":[]}",
		    -EINVAL, "'meta' is not an object");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"https://n\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\","
		    "\"meta\":{\"externalAccountRequired\":\"yes\"}}",
		    -EINVAL, "not a boolean");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"https://n\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\","
		    "\"meta\":{\"caaIdentities\":\"ca.test\"}}",
		    -EINVAL, "not an array");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"https://n\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\","
		    "\"meta\":{\"profiles\":{\"classic\":90}}}",
		    -EINVAL, "not a string");
	EXPECT_FAIL(directory,
		    "{\"newNonce\":\"https://n\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\","
		    "\"meta\":{\"profiles\":[\"classic\"]}}",
		    -EINVAL, "'profiles' is not an object");

	/* a URL over ACME_MAX_URL_BYTES */
	memset(long_url, 'a', sizeof(long_url));
	long_url[sizeof(long_url) - 1] = '\0';
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text,
			     "{\"newNonce\":\"https://%s\",\"newAccount\":\"https://a\","
			     "\"newOrder\":\"https://o\"}",
			     long_url) > 0);
	EXPECT_FAIL(directory, text, -E2BIG, "longer than");
}

/* ---- account ------------------------------------------------------------------------- */

static void test_account(void **state)
{
	struct acme_account a;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(account,
			       "{\"status\":\"valid\",\"contact\":[\"mailto:cert-admin@example.org\","
			       "\"mailto:admin@example.org\"],\"termsOfServiceAgreed\":true,"
			       "\"orders\":\"https://example.com/acme/orders/rzGoeA\"}",
			       &a, err),
			 0);
	assert_int_equal(a.status, ACME_STATUS_VALID);
	assert_int_equal(a.n_contact, 2);
	assert_string_equal(a.contact[1], "mailto:admin@example.org");
	assert_true(a.terms_of_service_agreed);
	assert_string_equal(a.orders, "https://example.com/acme/orders/rzGoeA");
	acme_account_done(&a);

	assert_int_equal(PARSE(account, "{\"status\":\"deactivated\"}", &a, err), 0);
	assert_int_equal(a.status, ACME_STATUS_DEACTIVATED);
	assert_int_equal(a.n_contact, 0);
	assert_null(a.orders);
	acme_account_done(&a);

	EXPECT_FAIL(account, "{}", -EINVAL, "'status' missing");
	EXPECT_FAIL(account, "{\"status\":1}", -EINVAL, "'status' is not a string");
	EXPECT_FAIL(account, "{\"status\":\"pending\"}", -EINVAL, "status 'pending'");
	EXPECT_FAIL(account, "{\"status\":\"valid\",\"contact\":\"mailto:a@b\"}", -EINVAL,
		    "'contact' is not an array");
	EXPECT_FAIL(account, "{\"status\":\"valid\",\"contact\":[\"mailto:a@b\",null]}", -EINVAL,
		    "'contact'[1]");
	EXPECT_FAIL(account, "{\"status\":\"valid\",\"orders\":false}", -EINVAL, "'orders'");

	char text[4096] = "{\"status\":\"valid\",\"contact\":[";
	for (int i = 0; i <= ACME_MAX_CONTACTS; i++)
		strcat(text, i ? ",\"mailto:a@b\"" : "\"mailto:a@b\"");
	strcat(text, "]}");
	EXPECT_FAIL(account, text, -E2BIG, "more than");
}

/* ---- the account's orders list ------------------------------------------------------ */

static void test_orders_list(void **state)
{
	struct acme_orders_list l;
	char err[256];

	(void)state;
	/* RFC 8555 section 7.1.2.1 */
	assert_int_equal(PARSE(orders_list,
			       "{\"orders\":[\"https://example.com/acme/order/TOlocE8rfgo\","
			       "\"https://example.com/acme/order/4E16bbL5iSw\","
			       "\"https://example.com/acme/order/neBHYLfw0mg\"]}",
			       &l, err),
			 0);
	assert_int_equal(l.n_orders, 3);
	assert_string_equal(l.orders[0], "https://example.com/acme/order/TOlocE8rfgo");
	assert_string_equal(l.orders[2], "https://example.com/acme/order/neBHYLfw0mg");
	acme_orders_list_done(&l);

	assert_int_equal(PARSE(orders_list, "{\"orders\":[]}", &l, err), 0);
	assert_int_equal(l.n_orders, 0);
	assert_null(l.orders);
	acme_orders_list_done(&l);
	acme_orders_list_done(NULL);

	EXPECT_FAIL(orders_list, "{}", -EINVAL, "'orders' missing");
	EXPECT_FAIL(orders_list, "[\"https://ca/o/1\"]", -EINVAL, "not a JSON object");
	EXPECT_FAIL(orders_list, "{\"orders\":\"https://ca/o/1\"}", -EINVAL, "not an array");
	EXPECT_FAIL(orders_list, "{\"orders\":[\"https://ca/o/1\",7]}", -EINVAL, "'orders'[1]");
	EXPECT_FAIL(orders_list, "{\"orders\":[\"\"]}", -EINVAL, "'orders'[0]");

	/* Over the page bound, and an over-long URL. */
	size_t size = (ACME_MAX_ORDERS_PAGE + 1) * 8 + 32;
	char *text = malloc(size);
	assert_non_null(text);
	strcpy(text, "{\"orders\":[");
	for (int i = 0; i <= ACME_MAX_ORDERS_PAGE; i++)
		strcat(text, i ? ",\"h://a\"" : "\"h://a\"");
	strcat(text, "]}");
	EXPECT_FAIL(orders_list, text, -E2BIG, "more than");
	free(text);
	text = malloc(ACME_MAX_URL_BYTES + 64);
	assert_non_null(text);
	strcpy(text, "{\"orders\":[\"");
	memset(text + strlen(text), 'a', ACME_MAX_URL_BYTES + 1);
	strcpy(text + 12 + ACME_MAX_URL_BYTES + 1, "\"]}");
	EXPECT_FAIL(orders_list, text, -E2BIG, "longer than");
	free(text);
}

/* ---- order --------------------------------------------------------------------------- */

static void test_order_has_names(void **state)
{
	struct acme_order o;
	char err[256];
	const char *const names[] = { "www.example.org", "*.Example.org" };
	const char *const one[] = { "www.example.org" };
	const char *const other[] = { "www.example.org", "example.org" };

	(void)state;
	assert_int_equal(
		PARSE(order,
		      "{\"status\":\"pending\",\"identifiers\":["
		      "{\"type\":\"dns\",\"value\":\"*.example.org\"},"
		      "{\"type\":\"dns\",\"value\":\"WWW.example.org\"}],"
		      "\"authorizations\":[],\"finalize\":\"https://ca/f\"}",
		      &o, err),
		0);
	assert_true(acme_order_has_names(&o, names, 2));    /* other order, other case */
	assert_false(acme_order_has_names(&o, one, 1));     /* a subset is not the same */
	assert_false(acme_order_has_names(&o, other, 2));   /* "*.x" is not "x" */
	assert_false(acme_order_has_names(&o, names, 0));
	const char *const three[] = { "www.example.org", "*.example.org", "www.example.org" };
	assert_true(acme_order_has_names(&o, three, 3));    /* duplicates do not matter */
	acme_order_done(&o);

	assert_int_equal(
		PARSE(order,
		      "{\"status\":\"pending\",\"identifiers\":["
		      "{\"type\":\"ip\",\"value\":\"www.example.org\"}],"
		      "\"authorizations\":[],\"finalize\":\"https://ca/f\"}",
		      &o, err),
		0);
	assert_false(acme_order_has_names(&o, one, 1));     /* not a DNS identifier */
	acme_order_done(&o);
}

static void test_order_rfc(void **state)
{
	struct acme_order o;
	char err[256];

	(void)state;
	assert_int_equal(
		PARSE(order,
		      "{\"status\":\"valid\",\"expires\":\"2016-01-20T14:09:07.99Z\","
		      "\"identifiers\":[{\"type\":\"dns\",\"value\":\"www.example.org\"},"
		      "{\"type\":\"dns\",\"value\":\"example.org\"}],"
		      "\"notBefore\":\"2016-01-01T00:00:00Z\",\"notAfter\":\"2016-01-08T00:00:00Z\","
		      "\"authorizations\":[\"https://example.com/acme/authz/PAniVnsZcis\","
		      "\"https://example.com/acme/authz/r4HqLzrSrpI\"],"
		      "\"finalize\":\"https://example.com/acme/order/TOlocE8rfgo/finalize\","
		      "\"certificate\":\"https://example.com/acme/cert/mAt3xBGaobw\"}",
		      &o, err),
		0);
	assert_int_equal(o.status, ACME_STATUS_VALID);
	assert_int_equal(o.expires, 1453298947); /* fraction dropped */
	assert_int_equal(o.not_before, 1451606400);
	assert_int_equal(o.not_after, 1452211200);
	assert_int_equal(o.n_identifiers, 2);
	assert_string_equal(o.identifiers[0].type, "dns");
	assert_string_equal(o.identifiers[1].value, "example.org");
	assert_int_equal(o.n_authorizations, 2);
	assert_string_equal(o.authorizations[1], "https://example.com/acme/authz/r4HqLzrSrpI");
	assert_string_equal(o.finalize, "https://example.com/acme/order/TOlocE8rfgo/finalize");
	assert_string_equal(o.certificate, "https://example.com/acme/cert/mAt3xBGaobw");
	assert_null(o.profile);
	assert_null(o.replaces);
	assert_null(o.error);
	acme_order_done(&o);
}

static void test_order_invalid_with_error(void **state)
{
	struct acme_order o;
	char err[256];

	(void)state;
	assert_int_equal(
		PARSE(order,
		      "{\"status\":\"invalid\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],"
		      "\"authorizations\":[],\"finalize\":\"https://ca/f\",\"profile\":\"shortlived\","
		      "\"replaces\":\"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE\","
		      "\"error\":{\"type\":\"urn:ietf:params:acme:error:unauthorized\","
		      "\"detail\":\"No valid TXT record\",\"status\":403}}",
		      &o, err),
		0);
	assert_int_equal(o.status, ACME_STATUS_INVALID);
	assert_int_equal(o.expires, 0);
	assert_int_equal(o.n_authorizations, 0);
	assert_string_equal(o.profile, "shortlived");
	assert_string_equal(o.replaces, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	assert_non_null(o.error);
	assert_true(acme_problem_is(o.error, "unauthorized"));
	assert_int_equal(o.error->status, 403);
	acme_order_done(&o);
}

static void test_order_malformed(void **state)
{
	(void)state;
#define ORDER(extra, ids, authz, fin)                                                    \
	"{\"status\":\"pending\"," extra "\"identifiers\":" ids ",\"authorizations\":" authz \
	",\"finalize\":" fin "}"
#define IDS "[{\"type\":\"dns\",\"value\":\"a.test\"}]"
	EXPECT_FAIL(order, ORDER("", "[]", "[]", "\"https://f\""), -EINVAL,
		    "'identifiers' is empty");
	EXPECT_FAIL(order, ORDER("", "{}", "[]", "\"https://f\""), -EINVAL, "'identifiers'");
	EXPECT_FAIL(order, ORDER("", "[{\"type\":\"dns\"}]", "[]", "\"https://f\""), -EINVAL,
		    "identifier 0: 'value' missing");
	EXPECT_FAIL(order, ORDER("", "[\"a.test\"]", "[]", "\"https://f\""), -EINVAL,
		    "'identifier' is not an object");
	EXPECT_FAIL(order, ORDER("", IDS, "\"https://z\"", "\"https://f\""), -EINVAL,
		    "'authorizations' is not an array");
	EXPECT_FAIL(order, ORDER("", IDS, "[1]", "\"https://f\""), -EINVAL, "'authorizations'[0]");
	EXPECT_FAIL(order, ORDER("", IDS, "[]", "null"), -EINVAL, "'finalize' missing");
	EXPECT_FAIL(order, ORDER("", IDS, "[]", "5"), -EINVAL, "'finalize' is not a string");
	EXPECT_FAIL(order, ORDER("\"expires\":\"tomorrow\",", IDS, "[]", "\"https://f\""), -EINVAL,
		    "not an RFC 3339 time");
	EXPECT_FAIL(order, ORDER("\"expires\":1453298947,", IDS, "[]", "\"https://f\""), -EINVAL,
		    "'expires' is not a string");
	EXPECT_FAIL(order, ORDER("\"error\":\"oops\",", IDS, "[]", "\"https://f\""), -EINVAL,
		    "order: 'error': problem: not a JSON object");
	EXPECT_FAIL(order, ORDER("\"certificate\":{},", IDS, "[]", "\"https://f\""), -EINVAL,
		    "'certificate'");
	EXPECT_FAIL(order,
		    "{\"status\":\"revoked\",\"identifiers\":" IDS
		    ",\"authorizations\":[],\"finalize\":\"https://f\"}",
		    -EINVAL, "status 'revoked' is not valid here");
	EXPECT_FAIL(order, "{\"identifiers\":" IDS ",\"authorizations\":[],\"finalize\":\"https://f\"}",
		    -EINVAL, "'status' missing");
#undef IDS
#undef ORDER
}

/* ---- challenges and authorizations -------------------------------------------------------- */

static void test_challenge_persist_drafts(void **state)
{
	struct acme_challenge c;
	char err[256];

	(void)state;
	/* draft -01 / Pebble: dashed list and accounturi */
	assert_int_equal(PARSE(challenge,
			       "{\"type\":\"dns-persist-01\",\"url\":\"https://ca/chall/1\","
			       "\"status\":\"pending\",\"issuer-domain-names\":[\"ca.test\",\"ca2.test\"],"
			       "\"accounturi\":\"https://ca/acct/1\"}",
			       &c, err),
			 0);
	assert_string_equal(c.type, "dns-persist-01");
	assert_int_equal(c.status, ACME_STATUS_PENDING);
	assert_null(c.token);
	assert_int_equal(c.issuer_spelling, ACME_ISSUERS_DASHED);
	assert_int_equal(c.n_issuer_domain_names, 2);
	assert_string_equal(c.issuer_domain_names[1], "ca2.test");
	assert_string_equal(c.accounturi, "https://ca/acct/1");
	assert_int_equal(c.validated, 0);
	acme_challenge_done(&c);

	/* draft -02: camelCase list, no accounturi; validated with an offset */
	assert_int_equal(PARSE(challenge,
			       "{\"type\":\"dns-persist-01\",\"url\":\"https://ca/chall/2\","
			       "\"status\":\"valid\",\"issuerDomainNames\":[\"ca.test\"],"
			       "\"validated\":\"2026-09-20T10:00:00+02:00\"}",
			       &c, err),
			 0);
	assert_int_equal(c.issuer_spelling, ACME_ISSUERS_CAMEL);
	assert_null(c.accounturi);
	assert_int_equal(c.validated, 1789891200);
	acme_challenge_done(&c);

	/* both spellings: camelCase wins */
	assert_int_equal(PARSE(challenge,
			       "{\"type\":\"dns-persist-01\",\"url\":\"https://ca/c\",\"status\":\"pending\","
			       "\"issuer-domain-names\":[\"old.test\"],\"issuerDomainNames\":[\"new.test\"]}",
			       &c, err),
			 0);
	assert_int_equal(c.issuer_spelling, ACME_ISSUERS_CAMEL);
	assert_string_equal(c.issuer_domain_names[0], "new.test");
	acme_challenge_done(&c);

	/* exactly ten is fine */
	assert_int_equal(PARSE(challenge,
			       "{\"type\":\"dns-persist-01\",\"url\":\"https://ca/c\",\"status\":\"pending\","
			       "\"issuerDomainNames\":[\"a.t\",\"b.t\",\"c.t\",\"d.t\",\"e.t\",\"f.t\","
			       "\"g.t\",\"h.t\",\"i.t\",\"j.t\"]}",
			       &c, err),
			 0);
	assert_int_equal(c.n_issuer_domain_names, RECORD_MAX_ISSUERS);
	acme_challenge_done(&c);
}

static void test_challenge_persist_malformed_issuers(void **state)
{
	(void)state;
#define PC(list) \
	"{\"type\":\"dns-persist-01\",\"url\":\"https://ca/c\",\"status\":\"pending\"," list "}"
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":[]"), -EINVAL, "is empty");
	EXPECT_FAIL(challenge, PC("\"issuer-domain-names\":[]"), -EINVAL,
		    "'issuer-domain-names' is empty");
	EXPECT_FAIL(challenge,
		    PC("\"issuerDomainNames\":[\"a.t\",\"b.t\",\"c.t\",\"d.t\",\"e.t\",\"f.t\","
		       "\"g.t\",\"h.t\",\"i.t\",\"j.t\",\"k.t\"]"),
		    -EINVAL, "11 entries (at most 10)");
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":[\"Ca.Test\"]"), -EINVAL,
		    "not a lowercase domain name");
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":[\"ca.test.\"]"), -EINVAL,
		    "without a trailing dot");
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":[\"ca..test\"]"), -EINVAL, "[0]");
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":[\"ca.test\",\"\"]"), -EINVAL, "[1]");
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":[\"ca.test\",7]"), -EINVAL,
		    "[1] is not a string");
	EXPECT_FAIL(challenge, PC("\"issuerDomainNames\":\"ca.test\""), -EINVAL,
		    "is not an array");
	/* a malformed camelCase list is not rescued by a good dashed one */
	EXPECT_FAIL(challenge,
		    PC("\"issuerDomainNames\":[],\"issuer-domain-names\":[\"ca.test\"]"), -EINVAL,
		    "'issuerDomainNames' is empty");
	EXPECT_FAIL(challenge, PC("\"token\":\"abc\""), -EINVAL, "dns-persist-01 without");
#undef PC
}

static void test_challenge_other(void **state)
{
	struct acme_challenge c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(challenge,
			       "{\"type\":\"dns-01\",\"url\":\"https://ca/c\",\"status\":\"invalid\","
			       "\"token\":\"DGyRejmCefe7v4NfDGDKfA\","
			       "\"error\":{\"type\":\"urn:ietf:params:acme:error:dns\","
			       "\"detail\":\"NXDOMAIN looking up TXT\"}}",
			       &c, err),
			 0);
	assert_int_equal(c.issuer_spelling, ACME_ISSUERS_ABSENT);
	assert_string_equal(c.token, "DGyRejmCefe7v4NfDGDKfA");
	assert_non_null(c.error);
	assert_string_equal(acme_problem_short_type(c.error), "dns");
	acme_challenge_done(&c);

	EXPECT_FAIL(challenge, "{\"url\":\"https://c\",\"status\":\"pending\"}", -EINVAL,
		    "'type' missing");
	EXPECT_FAIL(challenge, "{\"type\":\"http-01\",\"status\":\"pending\"}", -EINVAL,
		    "'url' missing");
	EXPECT_FAIL(challenge, "{\"type\":\"http-01\",\"url\":\"https://c\",\"status\":\"ready\"}",
		    -EINVAL, "status 'ready'");
	EXPECT_FAIL(challenge,
		    "{\"type\":\"http-01\",\"url\":\"https://c\",\"status\":\"pending\",\"token\":5}",
		    -EINVAL, "'token' is not a string");
	EXPECT_FAIL(challenge,
		    "{\"type\":\"http-01\",\"url\":\"https://c\",\"status\":\"valid\","
		    "\"validated\":\"2014-12-01\"}",
		    -EINVAL, "'validated' is not an RFC 3339 time");
	EXPECT_FAIL(challenge,
		    "{\"type\":\"http-01\",\"url\":\"https://c\",\"status\":\"valid\","
		    "\"error\":{\"type\":7}}",
		    -EINVAL, "challenge: 'error': problem: 'type' is not a string");
}

static void test_authz(void **state)
{
	struct acme_authz a;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(authz,
			       "{\"status\":\"valid\",\"expires\":\"2015-03-01T14:09:07.99Z\","
			       "\"identifier\":{\"type\":\"dns\",\"value\":\"www.example.org\"},"
			       "\"challenges\":[{\"url\":\"https://example.com/acme/chall/prV_B7yEyA4\","
			       "\"type\":\"http-01\",\"status\":\"valid\","
			       "\"token\":\"DGyRejmCefe7v4NfDGDKfA\","
			       "\"validated\":\"2014-12-01T12:05:58.16Z\"}],\"wildcard\":false}",
			       &a, err),
			 0);
	assert_int_equal(a.status, ACME_STATUS_VALID);
	assert_int_equal(a.expires, 1425218947);
	assert_string_equal(a.identifier.type, "dns");
	assert_string_equal(a.identifier.value, "www.example.org");
	assert_false(a.wildcard);
	assert_int_equal(a.n_challenges, 1);
	assert_int_equal(a.challenges[0].validated, 1417435558);
	assert_ptr_equal(acme_authz_get_challenge(&a, "http-01"), &a.challenges[0]);
	assert_null(acme_authz_get_challenge(&a, "dns-persist-01"));
	acme_authz_done(&a);

	/* a wildcard authz that is valid already (just-in-time): no challenges needed */
	assert_int_equal(PARSE(authz,
			       "{\"status\":\"valid\",\"identifier\":{\"type\":\"dns\","
			       "\"value\":\"example.org\"},\"wildcard\":true,\"challenges\":[]}",
			       &a, err),
			 0);
	assert_true(a.wildcard);
	assert_int_equal(a.n_challenges, 0);
	acme_authz_done(&a);

	EXPECT_FAIL(authz, "{\"status\":\"valid\",\"challenges\":[]}", -EINVAL,
		    "'identifier' missing");
	EXPECT_FAIL(authz,
		    "{\"status\":\"ready\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},"
		    "\"challenges\":[]}",
		    -EINVAL, "status 'ready'");
	EXPECT_FAIL(authz,
		    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"}}",
		    -EINVAL, "'challenges' missing");
	EXPECT_FAIL(authz,
		    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},"
		    "\"wildcard\":1,\"challenges\":[]}",
		    -EINVAL, "'wildcard' is not a boolean");
	/* one malformed challenge makes the authorization malformed, and says which */
	EXPECT_FAIL(authz,
		    "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},"
		    "\"challenges\":[{\"type\":\"dns-01\",\"url\":\"https://c/1\",\"status\":\"pending\","
		    "\"token\":\"t\"},{\"type\":\"dns-persist-01\",\"url\":\"https://c/2\","
		    "\"status\":\"pending\",\"issuer-domain-names\":[]}]}",
		    -EINVAL, "authorization: challenge 1 ('dns-persist-01'): challenge: "
			     "'issuer-domain-names' is empty");

	char text[8192] = "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\"},"
			  "\"challenges\":[";
	for (int i = 0; i <= ACME_MAX_CHALLENGES; i++)
		strcat(text, i ? ",{\"type\":\"x\",\"url\":\"https://c\",\"status\":\"pending\"}"
			       : "{\"type\":\"x\",\"url\":\"https://c\",\"status\":\"pending\"}");
	strcat(text, "]}");
	EXPECT_FAIL(authz, text, -E2BIG, "more than");
}

/* ---- problems ------------------------------------------------------------------------ */

static const char rfc_problem[] =
	"{\"type\":\"urn:ietf:params:acme:error:malformed\","
	"\"detail\":\"Some of the identifiers requested were rejected\","
	"\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:malformed\","
	"\"detail\":\"Invalid underscore in DNS name \\\"_example.org\\\"\","
	"\"identifier\":{\"type\":\"dns\",\"value\":\"_example.org\"}},"
	"{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
	"\"detail\":\"This CA will not issue for \\\"example.net\\\"\","
	"\"identifier\":{\"type\":\"dns\",\"value\":\"example.net\"}}]}";

static void test_problem_rfc(void **state)
{
	struct acme_problem p;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(problem, rfc_problem, &p, err), 0);
	assert_string_equal(p.type, "urn:ietf:params:acme:error:malformed");
	assert_true(acme_problem_is(&p, "malformed"));
	assert_false(acme_problem_is(&p, "badNonce"));
	assert_string_equal(acme_problem_short_type(&p), "malformed");
	assert_int_equal(p.status, 0);
	assert_int_equal(p.n_subproblems, 2);
	assert_string_equal(p.subproblems[1].type,
			    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(p.subproblems[1].identifier.value, "example.net");

	_cleanup_free_ char *text = acme_problem_format(&p);
	assert_string_equal(text,
			    "malformed: Some of the identifiers requested were rejected\n"
			    "  - dns '_example.org': malformed: Invalid underscore in DNS name "
			    "\"_example.org\"\n"
			    "  - dns 'example.net': rejectedIdentifier: This CA will not issue for "
			    "\"example.net\"");
	acme_problem_done(&p);
}

static void test_problem_format(void **state)
{
	struct acme_problem p;
	char err[256];

	(void)state;
	/* RFC 7807: no type means about:blank; foreign URIs are shown whole */
	assert_int_equal(PARSE(problem, "{\"status\":503}", &p, err), 0);
	assert_string_equal(p.type, "about:blank");
	_cleanup_free_ char *t1 = acme_problem_format(&p);
	assert_string_equal(t1, "about:blank (HTTP 503)");
	acme_problem_done(&p);

	assert_int_equal(PARSE(problem,
			       "{\"type\":\"https://ca.example/probs/x\",\"detail\":\"line1\\nline2\\u001b[31m\","
			       "\"status\":429}",
			       &p, err),
			 0);
	_cleanup_free_ char *t2 = acme_problem_format(&p);
	assert_string_equal(t2, "https://ca.example/probs/x: line1\\x0aline2\\x1b[31m (HTTP 429)");
	acme_problem_done(&p);

	/* long detail: cut, at a UTF-8 boundary, with "..." */
	char text[2200] = "{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"";
	for (int i = 0; i < 600; i++)
		strcat(text, "\xc3\xa9"); /* é */
	strcat(text, "\"}");
	assert_int_equal(PARSE(problem, text, &p, err), 0);
	_cleanup_free_ char *t3 = acme_problem_format(&p);
	assert_true(strlen(t3) < 500);
	assert_true(strstr(t3, "..."));
	const char *dots = strstr(t3, "...");
	assert_true(dots[-1] == '\xa9'); /* the last character before the cut is whole */
	acme_problem_done(&p);

	/* many subproblems: 20 listed, then a count */
	char many[16384] = "{\"type\":\"urn:ietf:params:acme:error:compound\",\"subproblems\":[";
	for (int i = 0; i < 25; i++) {
		char one[160];
		snprintf(one, sizeof(one),
			 "%s{\"type\":\"urn:ietf:params:acme:error:caa\",\"identifier\":"
			 "{\"type\":\"dns\",\"value\":\"n%d.test\"}}",
			 i ? "," : "", i);
		strcat(many, one);
	}
	strcat(many, "]}");
	assert_int_equal(PARSE(problem, many, &p, err), 0);
	assert_int_equal(p.n_subproblems, 25);
	_cleanup_free_ char *t4 = acme_problem_format(&p);
	assert_non_null(strstr(t4, "  - dns 'n19.test': caa\n  ... and 5 more"));
	assert_null(strstr(t4, "n20.test"));
	acme_problem_done(&p);

	assert_string_equal(acme_problem_short_type(NULL), "about:blank");
	_cleanup_free_ char *t5 = acme_problem_format(NULL);
	assert_string_equal(t5, "about:blank");
}

static void test_problem_malformed(void **state)
{
	(void)state;
	EXPECT_FAIL(problem, "\"oops\"", -EINVAL, "not a JSON object");
	EXPECT_FAIL(problem, "{\"type\":1}", -EINVAL, "'type' is not a string");
	EXPECT_FAIL(problem, "{\"detail\":[]}", -EINVAL, "'detail'");
	EXPECT_FAIL(problem, "{\"status\":\"429\"}", -EINVAL, "not an HTTP status");
	EXPECT_FAIL(problem, "{\"status\":99}", -EINVAL, "not an HTTP status");
	EXPECT_FAIL(problem, "{\"status\":4.29e2}", -EINVAL, "not an HTTP status");
	EXPECT_FAIL(problem, "{\"subproblems\":{}}", -EINVAL, "'subproblems' is not an array");
	EXPECT_FAIL(problem, "{\"subproblems\":[1]}", -EINVAL, "subproblem 0: not a JSON object");
	EXPECT_FAIL(problem, "{\"subproblems\":[{\"identifier\":{\"type\":\"dns\"}}]}", -EINVAL,
		    "subproblem 0: 'value' missing");
}

/* ---- renewal info -------------------------------------------------------------------- */

static void test_renewal_info(void **state)
{
	struct acme_renewal_info ri;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(renewal_info,
			       "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
			       "\"end\":\"2025-01-03T04:00:00Z\"},"
			       "\"explanationURL\":\"https://acme.example.com/docs/ari\"}",
			       &ri, err),
			 0);
	assert_int_equal(ri.window_start, 1735790400);
	assert_int_equal(ri.window_end, 1735876800);
	assert_string_equal(ri.explanation_url, "https://acme.example.com/docs/ari");
	acme_renewal_info_done(&ri);

	assert_int_equal(PARSE(renewal_info,
			       "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00.123456Z\","
			       "\"end\":\"2025-01-02T05:00:00-01:00\"}}",
			       &ri, err),
			 0);
	assert_int_equal(ri.window_end - ri.window_start, 2 * 3600);
	assert_null(ri.explanation_url);
	acme_renewal_info_done(&ri);

	EXPECT_FAIL(renewal_info, "{}", -EINVAL, "'suggestedWindow' missing");
	EXPECT_FAIL(renewal_info, "{\"suggestedWindow\":[]}", -EINVAL, "is not an object");
	EXPECT_FAIL(renewal_info, "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\"}}",
		    -EINVAL, "'end' missing");
	EXPECT_FAIL(renewal_info,
		    "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\","
		    "\"end\":\"2025-01-02T04:00:00Z\"}}",
		    -EINVAL, "ends before it starts");
	EXPECT_FAIL(renewal_info,
		    "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
		    "\"end\":\"2025-01-02T04:00:00Z\"}}",
		    -EINVAL, "ends before it starts");
	EXPECT_FAIL(renewal_info,
		    "{\"suggestedWindow\":{\"start\":\"2025-02-30T04:00:00Z\","
		    "\"end\":\"2025-03-02T04:00:00Z\"}}",
		    -EINVAL, "'start' is not an RFC 3339 time");
	EXPECT_FAIL(renewal_info,
		    "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\","
		    "\"end\":\"2025-01-03T04:00:00Z\"},\"explanationURL\":true}",
		    -EINVAL, "'explanationURL'");
}

/* Every parser on every kind of value, and NULL-safe cleanup. */
static void test_wrong_shapes(void **state)
{
	static const char *const docs[] = { "null", "true", "1", "\"x\"", "[]", "{}", "[{}]" };
	char err[256];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
		struct acme_directory d;
		struct acme_account a;
		struct acme_order o;
		struct acme_authz z;
		struct acme_challenge c;
		struct acme_renewal_info ri;

		assert_int_equal(PARSE(directory, docs[i], &d, err), -EINVAL);
		assert_int_equal(PARSE(account, docs[i], &a, err), -EINVAL);
		assert_int_equal(PARSE(order, docs[i], &o, err), -EINVAL);
		assert_int_equal(PARSE(authz, docs[i], &z, err), -EINVAL);
		assert_int_equal(PARSE(challenge, docs[i], &c, err), -EINVAL);
		assert_int_equal(PARSE(renewal_info, docs[i], &ri, err), -EINVAL);
	}
	/* NULL tree, NULL err */
	struct acme_problem p;
	assert_int_equal(acme_problem_parse(NULL, &p, NULL, 0), -EINVAL);
	acme_directory_done(NULL);
	acme_account_done(NULL);
	acme_order_done(NULL);
	acme_authz_done(NULL);
	acme_challenge_done(NULL);
	acme_problem_done(NULL);
	acme_problem_free(NULL);
	acme_renewal_info_done(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_directory_rfc),
		cmocka_unit_test(test_directory_draft02),
		cmocka_unit_test(test_directory_bad_issuer_list_is_not_fatal),
		cmocka_unit_test(test_directory_malformed),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_orders_list),
		cmocka_unit_test(test_order_has_names),
		cmocka_unit_test(test_order_rfc),
		cmocka_unit_test(test_order_invalid_with_error),
		cmocka_unit_test(test_order_malformed),
		cmocka_unit_test(test_challenge_persist_drafts),
		cmocka_unit_test(test_challenge_persist_malformed_issuers),
		cmocka_unit_test(test_challenge_other),
		cmocka_unit_test(test_authz),
		cmocka_unit_test(test_problem_rfc),
		cmocka_unit_test(test_problem_format),
		cmocka_unit_test(test_problem_malformed),
		cmocka_unit_test(test_renewal_info),
		cmocka_unit_test(test_wrong_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
