#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/json.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/methods.h"
#include "daemon/reload.h"

/* ---- JSON pieces ---- */

static void kv_time(struct json_writer *w, const char *key, int64_t t)
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
	str_printf(k2, sizeof(k2), "%s_iso", key);
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
	json_kv_string(w, "level", alert_level_to_string(n->level));
	json_kv_string(w, "level_reason", n->level_reason);
	json_kv_bool(w, "checked", n->checked);
	kv_time(w, "checked_at", n->checked ? n->checked_at : 0);
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
	kv_time(w, "next_check", n->next_check);
	json_end_object(w);
}

static void write_cert(struct json_writer *w, const struct daemon *d, const struct cert *c,
		       bool detail)
{
	const struct config_cert *cfg = cert_get_config(c);
	const struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(d);

	json_begin_object(w);
	json_kv_string(w, "name", cert_get_name(c));
	json_kv_string(w, "ca", cfg->ca_name);
	json_kv_string(w, "challenge", challenge_type_to_string(cfg->challenge));
	json_kv_string(w, "level", alert_level_to_string(cert_worst_level(c)));
	json_kv_string(w, "cert_level", st ? alert_level_to_string(st->level) : "OK");
	json_kv_string(w, "cert_level_reason", st ? st->level_reason : NULL);
	json_kv_bool(w, "renewing", cert_is_renewing(c));
	json_kv_bool(w, "has_cert", st && st->has_cert);
	kv_time(w, "not_before", st && st->has_cert ? st->not_before : 0);
	kv_time(w, "not_after", st && st->has_cert ? st->not_after : 0);
	json_key(w, "days_left");
	if (st && st->has_cert)
		json_int(w, time_days_left(st->not_after, now));
	else
		json_null(w);
	kv_time(w, "next_renewal", st ? st->next_renewal : 0);
	kv_time(w, "last_renewal", st ? st->last_renewal : 0);
	json_kv_string(w, "last_error", st ? st->last_error : NULL);
	json_kv_int(w, "failures", st ? st->failures : 0);
	/* When something holds renewals (the CA's Retry-After, max_orders_per_hour). */
	kv_time(w, "ca_retry_until", st && st->ca_retry_until > now ? st->ca_retry_until : 0);
	kv_time(w, "orders_held_until",
		st && st->orders_held_until > now ? st->orders_held_until : 0);
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
		json_kv_string(w, "serial", st->serial);
		json_kv_string(w, "issuer", st->issuer_cn);
		json_kv_int(w, "version", st->version);
		json_kv_string(w, "ari_cert_id", st->ari_cert_id);
		kv_time(w, "ari_window_start", st->ari_start);
		kv_time(w, "ari_window_end", st->ari_end);
		json_kv_string(w, "order_url", st->order_url);
		json_kv_string(w, "records_to_publish", st->records_hint);
		kv_time(w, "retry_at", st->retry_at);
		json_kv_string(w, "key_type", key_type_to_string(cfg->key_type));
		json_kv_string(w, "profile", cfg->profile);
		json_kv_string(w, "deploy_hook", cfg->deploy_hook);
		_cleanup_free_ char *path = NULL;
		if (st->has_cert && store_cert_path(d->store, cert_get_name(c), "fullchain.pem", &path) == 0)
			json_kv_string(w, "fullchain", path);
	}
	json_end_object(w);
}

static void reply_writer(struct control_call *call, struct json_writer *w)
{
	const char *out;
	size_t len;

	if (json_writer_finish(w, &out, &len) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "building the reply failed", NULL);
		return;
	}
	control_call_reply(call, out, len);
	/* A status of ten thousand certs is megabytes of JSON built and freed:
	 * give the pages back instead of keeping them as RSS. */
	if (len > 1024 * 1024)
		(void)malloc_trim(0);
}

static const char *param_string(yajl_val params, const char *key)
{
	return params && YAJL_IS_OBJECT(params) ? json_get_string(params, key) : NULL;
}

