#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/dnscheck.h"
#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"
#include "daemon/alert.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/daemon.h"
#include "daemon/hook.h"
#include "daemon/log.h"
#include "daemon/renewal.h"

#define RETRY_FIRST_SEC (5 * 60)
#define RETRY_MAX_SEC (6 * 3600)
#define DNS_RETRY_FIRST_SEC (5 * 60)
#define UNVERIFIABLE_AFTER 4          /* DNS errors in a row before we say so */
#define REMIND_EVERY_SEC SEC_PER_DAY
#define ARI_DEFAULT_RETRY_SEC (6 * 3600)
#define DEPLOY_HOOK_TIMEOUT_MS (10 * 60 * 1000)

struct cert_waiter {
	cert_done_fn cb;
	void *userdata;
	char *message;            /* owned: the renewal's outcome, while it waits for the deploy */
};

/* Allocated on its own: a check in flight outlives a cert freed by a reload. */
struct cert_name {
	struct cert *cert;        /* borrowed; NULL once the cert is gone */
	char *name;               /* owned */
	struct sched_item item;   /* the next re-check */
	bool in_flight;           /* a dnscheck callback will come */
	bool waiting_ca;          /* waits for the CA's account before it can be checked */
	char *expected;           /* owned: borrowed by dnscheck until its callback */
	char **issuers;           /* owned: the same */
	size_t n_issuers;
};

struct cert {
	struct daemon *d;                 /* borrowed */
	const struct config_cert *cfg;    /* borrowed from d->config */
	char *name;                       /* owned */
	struct ca *ca;                    /* borrowed */
	struct cert_name **names;         /* owned */
	size_t n_names;
	struct sched_item renew_item;
	struct sched_item ari_item;
	struct renewal *job;
	struct acme_op *ari_op;
	struct hook_run *deploy;          /* the one deploy hook run of this cert, or NULL */
	char *deploy_path;                /* owned: its program, for messages after a reload */
	bool deploy_again;                /* a newer certificate came during it: run once more */
	struct cert_waiter *deploy_waiters;  /* renewals answered when this run ends */
	size_t n_deploy_waiters;
	struct cert_waiter *later_waiters;   /* ... when the run after it ends */
	size_t n_later_waiters;
	bool force_job;
	struct cert_waiter *renew_waiters;
	size_t n_renew_waiters;
	struct cert_waiter *check_waiters;
	size_t n_check_waiters;
	struct cert_waiter due_waiter;    /* cert_renew_if_due: waiting for ARI */
	struct state_cert *st;            /* borrowed from d->state: looked up once, since
					   * thousands of certs make each lookup a scan */
	bool waiting_ca_for_check;        /* one ca_prepare() for all names */
	bool waiting_ca_for_ari;
	/* cert_stage_config(): the names under a config a reload may apply */
	const struct config_cert *staged_cfg; /* borrowed from the new config */
	struct cert_name **staged;        /* owned array; its names are owned unless
					   * c->names holds them too */
	size_t n_staged;
};

static uint64_t random_u64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint64_t)uv_hrtime() * 6364136223846793005ULL + 1442695040888963407ULL;
	return v;
}

/* A random instant in [a, b]. */
static int64_t random_between(int64_t a, int64_t b)
{
	if (b <= a)
		return a;
	return a + (int64_t)(random_u64() % (uint64_t)(b - a + 1));
}

