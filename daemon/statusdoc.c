/* daemon/statusdoc.c: see statusdoc.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/macro.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/certfiles.h"
#include "daemon/certserved.h"
#include "daemon/certlevel.h"
#include "daemon/daemon.h"
#include "daemon/fleet.h"
#include "daemon/statusdoc.h"

void statusdoc_kv_time(struct json_writer *w, const char *key, int64_t t)
{
	char iso[40];

	json_key(w, key);
	if (t <= 0) {
		json_null(w);
		return;
	}
	json_int(w, t);
	time_format_iso(t, iso, sizeof(iso));
	char k2[64];
	size_t n = strlen(key);
	if (n + sizeof("_iso") > sizeof(k2)) {
		str_printf(k2, sizeof(k2), "%s_iso", key); /* truncated, as before */
	} else {
		memcpy(k2, key, n);
		memcpy(k2 + n, "_iso", sizeof("_iso"));
	}
	json_kv_string(w, k2, iso);
}

static void write_name(struct json_writer *w, const struct daemon *d, const struct cert *c,
		       const struct state_name *n)
{
	_cleanup_free_ char *owner = NULL;
	int64_t now = daemon_now(d);

	(void)c;
	(void)record_owner_name(n->name, &owner, NULL);
	json_begin_object(w);
	json_kv_string(w, "name", n->name);
	json_kv_string(w, "owner", owner);
	json_kv_string(w, "level", level_to_string(n->level));
	char plain[CERTLEVEL_REASON_MAX];
	json_kv_string(w, "level_reason", certlevel_name_reason(n, plain, sizeof(plain)));
	json_kv_bool(w, "checked", n->checked);
	statusdoc_kv_time(w, "checked_at", n->checked ? n->checked_at : 0);
	json_kv_string(w, "status", n->checked ? n->status : "UNCHECKED");
	json_kv_string(w, "reason", n->reason);
	json_kv_string(w, "record", n->record);
	json_kv_string(w, "dnssec", n->dnssec);
	json_kv_bool(w, "policy_wildcard", n->policy_wildcard);
	json_kv_bool(w, "wildcard_needed", str_has_prefix(n->name, "*."));
	json_key(w, "persist_until");
	if (n->has_until)
		json_int(w, n->persist_until);
	else
		json_null(w);
	if (n->has_until) {
		char iso[40];
		time_format_iso(n->persist_until, iso, sizeof(iso));
		json_kv_string(w, "persist_until_iso", iso);
		json_kv_int(w, "days_left", time_days_left(n->persist_until, now));
	} else {
		json_kv_string(w, "persist_until_iso", NULL);
		json_key(w, "days_left");
		json_null(w);
	}
	json_kv_string(w, "caa", n->caa);
	json_kv_int(w, "dns_failures", n->dns_failures);
	statusdoc_kv_time(w, "next_check", n->next_check);
	json_end_object(w);
}

