/* daemon/acme/msg.c: the status names and the objects of an account (account, order,
 * challenge, authorization, renewal information) into structs. See msg.h for the contract. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/acme/msg.h"
#include "daemon/acme/msg_field.h"

static const char *const status_names[] = {
	[ACME_STATUS_PENDING] = "pending",
	[ACME_STATUS_READY] = "ready",
	[ACME_STATUS_PROCESSING] = "processing",
	[ACME_STATUS_VALID] = "valid",
	[ACME_STATUS_INVALID] = "invalid",
	[ACME_STATUS_DEACTIVATED] = "deactivated",
	[ACME_STATUS_EXPIRED] = "expired",
	[ACME_STATUS_REVOKED] = "revoked",
};
static_assert(ELEMENTSOF(status_names) == _ACME_STATUS_MAX, "status_names");

static const char *const spelling_names[] = {
	[ACME_ISSUERS_ABSENT] = "absent",
	[ACME_ISSUERS_CAMEL] = "issuerDomainNames",
	[ACME_ISSUERS_DASHED] = "issuer-domain-names",
};
static_assert(ELEMENTSOF(spelling_names) == _ACME_ISSUER_SPELLING_MAX, "spelling_names");

#define BIT(s) (1u << (s))
#define ACCOUNT_STATUSES (BIT(ACME_STATUS_VALID) | BIT(ACME_STATUS_DEACTIVATED) | \
			  BIT(ACME_STATUS_REVOKED))
#define ORDER_STATUSES (BIT(ACME_STATUS_PENDING) | BIT(ACME_STATUS_READY) | \
			BIT(ACME_STATUS_PROCESSING) | BIT(ACME_STATUS_VALID) |    \
			BIT(ACME_STATUS_INVALID))
#define AUTHZ_STATUSES (BIT(ACME_STATUS_PENDING) | BIT(ACME_STATUS_VALID) |           \
			BIT(ACME_STATUS_INVALID) | BIT(ACME_STATUS_DEACTIVATED) |     \
			BIT(ACME_STATUS_EXPIRED) | BIT(ACME_STATUS_REVOKED))
#define CHALLENGE_STATUSES (BIT(ACME_STATUS_PENDING) | BIT(ACME_STATUS_PROCESSING) | \
			    BIT(ACME_STATUS_VALID) | BIT(ACME_STATUS_INVALID))

const char *acme_status_to_string(enum acme_status s)
{
	if ((unsigned)s >= _ACME_STATUS_MAX)
		return NULL;
	return status_names[s];
}

int acme_status_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(status_names); i++)
		if (streq(s, status_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *acme_issuer_spelling_to_string(enum acme_issuer_spelling s)
{
	if ((unsigned)s >= _ACME_ISSUER_SPELLING_MAX)
		return NULL;
	return spelling_names[s];
}

static int get_status(yajl_val obj, const char *what, unsigned allowed, enum acme_status *ret,
		      char *err, size_t err_size)
{
	const char *s;
	int st;

	s = json_get_string(obj, "status");
	if (!s) {
		if (json_get(obj, "status"))
			return msg_field_fail(-EINVAL, err, err_size,
					      "%s: 'status' is not a string", what);
		return msg_field_fail(-EINVAL, err, err_size, "%s: 'status' missing", what);
	}
	st = acme_status_from_string(s);
	if (st < 0 || !(allowed & BIT(st))) {
		char esc[80];

		str_escape_line(esc, sizeof(esc), s, strlen(s), 40);
		return msg_field_fail(-EINVAL, err, err_size, "%s: status '%s' is not valid here",
				      what, esc);
	}
	*ret = (enum acme_status)st;
	return 0;
}

/* ---- account ------------------------------------------------------------------------- */

void acme_account_done(struct acme_account *a)
{
	if (!a)
		return;
	msg_field_strv_free(a->contact, a->n_contact);
	free(a->orders);
	*a = (struct acme_account){ 0 };
}