const char *cert_get_name(const struct cert *c)
{
	return c->name;
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

struct state_cert *cert_state(const struct cert *c)
{
	struct cert *mc = (struct cert *)c;

	if (!mc->st)
		mc->st = state_get_cert(c->d->state, c->name, true);
	return mc->st;
}

bool cert_is_renewing(const struct cert *c)
{
	return c->job != NULL;
}

static struct state_name *name_state(const struct cert_name *n)
{
	struct state_cert *st = cert_state(n->cert);
	return st ? state_cert_get_name(st, n->name, true) : NULL;
}

/* The name's cert is gone but its check's callback will come (dnscheck
 * promises one per request, CANCELLED at the latest from dnscheck_free()):
 * the callback frees the name. */
static void name_orphan(struct cert_name *n)
{
	n->cert = NULL;
}

static void name_free(struct cert_name *n)
{
	free(n->name);
	free(n->expected);
	for (size_t i = 0; i < n->n_issuers; i++)
		free(n->issuers[i]);
	free(n->issuers);
	free(n);
}

/* ---- alerts ---- */

static void emit(struct cert *c, const struct alert *a)
{
	_cleanup_free_ char *json = NULL;
	size_t len;

	alert_write(a);
	if (alert_to_json(a, &json, &len) == 0)
		daemon_notify_event(c->d, json, len);
}

static enum alert_kind name_kind(enum level l, bool unverifiable)
{
	switch (l) {
	case LEVEL_ERROR:
		return ALERT_RECORD_ERROR;
	case LEVEL_CRITICAL:
		return ALERT_RECORD_CRITICAL;
	case LEVEL_WARNING:
		return unverifiable ? ALERT_RECORD_UNVERIFIABLE : ALERT_RECORD_WARNING;
	default:
		return ALERT_RECORD_OK;
	}
}

/* The level of one name from what we last saw and the clock. */
static enum level name_level(const struct cert *c, const struct state_name *n, int64_t now,
				   char *why, size_t size, bool *ret_unverifiable)
{
	const struct config_daemon *dc = &c->d->config->daemon;
	const struct state_cert *st = cert_state(c);
	_cleanup_free_ char *owner = NULL;
	enum level level = LEVEL_OK;
	char until[40];

	*ret_unverifiable = false;
	(void)record_owner_name(n->name, &owner, NULL);
	str_printf(why, size, "record %s is valid", owner ? owner : n->name);
	if (!n->checked) {
		str_printf(why, size, "not checked yet");
		return LEVEL_OK;
	}
	if (n->dns_error) {
		/* A lookup that failed says nothing about the record: keep what we knew,
		 * and only say "cannot tell" once it has gone on for a while. */
		level = n->level;
		if (n->dns_failures >= UNVERIFIABLE_AFTER && level < LEVEL_WARNING) {
			level = LEVEL_WARNING;
			*ret_unverifiable = true;
			str_printf(why, size,
				   "cannot verify %s: %s (%u checks in a row); the record may be fine",
				   owner ? owner : n->name, n->reason ? n->reason : "DNS error",
				   n->dns_failures);
		} else if (n->level_reason) {
			str_printf(why, size, "%s", n->level_reason);
		}
		if (!n->has_until)
			return level;
	} else if (!n->status || !streq(n->status, "VALID")) {
		str_printf(why, size, "record %s is %s: %s", owner ? owner : n->name,
			   n->status ? n->status : "?", n->reason ? n->reason : "");
		return LEVEL_ERROR;
	} else if (n->caa) {
		str_printf(why, size, "CAA forbids issuance: %s", n->caa);
		return LEVEL_ERROR;
	}
	if (!n->has_until)
		return level;

	time_format_iso(n->persist_until, until, sizeof(until));
	int64_t days = time_days_left(n->persist_until, now);
	switch (time_expiry_level(n->persist_until, now, dc->warn_before_ms,
				  dc->critical_before_ms)) {
	case LEVEL_ERROR:
		str_printf(why, size, "record %s expired: persistUntil %s has passed",
			   owner ? owner : n->name, until);
		return LEVEL_ERROR;
	case LEVEL_CRITICAL:
		str_printf(why, size,
			   "record %s expires in %" PRId64 " days (persistUntil %s): publish a new "
			   "record with a later persistUntil now",
			   owner ? owner : n->name, days, until);
		return MAX(level, LEVEL_CRITICAL);
	case LEVEL_WARNING:
		str_printf(why, size,
			   "record %s expires in %" PRId64 " days (persistUntil %s): publish a new "
			   "record with a later persistUntil before then",
			   owner ? owner : n->name, days, until);
		return MAX(level, LEVEL_WARNING);
	default:
		break;
	}
	/* The record must outlive the next renewal, or that renewal fails. */
	if (st && st->next_renewal > 0 && n->persist_until < st->next_renewal) {
		char next[40];
		time_format_iso(st->next_renewal, next, sizeof(next));
		str_printf(why, size,
			   "record %s stops working (persistUntil %s) before the next renewal (%s): "
			   "publish a new record with a later persistUntil",
			   owner ? owner : n->name, until, next);
		return MAX(level, LEVEL_WARNING);
	}
	return level;
}

static void name_update_level(struct cert *c, struct state_name *n, int64_t now)
{
	char why[512];
	bool unverifiable;
	enum level level = name_level(c, n, now, why, sizeof(why), &unverifiable);
	_cleanup_free_ char *owner = NULL;
	bool changed = level != n->alerted_level;
	bool remind = !changed && level != LEVEL_OK && now - n->alerted_at >= REMIND_EVERY_SEC;

	n->level = level;
	(void)state_set_str(&n->level_reason, why);
	if (!changed && !remind)
		return;
	(void)record_owner_name(n->name, &owner, NULL);
	char message[700];
	if (level == LEVEL_OK)
		str_printf(message, sizeof(message), "%s: %s: OK again (%s)", c->name, n->name, why);
	else
		str_printf(message, sizeof(message), "%s: %s: %s", c->name, n->name, why);
	struct alert a = {
		.kind = name_kind(level, unverifiable),
		.level = level,
		.cert = c->name,
		.fqdn = n->name,
		.owner = owner,
		.status = n->status,
		.has_until = n->has_until,
		.until = n->persist_until,
		.now = now,
		.message = message,
		.reason = n->reason,
		.reminder = remind,
	};
	/* The first check of a healthy name is no news. */
	if (changed || remind)
		if (!(level == LEVEL_OK && n->alerted_at == 0))
			emit(c, &a);
	n->alerted_level = level;
	n->alerted_at = now;
	daemon_state_changed(c->d);
}

static enum level cert_level(const struct cert *c, const struct state_cert *st,
				   int64_t now, char *why, size_t size)
{
	const struct config_daemon *dc = &c->d->config->daemon;
	char date[40];

	if (!st->has_cert) {
		if (st->failures) {
			str_printf(why, size, "no certificate yet: %s",
				   st->last_error ? st->last_error : "renewal failed");
			return LEVEL_ERROR;
		}
		str_printf(why, size, "no certificate yet");
		return LEVEL_OK;
	}
	time_format_iso(st->not_after, date, sizeof(date));
	if (now > st->not_after) {
		str_printf(why, size, "the certificate expired at %s%s%s", date,
			   st->last_error ? ": " : "", st->last_error ? st->last_error : "");
		return LEVEL_ERROR;
	}
	if (st->failures == 0 && st->deploy_failed && c->cfg->deploy_hook) {
		str_printf(why, size, "certificate valid until %s is installed, but its deploy hook "
				      "failed: %s",
			   date, st->last_error ? st->last_error : "");
		return LEVEL_WARNING;
	}
	if (st->failures == 0) {
		str_printf(why, size, "certificate valid until %s", date);
		return LEVEL_OK;
	}
	if (st->cert_rejected) {
		str_printf(why, size, "the CA issued a certificate that was not installed (the one in "
				      "use is valid until %s): %s",
			   date, st->last_error ? st->last_error : "");
		return LEVEL_ERROR;
	}
	int64_t lifetime = st->not_after - st->not_before + 1;
	int64_t left = st->not_after - now;
	/* Failing while little time is left: within critical_before, or the last
	 * sixth of the lifetime for short-lived certificates. */
	if (left <= (int64_t)(dc->critical_before_ms / 1000) || left <= lifetime / 6) {
		str_printf(why, size,
			   "renewal keeps failing (%u attempts) and the certificate expires %s: %s",
			   st->failures, date, st->last_error ? st->last_error : "");
		return LEVEL_CRITICAL;
	}
	str_printf(why, size, "renewal failed (%u attempts; certificate valid until %s): %s",
		   st->failures, date, st->last_error ? st->last_error : "");
	return LEVEL_WARNING;
}

/* True when it wrote an alert. */
static bool cert_update_level(struct cert *c, int64_t now)
{
	struct state_cert *st = cert_state(c);

	if (!st)
		return false;
	/* The reason quotes the last error whole: it may carry every record to publish. */
	size_t why_size = 600 + (st->last_error ? strlen(st->last_error) : 0);
	_cleanup_free_ char *why = malloc(why_size), *message = malloc(why_size + 300);
	if (!why || !message)
		return false;
	enum level level = cert_level(c, st, now, why, why_size);
	bool changed = level != st->alerted_level;
	bool remind = !changed && level != LEVEL_OK && now - st->alerted_at >= REMIND_EVERY_SEC;

	st->level = level;
	(void)state_set_str(&st->level_reason, why);
	if (!changed && !remind)
		return false;
	static const enum alert_kind kinds[] = {
		[LEVEL_OK] = ALERT_CERT_OK,
		[LEVEL_WARNING] = ALERT_CERT_RENEWAL_FAILED,
		[LEVEL_CRITICAL] = ALERT_CERT_EXPIRING,
		[LEVEL_ERROR] = ALERT_CERT_EXPIRED,
	};
	str_printf(message, why_size + 300, "%s: %s", c->name, why);
	bool expired = st->has_cert && now > st->not_after;
	struct alert a = {
		.kind = level == LEVEL_ERROR && !expired && st->cert_rejected ? ALERT_CERT_REJECTED
			: level == LEVEL_ERROR && !expired ? ALERT_CERT_RENEWAL_FAILED
			: level == LEVEL_WARNING && st->failures == 0 && st->deploy_failed
				? ALERT_CERT_DEPLOY_FAILED
				: kinds[level],
		.level = level,
		.cert = c->name,
		.status = st->has_cert ? (now > st->not_after ? "EXPIRED" : "VALID") : "NONE",
		.has_until = st->has_cert,
		.until = st->not_after,
		.now = now,
		.message = message,
		.reason = st->last_error,
		.reminder = remind,
	};
	bool emitted = !(level == LEVEL_OK && st->alerted_at == 0);
	if (emitted)
		emit(c, &a);
	st->alerted_level = level;
	st->alerted_at = now;
	daemon_state_changed(c->d);
	return emitted;
}

enum level cert_worst_level(const struct cert *c)
{
	const struct state_cert *st = cert_state(c);
	enum level worst = LEVEL_OK;

	if (!st)
		return worst;
	worst = st->level;
	for (size_t i = 0; i < st->n_names; i++)
		worst = MAX(worst, st->names[i].level);
	return worst;
}

/* ---- record checks ---- */

static void check_done_waiters(struct cert *c)
{
	for (size_t i = 0; i < c->n_names; i++)
		if (c->names[i]->in_flight || c->names[i]->waiting_ca)
			return;
	struct cert_waiter *w = c->check_waiters;
	size_t n = c->n_check_waiters;
	c->check_waiters = NULL;
	c->n_check_waiters = 0;
	for (size_t i = 0; i < n; i++)
		w[i].cb(c, 0, "checked", w[i].userdata);
	free(w);
}

static void schedule_check(struct cert_name *n, int64_t at)
{
	struct state_name *sn = name_state(n);

	if (sn)
		sn->next_check = at;
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
	return now + (int64_t)interval + random_between(-spread, spread);
}

static void on_name_checked(const struct dnscheck_result *res, void *userdata)
{
	struct cert_name *n = userdata;
	struct cert *c = n->cert;

	n->in_flight = false;
	if (!c) {
		name_free(n);
		return;
	}
	struct state_name *sn = name_state(n);
	int64_t now = daemon_now(c->d);
	if (!sn)
		return;
	sn->checked = true;
	sn->checked_at = now;
	sn->wildcard_needed = res->wildcard;
	(void)state_set_str(&sn->dnssec, dnscheck_dnssec_to_string(res->dnssec));
	if (res->error != DNSCHECK_OK && res->error != DNSCHECK_ERR_BOGUS) {
		sn->dns_error = true;
		sn->dns_failures++;
		(void)state_set_str(&sn->status, "DNS_ERROR");
		char reason[400];
		str_printf(reason, sizeof(reason), "%s: %s", dnscheck_error_to_string(res->error),
			   res->error_reason);
		(void)state_set_str(&sn->reason, reason);
		log_info("cert '%s': %s: DNS_ERROR %s", c->name, res->owner, reason);
	} else {
		sn->dns_error = false;
		sn->dns_failures = 0;
		if (res->error == DNSCHECK_ERR_BOGUS) {
			/* A bogus answer is never VALID: what it says cannot be trusted. */
			(void)state_set_str(&sn->status, "BOGUS");
			char reason[400];
			str_printf(reason, sizeof(reason), "DNSSEC validation failed (bogus): %s",
				   res->error_reason);
			(void)state_set_str(&sn->reason, reason);
			sn->has_until = false;
		} else {
			(void)state_set_str(&sn->status, record_status_to_string(res->verdict.status));
			(void)state_set_str(&sn->reason, res->verdict.reason);
			sn->policy_wildcard = res->verdict.policy_wildcard;
			sn->has_until = res->verdict.has_persist_until;
			sn->persist_until = res->verdict.persist_until;
			if (res->verdict.match >= 0 && (size_t)res->verdict.match < res->n_rrs) {
				char rec[600];
				const struct dnscheck_txt *t = &res->rrs[res->verdict.match];
				str_escape_line(rec, sizeof(rec), t->text, t->len, 500);
				(void)state_set_str(&sn->record, rec);
			} else {
				(void)state_set_str(&sn->record, NULL);
			}
		}
		if (res->caa.checked && res->caa.error == DNSCHECK_OK &&
		    !caa_outcome_permits(res->caa.verdict.outcome))
			(void)state_set_str(&sn->caa, res->caa.verdict.reason);
		else
			(void)state_set_str(&sn->caa, NULL);
		log_debug("cert '%s': %s: %s", c->name, res->owner, sn->reason ? sn->reason : "");
	}
	name_update_level(c, sn, now);
	daemon_state_changed(c->d);
	schedule_check(n, next_check_after(c, sn, now));

	/* An event for `persistctl watch`. */
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "type", "check");
		json_kv_string(w, "cert", c->name);
		json_kv_string(w, "fqdn", n->name);
		json_kv_string(w, "status", sn->status);
		json_kv_string(w, "level", level_to_string(sn->level));
		json_kv_string(w, "reason", sn->reason);
		json_kv_int(w, "time", now);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) == 0)
			daemon_notify_event(c->d, out, len);
	}
	check_done_waiters(c);
}