void statusdoc_write_cert(struct json_writer *w, const struct daemon *d, const struct cert *c,
			  bool detail)
{
	const struct config_cert *cfg = cert_get_config(c);
	const struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(d);

	json_begin_object(w);
	json_kv_string(w, "name", cert_get_name(c));
	json_kv_string(w, "ca", cfg->ca_name);
	json_kv_string(w, "challenge", challenge_type_to_string(cfg->challenge));
	json_kv_string(w, "level", level_to_string(cert_worst_level(c)));
	json_kv_string(w, "cert_level", st ? level_to_string(st->level) : "OK");
	char plain[CERTLEVEL_REASON_MAX];
	json_kv_string(w, "cert_level_reason", st ? certlevel_cert_reason(st, plain, sizeof(plain))
						  : NULL);
	json_kv_bool(w, "renewing", cert_is_renewing(c));
	/* A new cert waiting for its records says so, with what to publish. */
	bool waiting = certlevel_waiting_record(st, now);
	json_kv_string(w, "state", waiting ? "waiting-for-record" : st && st->has_cert ? "issued"
										: "none");
	if (!detail)
		json_kv_string(w, "records_to_publish", waiting ? st->records_hint : NULL);
	json_kv_bool(w, "has_cert", st && st->has_cert);
	statusdoc_kv_time(w, "not_before", st && st->has_cert ? st->not_before : 0);
	statusdoc_kv_time(w, "not_after", st && st->has_cert ? st->not_after : 0);
	json_key(w, "days_left");
	if (st && st->has_cert)
		json_int(w, time_days_left(st->not_after, now));
	else
		json_null(w);
	statusdoc_kv_time(w, "next_renewal", st ? st->next_renewal : 0);
	statusdoc_kv_time(w, "last_renewal", st ? st->last_renewal : 0);
	json_kv_string(w, "last_error", st ? st->last_error : NULL);
	json_kv_int(w, "failures", st ? st->failures : 0);
	/* The certificate in use was revoked (persistctl revoke) and awaits its replacement. */
	json_kv_bool(w, "revoked", st && state_cert_is_revoked(st));
	const struct state_cert_orders *orders = st ? state_cert_orders(st) : NULL;
	statusdoc_kv_time(w, "revoked_at", orders ? orders->revoked_at : 0);
	json_kv_string(w, "revoked_serial", orders ? orders->revoked_serial : NULL);
	json_kv_string(w, "revoked_reason", orders ? orders->revoked_reason : NULL);
	/* When something holds renewals (the CA's Retry-After, max_orders_per_hour). */
	statusdoc_kv_time(w, "ca_retry_until", st && st->ca_retry_until > now ? st->ca_retry_until : 0);
	statusdoc_kv_time(w, "orders_held_until",
		st && st->orders_held_until > now ? st->orders_held_until : 0);
	certserved_write_json(w, c);
	json_key(w, "names");
	json_begin_array(w);
	for (size_t i = 0; i < cfg->n_names; i++) {
		const struct state_name *n =
			st ? state_cert_get_name((struct state_cert *)st, cfg->names[i], false) : NULL;
		if (n) {
			write_name(w, d, c, n);
		} else {
			struct state_name empty = { .name = cfg->names[i] };
			write_name(w, d, c, &empty);
		}
	}
	json_end_array(w);
	if (detail && st) {
		char serial[STATE_SERIAL_HEX_MAX];
		json_kv_string(w, "serial", st->serial_len ? state_cert_serial_hex(st, serial) : NULL);
		json_kv_string(w, "issuer", st->issuer_cn);
		json_kv_int(w, "version", st->version);
		json_kv_string(w, "ari_cert_id", st->ari_cert_id);
		statusdoc_kv_time(w, "ari_window_start", st->ari_start);
		statusdoc_kv_time(w, "ari_window_end", st->ari_end);
		json_kv_string(w, "order_url", orders->order_url);
		json_kv_string(w, "records_to_publish", st->records_hint);
		statusdoc_kv_time(w, "retry_at", st->retry_at);
		json_kv_string(w, "key_type", key_type_to_string(cfg->key_type));
		json_kv_string(w, "profile", config_cert_opts(cfg)->profile);
		json_kv_string(w, "deploy_hook", config_cert_opts(cfg)->deploy_hook);
		_cleanup_free_ char *path = NULL;
		if (st->has_cert && store_cert_path(d->store, cert_get_name(c), "fullchain.pem", &path) == 0)
			json_kv_string(w, "fullchain", path);
		certfiles_write_json(w, d->store, cert_get_name(c));
	}
	json_end_object(w);
}

/* ---- status ---- */

struct level_counts {
	size_t certs, names, level[_LEVEL_MAX];
	int64_t next_renewal;
	const char *next_cert;
	/* the worst certs (level above OK), worst first, then in config order */
	const struct cert *worst[STATUSDOC_WORST_MAX];
	enum level worst_level[STATUSDOC_WORST_MAX];
	size_t n_worst;
	int64_t next_check;     /* the soonest scheduled record check; INT64_MAX: none */
	const char *next_check_cert;
};

