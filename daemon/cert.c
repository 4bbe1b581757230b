#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"
#include "daemon/alert.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/certbase.h"
#include "daemon/certdeploy.h"
#include "daemon/certdue.h"
#include "daemon/certlevel.h"
#include "daemon/certload.h"
#include "daemon/certrecheck.h"
#include "daemon/certserved.h"
#include "daemon/certdry.h"
#include "daemon/daemon.h"
#include "daemon/fleetrenew.h"
#include "daemon/log.h"
#include "daemon/renewal.h"

#define RETRY_FIRST_SEC (5 * 60)
#define RETRY_MAX_SEC (6 * 3600)
#define ARI_DEFAULT_RETRY_SEC (6 * 3600)

const char *cert_get_name(const struct cert *c)
{
	return c->cfg->name;
}

const struct config_cert *cert_get_config(const struct cert *c)
{
	return c->cfg;
}

struct cert *daemon_find_cert(const struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_certs; i++)
		if (streq(cert_get_name(d->certs[i]), name))
			return d->certs[i];
	return NULL;
}

struct ca *cert_get_ca(const struct cert *c)
{
	return c->ca;
}

bool cert_is_renewing(const struct cert *c)
{
	return c->job != NULL;
}

/* ---- alerts ---- */

enum level cert_worst_level(const struct cert *c)
{
	const struct state_cert *st = cert_state(c);
	enum level worst = MAX(st ? st->level : LEVEL_OK, certserved_level(c));

	for (size_t i = 0; st && i < st->n_names; i++)
		worst = MAX(worst, st->names[i].level);
	return worst;
}

/* ---- renewal ---- */

static void schedule_renewal(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return;
	int64_t due = certdue_next_renewal(c, now);
	if (st->next_renewal != due) {
		st->next_renewal = due;
		daemon_state_cert_changed(c->d, cert_state(c));
	}
	if (!c->d->oneshot)
		(void)sched_at(c->d->sched, &c->renew_item, due);
}

int cert_check(struct cert *c, cert_done_fn cb, void *userdata)
{
	return certrecheck_start(c, cb, userdata);
}

bool cert_renew_held(const struct cert *c, char *why, size_t size)
{
	struct state_cert *st = cert_state(c);

	return st && certdue_held_until(c, st, daemon_now(c->d), why, size) > 0;
}

bool cert_is_due(const struct cert *c, int64_t now)
{
	const struct state_cert *st = cert_state(c);

	if (!st || !st->has_cert || state_cert_orders(st)->order_url ||
	    state_cert_orders(st)->order_requested_at)
		return true;
	return certdue_next_renewal((struct cert *)c, now) <= now;
}

static void schedule_ari(struct cert *c, int64_t at);
static void decide_due(struct cert *c);

static void on_order_url(struct renewal *job, const char *url, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);

	(void)job;
	struct state_cert_orders *o = st ? state_cert_orders_mut(st) : NULL;
	if (!o)
		return;
	(void)state_set_str(&o->order_url, url);
	o->order_started = url ? daemon_now(c->d) : 0;
	if (url) {
		certdue_record_order(st, daemon_now(c->d));
		o->order_requested_at = 0; /* the URL supersedes the intent */
	}
	/* In flight on disk at once: a crash now must resume this order. */
	(void)daemon_state_save_cert(c->d, cert_state(c));
}

static int on_order_intent(struct renewal *job, bool sent, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);

	(void)job;
	struct state_cert_orders *o = st ? state_cert_orders_mut(st) : NULL;
	if (!o)
		return -ENOMEM;
	o->order_requested_at = sent ? daemon_now(c->d) : 0;
	if (!sent) {
		daemon_state_cert_changed(c->d, st); /* a stale intent only costs one search */
		return 0;
	}
	/* On disk, not just scheduled, before newOrder leaves: a kill after the CA made the
	 * order must send the next start looking for it (order.h). */
	return daemon_state_save_cert(c->d, cert_state(c));
}