static int start_name_check(struct cert_name *n);

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
		struct state_name *sn = name_state(n);
		if (sn) {
			(void)state_set_str(&sn->level_reason, ca_last_error(c->ca));
			schedule_check(n, now + DNS_RETRY_FIRST_SEC);
		}
	}
	check_done_waiters(c);
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
	free(n->expected);
	n->expected = NULL;
	r = ca_expected_account_uri(c->ca, base, NULL, &n->expected);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n->n_issuers; i++)
		free(n->issuers[i]);
	free(n->issuers);
	n->n_issuers = 0;
	n->issuers = calloc(n_issuers, sizeof(char *));
	if (!n->issuers)
		return -ENOMEM;
	for (size_t i = 0; i < n_issuers; i++) {
		n->issuers[i] = strdup(issuers[i]);
		if (!n->issuers[i])
			return -ENOMEM;
		n->n_issuers++;
	}
	struct dnscheck_request rq = {
		.name = n->name,
		.issuers = (const char *const *)n->issuers,
		.n_issuers = n->n_issuers,
		.account_uri = n->expected,
		.caa_account_uri = ca_get_account_url(c->ca),
		.now = daemon_now(c->d),
		.caa = true,
	};
	r = dnscheck_submit(c->d->dns, &rq, on_name_checked, n);
	if (r < 0)
		return r;
	n->in_flight = true;
	return 0;
}

