#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck.h"
#include "common/json.h"
#include "common/record.h"
#include "common/strutil.h"
#include "daemon/ca.h"
#include "daemon/certrecheck.h"
#include "daemon/daemon.h"
#include "daemon/fleet.h"
#include "daemon/fleetcheck.h"
#include "daemon/log.h"

#define DNS_RETRY_FIRST_SEC (5 * 60)

void certrecheck_done_waiters(struct cert *c)
{
	for (size_t i = 0; i < c->n_names; i++)
		if (c->names[i]->in_flight || c->names[i]->waiting_ca)
			return;
	struct cert_waiters w = certbase_take_waiters(c, CERT_WAIT_CHECK);
	for (size_t i = 0; i < w.n; i++)
		w.items[i].cb(c, 0, "checked", w.items[i].userdata);
	free(w.items);
}

void certrecheck_schedule(struct cert_name *n, int64_t at)
{
	struct state_name *sn = certbase_name_state(n);

	if (sn && sn->next_check != at) {
		sn->next_check = at;
		daemon_state_cert_changed(n->cert->d, cert_state(n->cert));
	}
	(void)sched_at(n->cert->d->sched, &n->item, at);
}

static int64_t next_check_after(const struct cert *c, const struct state_name *sn, int64_t now)
{
	uint64_t interval = c->d->config->daemon.recheck_interval_ms / 1000;

	if (sn->dns_error) {
		/* Transient: sooner, doubling, but never later than the normal interval. */
		uint64_t back = (uint64_t)DNS_RETRY_FIRST_SEC << MIN(sn->dns_failures, 10u);
		interval = MIN(interval, back);
	}
	/* +-10% so that names checked together drift apart. */
	int64_t spread = (int64_t)(interval / 10);
	return now + (int64_t)interval + certbase_random_between(-spread, spread);
}

/* A new cert waiting for its records (a renewal was held back for them, see
 * daemon/renewal) goes on as soon as a re-check finds every one valid, rather than at
 * its next retry. */
static void resume_if_records_valid(struct cert *c, int64_t now)
{
	struct state_cert *st = cert_state(c);

	if (!st || st->has_cert || !st->records_hint || c->job || c->d->oneshot)
		return;
	for (size_t i = 0; i < c->n_names; i++) {
		const struct state_name *sn = certbase_name_state(c->names[i]);
		if (!sn || !sn->checked || sn->dns_error || !sn->status ||
		    !streq(sn->status, "VALID") || sn->caa)
			return;
	}
	log_info("cert '%s': every record is valid now; ordering", c->cfg->name);
	st->retry_at = 0;
	(void)sched_at(c->d->sched, &c->renew_item, now);
}

/* Fleet mode: this host's result (and alert state) for the others, and, on an issuer, the
 * account facts that let followers check too. */
static void share_result(struct cert *c, const struct cert_name *n, const struct state_name *sn)
{
	struct fleetcheck *fc = c->d->fleet ? fleet_get_checks(c->d->fleet) : NULL;

	if (!fc)
		return;
	struct fleet_check k = {
		.name = (char *)n->name,
		.cert = (char *)c->cfg->name,
		.status = (char *)sn->status,
		.reason = (char *)sn->reason,
		.dnssec = (char *)sn->dnssec,
		.checked_at = sn->checked_at,
		.level = (char *)level_to_string(sn->level),
		.alerted_level = (char *)level_to_string(sn->alerted_level),
		.alerted_at = sn->alerted_at,
	};
	fleetcheck_put(fc, &k);
	if (fleet_is_follower(c->d->fleet) || !ca_get_account_url(c->ca))
		return;
	struct acme_account_view view;
	size_t n_issuers;
	const char *const *issuers = ca_get_issuers(c->ca, &n_issuers);
	char list[2000] = "";
	size_t used = 0;
	ca_get_account_view(c->ca, &view);
	for (size_t i = 0; i < n_issuers && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? "\n" : "",
					 issuers[i]);
	if (n_issuers == 0 || used >= sizeof(list))
		return;
	struct fleet_facts f = {
		.ca = (char *)ca_get_name(c->ca),
		.directory = (char *)ca_get_config(c->ca)->directory,
		.account_url = (char *)ca_get_account_url(c->ca),
		.uri_mode = (char *)record_uri_mode_to_string(view.uri_mode),
		.hash_prefix = (char *)view.hash_prefix,
		.issuers = list,
	};
	fleetcheck_put_facts(fc, &f);
}