static void on_order_done(struct renewal *job, const struct order_result *res, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	(void)job;
	c->job = NULL;
	if (!st)
		return;
	st->last_attempt = now;
	if (res->error == 0) {
		if (st->orders) {
			(void)state_set_str(&st->orders->order_url, NULL);
			(void)state_set_str(&st->orders->order_replaces, NULL);
		}
		(void)state_set_str(&st->last_error, NULL);
		(void)state_set_str(&st->records_hint, NULL);
		st->failures = 0;
		st->retry_at = 0;
		st->ca_retry_until = 0;
		st->cert_rejected = false;
		st->orders_held_until = 0;
		st->last_renewal = now;
		certload_current(c);
		log_notice("cert '%s': renewed: %s", c->cfg->name, res->message);
		char message[400], until[40];
		time_format_iso(st->not_after, until, sizeof(until));
		str_printf(message, sizeof(message), "%s: new certificate installed (version %u), "
						     "valid until %s",
			   c->cfg->name, res->version, until);
		struct alert a = {
			.kind = ALERT_CERT_RENEWED,
			.level = LEVEL_OK,
			.cert = c->cfg->name,
			.status = "RENEWED",
			.has_until = true,
			.until = st->not_after,
			.now = now,
			.message = message,
		};
		certbase_emit(c, &a);
		if (config_cert_opts(c->cfg)->deploy_hook)
			st->deploy_pending = true; /* saved below, before the hook starts */
		schedule_ari(c, now);
	} else if (res->limited) {
		/* The breaker stopped a new order: not an attempt, so no failure to count. */
		char why[200];
		int64_t until = certdue_held_until(c, st, now, why, sizeof(why));
		if (until > now && st->ca_retry_until <= now) /* the breaker, not the CA */
			certdue_note_order_limit(c, st, until, now);
	} else {
		st->failures++;
		(void)state_set_str(&st->last_error, res->message);
		(void)state_set_str(&st->records_hint, res->records);
		int64_t backoff = (int64_t)RETRY_FIRST_SEC << MIN(st->failures - 1, 12u);
		backoff = MIN(backoff, (int64_t)RETRY_MAX_SEC);
		if (res->gated && res->refused) /* no order: the next re-check will tell */
			backoff = (int64_t)(c->d->config->daemon.recheck_interval_ms / 1000);
		if (res->retry_after > backoff)
			backoff = res->retry_after;
		st->retry_at = now + backoff;
		/* The CA's own Retry-After binds even a forced renewal. */
		st->ca_retry_until = res->retry_after > 0 ? now + res->retry_after : 0;
		st->cert_rejected = res->rejected;
		if (res->rejected) {
			/* Each refused certificate is its own alert, even while the level
			 * stays ERROR: it is the CA misbehaving again. */
			st->alerted_level = LEVEL_OK;
			log_error("cert '%s': %s", c->cfg->name, res->message);
		}
		/* A refused or transient attempt leaves the order usable: resume it next
		 * time instead of piling up new orders. Anything else starts afresh. */
		if (!res->transient && !res->refused) {
			if (st->orders)
				(void)state_set_str(&st->orders->order_url, NULL);
			(void)store_pending_key_clear(c->d->store, c->cfg->name);
		}
		char retry[40];
		time_format_iso(st->retry_at, retry, sizeof(retry));
		log_msg(res->gated && certlevel_waiting(st, now) ? LOG_WARNING : LOG_ERR,
			"cert '%s': renewal failed (attempt %u, next try %s): %s", c->cfg->name,
			st->failures, retry, res->message);
	}
	certbase_cert_update_level(c, now);
	schedule_renewal(c);
	(void)daemon_state_save_cert(c->d, cert_state(c));
	if (!res->limited) /* an attempt: the other issuers go by it too */
		fleetrenew_put(c->d->fleet, c->cfg->name, st);

	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "type", "renewal");
		json_kv_string(w, "cert", c->cfg->name);
		json_kv_bool(w, "ok", res->error == 0);
		json_kv_string(w, "message", res->message);
		json_kv_string(w, "records", res->records);
		json_kv_int(w, "time", now);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) == 0)
			daemon_notify_event(c->d, out, len);
	}
	if (res->error == 0)
		certdeploy_installed(c, res->message); /* its callers hear after the deploy */
	else
		certbase_call_renew_waiters(c, res->error, res->message);
	daemon_job_finished(c->d, res->error == 0);
}