static void on_recheck_due(struct sched_item *it, void *userdata)
{
	struct cert_name *n = userdata;
	int r;

	(void)it;
	if (n->cert->d->stopping)
		return;
	r = start_name_check(n);
	if (r < 0) {
		log_warning("cert '%s': cannot check %s: %s", n->cert->name, n->name, strerror(-r));
		schedule_check(n, daemon_now(n->cert->d) + DNS_RETRY_FIRST_SEC);
	}
}

int cert_check(struct cert *c, cert_done_fn cb, void *userdata)
{
	int r, started = 0;

	if (c->cfg->challenge != CHALLENGE_DNS_PERSIST_01) {
		if (cb)
			return -EOPNOTSUPP;
		return 0;
	}
	if (cb) {
		struct cert_waiter *w = realloc(c->check_waiters,
						(c->n_check_waiters + 1) * sizeof(*w));
		if (!w)
			return -ENOMEM;
		c->check_waiters = w;
		w[c->n_check_waiters++] = (struct cert_waiter){ cb, userdata, NULL };
	}
	for (size_t i = 0; i < c->n_names; i++) {
		r = start_name_check(c->names[i]);
		if (r < 0)
			log_warning("cert '%s': cannot check %s: %s", c->name, c->names[i]->name,
				    strerror(-r));
		else
			started++;
	}
	if (started == 0 && cb) {
		c->n_check_waiters--;
		return -EIO;
	}
	return 0;
}

/* ---- renewal ---- */

static void load_current(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	_cleanup_free_ char *pem = NULL;
	struct x509_info info;
	unsigned version = 0;
	size_t len;
	int r;

	if (!st)
		return;
	r = store_cert_load_current(c->d->store, c->name, &pem, &len);
	if (r < 0) {
		if (r != -ENOENT)
			log_warning("cert '%s': cannot read the current certificate: %s", c->name,
				    strerror(-r));
		st->has_cert = false;
		return;
	}
	r = x509_parse_leaf(pem, len, &info);
	if (r < 0) {
		log_warning("cert '%s': the current certificate does not parse: %s", c->name,
			    strerror(-r));
		st->has_cert = false;
		return;
	}
	bool changed = !st->serial || !info.serial_hex || !streq(st->serial, info.serial_hex);
	st->has_cert = true;
	st->not_before = info.not_before;
	st->not_after = info.not_after;
	(void)state_set_str(&st->serial, info.serial_hex);
	(void)state_set_str(&st->issuer_cn, info.issuer_cn);
	if (changed) {
		(void)state_set_str(&st->ari_cert_id, info.ari_cert_id);
		st->ari_start = st->ari_end = 0;
		st->ari_next_fetch = 0;
		st->next_renewal = 0;
	}
	if (store_cert_current_version(c->d->store, c->name, &version) == 0)
		st->version = version;
	x509_info_done(&info);
}

/* ---- the issuance circuit breaker and the CA's Retry-After ---- */

#define ORDER_WINDOW_SEC 3600

static unsigned max_orders(const struct cert *c)
{
	return c->cfg->max_orders_per_hour ? c->cfg->max_orders_per_hour
					   : c->d->config->daemon.max_orders_per_hour;
}

/* When the breaker lets the next new order go: now, or when enough of the orders of the
 * last hour have aged out. Forgets orders older than the window. An order time in the
 * future (our clock went back) counts as now, so a clock jump neither frees nor blocks
 * the breaker for longer than an hour. */
static int64_t orders_allowed_at(const struct cert *c, struct state_cert *st, int64_t now)
{
	unsigned max = max_orders(c);
	size_t o = 0;

	for (size_t i = 0; i < st->n_order_times; i++) {
		int64_t t = MIN(st->order_times[i], now);
		if (t > now - ORDER_WINDOW_SEC)
			st->order_times[o++] = t;
	}
	st->n_order_times = o;
	if (o < max)
		return now;
	return st->order_times[o - max] + ORDER_WINDOW_SEC;
}

static void record_new_order(struct state_cert *st, int64_t now)
{
	if (st->n_order_times == STATE_MAX_ORDER_TIMES) {
		memmove(st->order_times, st->order_times + 1,
			(STATE_MAX_ORDER_TIMES - 1) * sizeof(st->order_times[0]));
		st->n_order_times--;
	}
	int64_t *a = realloc(st->order_times, (st->n_order_times + 1) * sizeof(*a));
	if (!a) {
		/* XXX: out of memory, this order goes uncounted; the newest entry takes
		 * its time so the window at least lasts as long. */
		if (st->n_order_times > 0)
			st->order_times[st->n_order_times - 1] = now;
		return;
	}
	st->order_times = a;
	st->order_times[st->n_order_times++] = now;
}

/* The breaker holds a new order until `until`: said once per hold, as its own alert. */
static void note_order_limit(struct cert *c, struct state_cert *st, int64_t until, int64_t now)
{
	char when[40], message[400];

	if (st->orders_held_until == until)
		return;
	st->orders_held_until = until;
	time_format_iso(until, when, sizeof(when));
	str_printf(message, sizeof(message),
		   "%s: %zu new orders in the last hour reach max_orders_per_hour = %u; no new "
		   "order before %s",
		   c->name, st->n_order_times, max_orders(c), when);
	log_error("cert '%s': issuance paused: %s", c->name, message);
	struct alert a = {
		.kind = ALERT_CERT_ORDER_LIMIT,
		.level = LEVEL_ERROR,
		.cert = c->name,
		.status = "ORDER_LIMIT",
		.has_until = true,
		.until = until,
		.now = now,
		.message = message,
		.reason = st->last_error,
	};
	emit(c, &a);
	daemon_state_changed(c->d);
}

/* Why no attempt may start before the returned instant, even when forced: the CA's
 * Retry-After, or the breaker when a new order would be needed. 0: nothing holds. */
static int64_t held_until(const struct cert *c, struct state_cert *st, int64_t now, char *why,
			  size_t size)
{
	char when[40];

	if (st->ca_retry_until > now) {
		time_format_iso(st->ca_retry_until, when, sizeof(when));
		str_printf(why, size, "the CA asked us to wait (Retry-After): the next try is "
				      "allowed at %s",
			   when);
		return st->ca_retry_until;
	}
	if (!st->order_url && !st->order_requested_at) { /* else: an order to continue */
		int64_t at = orders_allowed_at(c, st, now);
		if (at > now) {
			time_format_iso(at, when, sizeof(when));
			str_printf(why, size, "%zu new orders in the last hour reach "
					      "max_orders_per_hour = %u: the next try is allowed at %s",
				   st->n_order_times, max_orders(c), when);
			return at;
		}
	}
	return 0;
}