int acme_account_parse(yajl_val v, struct acme_account *ret, char *err, size_t err_size)
{
	_cleanup_(acme_account_done) struct acme_account a = { 0 };
	int r;

	r = msg_field_need_object(v, "account", err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "account", ACCOUNT_STATUSES, &a.status, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string_array(v, "account", "contact", false, ACME_MAX_CONTACTS,
				       ACME_MAX_URL_BYTES, &a.contact, &a.n_contact, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(v, "account", "orders", false, &a.orders, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_bool(v, "account", "termsOfServiceAgreed", &a.terms_of_service_agreed,
			       err, err_size);
	if (r < 0)
		return r;
	*ret = a;
	a = (struct acme_account){ 0 };
	return 0;
}

/* ---- orders list ---------------------------------------------------------------------- */

void acme_orders_list_done(struct acme_orders_list *l)
{
	if (!l)
		return;
	msg_field_strv_free(l->orders, l->n_orders);
	*l = (struct acme_orders_list){ 0 };
}

int acme_orders_list_parse(yajl_val v, struct acme_orders_list *ret, char *err,
			   size_t err_size)
{
	struct acme_orders_list l = { 0 };
	int r;

	r = msg_field_need_object(v, "orders list", err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string_array(v, "orders list", "orders", true, ACME_MAX_ORDERS_PAGE,
			     ACME_MAX_URL_BYTES, &l.orders, &l.n_orders, err, err_size);
	if (r < 0)
		return r;
	*ret = l;
	return 0;
}

/* ---- order --------------------------------------------------------------------------- */

bool acme_order_has_names(const struct acme_order *o, const char *const *names, size_t n)
{
	/* Every identifier is one of the names and every name one of the identifiers:
	 * duplicates on either side do not matter, as they do not to the CA. */
	for (size_t i = 0; i < o->n_identifiers; i++) {
		bool found = false;

		if (!o->identifiers[i].type || strcasecmp(o->identifiers[i].type, "dns") != 0)
			return false;
		for (size_t k = 0; k < n && !found; k++)
			found = strcasecmp(o->identifiers[i].value, names[k]) == 0;
		if (!found)
			return false;
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;

		for (size_t i = 0; i < o->n_identifiers && !found; i++)
			found = strcasecmp(o->identifiers[i].value, names[k]) == 0;
		if (!found)
			return false;
	}
	return n > 0;
}


void acme_order_done(struct acme_order *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_identifiers; i++)
		msg_problem_identifier_done(&o->identifiers[i]);
	free(o->identifiers);
	msg_field_strv_free(o->authorizations, o->n_authorizations);
	free(o->finalize);
	free(o->certificate);
	free(o->profile);
	free(o->replaces);
	acme_problem_free(o->error);
	*o = (struct acme_order){ 0 };
}

int acme_order_parse(yajl_val v, struct acme_order *ret, char *err, size_t err_size)
{
	_cleanup_(acme_order_done) struct acme_order o = { 0 };
	yajl_val ids;
	int r;

	r = msg_field_need_object(v, "order", err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "order", ORDER_STATUSES, &o.status, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_time(v, "order", "expires", false, &o.expires, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_time(v, "order", "notBefore", false, &o.not_before, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_time(v, "order", "notAfter", false, &o.not_after, err, err_size);
	if (r < 0)
		return r;
	ids = json_get(v, "identifiers");
	if (!ids || !YAJL_IS_ARRAY(ids))
		return msg_field_fail(-EINVAL, err, err_size, "order: 'identifiers' %s",
				      ids ? "is not an array" : "missing");
	if (ids->u.array.len == 0)
		return msg_field_fail(-EINVAL, err, err_size, "order: 'identifiers' is empty");
	if (ids->u.array.len > ACME_MAX_IDENTIFIERS)
		return msg_field_fail(-E2BIG, err, err_size, "order: more than %d identifiers",
				      ACME_MAX_IDENTIFIERS);
	o.identifiers = calloc(ids->u.array.len, sizeof(*o.identifiers));
	if (!o.identifiers)
		return -ENOMEM;
	for (size_t i = 0; i < ids->u.array.len; i++) {
		char what[40];

		snprintf(what, sizeof(what), "order: identifier %zu", i);
		r = msg_problem_identifier_parse(ids->u.array.values[i], what, true,
						 &o.identifiers[i], err, err_size);
		if (r < 0)
			return r;
		o.n_identifiers++;
	}
	r = msg_field_get_string_array(v, "order", "authorizations", true, ACME_MAX_IDENTIFIERS,
				       ACME_MAX_URL_BYTES, &o.authorizations, &o.n_authorizations,
				       err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(v, "order", "finalize", true, &o.finalize, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(v, "order", "certificate", false, &o.certificate, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string(v, "order", "profile", false, DNS_NAME_MAX_BYTES, &o.profile, err,
				 err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string(v, "order", "replaces", false, ACME_MAX_URL_BYTES, &o.replaces,
				 err, err_size);
	if (r < 0)
		return r;
	r = msg_problem_get(v, "order", &o.error, err, err_size);
	if (r < 0)
		return r;
	*ret = o;
	o = (struct acme_order){ 0 };
	return 0;
}

/* ---- challenge ----------------------------------------------------------------------- */

void acme_challenge_done(struct acme_challenge *c)
{
	if (!c)
		return;
	free(c->type);
	free(c->url);
	free(c->token);
	msg_field_strv_free(c->issuer_domain_names, c->n_issuer_domain_names);
	free(c->accounturi);
	acme_problem_free(c->error);
	*c = (struct acme_challenge){ 0 };
}

int acme_challenge_parse(yajl_val v, struct acme_challenge *ret, char *err, size_t err_size)
{
	_cleanup_(acme_challenge_done) struct acme_challenge c = { 0 };
	yajl_val camel, dashed;
	int r;

	r = msg_field_need_object(v, "challenge", err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string(v, "challenge", "type", true, DNS_NAME_MAX_BYTES, &c.type, err,
				 err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(v, "challenge", "url", true, &c.url, err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "challenge", CHALLENGE_STATUSES, &c.status, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string(v, "challenge", "token", false, ACME_MAX_URL_BYTES, &c.token, err,
				 err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(v, "challenge", "accounturi", false, &c.accounturi, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_time(v, "challenge", "validated", false, &c.validated, err, err_size);
	if (r < 0)
		return r;
	r = msg_problem_get(v, "challenge", &c.error, err, err_size);
	if (r < 0)
		return r;

	camel = json_get(v, "issuerDomainNames");
	dashed = json_get(v, "issuer-domain-names");
	if (camel && !YAJL_IS_NULL(camel)) {
		c.issuer_spelling = ACME_ISSUERS_CAMEL;
		r = msg_field_issuer_list(camel, "challenge", "issuerDomainNames",
					  &c.issuer_domain_names, &c.n_issuer_domain_names, err,
					  err_size);
	} else if (dashed && !YAJL_IS_NULL(dashed)) {
		c.issuer_spelling = ACME_ISSUERS_DASHED;
		r = msg_field_issuer_list(dashed, "challenge", "issuer-domain-names",
					  &c.issuer_domain_names, &c.n_issuer_domain_names, err,
					  err_size);
	} else if (streq(c.type, "dns-persist-01")) {
		r = msg_field_fail(-EINVAL, err, err_size,
				   "challenge: dns-persist-01 without 'issuerDomainNames' or "
				   "'issuer-domain-names'");
	}
	if (r < 0)
		return r;
	*ret = c;
	c = (struct acme_challenge){ 0 };
	return 0;
}

/* ---- authorization --------------------------------------------------------------------- */

void acme_authz_done(struct acme_authz *a)
{
	if (!a)
		return;
	msg_problem_identifier_done(&a->identifier);
	for (size_t i = 0; i < a->n_challenges; i++)
		acme_challenge_done(&a->challenges[i]);
	free(a->challenges);
	*a = (struct acme_authz){ 0 };
}

const struct acme_challenge *acme_authz_get_challenge(const struct acme_authz *a,
						      const char *type)
{
	for (size_t i = 0; a && type && i < a->n_challenges; i++)
		if (streq(a->challenges[i].type, type))
			return &a->challenges[i];
	return NULL;
}

int acme_authz_parse(yajl_val v, struct acme_authz *ret, char *err, size_t err_size)
{
	_cleanup_(acme_authz_done) struct acme_authz a = { 0 };
	yajl_val chs;
	int r;

	r = msg_field_need_object(v, "authorization", err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "authorization", AUTHZ_STATUSES, &a.status, err, err_size);
	if (r < 0)
		return r;
	r = msg_problem_identifier_parse(json_get(v, "identifier"), "authorization", true,
					 &a.identifier, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_bool(v, "authorization", "wildcard", &a.wildcard, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_time(v, "authorization", "expires", false, &a.expires, err, err_size);
	if (r < 0)
		return r;
	chs = json_get(v, "challenges");
	if (!chs || !YAJL_IS_ARRAY(chs))
		return msg_field_fail(-EINVAL, err, err_size, "authorization: 'challenges' %s",
				      chs ? "is not an array" : "missing");
	if (chs->u.array.len > ACME_MAX_CHALLENGES)
		return msg_field_fail(-E2BIG, err, err_size,
				      "authorization: more than %d challenges",
				      ACME_MAX_CHALLENGES);
	if (chs->u.array.len) {
		a.challenges = calloc(chs->u.array.len, sizeof(*a.challenges));
		if (!a.challenges)
			return -ENOMEM;
	}
	for (size_t i = 0; i < chs->u.array.len; i++) {
		yajl_val cv = chs->u.array.values[i];

		r = acme_challenge_parse(cv, &a.challenges[i], err, err_size);
		if (r < 0) {
			const char *type = json_get_string(cv, "type");
			char esc[48];

			str_escape_line(esc, sizeof(esc), type ? type : "?",
					type ? strlen(type) : 1, 32);
			return msg_field_wrap(r, err, err_size,
					      "authorization: challenge %zu ('%s')", i, esc);
		}
		a.n_challenges++;
	}
	*ret = a;
	a = (struct acme_authz){ 0 };
	return 0;
}

/* ---- renewal information ----------------------------------------------------------------- */

void acme_renewal_info_done(struct acme_renewal_info *r)
{
	if (!r)
		return;
	free(r->explanation_url);
	*r = (struct acme_renewal_info){ 0 };
}

int acme_renewal_info_parse(yajl_val v, struct acme_renewal_info *ret, char *err,
			    size_t err_size)
{
	_cleanup_(acme_renewal_info_done) struct acme_renewal_info ri = { 0 };
	yajl_val w;
	int r;

	r = msg_field_need_object(v, "renewalInfo", err, err_size);
	if (r < 0)
		return r;
	w = json_get(v, "suggestedWindow");
	if (!w || !YAJL_IS_OBJECT(w))
		return msg_field_fail(-EINVAL, err, err_size, "renewalInfo: 'suggestedWindow' %s",
				      w ? "is not an object" : "missing");
	r = msg_field_get_time(w, "renewalInfo: suggestedWindow", "start", true, &ri.window_start,
			       err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_time(w, "renewalInfo: suggestedWindow", "end", true, &ri.window_end, err,
			       err_size);
	if (r < 0)
		return r;
	if (ri.window_end <= ri.window_start)
		return msg_field_fail(-EINVAL, err, err_size,
				      "renewalInfo: suggestedWindow ends before it starts");
	r = msg_field_get_url(v, "renewalInfo", "explanationURL", false, &ri.explanation_url, err,
			      err_size);
	if (r < 0)
		return r;
	*ret = ri;
	ri = (struct acme_renewal_info){ 0 };
	return 0;
}