static int start_job(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	const struct acme_directory *dir;
	int r;

	if (!st)
		return -ENOMEM;
	dir = ca_get_directory(c->ca);
	int64_t now = daemon_now(c->d);
	struct renewal_params p = {
		/* A saved order may turn out unusable: the breaker then stops its successor. */
		.new_order_held = certdue_orders_allowed_at(c, st, now) > now,
		.ca = c->ca,
		.cert = c->cfg,
		.replaces = st->has_cert && (!dir || dir->renewal_info) ? st->ari_cert_id : NULL,
		.resume_url = state_cert_orders(st)->order_url,
		.on_order_url = on_order_url,
		.find_orphan = state_cert_orders(st)->order_requested_at != 0 &&
			       !state_cert_orders(st)->order_url,
		.on_order_intent = on_order_intent,
		.on_fleet_state = certdue_fleet_hold,
		.done = on_order_done,
		.userdata = c,
	};
	bool resuming = state_cert_orders(st)->order_url != NULL;
	log_info("cert '%s': %s renewal%s", c->cfg->name, resuming ? "resuming" : "starting",
		 resuming ? " of the saved order" : "");
	/* Look at the records once more right before the CA does. */
	(void)cert_check(c, NULL, NULL);
	r = renewal_start(c->d, &p, &c->job);
	if (r < 0)
		return r;
	c->d->jobs_running++;
	return 0;
}

int cert_renew(struct cert *c, bool force, cert_done_fn cb, void *userdata)
{
	int r;

	if (c->d->stopping)
		return -ESHUTDOWN;
	if (!force && !cert_is_due(c, daemon_now(c->d)) && !c->job)
		return 1;
	if (!c->job && cert_renew_held(c, NULL, 0)) {
		struct state_cert *st = cert_state(c);
		int64_t now = daemon_now(c->d);
		char why[200];
		if (st && st->ca_retry_until <= now)
			certdue_note_order_limit(
				c, st, certdue_held_until(c, st, now, why, sizeof(why)), now);
		return -EAGAIN; /* cert_renew_held() says why */
	}
	if (cb && certbase_add_waiter(c, CERT_WAIT_RENEW, cb, userdata, NULL) < 0)
		return -ENOMEM;
	if (c->job)
		return 0; /* joins the renewal in flight */
	c->force_job = force;
	r = start_job(c);
	if (r < 0 && cb)
		certbase_drop_last_waiter(c, CERT_WAIT_RENEW);
	return r;
}

static void on_renew_due(struct sched_item *it)
{
	struct cert *c = container_of(it, struct cert, renew_item);
	int r;

	if (c->job || c->d->stopping)
		return;
	if (cert_renew_held(c, NULL, 0)) {
		/* Not an attempt: the schedule already waits for the hold to end, this
		 * only catches a hold that began after the timer was set. */
		struct state_cert *st = cert_state(c);
		int64_t now = daemon_now(c->d);
		char why[200];
		if (st && st->ca_retry_until <= now)
			certdue_note_order_limit(
				c, st, certdue_held_until(c, st, now, why, sizeof(why)), now);
		schedule_renewal(c);
		return;
	}
	c->force_job = false;
	r = start_job(c);
	if (r < 0) {
		log_error("cert '%s': cannot start a renewal: %s", c->cfg->name, strerror(-r));
		(void)sched_at(c->d->sched, &c->renew_item, daemon_now(c->d) + RETRY_FIRST_SEC);
	}
}

/* ---- ARI (RFC 9773) ---- */

static void on_ari(const struct acme_reply *rep, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);
	int64_t retry = rep->retry_after_sec > 0 ? rep->retry_after_sec : ARI_DEFAULT_RETRY_SEC;
	struct acme_renewal_info ri;
	char err[200];

	c->ari_op = NULL;
	retry = MAX((int64_t)60, MIN(retry, (int64_t)SEC_PER_DAY));
	if (!st)
		return;
	if (rep->error == 0 && rep->status == 200 && rep->json &&
	    acme_renewal_info_parse(rep->json, &ri, err, sizeof(err)) == 0) {
		if (ri.window_start != st->ari_start || ri.window_end != st->ari_end) {
			char a[40], b[40];
			time_format_iso(ri.window_start, a, sizeof(a));
			time_format_iso(ri.window_end, b, sizeof(b));
			log_info("cert '%s': the CA suggests renewing between %s and %s",
				 c->cfg->name, a, b);
			st->ari_start = ri.window_start;
			st->ari_end = ri.window_end;
			st->next_renewal = 0; /* pick a new point inside the new window */
		}
		acme_renewal_info_done(&ri);
		schedule_renewal(c);
	} else {
		char why[300];
		acme_reply_describe(rep, why, sizeof(why));
		log_info("cert '%s': no renewal information from the CA (%s); renewing at 2/3 of the "
			 "lifetime",
			 c->cfg->name, why);
		if (rep->error < 0 || rep->status >= 500)
			retry = MIN(retry, (int64_t)3600);
	}
	st->ari_next_fetch = now + retry;
	daemon_state_cert_changed(c->d, cert_state(c));
	if (!c->d->oneshot)
		(void)sched_at(c->d->sched, &c->ari_item, st->ari_next_fetch);
	decide_due(c);
}