bool cert_renew_held(const struct cert *c, char *why, size_t size)
{
	struct state_cert *st = cert_state(c);

	return st && held_until(c, st, daemon_now(c->d), why, size) > 0;
}

static int64_t compute_next_renewal(struct cert *c, int64_t now)
{
	struct state_cert *st = cert_state(c);
	int64_t due;

	if (!st || !st->has_cert || st->order_url || st->order_requested_at)
		due = now; /* nothing to serve yet, or an order in flight to resume or find */
	else if (st->ari_start > 0 && st->ari_end >= st->ari_start) {
		/* RFC 9773 section 4.2: a random time inside the window, chosen once. */
		if (st->next_renewal >= st->ari_start && st->next_renewal <= st->ari_end)
			due = st->next_renewal;
		else if (st->ari_end <= now)
			due = now;
		else
			due = random_between(MAX(st->ari_start, now), st->ari_end);
	} else {
		int64_t lifetime = st->not_after - st->not_before + 1;
		due = st->not_before + lifetime * 2 / 3;
	}
	if (st && st->failures && st->retry_at > due)
		due = st->retry_at;
	if (st) {
		char why[200];
		int64_t held = held_until(c, st, now, why, sizeof(why));
		if (held > due)
			due = held;
	}
	return due;
}

static void schedule_renewal(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return;
	int64_t due = compute_next_renewal(c, now);
	if (st->next_renewal != due) {
		st->next_renewal = due;
		daemon_state_changed(c->d);
	}
	if (!c->d->oneshot)
		(void)sched_at(c->d->sched, &c->renew_item, due);
}

bool cert_is_due(const struct cert *c, int64_t now)
{
	const struct state_cert *st = cert_state(c);

	if (!st || !st->has_cert || st->order_url || st->order_requested_at)
		return true;
	return compute_next_renewal((struct cert *)c, now) <= now;
}

static void call_renew_waiters(struct cert *c, int r, const char *message)
{
	struct cert_waiter *w = c->renew_waiters;
	size_t n = c->n_renew_waiters;

	c->renew_waiters = NULL;
	c->n_renew_waiters = 0;
	for (size_t i = 0; i < n; i++)
		w[i].cb(c, r, message, w[i].userdata);
	free(w);
}

/* ---- the deploy hook: one run per cert at a time ---- */

static void call_waiters(struct cert *c, struct cert_waiter *w, size_t n, int r, const char *message)
{
	for (size_t i = 0; i < n; i++) {
		w[i].cb(c, r, w[i].message && r >= 0 ? w[i].message : message, w[i].userdata);
		free(w[i].message);
	}
	free(w);
}

/* The renewal's callers wait for the deploy of their certificate: the run
 * starting now (later == false) or the one after the run in flight. */
static void park_renew_waiters(struct cert *c, bool later, const char *message)
{
	struct cert_waiter **list = later ? &c->later_waiters : &c->deploy_waiters;
	size_t *n = later ? &c->n_later_waiters : &c->n_deploy_waiters;
	struct cert_waiter *w;

	if (c->n_renew_waiters == 0)
		return;
	w = realloc(*list, (*n + c->n_renew_waiters) * sizeof(*w));
	if (!w) {
		call_renew_waiters(c, 0, message); /* answered without the deploy's outcome */
		return;
	}
	*list = w;
	for (size_t i = 0; i < c->n_renew_waiters; i++) {
		w[*n] = c->renew_waiters[i];
		w[*n].message = message ? strdup(message) : NULL;
		(*n)++;
	}
	free(c->renew_waiters);
	c->renew_waiters = NULL;
	c->n_renew_waiters = 0;
}

static void deploy_failed(struct cert *c, const char *error)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return;
	st->deploy_failed = true;
	(void)state_set_str(&st->last_error, error);
	if (!cert_update_level(c, now)) {
		/* Already WARNING (an earlier deploy failed too): still say it. */
		char message[1600];
		str_printf(message, sizeof(message), "%s: %s", c->name, st->level_reason);
		struct alert a = {
			.kind = ALERT_CERT_DEPLOY_FAILED,
			.level = LEVEL_WARNING,
			.cert = c->name,
			.status = "VALID",
			.has_until = st->has_cert,
			.until = st->not_after,
			.now = now,
			.message = message,
			.reason = st->last_error,
		};
		emit(c, &a);
	}
}

static int start_deploy(struct cert *c);

static void on_deploy_done(int r, const char *message, const char *err_tail, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);

	c->deploy = NULL;
	if (r < 0) {
		/* last_error is one line: the tail's lines are joined with " | ". */
		char error[HOOK_TAIL_LINES * (HOOK_TAIL_LINE_BYTES + 3) + 600];
		str_printf(error, sizeof(error), "the deploy hook %s %s%s", c->deploy_path, message,
			   err_tail[0] ? "; its standard error ended with: " : "");
		size_t used = strlen(error);
		for (const char *p = err_tail; *p && used + 4 < sizeof(error); p++) {
			if (*p == '\n') {
				memcpy(error + used, " | ", 3);
				used += 3;
			} else {
				error[used++] = *p;
			}
		}
		error[used] = '\0';
		log_warning("cert '%s': %s", c->name, error);
		deploy_failed(c, error);
	} else {
		log_info("cert '%s': deploy hook %s", c->name, message);
		if (st && st->deploy_failed) {
			st->deploy_failed = false;
			if (st->failures == 0)
				(void)state_set_str(&st->last_error, NULL);
			cert_update_level(c, daemon_now(c->d));
		}
	}
	free(c->deploy_path);
	c->deploy_path = NULL;
	if (st && !c->deploy_again)
		st->deploy_pending = false;
	daemon_state_changed(c->d);
	(void)daemon_state_save(c->d);

	struct cert_waiter *w = c->deploy_waiters;
	size_t n = c->n_deploy_waiters;
	c->deploy_waiters = c->later_waiters;
	c->n_deploy_waiters = c->n_later_waiters;
	c->later_waiters = NULL;
	c->n_later_waiters = 0;
	call_waiters(c, w, n, 0, message);
	if (c->deploy_again) {
		/* Once for the newest certificate, however many came meanwhile. */
		c->deploy_again = false;
		(void)start_deploy(c);
	}
}