/* Keeps the STATUSDOC_WORST_MAX worst certs seen so far: O(1) per cert. */
static void note_worst(struct level_counts *lc, const struct cert *c, enum level l)
{
	size_t i = lc->n_worst;

	if (l <= LEVEL_OK)
		return;
	if (i == STATUSDOC_WORST_MAX) {
		if (lc->worst_level[i - 1] >= l)
			return;
		i--;
	} else {
		lc->n_worst++;
	}
	for (; i > 0 && lc->worst_level[i - 1] < l; i--) {
		lc->worst[i] = lc->worst[i - 1];
		lc->worst_level[i] = lc->worst_level[i - 1];
	}
	lc->worst[i] = c;
	lc->worst_level[i] = l;
}

static void count_levels(const struct daemon *d, struct level_counts *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->next_renewal = INT64_MAX;
	lc->next_check = INT64_MAX;
	for (size_t i = 0; i < d->n_certs; i++) {
		const struct cert *c = d->certs[i];
		const struct state_cert *st = cert_state(c);
		enum level l = cert_worst_level(c);
		lc->certs++;
		lc->level[l]++;
		note_worst(lc, c, l);
		lc->names += cert_get_config(c)->n_names;
		if (st && st->next_renewal > 0 && st->next_renewal < lc->next_renewal) {
			lc->next_renewal = st->next_renewal;
			lc->next_cert = cert_get_name(c);
		}
		for (size_t k = 0; st && k < st->n_names; k++) {
			int64_t at = st->names[k].next_check;
			if (at > 0 && at < lc->next_check) {
				lc->next_check = at;
				lc->next_check_cert = cert_get_name(c);
			}
		}
	}
}

static void format_status_line(const struct daemon *d, const struct level_counts *lc, char *buf,
			       size_t size)
{
	char next[40] = "none";

	if (lc->next_renewal != INT64_MAX) {
		int64_t in = lc->next_renewal - daemon_now(d);
		if (in <= 0)
			str_printf(next, sizeof(next), "now");
		else
			time_format_duration((uint64_t)in * 1000, next, sizeof(next));
	}
	str_printf(buf, size, "%zu certs, %zu warning, %zu critical, %zu error, next renewal in %s%s",
		   lc->certs, lc->level[LEVEL_WARNING], lc->level[LEVEL_CRITICAL],
		   lc->level[LEVEL_ERROR], next,
		   d->reload_failed_at ? "; the last reload FAILED (old configuration in use)" : "");
}

void statusdoc_line(const struct daemon *d, char *buf, size_t size)
{
	struct level_counts lc;

	count_levels(d, &lc);
	format_status_line(d, &lc, buf, size);
}

static void write_worst(struct json_writer *w, const struct level_counts *lc)
{
	json_key(w, "worst");
	json_begin_array(w);
	for (size_t i = 0; i < lc->n_worst; i++) {
		const struct cert *c = lc->worst[i];
		const struct state_cert *st = cert_state(c);
		char plain[CERTLEVEL_REASON_MAX];
		const char *reason = st ? certlevel_cert_reason(st, plain, sizeof(plain)) : NULL;
		/* The cert's own reason, else the first name at its worst level. */
		for (size_t k = 0; st && k < st->n_names && !reason; k++)
			if (st->names[k].level == lc->worst_level[i])
				reason = certlevel_name_reason(&st->names[k], plain, sizeof(plain));
		json_begin_object(w);
		json_kv_string(w, "name", cert_get_name(c));
		json_kv_string(w, "level", level_to_string(lc->worst_level[i]));
		json_kv_string(w, "reason", reason);
		json_end_object(w);
	}
	json_end_array(w);
}

/* Up to the certs of cert_list; *cur says which are still to write. */
static void begin_cert_list(struct json_writer *w, const struct daemon *d,
			    const struct statusdoc_query *q, struct statusdoc_cursor *cur)
{
	size_t from = 0, to = d->n_certs;

	if (q->only) {
		json_key(w, "cert_list");
		json_begin_array(w);
		statusdoc_write_cert(w, d, q->only, false);
		json_end_array(w);
		return;
	}
	if (q->paged) {
		from = q->offset < d->n_certs ? q->offset : d->n_certs;
		to = d->n_certs - from > q->limit ? from + q->limit : d->n_certs;
		json_key(w, "page");
		json_begin_object(w);
		json_kv_int(w, "offset", (int64_t)from);
		json_kv_int(w, "limit", (int64_t)q->limit);
		json_kv_int(w, "returned", (int64_t)(to - from));
		json_kv_int(w, "total", (int64_t)d->n_certs);
		json_key(w, "next_offset");
		if (to < d->n_certs)
			json_int(w, (int64_t)to);
		else
			json_null(w);
		json_end_object(w);
	}
	json_key(w, "cert_list");
	json_begin_array(w);
	*cur = (struct statusdoc_cursor){ .next = from, .to = to, .in_list = true, .open = true };
}