static void on_name_checked(const struct dnscheck_result *res, void *userdata)
{
	struct cert_name *n = userdata;
	struct cert *c = n->cert;

	n->in_flight = false;
	if (!c) {
		certbase_name_free(n);
		return;
	}
	/* Taken back here and freed when this returns: whatever this callback starts (a
	 * new check of the same name) gets a request of its own. */
	_cleanup_(certbase_name_request_freep) _unused_ struct cert_name_request *done =
		TAKE_PTR(n->request);
	struct state_name *sn = certbase_name_state(n);
	int64_t now = daemon_now(c->d);
	if (!sn)
		return;
	sn->checked = true;
	sn->checked_at = now;
	sn->wildcard_needed = res->wildcard;
	(void)state_set_shared(&sn->dnssec, dnscheck_dnssec_to_string(res->dnssec));
	if (res->error != DNSCHECK_OK && res->error != DNSCHECK_ERR_BOGUS) {
		sn->dns_error = true;
		sn->dns_failures++;
		(void)state_set_shared(&sn->status, "DNS_ERROR");
		char reason[400];
		str_printf(reason, sizeof(reason), "%s: %s", dnscheck_error_to_string(res->error),
			   res->error_reason);
		(void)state_set_shared(&sn->reason, reason);
		log_info("cert '%s': %s: DNS_ERROR %s", c->cfg->name, res->owner, reason);
	} else {
		sn->dns_error = false;
		sn->dns_failures = 0;
		if (res->error == DNSCHECK_ERR_BOGUS) {
			/* A bogus answer is never VALID: what it says cannot be trusted. */
			(void)state_set_shared(&sn->status, "BOGUS");
			char reason[400];
			str_printf(reason, sizeof(reason), "DNSSEC validation failed (bogus): %s",
				   res->error_reason);
			(void)state_set_shared(&sn->reason, reason);
			sn->has_until = false;
		} else {
			(void)state_set_shared(&sn->status,
					       record_status_to_string(res->verdict.status));
			(void)state_set_shared(&sn->reason, res->verdict.reason);
			sn->policy_wildcard = res->verdict.policy_wildcard;
			sn->has_until = res->verdict.has_persist_until;
			sn->persist_until = res->verdict.persist_until;
			if (res->verdict.match >= 0 && (size_t)res->verdict.match < res->n_rrs) {
				char rec[600];
				const struct dnscheck_txt *t = &res->rrs[res->verdict.match];
				str_escape_line(rec, sizeof(rec), t->text, t->len, 500);
				(void)state_set_shared(&sn->record, rec);
			} else {
				(void)state_set_shared(&sn->record, NULL);
			}
		}
		if (res->caa.checked && res->caa.error == DNSCHECK_OK &&
		    !caa_outcome_permits(res->caa.verdict.outcome))
			(void)state_set_shared(&sn->caa, res->caa.verdict.reason);
		else
			(void)state_set_shared(&sn->caa, NULL);
		log_debug("cert '%s': %s: %s", c->cfg->name, res->owner,
			  sn->reason ? sn->reason : "");
	}
	certbase_name_update_level(c, sn, now);
	daemon_state_cert_changed(c->d, cert_state(c));
	certrecheck_schedule(n, next_check_after(c, sn, now));
	resume_if_records_valid(c, now);
	share_result(c, n, sn);

	/* An event for `persistctl watch`. */
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "type", "check");
		json_kv_string(w, "cert", c->cfg->name);
		json_kv_string(w, "fqdn", n->name);
		json_kv_string(w, "status", sn->status);
		json_kv_string(w, "level", level_to_string(sn->level));
		json_kv_string(w, "reason", sn->reason);
		json_kv_int(w, "time", now);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) == 0)
			daemon_notify_event(c->d, out, len);
	}
	certrecheck_done_waiters(c);
}

static int start_name_check(struct cert_name *n);

/* A fleet follower has no account of its own: it checks with the account the issuers
 * stored (ca_adopt_fleet_facts), and until that comes it neither tries nor warns. */
static bool is_fleet_follower(const struct daemon *d)
{
	return d->config->daemon.store_uri && d->config->daemon.follower;
}