/* cert_renew_if_due() waited for the CA's renewal window: now decide. */
static void decide_due(struct cert *c)
{
	struct cert_waiter w = certbase_take_due_waiter(c);
	int r;

	if (!w.cb)
		return;
	r = cert_renew(c, false, w.cb, w.userdata);
	if (r == 1)
		w.cb(c, 1, "not due", w.userdata);
	else if (r == -EAGAIN) {
		char why[200];
		if (!cert_renew_held(c, why, sizeof(why)))
			str_printf(why, sizeof(why), "%s", strerror(-r));
		w.cb(c, r, why, w.userdata);
	} else if (r < 0)
		w.cb(c, r, strerror(-r), w.userdata);
}

static void fetch_ari(struct cert *c)
{
	const struct acme_directory *dir = ca_get_directory(c->ca);
	struct state_cert *st = cert_state(c);
	_cleanup_free_ char *url = NULL;
	int r;

	if (!st || !st->has_cert || !st->ari_cert_id || !dir || !dir->renewal_info) {
		decide_due(c);
		return;
	}
	if (c->ari_op)
		return;
	if (asprintf(&url, "%s%s%s", dir->renewal_info,
		     dir->renewal_info[strlen(dir->renewal_info) - 1] == '/' ? "" : "/",
		     st->ari_cert_id) < 0)
		return;
	r = acme_conn_get(ca_get_conn(c->ca), url, on_ari, c, &c->ari_op);
	if (r < 0) {
		log_warning("cert '%s': cannot ask for renewal information: %s", c->cfg->name,
			    strerror(-r));
		decide_due(c);
	}
}

static void on_ca_for_ari(struct ca *ca, int r, void *userdata)
{
	struct cert *c = userdata;

	(void)ca;
	c->waiting_ca_for_ari = false;
	if (r == 0)
		fetch_ari(c);
	else if (!c->d->oneshot)
		(void)sched_at(c->d->sched, &c->ari_item, daemon_now(c->d) + 3600);
	else
		decide_due(c); /* the renewal itself will report the CA's trouble */
}

static void on_ari_due(struct sched_item *it)
{
	struct cert *c = container_of(it, struct cert, ari_item);

	if (c->d->stopping)
		return;
	if (ca_get_directory(c->ca))
		fetch_ari(c);
	else if (!c->waiting_ca_for_ari) {
		if (ca_prepare(c->ca, on_ca_for_ari, c) < 0)
			(void)sched_at(c->d->sched, &c->ari_item, daemon_now(c->d) + 3600);
		else
			c->waiting_ca_for_ari = true;
	}
}

static void schedule_ari(struct cert *c, int64_t at)
{
	struct state_cert *st = cert_state(c);

	if (!st || !st->ari_cert_id || c->d->oneshot)
		return;
	(void)sched_at(c->d->sched, &c->ari_item, MAX(at, st->ari_next_fetch));
}

int cert_renew_if_due(struct cert *c, bool force, cert_done_fn cb, void *userdata)
{
	const struct state_cert *st = cert_state(c);
	int r;

	if (force || !st || !st->has_cert || state_cert_orders(st)->order_url ||
	    state_cert_orders(st)->order_requested_at)
		return cert_renew(c, force, cb, userdata);
	/* Ask the CA for its renewal window first (RFC 9773), as the daemon does. */
	r = certbase_set_due_waiter(c, cb, userdata);
	if (r < 0)
		return r;
	if (ca_get_directory(c->ca))
		fetch_ari(c);
	else if (!c->waiting_ca_for_ari) {
		r = ca_prepare(c->ca, on_ca_for_ari, c);
		if (r < 0) {
			(void)certbase_take_due_waiter(c);
			return r;
		}
		c->waiting_ca_for_ari = true;
	}
	return 0;
}