bool statusdoc_status_more(const struct daemon *d, struct json_writer *w,
			   struct statusdoc_cursor *cur, size_t bytes)
{
	if (!cur->open)
		return true;
	if (cur->in_list) {
		size_t to = MIN(cur->to, d->n_certs);
		while (cur->next < to && json_writer_pending(w) < bytes)
			statusdoc_write_cert(w, d, d->certs[cur->next++], false);
		if (cur->next < to)
			return false;
		json_end_array(w);
		cur->in_list = false;
	}
	json_end_object(w);
	cur->open = false;
	return true;
}

/* The status answer; daemon/httpd serves the same document at /api/status. */
void statusdoc_write_status(const struct daemon *d, struct json_writer *w)
{
	const struct statusdoc_query all = { 0 };

	statusdoc_write_status_query(d, w, &all);
}

void statusdoc_write_status_query(const struct daemon *d, struct json_writer *w,
				  const struct statusdoc_query *q)
{
	struct statusdoc_cursor cur;

	statusdoc_status_begin(d, w, q, &cur);
	(void)statusdoc_status_more(d, w, &cur, SIZE_MAX);
}

void statusdoc_status_begin(const struct daemon *d, struct json_writer *w,
			    const struct statusdoc_query *q, struct statusdoc_cursor *cur)
{
	struct level_counts lc;
	char line[200];

	count_levels(d, &lc);
	format_status_line(d, &lc, line, sizeof(line));
	enum level worst = LEVEL_OK;
	for (int l = 0; l < _LEVEL_MAX; l++)
		if (lc.level[l])
			worst = (enum level)l;
	/* The daemon runs an older configuration than the file says: monitoring
	 * must see that until a reload succeeds. */
	if (d->reload_failed_at && worst < LEVEL_WARNING)
		worst = LEVEL_WARNING;
	if (d->fleet && !fleet_database_connected(d->fleet) && worst < LEVEL_WARNING)
		worst = LEVEL_WARNING;
	json_begin_object(w);
	json_kv_string(w, "version", PERSISTD_VERSION);
	json_kv_int(w, "pid", getpid());
	statusdoc_kv_time(w, "now", daemon_now(d));
	json_kv_string(w, "summary", line);
	json_kv_string(w, "level", level_to_string(worst));
	json_kv_int(w, "certs", (int64_t)lc.certs);
	json_kv_int(w, "names", (int64_t)lc.names);
	json_key(w, "counts");
	json_begin_object(w);
	for (int l = 0; l < _LEVEL_MAX; l++)
		if (l != LEVEL_UNKNOWN) /* never computed here: no count to show */
			json_kv_int(w, level_to_string(l), (int64_t)lc.level[l]);
	json_end_object(w);
	statusdoc_kv_time(w, "next_renewal", lc.next_renewal == INT64_MAX ? 0 : lc.next_renewal);
	json_kv_string(w, "next_renewal_cert", lc.next_cert);
	json_kv_int(w, "jobs_running", d->jobs_running);
	json_kv_int(w, "warn_before", (int64_t)(d->config->daemon.warn_before_ms / 1000));
	json_kv_int(w, "critical_before", (int64_t)(d->config->daemon.critical_before_ms / 1000));
	json_key(w, "reload_error");
	if (d->reload_failed_at) {
		json_begin_object(w);
		statusdoc_kv_time(w, "at", d->reload_failed_at);
		json_kv_string(w, "file", d->reload_error_file);
		json_key(w, "line");
		if (d->reload_error_line)
			json_int(w, d->reload_error_line);
		else
			json_null(w);
		json_kv_string(w, "message", d->reload_error);
		json_end_object(w);
	} else {
		json_null(w);
	}
	statusdoc_kv_time(w, "next_check", lc.next_check == INT64_MAX ? 0 : lc.next_check);
	json_kv_string(w, "next_check_cert", lc.next_check_cert);
	write_worst(w, &lc);
	if (d->fleet) {
		json_key(w, "fleet");
		fleet_status_json(d->fleet, w);
	}
	*cur = (struct statusdoc_cursor){ .open = true };
	if (!q->summary)
		begin_cert_list(w, d, q, cur);
}