static void on_ca_for_check(struct ca *ca, int r, void *userdata)
{
	struct cert *c = userdata;
	int64_t now = daemon_now(c->d);

	(void)ca;
	c->waiting_ca_for_check = false;
	for (size_t i = 0; i < c->n_names; i++) {
		struct cert_name *n = c->names[i];
		if (!n->waiting_ca)
			continue;
		n->waiting_ca = false;
		if (r == 0 && start_name_check(n) == 0)
			continue;
		/* Without the account we cannot say what the record must hold. */
		struct state_name *sn = certbase_name_state(n);
		if (sn) {
			(void)state_set_shared(&sn->level_reason, ca_last_error(c->ca));
			certrecheck_schedule(n, now + DNS_RETRY_FIRST_SEC);
		}
	}
	certrecheck_done_waiters(c);
}

static int start_name_check(struct cert_name *n)
{
	struct cert *c = n->cert;
	size_t n_issuers;
	const char *const *issuers;
	int r;

	if (n->in_flight || n->waiting_ca)
		return 0;
	(void)ca_load_local(c->ca);
	issuers = ca_get_issuers(c->ca, &n_issuers);
	if (is_fleet_follower(c->d) && (!ca_get_account_url(c->ca) || n_issuers == 0))
		return -EAGAIN; /* no account here: the issuers' facts have not come yet */
	if (!ca_get_account_url(c->ca) || n_issuers == 0) {
		/* First run: create or find the account, learn the issuer names. */
		if (!c->waiting_ca_for_check) {
			r = ca_prepare(c->ca, on_ca_for_check, c);
			if (r < 0)
				return r;
			c->waiting_ca_for_check = true;
		}
		n->waiting_ca = true;
		return 0;
	}
	_cleanup_free_ char *base = NULL;
	r = record_base_name(n->name, &base, NULL);
	if (r < 0)
		return r;
	certbase_name_request_free(n->request);
	struct cert_name_request *nr = n->request = calloc(1, sizeof(*n->request));
	if (!nr)
		return -ENOMEM;
	r = ca_expected_account_uri(c->ca, base, NULL, &nr->expected);
	if (r < 0)
		return r;
	nr->issuers = calloc(n_issuers, sizeof(char *));
	if (!nr->issuers)
		return -ENOMEM;
	for (size_t i = 0; i < n_issuers; i++) {
		nr->issuers[i] = strdup(issuers[i]);
		if (!nr->issuers[i])
			return -ENOMEM;
		nr->n_issuers++;
	}
	struct dnscheck_request rq = {
		.name = n->name,
		.issuers = (const char *const *)nr->issuers,
		.n_issuers = nr->n_issuers,
		.account_uri = nr->expected,
		.caa_account_uri = ca_get_account_url(c->ca),
		.now = daemon_now(c->d),
		.caa = true,
	};
	const struct state_name *sn = certbase_name_state(n);
	/* Unsigned last time: the validator proves that, not an RRSIG. */
	rq.unsigned_before = sn && sn->dnssec &&
			     (streq(sn->dnssec, "insecure") || streq(sn->dnssec, "bogus"));
	r = dnscheck_submit(c->d->dns, &rq, on_name_checked, n);
	if (r < 0)
		return r;
	n->in_flight = true;
	return 0;
}

static void on_recheck_due(struct sched_item *it)
{
	struct cert_name *n = container_of(it, struct cert_name, item);
	int r;

	if (n->cert->d->stopping)
		return;
	if (n->cert->d->fleet) {
		struct cert *c = n->cert;
		int64_t now = daemon_now(c->d);
		int64_t interval = (int64_t)(c->d->config->daemon.recheck_interval_ms / 1000);
		struct fleetcheck *fc = fleet_get_checks(c->d->fleet);
		enum fleetcheck_who who = fleetcheck_who(fc, n->name, now, 2 * interval);
		const struct state_name *sn = certbase_name_state(n);
		if (who == FLEETCHECK_UNKNOWN ||
		    (is_fleet_follower(c->d) && !ca_get_account_url(c->ca))) {
			certrecheck_schedule(n, now + FLEETCHECK_POLL_MS / 1000);
			return;
		}
		if (who == FLEETCHECK_THEIRS && sn) {
			certrecheck_schedule(n, next_check_after(c, sn, now));
			return;
		}
	}
	r = start_name_check(n);
	if (r < 0) {
		log_warning("cert '%s': cannot check %s: %s", n->cert->cfg->name, n->name,
			    strerror(-r));
		certrecheck_schedule(n, daemon_now(n->cert->d) + DNS_RETRY_FIRST_SEC);
	}
}