/* ---- life cycle ---- */

static bool name_is_current(const struct cert *c, const struct cert_name *n)
{
	for (size_t k = 0; k < c->n_names; k++)
		if (c->names[k] == n)
			return true;
	return false;
}

/* Frees a staged name list, except the names the cert still uses. */
static void drop_staged(struct cert *c)
{
	struct cert_pending *p = c->pending;

	if (!p)
		return;
	for (size_t i = 0; i < p->n_staged; i++)
		if (!name_is_current(c, p->staged[i]))
			certbase_name_free(p->staged[i]);
	free(p->staged);
	p->staged = NULL;
	p->n_staged = 0;
	p->staged_cfg = NULL;
	certbase_pending_trim(c);
}

int cert_stage_config(struct cert *c, const struct config_cert *cfg)
{
	drop_staged(c);
	struct cert_pending *p = certbase_pending(c);
	if (!p)
		return -ENOMEM;
	struct cert_name **names = calloc(cfg->n_names ? cfg->n_names : 1, sizeof(*names));
	if (!names) {
		certbase_pending_trim(c);
		return -ENOMEM;
	}
	p->staged = names;
	p->staged_cfg = cfg;
	for (size_t i = 0; i < cfg->n_names; i++) {
		struct cert_name *found = NULL;
		for (size_t k = 0; k < c->n_names && !found; k++)
			if (streq(c->names[k]->name, cfg->names[i]))
				found = c->names[k];
		if (!found) {
			found = calloc(1, sizeof(*found));
			if (!found) {
				drop_staged(c);
				return -ENOMEM;
			}
			/* Borrowed: a check in flight copies it (dnscheck), and an orphan's
			 * callback frees it without a look at it. */
			found->name = cfg->names[i];
			found->cert = c;
			certrecheck_init_name(found);
		}
		names[p->n_staged++] = found;
	}
	return 0;
}

void cert_unstage_config(struct cert *c)
{
	drop_staged(c);
}

static void free_names_array(struct cert *c)
{
	if (c->names != &c->one_name)
		free(c->names);
	c->one_name = NULL;
}

/* Switches to the staged names; cannot fail. */
static void commit_names(struct cert *c)
{
	struct cert_pending *p = c->pending;

	for (size_t k = 0; k < c->n_names; k++) {
		struct cert_name *old = c->names[k];
		bool kept = false;
		for (size_t i = 0; i < p->n_staged && !kept; i++)
			kept = p->staged[i] == old;
		if (kept)
			continue;
		/* No longer configured. */
		sched_cancel(c->d->sched, &old->item);
		if (old->in_flight)
			certbase_name_orphan(old);
		else
			certbase_name_free(old);
	}
	free_names_array(c);
	c->names = p->staged;
	c->n_names = p->n_staged;
	if (c->n_names == 1) {
		c->one_name = c->names[0];
		free(c->names);
		c->names = &c->one_name;
	}
	/* Kept names borrowed from the config a reload is about to free. */
	for (size_t i = 0; i < c->n_names; i++)
		c->names[i]->name = p->staged_cfg->names[i];
	p->staged = NULL;
	p->n_staged = 0;
	p->staged_cfg = NULL;
	certbase_pending_trim(c);
	struct state_cert *st = cert_state(c);
	if (st)
		state_cert_retain_names(st, c->cfg->names, c->cfg->n_names);
}

int cert_new(struct daemon *d, const struct config_cert *cfg, struct ca *ca, struct cert **ret)
{
	_cleanup_(cert_freep) struct cert *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->cfg = cfg;
	c->ca = ca;
	sched_item_init(&c->renew_item, on_renew_due);
	sched_item_init(&c->ari_item, on_ari_due);
	r = cert_stage_config(c, cfg);
	if (r < 0)
		return r;
	commit_names(c);
	*ret = TAKE_PTR(c);
	return 0;
}

