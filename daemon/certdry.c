#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/ca.h"
#include "daemon/certbase.h"
#include "daemon/certdry.h"
#include "daemon/certdue.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/precheck.h"
#include "daemon/renewal.h"

struct dry_step {
	const char *step;         /* static */
	bool ok;
	char *message;            /* owned */
};

struct certdry {
	struct cert *c;           /* borrowed: the cert ends us before it goes */
	struct ca *ca;            /* borrowed, as the cert's */
	struct dry_step steps[8];
	size_t n_steps;
	bool waiting_ca;          /* a ca_prepare() callback will come */
	struct precheck *pre;     /* in flight, or NULL */
	struct renewal *rn;       /* in flight, or NULL */
	bool record_checked;      /* the record step is done (by us, before the order) */
	bool saw_challenge;
	char *order_url;          /* owned or NULL */
	char *records;            /* owned: the records to publish, or NULL */
	certdry_fn cb;
	void *userdata;
};

_printf_(4, 5) static void add_step(struct certdry *dr, const char *step, bool ok,
				    const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (dr->n_steps == ELEMENTSOF(dr->steps))
		return;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	dr->steps[dr->n_steps++] = (struct dry_step){ step, ok, m };
}

static void dry_free(struct certdry *dr)
{
	for (size_t i = 0; i < dr->n_steps; i++)
		free(dr->steps[i].message);
	free(dr->order_url);
	free(dr->records);
	free(dr);
}

/* Answers the caller and ends the run. */
static void finish(struct certdry *dr)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out = NULL;
	size_t len = 0;
	bool ok = dr->n_steps > 0;

	for (size_t i = 0; i < dr->n_steps; i++)
		ok = ok && dr->steps[i].ok;
	dr->c->dry = NULL;
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "cert", dr->c->cfg->name);
		json_kv_bool(w, "dry_run", true);
		json_kv_bool(w, "ok", ok);
		json_key(w, "steps");
		json_begin_array(w);
		for (size_t i = 0; i < dr->n_steps; i++) {
			json_begin_object(w);
			json_kv_string(w, "step", dr->steps[i].step);
			json_kv_bool(w, "ok", dr->steps[i].ok);
			json_kv_string(w, "message", dr->steps[i].message ? dr->steps[i].message
									  : "(out of memory)");
			json_end_object(w);
		}
		json_end_array(w);
		json_kv_string(w, "order", dr->order_url);
		json_kv_string(w, "records_to_publish", dr->records);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) < 0)
			out = NULL;
	}
	log_info("cert '%s': dry run %s", dr->c->cfg->name, ok ? "succeeded" : "failed");
	dr->cb(out ? ok : false, out, out ? len : 0, dr->userdata);
	dry_free(dr);
}

static void on_order_url(struct renewal *rn, const char *url, void *userdata)
{
	struct certdry *dr = userdata;
	struct state_cert *st = cert_state(dr->c);

	(void)rn;
	if (!url || dr->order_url)
		return;
	dr->order_url = strdup(url);
	/* It is an order at the CA like any other: the breaker counts it. */
	if (st) {
		certdue_record_order(st, daemon_now(dr->c->d));
		daemon_state_cert_changed(dr->c->d, st);
	}
	add_step(dr, "order", true, "new order %s", url);
}

static void on_challenge(struct renewal *rn, const struct acme_challenge *ch, void *userdata)
{
	struct certdry *dr = userdata;
	_cleanup_free_ char *names = NULL;

	(void)rn;
	if (!ch || dr->saw_challenge)
		return;
	dr->saw_challenge = true;
	for (size_t i = 0; i < ch->n_issuer_domain_names; i++) {
		char *n;
		if (asprintf(&n, "%s%s%s", names ? names : "", names ? ", " : "",
			     ch->issuer_domain_names[i]) < 0)
			break;
		free(names);
		names = n;
	}
	if (streq(ch->type, "dns-01"))
		add_step(dr, "challenge", true, "dns-01 offered; the hook publishes the TXT record "
						"and removes it after");
	else
		add_step(dr, "challenge", true, "%s offered; issuer names: %s", ch->type,
			 names ? names : "(none)");
}

