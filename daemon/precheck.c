#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck.h"
#include "common/record.h"
#include "common/strutil.h"
#include "daemon/ca.h"
#include "daemon/daemon.h"
#include "daemon/precheck.h"

struct precheck_name {
	struct precheck *p;       /* borrowed: the check it belongs to */
	char *name;               /* owned */
	char *expected;           /* owned: the accounturi the CA expects */
	bool wildcard;            /* the record must carry policy=wildcard */
};

struct precheck {
	struct precheck_name *names;  /* owned */
	size_t n_names;
	char **issuers;               /* owned copies: dnscheck borrows them */
	size_t n_issuers;
	bool has_persist_until;
	int64_t persist_until;
	size_t pending;               /* lookups whose callback has not come */
	bool cancelled;
	bool passed, dns_error;
	char *message;                /* owned */
	char *records;                /* owned */
	precheck_fn cb;
	void *userdata;
};

static void precheck_free(struct precheck *p)
{
	for (size_t i = 0; i < p->n_names; i++) {
		free(p->names[i].name);
		free(p->names[i].expected);
	}
	free(p->names);
	for (size_t i = 0; i < p->n_issuers; i++)
		free(p->issuers[i]);
	free(p->issuers);
	free(p->message);
	free(p->records);
	free(p);
}

/* Messages only grow; out of memory keeps what was there (a line lost beats the outcome). */
_printf_(2, 3) static void append(char **s, const char *fmt, ...)
{
	_cleanup_free_ char *add = NULL;
	va_list ap;
	char *n;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&add, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if (asprintf(&n, "%s%s%s", *s ? *s : "", *s ? "\n" : "", add) < 0)
		return;
	free(*s);
	*s = n;
}

static void add_record_to_publish(struct precheck *p, const struct precheck_name *pn)
{
	_cleanup_free_ char *owner = NULL, *value = NULL, *line = NULL;
	struct record_spec spec = {
		.issuer = p->issuers[0],
		.account_uri = pn->expected,
		.wildcard = pn->wildcard,
		.has_persist_until = p->has_persist_until,
		.persist_until = p->persist_until,
	};

	if (record_owner_name(pn->name, &owner, NULL) < 0 || record_generate(&spec, &value) < 0 ||
	    record_zone_line(owner, value, strlen(value), 3600, &line) < 0)
		return;
	/* x and *.x share one record: name it once. */
	if (!p->records || !strstr(p->records, line))
		append(&p->records, "%s", line);
}

static void on_checked(const struct dnscheck_result *res, void *userdata)
{
	struct precheck_name *pn = userdata;
	struct precheck *p = pn->p;

	if (!p->cancelled) {
		if (res->error != DNSCHECK_OK && res->error != DNSCHECK_ERR_BOGUS) {
			p->passed = false;
			p->dns_error = true;
			append(&p->message, "%s: DNS_ERROR %s: %s", res->owner,
			       dnscheck_error_to_string(res->error), res->error_reason);
		} else if (res->error == DNSCHECK_ERR_BOGUS) {
			p->passed = false;
			append(&p->message, "%s: DNSSEC validation failed (bogus): %s", res->owner,
			       res->error_reason);
		} else if (res->verdict.status != RECORD_VALID) {
			p->passed = false;
			append(&p->message, "%s is %s: %s", res->owner,
			       record_status_to_string(res->verdict.status), res->verdict.reason);
			add_record_to_publish(p, pn);
		} else if (res->caa.checked && res->caa.error == DNSCHECK_OK &&
			   !caa_outcome_permits(res->caa.verdict.outcome)) {
			p->passed = false;
			append(&p->message, "%s: CAA forbids issuance: %s", res->name,
			       res->caa.verdict.reason);
		}
	}
	if (--p->pending > 0)
		return;
	if (!p->cancelled) {
		struct precheck_result out = {
			.passed = p->passed,
			.dns_error = p->dns_error,
			.message = p->message ? p->message : "every record is valid",
			.records = p->records,
		};
		p->cb(&out, p->userdata);
	}
	precheck_free(p);
}

static bool has_wildcard_for(const struct config_cert *cfg, const char *base)
{
	for (size_t i = 0; i < cfg->n_names; i++)
		if (str_has_prefix(cfg->names[i], "*.") && streq(cfg->names[i] + 2, base))
			return true;
	return false;
}

bool precheck_possible(struct ca *ca)
{
	size_t n = 0;

	(void)ca_load_local(ca);
	/* caaIdentities stand in for unknown issuer names elsewhere; here they would make
	 * us refuse a record the CA accepts, so only certain names count. */
	return ca_get_account_url(ca) && ca_get_issuers(ca, &n) && n > 0 &&
	       (ca_get_config(ca)->n_issuers > 0 || ca_offers_persist(ca) == 1);
}

int precheck_start(struct daemon *d, struct ca *ca, const struct config_cert *cfg, precheck_fn cb,
		   void *userdata, struct precheck **ret)
{
	const char *const *issuers;
	size_t n_issuers = 0;
	int r;

	if (cfg->challenge != CHALLENGE_DNS_PERSIST_01 || cfg->n_names == 0 ||
	    !precheck_possible(ca))
		return -ENODATA;
	issuers = ca_get_issuers(ca, &n_issuers);
	struct precheck *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->userdata = userdata;
	p->passed = true;
	p->has_persist_until = cfg->has_persist_until;
	p->persist_until = cfg->persist_until;
	p->issuers = calloc(n_issuers, sizeof(char *));
	p->names = calloc(cfg->n_names, sizeof(*p->names));
	if (!p->issuers || !p->names)
		goto oom;
	for (; p->n_issuers < n_issuers; p->n_issuers++)
		if (!(p->issuers[p->n_issuers] = strdup(issuers[p->n_issuers])))
			goto oom;
	for (; p->n_names < cfg->n_names; p->n_names++) {
		struct precheck_name *pn = &p->names[p->n_names];
		_cleanup_free_ char *base = NULL;
		bool wild = false;
		pn->p = p;
		if (!(pn->name = strdup(cfg->names[p->n_names])))
			goto oom;
		r = record_base_name(pn->name, &base, &wild);
		if (r == 0)
			r = ca_expected_account_uri(ca, base, NULL, &pn->expected);
		if (r < 0) {
			p->n_names++;
			precheck_free(p);
			return r;
		}
		pn->wildcard = wild || has_wildcard_for(cfg, base);
	}
	/* Each lookup is counted before it is submitted: a callback never sees 0 early,
	 * since callbacks only come from the loop. */
	for (size_t i = 0; i < p->n_names; i++) {
		struct dnscheck_request rq = {
			.name = p->names[i].name,
			.issuers = (const char *const *)p->issuers,
			.n_issuers = p->n_issuers,
			.account_uri = p->names[i].expected,
			.caa_account_uri = ca_get_account_url(ca),
			.now = daemon_now(d),
			.caa = true,
		};
		r = dnscheck_submit(d->dns, &rq, on_checked, &p->names[i]);
		if (r < 0) {
			if (p->pending == 0) {
				precheck_free(p);
				return r;
			}
			/* The ones in flight free it; the caller hears the error now. */
			p->cancelled = true;
			return r;
		}
		p->pending++;
	}
	*ret = p;
	return 0;
oom:
	precheck_free(p);
	return -ENOMEM;
}

void precheck_cancel(struct precheck *p)
{
	if (p)
		p->cancelled = true;
}