int certrecheck_start(struct cert *c, cert_done_fn cb, void *userdata)
{
	int r, started = 0;

	if (c->cfg->challenge != CHALLENGE_DNS_PERSIST_01 ||
	    (is_fleet_follower(c->d) && !ca_get_account_url(c->ca))) {
		if (cb)
			return -EOPNOTSUPP;
		return 0;
	}
	if (cb && certbase_add_waiter(c, CERT_WAIT_CHECK, cb, userdata, NULL) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_names; i++) {
		r = start_name_check(c->names[i]);
		if (r < 0)
			log_warning("cert '%s': cannot check %s: %s", c->cfg->name,
				    c->names[i]->name, strerror(-r));
		else
			started++;
	}
	if (started == 0 && cb) {
		certbase_drop_last_waiter(c, CERT_WAIT_CHECK);
		return -EIO;
	}
	return 0;
}

void certrecheck_init_name(struct cert_name *n)
{
	sched_item_init(&n->item, on_recheck_due);
}

void certrecheck_stop(struct cert *c)
{
	if (c->waiting_ca_for_check) {
		ca_cancel_wait(c->ca, on_ca_for_check, c);
		c->waiting_ca_for_check = false;
		for (size_t i = 0; i < c->n_names; i++)
			c->names[i]->waiting_ca = false;
	}
	for (size_t i = 0; i < c->n_names; i++)
		sched_cancel(c->d->sched, &c->names[i]->item);
}

/* ---- the fleet's shared checks (daemon/fleetcheck's handlers; userdata: the daemon) ---- */

void certrecheck_on_fleet_result(const struct fleet_check *k, void *userdata)
{
	struct daemon *d = userdata;
	struct cert *c = NULL;

	/* Not the cert module's lookup: that module includes this one. */
	for (size_t i = 0; i < d->n_certs && !c; i++)
		if (streq(d->certs[i]->cfg->name, k->cert))
			c = d->certs[i];
	if (!c || !k->status)
		return;
	for (size_t i = 0; i < c->n_names; i++) {
		struct cert_name *n = c->names[i];
		struct state_name *sn = certbase_name_state(n);
		if (!streq(n->name, k->name) || !sn || n->in_flight ||
		    (sn->checked && sn->checked_at >= k->checked_at))
			continue;
		sn->checked = true;
		sn->checked_at = k->checked_at;
		sn->dns_error = streq(k->status, "DNS_ERROR");
		(void)state_set_shared(&sn->status, k->status);
		(void)state_set_shared(&sn->reason, k->reason);
		(void)state_set_shared(&sn->dnssec, k->dnssec);
		int al = k->alerted_level ? level_from_string(k->alerted_level) : -1;
		if (al >= 0) {
			/* The checking host raised the alert: one per fleet, not per host. */
			sn->alerted_level = (enum level)al;
			sn->alerted_at = k->alerted_at;
		}
		certbase_name_level_quiet(c, sn, daemon_now(d));
		daemon_state_cert_changed(d, cert_state(c));
	}
}

void certrecheck_on_fleet_facts(const struct fleet_facts *f, void *userdata)
{
	struct daemon *d = userdata;
	struct ca *ca = f->ca ? daemon_find_ca(d, f->ca) : NULL;
	char *issuers[16];
	size_t n = 0;

	if (!ca || !f->issuers || !is_fleet_follower(d))
		return;
	_cleanup_free_ char *list = strdup(f->issuers);
	if (!list)
		return;
	for (char *save = NULL, *t = strtok_r(list, "\n", &save); t && n < ELEMENTSOF(issuers);
	     t = strtok_r(NULL, "\n", &save))
		issuers[n++] = t;
	int r = ca_adopt_fleet_facts(ca, f->directory, f->account_url, f->hash_prefix, issuers, n);
	if (r < 0)
		log_warning("fleet: CA '%s': taking the issuers' account facts: %s", f->ca,
			    strerror(-r));
}