/* Runs the hook for the current certificate; its outcome goes to the
 * waiters in c->deploy_waiters, now when it cannot start. */
static int start_deploy(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	_cleanup_free_ char *dir = NULL, *full = NULL, *key = NULL, *e1 = NULL, *e2 = NULL,
			    *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL, *e7 = NULL,
			    *names = NULL;
	char prefix[200];
	int r = -ENOMEM;

	if (!c->cfg->deploy_hook || !st)
		goto fail;
	names = str_join((const char *const *)c->cfg->names, c->cfg->n_names, " ");
	c->deploy_path = strdup(c->cfg->deploy_hook);
	if (store_cert_path(c->d->store, c->name, "fullchain.pem", &full) < 0 ||
	    store_cert_path(c->d->store, c->name, "privkey.pem", &key) < 0 || !names ||
	    !c->deploy_path ||
	    asprintf(&dir, "%s/certs/%s/current", store_get_dir(c->d->store), c->name) < 0 ||
	    asprintf(&e1, "PERSISTD_CERT_NAME=%s", c->name) < 0 ||
	    asprintf(&e2, "PERSISTD_CERT_DIR=%s", dir) < 0 ||
	    asprintf(&e3, "PERSISTD_FULLCHAIN=%s", full) < 0 ||
	    asprintf(&e4, "PERSISTD_PRIVKEY=%s", key) < 0 ||
	    asprintf(&e5, "PERSISTD_NAMES=%s", names) < 0 ||
	    /* RENEWED_LINEAGE and RENEWED_DOMAINS let certbot deploy hooks
	     * work unchanged. */
	    asprintf(&e6, "RENEWED_LINEAGE=%s", dir) < 0 ||
	    asprintf(&e7, "RENEWED_DOMAINS=%s", names) < 0) {
		log_error("cert '%s': out of memory for the deploy hook", c->name);
		goto fail;
	}
	const char *env[] = { e1, e2, e3, e4, e5, e6, e7, NULL };
	const char *argv[] = { c->deploy_path, NULL };
	str_printf(prefix, sizeof(prefix), "cert '%s': deploy hook", c->name);
	r = hook_run(c->d->loop, argv, env, DEPLOY_HOOK_TIMEOUT_MS, prefix, on_deploy_done, c,
		     &c->deploy);
	if (r < 0)
		goto fail;
	log_info("cert '%s': running the deploy hook %s (version %u)", c->name, c->deploy_path,
		 st->version);
	return 0;

fail:
	/* Stopping: deploy_pending stays set, so the next start runs it. */
	if (r != -ESHUTDOWN && st && c->cfg->deploy_hook) {
		char error[600];
		str_printf(error, sizeof(error), "cannot run the deploy hook %s: %s",
			   c->cfg->deploy_hook, strerror(-r));
		log_warning("cert '%s': %s", c->name, error);
		st->deploy_pending = false;
		deploy_failed(c, error);
		(void)daemon_state_save(c->d);
	}
	free(c->deploy_path);
	c->deploy_path = NULL;
	struct cert_waiter *w = c->deploy_waiters;
	size_t n = c->n_deploy_waiters;
	c->deploy_waiters = NULL;
	c->n_deploy_waiters = 0;
	call_waiters(c, w, n, r == -ESHUTDOWN ? -ECANCELED : 0,
		     "the certificate was installed, but the daemon is stopping: the deploy hook "
		     "runs at the next start");
	return r;
}

/* A new certificate is in place (or a failed deploy is to be retried): the
 * hook runs now, or once more after the run in flight. */
static void request_deploy(struct cert *c, const char *renew_message)
{
	struct state_cert *st = cert_state(c);

	if (!st || !c->cfg->deploy_hook) {
		call_renew_waiters(c, 0, renew_message);
		return;
	}
	if (!st->deploy_pending) {
		st->deploy_pending = true;
		daemon_state_changed(c->d);
	}
	if (c->deploy) {
		c->deploy_again = true;
		park_renew_waiters(c, true, renew_message);
		return;
	}
	park_renew_waiters(c, false, renew_message);
	(void)start_deploy(c);
}

/* After a stop or a reload: a deploy that is owed (the daemon stopped
 * during it) or failed (the operator may have fixed the hook) runs again. */
static void resume_deploy(struct cert *c, const char *why)
{
	struct state_cert *st = cert_state(c);

	if (!st)
		return;
	if (!c->cfg->deploy_hook) {
		if (st->deploy_pending || st->deploy_failed) {
			st->deploy_pending = st->deploy_failed = false;
			daemon_state_changed(c->d);
		}
		return;
	}
	if (!st->has_cert || !(st->deploy_pending || st->deploy_failed) || c->deploy)
		return;
	log_notice("cert '%s': running the deploy hook again (%s)", c->name,
		   st->deploy_failed ? "it failed last time" : why);
	request_deploy(c, NULL);
}

static void schedule_ari(struct cert *c, int64_t at);
static void decide_due(struct cert *c);

static void on_order_url(struct renewal *job, const char *url, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);

	(void)job;
	if (!st)
		return;
	(void)state_set_str(&st->order_url, url);
	st->order_started = url ? daemon_now(c->d) : 0;
	if (url) {
		record_new_order(st, daemon_now(c->d));
		st->order_requested_at = 0; /* the URL supersedes the intent */
	}
	/* In flight on disk at once: a crash now must resume this order. */
	(void)daemon_state_save(c->d);
}