static bool param_bool(yajl_val params, const char *key)
{
	bool v = false;

	if (params && YAJL_IS_OBJECT(params))
		(void)json_get_bool(params, key, &v);
	return v;
}

static struct cert *cert_param(struct daemon *d, struct control_call *call, yajl_val params)
{
	const char *name = param_string(params, "name");
	struct cert *c;

	if (!name) {
		control_call_error(call, JRPC_INVALID_PARAMS, "expected params {\"name\": CERT}", NULL);
		return NULL;
	}
	c = daemon_find_cert(d, name);
	if (!c) {
		char msg[300];
		str_printf(msg, sizeof(msg), "no cert named '%s' in the configuration", name);
		control_call_error(call, JRPC_NOT_FOUND, msg, NULL);
	}
	return c;
}

/* ---- status ---- */

struct level_counts {
	size_t certs, names, level[_ALERT_LEVEL_MAX];
	int64_t next_renewal;
	const char *next_cert;
};

static void count_levels(const struct daemon *d, struct level_counts *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->next_renewal = INT64_MAX;
	for (size_t i = 0; i < d->n_certs; i++) {
		const struct cert *c = d->certs[i];
		const struct state_cert *st = cert_state(c);
		lc->certs++;
		lc->level[cert_worst_level(c)]++;
		lc->names += cert_get_config(c)->n_names;
		if (st && st->next_renewal > 0 && st->next_renewal < lc->next_renewal) {
			lc->next_renewal = st->next_renewal;
			lc->next_cert = cert_get_name(c);
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
		   lc->certs, lc->level[ALERT_WARNING], lc->level[ALERT_CRITICAL],
		   lc->level[ALERT_ERROR], next,
		   d->reload_failed_at ? "; the last reload FAILED (old configuration in use)" : "");
}

void daemon_status_line(const struct daemon *d, char *buf, size_t size)
{
	struct level_counts lc;

	count_levels(d, &lc);
	format_status_line(d, &lc, buf, size);
}

/* The status answer; daemon/httpd serves the same document at /api/status. */
void methods_write_status(const struct daemon *d, struct json_writer *w)
{
	struct level_counts lc;
	char line[200];

	count_levels(d, &lc);
	format_status_line(d, &lc, line, sizeof(line));
	enum alert_level worst = ALERT_OK;
	for (int l = 0; l < _ALERT_LEVEL_MAX; l++)
		if (lc.level[l])
			worst = (enum alert_level)l;
	/* The daemon runs an older configuration than the file says: monitoring
	 * must see that until a reload succeeds. */
	if (d->reload_failed_at && worst < ALERT_WARNING)
		worst = ALERT_WARNING;
	json_begin_object(w);
	json_kv_string(w, "version", PERSISTD_VERSION);
	json_kv_int(w, "pid", getpid());
	kv_time(w, "now", daemon_now(d));
	json_kv_string(w, "summary", line);
	json_kv_string(w, "level", alert_level_to_string(worst));
	json_kv_int(w, "certs", (int64_t)lc.certs);
	json_kv_int(w, "names", (int64_t)lc.names);
	json_key(w, "counts");
	json_begin_object(w);
	for (int l = 0; l < _ALERT_LEVEL_MAX; l++)
		json_kv_int(w, alert_level_to_string(l), (int64_t)lc.level[l]);
	json_end_object(w);
	kv_time(w, "next_renewal", lc.next_renewal == INT64_MAX ? 0 : lc.next_renewal);
	json_kv_string(w, "next_renewal_cert", lc.next_cert);
	json_kv_int(w, "jobs_running", d->jobs_running);
	json_kv_int(w, "warn_before", (int64_t)(d->config->daemon.warn_before_ms / 1000));
	json_kv_int(w, "critical_before", (int64_t)(d->config->daemon.critical_before_ms / 1000));
	json_key(w, "reload_error");
	if (d->reload_failed_at) {
		json_begin_object(w);
		kv_time(w, "at", d->reload_failed_at);
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
	json_key(w, "cert_list");
	json_begin_array(w);
	for (size_t i = 0; i < d->n_certs; i++)
		write_cert(w, d, d->certs[i], false);
	json_end_array(w);
	json_end_object(w);
}

static void on_status(struct control_call *call, yajl_val params, void *userdata)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	(void)params;
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	methods_write_status(userdata, w);
	reply_writer(call, w);
}

static void on_certs_list(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	(void)params;
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	json_begin_array(w);
	for (size_t i = 0; i < d->n_certs; i++)
		write_cert(w, d, d->certs[i], false);
	json_end_array(w);
	reply_writer(call, w);
}

static void on_certs_get(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct cert *c = cert_param(d, call, params);
	_cleanup_(json_writer_freep) struct json_writer *w = NULL;

	if (!c)
		return;
	w = json_writer_new(false);
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	write_cert(w, d, c, true);
	reply_writer(call, w);
}

static void write_records(struct json_writer *w, struct daemon *d, const struct cert *only)
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

static void on_records_list(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	(void)params;
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	write_records(w, d, NULL);
	reply_writer(call, w);
}

/* ---- records.check and records.generate: one answer once the work they
 * started for every cert (or the one named) has come back ---- */

typedef void (*fanout_writer)(struct json_writer *w, struct daemon *d, const struct cert *only);

struct fanout {
	struct daemon *d;
	struct control_call *call;
	const struct cert *only;   /* borrowed: params "name", or NULL for all */
	unsigned pending;          /* 1 for the starter itself, until all is started */
	fanout_writer write;
	char error[512];           /* set: answer with this error instead */
};

/* NULL when the call was answered already (unknown cert, out of memory). */
static struct fanout *fanout_new(struct daemon *d, struct control_call *call, yajl_val params,
				 fanout_writer write)
{
	struct cert *only = NULL;

	if (param_string(params, "name")) {
		only = cert_param(d, call, params);
		if (!only)
			return NULL;
	}
	struct fanout *f = calloc(1, sizeof(*f));
	if (!f) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return NULL;
	}
	*f = (struct fanout){ .d = d, .call = call, .only = only, .pending = 1, .write = write };
	return f;
}

