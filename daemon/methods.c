#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "daemon/method_lifecycle.h"
#include "daemon/methods.h"
#include "daemon/methods_dryrun.h"
#include "daemon/reload.h"
#include "daemon/statusdoc.h"
#include "daemon/statusquery.h"

static void reply_writer(struct control_call *call, struct json_writer *w)
{
	const char *out;
	size_t len;

	if (json_writer_finish(w, &out, &len) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "building the reply failed", NULL);
		return;
	}
	control_call_reply_trusted(call, out, len);
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

/* A status answer being made, a part at a time (control_call_reply_parts()). */
struct status_parts {
	struct daemon *d; /* borrowed: outlives the control socket's calls */
	struct statusdoc_query q;
	struct statusdoc_cursor cur;
	bool begun;
};

static bool status_part(struct json_writer *w, void *userdata)
{
	struct status_parts *p = userdata;

	if (!p->begun) {
		statusdoc_status_begin(p->d, w, &p->q, &p->cur);
		p->begun = true;
		p->q.only = NULL; /* written now; a reload may free it before the next part */
	}
	return statusdoc_status_more(p->d, w, &p->cur, CONTROL_PART_BYTES);
}

static void on_status(struct control_call *call, yajl_val params, void *userdata)
{
	struct status_parts *p = calloc(1, sizeof(*p));
	char msg[300];
	int code;

	if (!p) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	p->d = userdata;
	if (statusquery_parse(userdata, params, &p->q, &code, msg, sizeof(msg)) < 0) {
		free(p);
		control_call_error(call, code, msg, NULL);
		return;
	}
	control_call_reply_parts(call, status_part, p, free);
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
		statusdoc_write_cert(w, d, d->certs[i], false);
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
	statusdoc_write_cert(w, d, c, true);
	reply_writer(call, w);
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
	statusdoc_write_records(w, d, NULL);
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
	struct fanout *f = fanout_new(d, call, params, statusdoc_write_records);

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

/* The records.generate answer for every cert, from what is known now (no
 * network): daemon/httpd serves it at /api/records. */
void methods_write_records(struct daemon *d, struct json_writer *w)
{
	statusdoc_write_generated(w, d, NULL);
}

/* These two keep the names daemon/main.c calls; the documents are
 * daemon/statusdoc's. */
void daemon_status_line(const struct daemon *d, char *buf, size_t size)
{
	statusdoc_line(d, buf, size);
}

void methods_write_status(const struct daemon *d, struct json_writer *w)
{
	statusdoc_write_status(d, w);
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
	struct fanout *f = fanout_new(d, call, params, statusdoc_write_generated);

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
	statusdoc_kv_time(w, "not_after", st ? st->not_after : 0);
	/* The answer comes after the deploy hook: installed is not yet deployed. */
	json_key(w, "deploy");
	if (config_cert_opts(cert_get_config(c))->deploy_hook && st) {
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
	statusdoc_line(d, line, sizeof(line));
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
	{ "renew.dry_run", true, methods_dryrun },
	{ "reload", true, on_reload },
	{ "account.show", false, on_account_show },
	{ "account.rollover", true, on_account_rollover },
	{ "account.deactivate", true, on_account_deactivate },
	{ "revoke", true, method_lifecycle_revoke },
	{ "renew.all", true, method_lifecycle_renew_all },
	{ "certs.purge", true, method_lifecycle_purge },
	{ "config.path", false, method_lifecycle_config_path },
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