void statusdoc_write_records(struct json_writer *w, struct daemon *d, const struct cert *only)
{
	json_begin_array(w);
	for (size_t i = 0; i < d->n_certs; i++) {
		const struct cert *c = d->certs[i];
		const struct state_cert *st = cert_state(c);
		const struct config_cert *cfg = cert_get_config(c);
		if (only && only != c)
			continue;
		if (cfg->challenge != CHALLENGE_DNS_PERSIST_01)
			continue;
		for (size_t k = 0; k < cfg->n_names; k++) {
			const struct state_name *n =
				st ? state_cert_get_name((struct state_cert *)st, cfg->names[k], false)
				   : NULL;
			struct state_name empty = { .name = cfg->names[k] };
			json_begin_object(w);
			json_kv_string(w, "cert", cert_get_name(c));
			json_key(w, "record");
			write_name(w, d, c, n ? n : &empty);
			json_end_object(w);
		}
	}
	json_end_array(w);
}

void statusdoc_write_generated(struct json_writer *w, struct daemon *d, const struct cert *only)
{
	json_begin_array(w);
	for (size_t i = 0; i < d->n_certs; i++) {
		struct cert *c = d->certs[i];
		const struct config_cert *cfg = cert_get_config(c);
		struct ca *ca = cert_get_ca(c);
		size_t n_issuers;
		const char *const *issuers = ca_get_issuers(ca, &n_issuers);

		if ((only && c != only) || cfg->challenge != CHALLENGE_DNS_PERSIST_01)
			continue;
		for (size_t k = 0; k < cfg->n_names; k++) {
			_cleanup_free_ char *owner = NULL, *base = NULL, *uri = NULL, *value = NULL,
					    *zone = NULL;
			bool wildcard = false;
			(void)record_owner_name(cfg->names[k], &owner, &wildcard);
			(void)record_base_name(cfg->names[k], &base, NULL);
			/* One record serves base and *.base: if either is a wildcard, it needs
			 * the policy. */
			bool policy = wildcard;
			for (size_t m = 0; m < cfg->n_names && !policy; m++)
				policy = str_has_prefix(cfg->names[m], "*.") && base &&
					 streq(cfg->names[m] + 2, base);
			json_begin_object(w);
			json_kv_string(w, "cert", cert_get_name(c));
			json_kv_string(w, "name", cfg->names[k]);
			json_kv_string(w, "owner", owner);
			json_kv_bool(w, "wildcard_needed", policy);
			json_kv_string(w, "issuer", n_issuers ? issuers[0] : NULL);
			json_kv_string(w, "account_uri_mode",
				       record_uri_mode_to_string(ca_get_uri_mode(ca)));
			if (base && n_issuers && ca_expected_account_uri(ca, base, NULL, &uri) == 0) {
				struct record_spec spec = {
					.issuer = issuers[0],
					.account_uri = uri,
					.wildcard = policy,
					.has_persist_until = cfg->has_persist_until,
					.persist_until = cfg->persist_until,
				};
				if (record_generate(&spec, &value) == 0)
					(void)record_zone_line(owner, value, strlen(value), 3600, &zone);
			}
			json_kv_string(w, "account_uri", uri);
			json_kv_string(w, "value", value);
			json_kv_string(w, "zone", zone);
			json_key(w, "persist_until");
			if (cfg->has_persist_until)
				json_int(w, cfg->persist_until);
			else
				json_null(w);
			json_end_object(w);
		}
	}
	json_end_array(w);
}