int cert_set_config(struct cert *c, const struct config_cert *cfg, struct ca *ca)
{
	bool restart = c->job != NULL;
	int r;

	if (!c->pending || c->pending->staged_cfg != cfg) {
		r = cert_stage_config(c, cfg);
		if (r < 0)
			return r;
	}

	/* An order in flight holds the old section, which the reload is about to
	 * free: park it (its URL stays in state) and go on under the new one. */
	certdry_cancel(c);
	if (c->job) {
		renewal_cancel(c->job);
		c->job = NULL;
		c->d->jobs_running--;
	}
	c->cfg = cfg;
	c->ca = ca;
	commit_names(c);
	/* A check waiter whose names in flight were all removed has nothing left
	 * to wait for. */
	if (certbase_n_waiters(c, CERT_WAIT_CHECK))
		certrecheck_done_waiters(c);
	if (restart) {
		r = start_job(c);
		if (r < 0)
			certbase_call_renew_waiters(
				c, r, "the renewal could not be restarted after the reload");
	}
	if (!c->d->stopping && !c->d->oneshot)
		certdeploy_resume(c, "reload");
	return 0;
}

void cert_stop(struct cert *c)
{
	/* Callbacks the CA still owes us must not find a cert that is gone. */
	certrecheck_stop(c);
	certdry_cancel(c);
	if (c->waiting_ca_for_ari) {
		ca_cancel_wait(c->ca, on_ca_for_ari, c);
		c->waiting_ca_for_ari = false;
	}
	sched_cancel(c->d->sched, &c->renew_item);
	sched_cancel(c->d->sched, &c->ari_item);
	if (c->job) {
		/* Parked: the order URL and the pending key are on disk. */
		renewal_cancel(c->job);
		c->job = NULL;
		c->d->jobs_running--;
		log_info("cert '%s': renewal parked; it resumes at the next start", c->cfg->name);
		certbase_call_renew_waiters(c, -ECANCELED,
					    "the renewal was parked (the daemon is stopping or the "
					    "cert changed CA); it resumes at the next start");
	}
	acme_op_cancel(c->ari_op);
	c->ari_op = NULL;
	certdeploy_stop(c);
}

void cert_forget_callback(struct cert *c, void *userdata)
{
	if (!c->pending)
		return;
	for (size_t l = 0; l < _CERT_WAIT_MAX; l++) {
		struct cert_waiters *list = &c->pending->lists[l];
		size_t o = 0;
		for (size_t i = 0; i < list->n; i++) {
			if (list->items[i].userdata != userdata)
				list->items[o++] = list->items[i];
			else
				free(list->items[i].message);
		}
		list->n = o;
		if (o == 0) {
			free(list->items);
			list->items = NULL;
		}
	}
	certbase_pending_trim(c);
}

void cert_free(struct cert *c)
{
	if (!c)
		return;
	if (c->d->sched)
		cert_stop(c);
	drop_staged(c);
	for (size_t i = 0; i < c->n_names; i++) {
		if (c->names[i]->in_flight)
			certbase_name_orphan(c->names[i]);
		else
			certbase_name_free(c->names[i]);
	}
	free_names_array(c);
	c->names = NULL;
	c->n_names = 0;
	certbase_call_renew_waiters(c, -ECANCELED,
				    "the certificate was removed from the configuration");
	/* A records.check waiting on this cert gets its answer, not silence. */
	struct cert_waiters w = certbase_take_waiters(c, CERT_WAIT_CHECK);
	for (size_t i = 0; i < w.n; i++)
		w.items[i].cb(c, -ECANCELED, "the certificate was removed from the configuration",
			      w.items[i].userdata);
	free(w.items);
	certbase_pending_free(c);
	free(c);
}

int cert_schedule(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return -ENOMEM;
	if (c->d->oneshot)
		return 0;
	certdeploy_resume(c, "the daemon stopped while it ran");
	schedule_renewal(c);
	if (st->has_cert && st->ari_cert_id)
		schedule_ari(c, now + certbase_random_between(0, 60));
	if (c->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
		/* First checks spread over a few minutes; later ones where they were. */
		int64_t window = MIN((int64_t)(c->d->config->daemon.recheck_interval_ms / 10000),
				     (int64_t)300);
		for (size_t i = 0; i < c->n_names; i++) {
			struct state_name *sn = certbase_name_state(c->names[i]);
			int64_t at = now + certbase_random_between(0, window);
			if (sn && sn->next_check > now && sn->checked)
				at = sn->next_check;
			certrecheck_schedule(c->names[i], at);
		}
	}
	cert_reevaluate(c);
	return 0;
}

int cert_start(struct cert *c)
{
	int r = cert_load(c, NULL);

	return r < 0 ? r : cert_schedule(c);
}