static int on_order_intent(struct renewal *job, bool sent, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);

	(void)job;
	if (!st)
		return -ENOMEM;
	st->order_requested_at = sent ? daemon_now(c->d) : 0;
	if (!sent) {
		daemon_state_changed(c->d); /* a stale intent only costs one search */
		return 0;
	}
	/* On disk, not just scheduled, before newOrder leaves: a kill after the CA made the
	 * order must send the next start looking for it (order.h). */
	return daemon_state_save(c->d);
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
		(void)state_set_str(&st->order_url, NULL);
		(void)state_set_str(&st->order_replaces, NULL);
		(void)state_set_str(&st->last_error, NULL);
		(void)state_set_str(&st->records_hint, NULL);
		st->failures = 0;
		st->retry_at = 0;
		st->ca_retry_until = 0;
		st->cert_rejected = false;
		st->orders_held_until = 0;
		st->last_renewal = now;
		load_current(c);
		log_notice("cert '%s': renewed: %s", c->name, res->message);
		char message[400], until[40];
		time_format_iso(st->not_after, until, sizeof(until));
		str_printf(message, sizeof(message), "%s: new certificate installed (version %u), "
						     "valid until %s",
			   c->name, res->version, until);
		struct alert a = {
			.kind = ALERT_CERT_RENEWED,
			.level = LEVEL_OK,
			.cert = c->name,
			.status = "RENEWED",
			.has_until = true,
			.until = st->not_after,
			.now = now,
			.message = message,
		};
		emit(c, &a);
		if (c->cfg->deploy_hook)
			st->deploy_pending = true; /* saved below, before the hook starts */
		schedule_ari(c, now);
	} else if (res->limited) {
		/* The breaker stopped a new order: not an attempt, so no failure to count. */
		char why[200];
		int64_t until = held_until(c, st, now, why, sizeof(why));
		if (until > now)
			note_order_limit(c, st, until, now);
	} else {
		st->failures++;
		(void)state_set_str(&st->last_error, res->message);
		(void)state_set_str(&st->records_hint, res->records);
		int64_t backoff = (int64_t)RETRY_FIRST_SEC << MIN(st->failures - 1, 12u);
		backoff = MIN(backoff, (int64_t)RETRY_MAX_SEC);
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
			log_error("cert '%s': %s", c->name, res->message);
		}
		/* A refused or transient attempt leaves the order usable: resume it next
		 * time instead of piling up new orders. Anything else starts afresh. */
		if (!res->transient && !res->refused) {
			(void)state_set_str(&st->order_url, NULL);
			(void)store_pending_key_clear(c->d->store, c->name);
		}
		char retry[40];
		time_format_iso(st->retry_at, retry, sizeof(retry));
		log_error("cert '%s': renewal failed (attempt %u, next try %s): %s", c->name,
			  st->failures, retry, res->message);
	}
	cert_update_level(c, now);
	schedule_renewal(c);
	(void)daemon_state_save(c->d);

	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "type", "renewal");
		json_kv_string(w, "cert", c->name);
		json_kv_bool(w, "ok", res->error == 0);
		json_kv_string(w, "message", res->message);
		json_kv_string(w, "records", res->records);
		json_kv_int(w, "time", now);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) == 0)
			daemon_notify_event(c->d, out, len);
	}
	if (res->error == 0)
		request_deploy(c, res->message); /* its callers hear after the deploy */
	else
		call_renew_waiters(c, res->error, res->message);
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
		.new_order_held = orders_allowed_at(c, st, now) > now,
		.ca = c->ca,
		.cert = c->cfg,
		.replaces = st->has_cert && (!dir || dir->renewal_info) ? st->ari_cert_id : NULL,
		.resume_url = st->order_url,
		.on_order_url = on_order_url,
		.find_orphan = st->order_requested_at != 0 && !st->order_url,
		.on_order_intent = on_order_intent,
		.done = on_order_done,
		.userdata = c,
	};
	log_info("cert '%s': %s renewal%s", c->name, st->order_url ? "resuming" : "starting",
		 st->order_url ? " of the saved order" : "");
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
			note_order_limit(c, st, held_until(c, st, now, why, sizeof(why)), now);
		return -EAGAIN; /* cert_renew_held() says why */
	}
	if (cb) {
		struct cert_waiter *w = realloc(c->renew_waiters,
						(c->n_renew_waiters + 1) * sizeof(*w));
		if (!w)
			return -ENOMEM;
		c->renew_waiters = w;
		w[c->n_renew_waiters++] = (struct cert_waiter){ cb, userdata, NULL };
	}
	if (c->job)
		return 0; /* joins the renewal in flight */
	r = start_job(c);
	if (r < 0 && cb)
		c->n_renew_waiters--;
	return r;
}

static void on_renew_due(struct sched_item *it, void *userdata)
{
	struct cert *c = userdata;
	int r;

	(void)it;
	if (c->job || c->d->stopping)
		return;
	if (cert_renew_held(c, NULL, 0)) {
		/* Not an attempt: the schedule already waits for the hold to end, this
		 * only catches a hold that began after the timer was set. */
		struct state_cert *st = cert_state(c);
		int64_t now = daemon_now(c->d);
		char why[200];
		if (st && st->ca_retry_until <= now)
			note_order_limit(c, st, held_until(c, st, now, why, sizeof(why)), now);
		schedule_renewal(c);
		return;
	}
	r = start_job(c);
	if (r < 0) {
		log_error("cert '%s': cannot start a renewal: %s", c->name, strerror(-r));
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
			log_info("cert '%s': the CA suggests renewing between %s and %s", c->name, a, b);
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
			 c->name, why);
		if (rep->error < 0 || rep->status >= 500)
			retry = MIN(retry, (int64_t)3600);
	}
	st->ari_next_fetch = now + retry;
	daemon_state_changed(c->d);
	if (!c->d->oneshot)
		(void)sched_at(c->d->sched, &c->ari_item, st->ari_next_fetch);
	decide_due(c);
}