static void on_renewal_done(struct renewal *rn, const struct order_result *res, void *userdata)
{
	struct certdry *dr = userdata;
	bool persist = dr->c->cfg->challenge == CHALLENGE_DNS_PERSIST_01;

	(void)rn;
	dr->rn = NULL;
	if (res->records && !dr->records)
		dr->records = strdup(res->records);
	if (!dr->order_url && res->error < 0) {
		add_step(dr, "order", false, "%s", res->message);
		finish(dr);
		return;
	}
	/* A CA may reuse an authorization it validated before: nothing to answer, and for
	 * dns-01 no hook runs. */
	if (!dr->saw_challenge && res->error == 0)
		add_step(dr, "challenge", true, "no pending authorization: every one was valid "
						"already");
	if (res->refused) {
		add_step(dr, "record", false, "%s", res->message);
	} else if (res->error < 0) {
		add_step(dr, "validation", false, "%s", res->message);
	} else {
		if (persist && !dr->record_checked)
			add_step(dr, "record", true, "checked read-only before each challenge was "
						     "answered");
		add_step(dr, "validation", true, "%s", res->message);
	}
	finish(dr);
}

static void start_order(struct certdry *dr)
{
	struct state_cert *st = cert_state(dr->c);
	int64_t now = daemon_now(dr->c->d);
	struct renewal_params p = {
		.ca = dr->ca,
		.cert = dr->c->cfg,
		.new_order_held = st && certdue_orders_allowed_at(dr->c, st, now) > now,
		.dry_run = true,
		.on_order_url = on_order_url,
		.on_challenge = on_challenge,
		.done = on_renewal_done,
		.userdata = dr,
	};
	if (st && st->ca_retry_until > now) {
		char when[40];
		time_format_iso(st->ca_retry_until, when, sizeof(when));
		add_step(dr, "order", false, "the CA asked us to wait (Retry-After) until %s; no "
					     "order placed", when);
		finish(dr);
		return;
	}
	int r = renewal_start(dr->c->d, &p, &dr->rn);
	if (r < 0) {
		add_step(dr, "order", false, "cannot start the order: %s", strerror(-r));
		finish(dr);
	}
}

static void on_precheck(const struct precheck_result *res, void *userdata)
{
	struct certdry *dr = userdata;

	dr->pre = NULL;
	dr->record_checked = true;
	if (!res->passed) {
		if (res->records)
			dr->records = strdup(res->records);
		add_step(dr, "record", false, "%s%s%s", res->message,
			 res->records ? "\nPublish (once):\n" : "", res->records ? res->records : "");
		finish(dr);
		return;
	}
	add_step(dr, "record", true, "%s (checked read-only as the CA will)", res->message);
	start_order(dr);
}

static void on_ca_ready(struct ca *ca, int r, void *userdata)
{
	struct certdry *dr = userdata;
	const struct acme_directory *dir = ca_get_directory(ca);

	dr->waiting_ca = false;
	if (r < 0 && !dir) {
		add_step(dr, "directory", false, "%s", ca_last_error(ca));
		finish(dr);
		return;
	}
	add_step(dr, "directory", true, "%s", ca_get_config(ca)->directory);
	if (r < 0) {
		add_step(dr, "account", false, "%s", ca_last_error(ca));
		finish(dr);
		return;
	}
	add_step(dr, "account", true, "%s", ca_get_account_url(ca));
	r = precheck_start(dr->c->d, ca, dr->c->cfg, on_precheck, dr, &dr->pre);
	if (r == -ENODATA) {
		start_order(dr); /* the order reveals the issuer names; the engine checks */
		return;
	}
	if (r < 0) {
		add_step(dr, "record", false, "cannot check the records: %s", strerror(-r));
		finish(dr);
	}
}

int certdry_start(struct cert *c, certdry_fn cb, void *userdata)
{
	int r;

	if (c->d->stopping)
		return -ESHUTDOWN;
	if (c->job || c->dry)
		return -EBUSY;
	if (!cert_state(c))
		return -ENOMEM;
	struct certdry *dr = calloc(1, sizeof(*dr));
	if (!dr)
		return -ENOMEM;
	dr->c = c;
	dr->ca = c->ca;
	dr->cb = cb;
	dr->userdata = userdata;
	c->dry = dr;
	dr->waiting_ca = true;
	r = ca_prepare(dr->ca, on_ca_ready, dr);
	if (r < 0) {
		c->dry = NULL;
		dry_free(dr);
		return r;
	}
	return 0;
}

void certdry_cancel(struct cert *c)
{
	struct certdry *dr = c->dry;

	if (!dr)
		return;
	if (dr->waiting_ca)
		ca_cancel_wait(dr->ca, on_ca_ready, dr);
	precheck_cancel(dr->pre);
	renewal_cancel(dr->rn);
	add_step(dr, "cancelled", false, "%s",
		 "the run was stopped: the daemon is stopping or the cert's configuration changed");
	finish(dr);
}