static void fanout_done(struct fanout *f)
{
	if (--f->pending > 0)
		return;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	if (f->error[0])
		control_call_error(f->call, JRPC_FAILED, f->error, NULL);
	else if (!w)
		control_call_error(f->call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
	else {
		f->write(w, f->d, f->only);
		reply_writer(f->call, w);
	}
	free(f);
}

static void on_cert_checked(struct cert *c, int r, const char *message, void *userdata)
{
	struct fanout *f = userdata;

	/* A reload removed the cert: f->only may be it, so answer with why. */
	if (r == -ECANCELED)
		str_printf(f->error, sizeof(f->error), "cert '%s': %s", cert_get_name(c), message);
	fanout_done(f);
}

static void on_records_check(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct fanout *f = fanout_new(d, call, params, write_records);

	if (!f)
		return;
	for (size_t i = 0; i < d->n_certs; i++) {
		struct cert *c = d->certs[i];
		if ((f->only && c != f->only) ||
		    cert_get_config(c)->challenge != CHALLENGE_DNS_PERSIST_01)
			continue;
		f->pending++;
		if (cert_check(c, on_cert_checked, f) < 0)
			f->pending--;
	}
	fanout_done(f);
}

/* ---- records.generate ---- */

static void write_generated(struct json_writer *w, struct daemon *d, const struct cert *only)
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

/* The records.generate answer for every cert, from what is known now (no
 * network): daemon/httpd serves it at /api/records. */
void methods_write_records(struct daemon *d, struct json_writer *w)
{
	write_generated(w, d, NULL);
}

static void on_ca_for_generate(struct ca *ca, int r, void *userdata)
{
	struct fanout *f = userdata;

	if (r < 0)
		str_printf(f->error, sizeof(f->error), "CA '%s': %s", ca_get_name(ca),
			   ca_last_error(ca));
	fanout_done(f);
}

static void on_records_generate(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct fanout *f = fanout_new(d, call, params, write_generated);

	if (!f)
		return;
	/* A record names the account: CAs without one yet make it first. */
	for (size_t i = 0; i < d->n_cas; i++) {
		struct ca *ca = d->cas[i];
		size_t n;
		bool used = false;
		for (size_t k = 0; k < d->n_certs && !used; k++)
			used = cert_get_ca(d->certs[k]) == ca && (!f->only || d->certs[k] == f->only);
		(void)ca_load_local(ca);
		if (!used || (ca_get_account_url(ca) && ca_get_issuers(ca, &n) && n))
			continue;
		f->pending++;
		if (ca_prepare(ca, on_ca_for_generate, f) < 0)
			f->pending--;
	}
	fanout_done(f);
}

/* ---- renew ---- */

static void on_renewed(struct cert *c, int r, const char *message, void *userdata)
{
	struct control_call *call = userdata;
	const struct state_cert *st = cert_state(c);
	_cleanup_(json_writer_freep) struct json_writer *w = NULL;

	if (r < 0) {
		_cleanup_(json_writer_freep) struct json_writer *data = json_writer_new(false);
		const char *out = NULL;
		size_t len;
		if (data) {
			json_begin_object(data);
			json_kv_string(data, "cert", cert_get_name(c));
			json_kv_string(data, "records_to_publish", st ? st->records_hint : NULL);
			json_end_object(data);
			if (json_writer_finish(data, &out, &len) < 0)
				out = NULL;
		}
		control_call_error(call, JRPC_FAILED, message, out);
		return;
	}
	w = json_writer_new(false);
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	json_begin_object(w);
	json_kv_string(w, "cert", cert_get_name(c));
	json_kv_bool(w, "renewed", true);
	json_kv_string(w, "message", message);
	kv_time(w, "not_after", st ? st->not_after : 0);
	/* The answer comes after the deploy hook: installed is not yet deployed. */
	json_key(w, "deploy");
	if (cert_get_config(c)->deploy_hook && st) {
		json_begin_object(w);
		json_kv_bool(w, "ok", !st->deploy_failed);
		json_kv_string(w, "error", st->deploy_failed ? st->last_error : NULL);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_end_object(w);
	reply_writer(call, w);
}

static void on_renew(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct cert *c = cert_param(d, call, params);
	int r;

	if (!c)
		return;
	r = cert_renew(c, param_bool(params, "force"), on_renewed, call);
	if (r == 1) {
		const struct state_cert *st = cert_state(c);
		char msg[300], when[40];
		time_format_iso(st ? st->next_renewal : 0, when, sizeof(when));
		_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
		str_printf(msg, sizeof(msg), "not due until %s; use force to renew now", when);
		if (!w) {
			control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
			return;
		}
		json_begin_object(w);
		json_kv_string(w, "cert", cert_get_name(c));
		json_kv_bool(w, "renewed", false);
		json_kv_string(w, "message", msg);
		json_end_object(w);
		reply_writer(call, w);
		return;
	}
	if (r < 0) {
		char msg[300], why[200];
		if (r == -EAGAIN && cert_renew_held(c, why, sizeof(why)))
			str_printf(msg, sizeof(msg), "not renewing now: %s", why);
		else
			str_printf(msg, sizeof(msg), "cannot start a renewal: %s",
				   r == -ESHUTDOWN ? "the daemon is stopping" : strerror(-r));
		control_call_error(call, JRPC_FAILED, msg, NULL);
	}
}

/* ---- reload ---- */

static void on_reload(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	_cleanup_free_ char *message = NULL;
	int r;

	(void)params;
	r = daemon_reload(d, &message);
	char line[300];
	daemon_status_line(d, line, sizeof(line));
	(void)sd_notifyf(0, "STATUS=%s", line);
	(void)sd_notify(0, "READY=1");
	if (r < 0) {
		control_call_error(call, JRPC_FAILED, message ? message : strerror(-r), NULL);
		return;
	}
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	json_begin_object(w);
	json_kv_bool(w, "reloaded", true);
	json_kv_string(w, "message", message);
	json_kv_int(w, "certs", (int64_t)d->n_certs);
	json_end_object(w);
	reply_writer(call, w);
}

/* ---- account ---- */

static void write_account(struct json_writer *w, struct daemon *d, struct ca *ca)
{
	const struct state_ca *st = state_get_ca(d->state, ca_get_name(ca), false);
	_cleanup_free_ char *key_path = NULL;
	size_t n;
	const char *const *issuers = ca_get_issuers(ca, &n);

	(void)store_account_key_path(d->store, ca_get_name(ca), &key_path);
	json_begin_object(w);
	json_kv_string(w, "ca", ca_get_name(ca));
	json_kv_string(w, "directory", ca_get_config(ca)->directory);
	json_kv_string(w, "account_url", ca_get_account_url(ca));
	json_kv_string(w, "key_type", ca_get_key_type(ca));
	json_kv_string(w, "key_path", key_path);
	json_kv_string(w, "thumbprint", ca_get_thumbprint(ca));
	json_kv_string(w, "account_uri_mode", record_uri_mode_to_string(ca_get_uri_mode(ca)));
	json_kv_string(w, "hash_prefix", st ? st->hash_prefix : NULL);
	json_key(w, "issuers");
	json_begin_array(w);
	for (size_t i = 0; i < n; i++)
		json_string(w, issuers[i]);
	json_end_array(w);
	json_key(w, "offers_dns_persist_01");
	int offers = ca_offers_persist(ca);
	if (offers < 0)
		json_null(w);
	else
		json_bool(w, offers);
	json_key(w, "contact");
	json_begin_array(w);
	for (size_t i = 0; i < ca_get_config(ca)->n_contacts; i++)
		json_string(w, ca_get_config(ca)->contacts[i]);
	json_end_array(w);
	json_end_object(w);
}

static void on_account_show(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	const char *only = param_string(params, "ca");
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	if (!w) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	if (only && !daemon_find_ca(d, only)) {
		control_call_error(call, JRPC_NOT_FOUND, "no such CA in the configuration", NULL);
		return;
	}
	json_begin_array(w);
	for (size_t i = 0; i < d->n_cas; i++) {
		if (only && !streq(only, ca_get_name(d->cas[i])))
			continue;
		(void)ca_load_local(d->cas[i]);
		write_account(w, d, d->cas[i]);
	}
	json_end_array(w);
	reply_writer(call, w);
}

static struct ca *ca_param(struct daemon *d, struct control_call *call, yajl_val params)
{
	const char *name = param_string(params, "ca");
	struct ca *ca;

	if (!name && d->n_cas == 1)
		return d->cas[0];
	if (!name) {
		control_call_error(call, JRPC_INVALID_PARAMS,
				   "expected params {\"ca\": NAME} (several CAs are configured)", NULL);
		return NULL;
	}
	ca = daemon_find_ca(d, name);
	if (!ca)
		control_call_error(call, JRPC_NOT_FOUND, "no such CA in the configuration", NULL);
	return ca;
}

struct rollover_req {
	struct daemon *d;
	struct control_call *call;
};

static void on_rolled_over(struct ca *ca, int r, const char *message, void *userdata)
{
	struct rollover_req *req = userdata;
	_cleanup_(json_writer_freep) struct json_writer *w = NULL;

	if (r < 0) {
		control_call_error(req->call, JRPC_FAILED, message, NULL);
		free(req);
		return;
	}
	w = json_writer_new(false);
	if (w) {
		json_begin_object(w);
		json_kv_bool(w, "done", true);
		json_kv_string(w, "message", message);
		json_key(w, "account");
		write_account(w, req->d, ca);
		json_end_object(w);
		reply_writer(req->call, w);
	} else {
		control_call_error(req->call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
	}
	free(req);
}

static void on_ca_for_rollover(struct ca *ca, int r, void *userdata)
{
	struct rollover_req *req = userdata;

	if (r == 0)
		r = ca_rollover(ca, on_rolled_over, req);
	if (r < 0) {
		char msg[600];
		str_printf(msg, sizeof(msg), "cannot roll the account key over: %s",
			   r == -EOPNOTSUPP ? "the CA has no keyChange URL"
			   : ca_last_error(ca)[0] ? ca_last_error(ca)
						  : strerror(-r));
		control_call_error(req->call, JRPC_FAILED, msg, NULL);
		free(req);
	}
}

static void on_ca_for_deactivate(struct ca *ca, int r, void *userdata)
{
	struct rollover_req *req = userdata;

	if (r == 0)
		r = ca_deactivate(ca, on_rolled_over, req);
	if (r < 0) {
		char msg[600];
		str_printf(msg, sizeof(msg), "cannot deactivate the account: %s",
			   ca_last_error(ca)[0] ? ca_last_error(ca) : strerror(-r));
		control_call_error(req->call, JRPC_FAILED, msg, NULL);
		free(req);
	}
}

static void on_account_deactivate(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct ca *ca = ca_param(d, call, params);
	struct rollover_req *req;

	if (!ca)
		return;
	if (!param_bool(params, "confirm")) {
		control_call_error(call, JRPC_INVALID_PARAMS,
				   "deactivation is irreversible: send {\"confirm\": true}", NULL);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	req->d = d;
	req->call = call;
	if (ca_prepare(ca, on_ca_for_deactivate, req) < 0) {
		control_call_error(call, JRPC_FAILED, "cannot reach the CA", NULL);
		free(req);
	}
}

static void on_account_rollover(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct ca *ca = ca_param(d, call, params);
	struct rollover_req *req;

	if (!ca)
		return;
	req = calloc(1, sizeof(*req));
	if (!req) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	req->d = d;
	req->call = call;
	if (ca_prepare(ca, on_ca_for_rollover, req) < 0) {
		control_call_error(call, JRPC_FAILED, "cannot reach the CA", NULL);
		free(req);
	}
}

/* ---- ca.probe ---- */

struct probe_req {
	struct daemon *d;
	struct control_call *call;
	struct ca *ca;
};

static void on_probe_directory(struct ca *ca, int r, const char *message, void *userdata)
{
	struct probe_req *req = userdata;
	const struct acme_directory *dir = r < 0 ? NULL : ca_get_directory(ca);
	_cleanup_(json_writer_freep) struct json_writer *w = NULL;

	if (!dir) {
		control_call_error(req->call, JRPC_FAILED, message, NULL);
		free(req);
		return;
	}
	w = json_writer_new(false);
	if (!w) {
		control_call_error(req->call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		free(req);
		return;
	}
	int offers = ca_offers_persist(req->ca);
	const char *verdict;
	if (dir->meta.n_issuer_domain_names)
		verdict = "supported: the directory announces issuerDomainNames (draft -02)";
	else if (offers == 1)
		verdict = "supported: an authorization offered dns-persist-01";
	else if (offers == 0)
		verdict = "NOT offered: an authorization from this CA offered no dns-persist-01 "
			  "challenge";
	else
		verdict = "unknown: the directory does not announce it (draft -01 CAs do not); "
			  "persistd learns it from the first order's challenges";
	json_begin_object(w);
	json_kv_string(w, "ca", ca_get_name(req->ca));
	json_kv_string(w, "directory", ca_get_config(req->ca)->directory);
	json_key(w, "dns_persist_01");
	if (offers < 0 && !dir->meta.n_issuer_domain_names)
		json_null(w);
	else
		json_bool(w, offers == 1 || dir->meta.n_issuer_domain_names);
	json_kv_string(w, "verdict", verdict);
	json_kv_string(w, "account_uri_mode", record_uri_mode_to_string(ca_get_uri_mode(req->ca)));
	json_kv_string(w, "account_hash_prefix", dir->meta.account_hash_prefix);
	json_key(w, "issuer_domain_names");
	json_begin_array(w);
	for (size_t i = 0; i < dir->meta.n_issuer_domain_names; i++)
		json_string(w, dir->meta.issuer_domain_names[i]);
	json_end_array(w);
	json_key(w, "caa_identities");
	json_begin_array(w);
	for (size_t i = 0; i < dir->meta.n_caa_identities; i++)
		json_string(w, dir->meta.caa_identities[i]);
	json_end_array(w);
	json_key(w, "profiles");
	json_begin_object(w);
	for (size_t i = 0; i < dir->meta.n_profiles; i++)
		json_kv_string(w, dir->meta.profiles[i].name, dir->meta.profiles[i].description);
	json_end_object(w);
	json_kv_bool(w, "external_account_required", dir->meta.external_account_required);
	json_kv_string(w, "terms_of_service", dir->meta.terms_of_service);
	json_kv_string(w, "website", dir->meta.website);
	json_kv_bool(w, "renewal_info", dir->renewal_info != NULL);
	json_kv_bool(w, "key_change", dir->key_change != NULL);
	json_kv_bool(w, "revoke_cert", dir->revoke_cert != NULL);
	json_end_object(w);
	reply_writer(req->call, w);
	free(req);
}

static void on_ca_probe(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct ca *ca = ca_param(d, call, params);
	struct probe_req *req;

	if (!ca)
		return;
	req = calloc(1, sizeof(*req));
	if (!req) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	*req = (struct probe_req){ d, call, ca };
	/* Through the CA, not its connection: a reload that removes the CA answers. */
	if (ca_fetch_directory(ca, on_probe_directory, req) < 0) {
		control_call_error(call, JRPC_FAILED, "cannot reach the CA", NULL);
		free(req);
	}
}

/* ---- events ---- */

static void on_events_subscribe(struct control_call *call, yajl_val params, void *userdata)
{
	(void)params;
	(void)userdata;
	control_call_subscribe(call);
	static const char subscribed[] = "{\"subscribed\":true}";
	control_call_reply(call, subscribed, sizeof(subscribed) - 1);
}

/* ---- test clock ---- */

static void on_test_shift_time(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	int64_t seconds = 0;
	char buf[100];

	if (!d->test_clock) {
		control_call_error(call, JRPC_METHOD_NOT_FOUND,
				   "test.shift_time exists only in a daemon started with --test-clock",
				   NULL);
		return;
	}
	if (!params || !json_get_int(params, "seconds", &seconds)) {
		control_call_error(call, JRPC_INVALID_PARAMS, "expected {\"seconds\": N}", NULL);
		return;
	}
	d->time_offset += seconds;
	log_notice("test clock moved by %" PRId64 " s (offset now %" PRId64 " s)", seconds,
		   d->time_offset);
	for (size_t i = 0; i < d->n_certs; i++)
		cert_reevaluate(d->certs[i]);
	sched_kick(d->sched);
	str_printf(buf, sizeof(buf), "{\"offset\":%" PRId64 ",\"now\":%" PRId64 "}", d->time_offset,
		   daemon_now(d));
	control_call_reply(call, buf, strlen(buf));
}

static const struct control_method methods[] = {
	{ "status", false, on_status },
	{ "certs.list", false, on_certs_list },
	{ "certs.get", false, on_certs_get },
	{ "records.list", false, on_records_list },
	{ "records.check", false, on_records_check },
	{ "records.generate", false, on_records_generate },
	{ "renew", true, on_renew },
	{ "reload", true, on_reload },
	{ "account.show", false, on_account_show },
	{ "account.rollover", true, on_account_rollover },
	{ "account.deactivate", true, on_account_deactivate },
	{ "ca.probe", false, on_ca_probe },
	{ "events.subscribe", false, on_events_subscribe },
	{ "test.shift_time", true, on_test_shift_time },
};

const struct control_method *methods_table(const struct daemon *d, size_t *ret_n)
{
	/* test.shift_time is last: left out unless the clock may move. */
	*ret_n = ELEMENTSOF(methods) - (d->test_clock ? 0 : 1);
	return methods;
}