/* cert_renew_if_due() waited for the CA's renewal window: now decide. */
static void decide_due(struct cert *c)
{
	struct cert_waiter w = c->due_waiter;
	int r;

	if (!w.cb)
		return;
	c->due_waiter.cb = NULL;
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
		log_warning("cert '%s': cannot ask for renewal information: %s", c->name,
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

static void on_ari_due(struct sched_item *it, void *userdata)
{
	struct cert *c = userdata;

	(void)it;
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

	if (force || !st || !st->has_cert || st->order_url || st->order_requested_at)
		return cert_renew(c, force, cb, userdata);
	if (c->due_waiter.cb)
		return -EBUSY;
	/* Ask the CA for its renewal window first (RFC 9773), as the daemon does. */
	c->due_waiter = (struct cert_waiter){ cb, userdata, NULL };
	if (ca_get_directory(c->ca))
		fetch_ari(c);
	else if (!c->waiting_ca_for_ari) {
		r = ca_prepare(c->ca, on_ca_for_ari, c);
		if (r < 0) {
			c->due_waiter.cb = NULL;
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
	for (size_t i = 0; i < c->n_staged; i++)
		if (!name_is_current(c, c->staged[i]))
			name_free(c->staged[i]);
	free(c->staged);
	c->staged = NULL;
	c->n_staged = 0;
	c->staged_cfg = NULL;
}

int cert_stage_config(struct cert *c, const struct config_cert *cfg)
{
	struct cert_name **names = calloc(cfg->n_names ? cfg->n_names : 1, sizeof(*names));

	drop_staged(c);
	if (!names)
		return -ENOMEM;
	c->staged = names;
	c->staged_cfg = cfg;
	for (size_t i = 0; i < cfg->n_names; i++) {
		struct cert_name *found = NULL;
		for (size_t k = 0; k < c->n_names && !found; k++)
			if (streq(c->names[k]->name, cfg->names[i]))
				found = c->names[k];
		if (!found) {
			found = calloc(1, sizeof(*found));
			if (!found || !(found->name = strdup(cfg->names[i]))) {
				free(found);
				drop_staged(c);
				return -ENOMEM;
			}
			found->cert = c;
			sched_item_init(&found->item, on_recheck_due, found);
		}
		names[c->n_staged++] = found;
	}
	return 0;
}

void cert_unstage_config(struct cert *c)
{
	drop_staged(c);
}

/* Switches to the staged names; cannot fail. */
static void commit_names(struct cert *c)
{
	for (size_t k = 0; k < c->n_names; k++) {
		struct cert_name *old = c->names[k];
		bool kept = false;
		for (size_t i = 0; i < c->n_staged && !kept; i++)
			kept = c->staged[i] == old;
		if (kept)
			continue;
		/* No longer configured. */
		sched_cancel(c->d->sched, &old->item);
		if (old->in_flight)
			name_orphan(old);
		else
			name_free(old);
	}
	free(c->names);
	c->names = c->staged;
	c->n_names = c->n_staged;
	c->staged = NULL;
	c->n_staged = 0;
	c->staged_cfg = NULL;
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
	c->name = strdup(cfg->name);
	if (!c->name)
		return -ENOMEM;
	sched_item_init(&c->renew_item, on_renew_due, c);
	sched_item_init(&c->ari_item, on_ari_due, c);
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

	if (c->staged_cfg != cfg) {
		r = cert_stage_config(c, cfg);
		if (r < 0)
			return r;
	}

	/* An order in flight holds the old section, which the reload is about to
	 * free: park it (its URL stays in state) and go on under the new one. */
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
	if (c->n_check_waiters)
		check_done_waiters(c);
	if (restart) {
		r = start_job(c);
		if (r < 0)
			call_renew_waiters(c, r, "the renewal could not be restarted after the reload");
	}
	if (!c->d->stopping && !c->d->oneshot)
		resume_deploy(c, "reload");
	return 0;
}

void cert_stop(struct cert *c)
{
	/* Callbacks the CA still owes us must not find a cert that is gone. */
	if (c->waiting_ca_for_check) {
		ca_cancel_wait(c->ca, on_ca_for_check, c);
		c->waiting_ca_for_check = false;
		for (size_t i = 0; i < c->n_names; i++)
			c->names[i]->waiting_ca = false;
	}
	if (c->waiting_ca_for_ari) {
		ca_cancel_wait(c->ca, on_ca_for_ari, c);
		c->waiting_ca_for_ari = false;
	}
	sched_cancel(c->d->sched, &c->renew_item);
	sched_cancel(c->d->sched, &c->ari_item);
	for (size_t i = 0; i < c->n_names; i++)
		sched_cancel(c->d->sched, &c->names[i]->item);
	if (c->job) {
		/* Parked: the order URL and the pending key are on disk. */
		renewal_cancel(c->job);
		c->job = NULL;
		c->d->jobs_running--;
		log_info("cert '%s': renewal parked; it resumes at the next start", c->name);
		call_renew_waiters(c, -ECANCELED,
				   "the renewal was parked (the daemon is stopping or the cert changed "
				   "CA); it resumes at the next start");
	}
	acme_op_cancel(c->ari_op);
	c->ari_op = NULL;
	/* Abandoned, not waited for: hook_stop_all() ends it when the daemon
	 * stops; deploy_pending (saved) runs it again at the next start. */
	hook_abandon(c->deploy);
	c->deploy = NULL;
	c->deploy_again = false;
	free(c->deploy_path);
	c->deploy_path = NULL;
	struct cert_waiter *lists[] = { c->deploy_waiters, c->later_waiters };
	size_t counts[] = { c->n_deploy_waiters, c->n_later_waiters };
	c->deploy_waiters = c->later_waiters = NULL;
	c->n_deploy_waiters = c->n_later_waiters = 0;
	for (size_t l = 0; l < 2; l++)
		call_waiters(c, lists[l], counts[l], -ECANCELED,
			     "the certificate was installed, but the deploy hook was stopped before "
			     "it finished (the daemon is stopping or the cert was removed); it runs "
			     "again at the next start");
}

void cert_forget_callback(struct cert *c, void *userdata)
{
	struct cert_waiter *lists[] = { c->renew_waiters, c->check_waiters, c->deploy_waiters,
					c->later_waiters };
	size_t *counts[] = { &c->n_renew_waiters, &c->n_check_waiters, &c->n_deploy_waiters,
			     &c->n_later_waiters };

	for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
		size_t o = 0;
		for (size_t i = 0; i < *counts[l]; i++) {
			if (lists[l][i].userdata != userdata)
				lists[l][o++] = lists[l][i];
			else
				free(lists[l][i].message);
		}
		*counts[l] = o;
	}
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
			name_orphan(c->names[i]);
		else
			name_free(c->names[i]);
	}
	free(c->names);
	c->names = NULL;
	c->n_names = 0;
	call_renew_waiters(c, -ECANCELED, "the certificate was removed from the configuration");
	/* A records.check waiting on this cert gets its answer, not silence. */
	struct cert_waiter *w = c->check_waiters;
	size_t n = c->n_check_waiters;
	c->check_waiters = NULL;
	c->n_check_waiters = 0;
	for (size_t i = 0; i < n; i++)
		w[i].cb(c, -ECANCELED, "the certificate was removed from the configuration",
			w[i].userdata);
	free(w);
	free(c->name);
	free(c);
}

void cert_reevaluate(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return;
	for (size_t i = 0; i < st->n_names; i++)
		name_update_level(c, &st->names[i], now);
	cert_update_level(c, now);
}

int cert_start(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return -ENOMEM;
	(void)ca_load_local(c->ca);
	load_current(c);
	if (c->d->oneshot)
		return 0;
	resume_deploy(c, "the daemon stopped while it ran");
	schedule_renewal(c);
	if (st->has_cert && st->ari_cert_id)
		schedule_ari(c, now + random_between(0, 60));
	if (c->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
		/* First checks spread over a few minutes; later ones where they were. */
		int64_t window = MIN((int64_t)(c->d->config->daemon.recheck_interval_ms / 10000),
				     (int64_t)300);
		for (size_t i = 0; i < c->n_names; i++) {
			struct state_name *sn = name_state(c->names[i]);
			int64_t at = now + random_between(0, window);
			if (sn && sn->next_check > now && sn->checked)
				at = sn->next_check;
			schedule_check(c->names[i], at);
		}
	}
	cert_reevaluate(c);
	return 0;
}

