/* daemon/method_lifecycle.c: see method_lifecycle.h. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/jrpc.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/acme/revoke.h"
#include "daemon/cert.h"
#include "daemon/certrevoke.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/method_lifecycle.h"
#include "daemon/renewal.h"
#include "daemon/statusdoc.h"
#include "daemon/store.h"

static void reply(struct control_call *call, struct json_writer *w)
{
	const char *out;
	size_t len;

	if (!w || json_writer_finish(w, &out, &len) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "building the reply failed", NULL);
		return;
	}
	control_call_reply(call, out, len);
}

static const char *param_name(struct control_call *call, yajl_val params)
{
	const char *name = params && YAJL_IS_OBJECT(params) ? json_get_string(params, "name")
							    : NULL;

	if (!name)
		control_call_error(call, JRPC_INVALID_PARAMS, "expected params {\"name\": CERT}",
				   NULL);
	return name;
}

static struct cert *configured_cert(struct daemon *d, struct control_call *call, const char *name)
{
	struct cert *c = daemon_find_cert(d, name);
	char msg[300];

	if (!c) {
		str_printf(msg, sizeof(msg), "no cert named '%s' in the configuration", name);
		control_call_error(call, JRPC_NOT_FOUND, msg, NULL);
	}
	return c;
}

/* ---- revoke ---- */

struct revoke_ctx {
	struct daemon *d;           /* borrowed */
	struct control_call *call;  /* answered exactly once, in on_revoked */
	char *name;                 /* owned: the cert may be gone when the CA answers */
	char *serial;               /* owned: the certificate revoked */
	const char *reason;         /* static (revoke.c's table) or NULL */
	bool replace;
};

static void revoke_ctx_free(struct revoke_ctx *x)
{
	free(x->name);
	free(x->serial);
	free(x);
}

/* params "reason": an RFC 5280 name as certbot takes it, or its number. */
static int reason_param(yajl_val params, int *ret_code, const char **ret_name)
{
	yajl_val v = yajl_tree_get(params, (const char *[]){ "reason", NULL }, yajl_t_any);
	int code = -1;

	if (!v || YAJL_IS_NULL(v)) {
		*ret_code = -1;
		*ret_name = NULL;
		return 0;
	}
	if (YAJL_IS_INTEGER(v))
		code = YAJL_GET_INTEGER(v) >= 0 && YAJL_GET_INTEGER(v) <= 10
			       ? (int)YAJL_GET_INTEGER(v) : -1;
	else if (YAJL_IS_STRING(v)) {
		const char *s = YAJL_GET_STRING(v);
		char *end;
		long n = strtol(s, &end, 10);
		code = *s && !*end ? (n >= 0 && n <= 10 ? (int)n : -1) : revoke_reason_from_string(s);
	}
	if (code < 0 || !revoke_reason_to_string(code))
		return -EINVAL;
	*ret_code = code;
	*ret_name = revoke_reason_to_string(code);
	return 0;
}

static void on_revoked(int r, const char *message, void *userdata)
{
	struct revoke_ctx *x = userdata;
	char msg[600];

	if (r < 0) {
		log_warning("cert '%s': revoking certificate %s failed: %s", x->name, x->serial,
			    message);
		str_printf(msg, sizeof(msg), "revoking cert '%s' (serial %s) failed: %s", x->name,
			   x->serial, message);
		control_call_error(x->call, JRPC_FAILED, msg, NULL);
		revoke_ctx_free(x);
		return;
	}
	log_info("cert '%s': certificate %s revoked (reason %s)", x->name, x->serial,
		 x->reason ? x->reason : "none given");
	/* A reload while the CA answered may have removed the cert: then there is
	 * nothing to record or replace. */
	struct cert *c = daemon_find_cert(x->d, x->name);
	if (c)
		certrevoke_note(c, x->serial, x->reason, daemon_now(x->d), x->replace);
	const struct state_cert *st = c ? cert_state(c) : NULL;
	struct json_writer *w = json_writer_new(false);
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "cert", x->name);
		json_kv_bool(w, "revoked", true);
		json_kv_string(w, "serial", x->serial);
		json_kv_string(w, "reason", x->reason);
		json_kv_string(w, "message", message);
		json_kv_bool(w, "configured", c != NULL);
		json_kv_bool(w, "replacing", c && x->replace);
		statusdoc_kv_time(w, "next_renewal", st && x->replace ? st->next_renewal : 0);
		json_end_object(w);
	}
	reply(x->call, w);
	json_writer_free(w);
	revoke_ctx_free(x);
}

void method_lifecycle_revoke(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	const char *name = param_name(call, params), *reason = NULL;
	char msg[400];
	int code, r;

	if (!name)
		return;
	if (reason_param(params, &code, &reason) < 0) {
		control_call_error(call, JRPC_INVALID_PARAMS,
				   "'reason': expected unspecified, keyCompromise, affiliationChanged, "
				   "superseded, cessationOfOperation (or another RFC 5280 reason, "
				   "by name or number)",
				   NULL);
		return;
	}
	struct cert *c = configured_cert(d, call, name);
	if (!c)
		return;
	const struct state_cert *st = cert_state(c);
	char serial[STATE_SERIAL_HEX_MAX];
	if (!st || !st->has_cert || !st->serial_len) {
		str_printf(msg, sizeof(msg), "cert '%s' has no certificate to revoke", name);
		control_call_error(call, JRPC_FAILED, msg, NULL);
		return;
	}
	struct revoke_ctx *x = calloc(1, sizeof(*x));
	if (!x || !(x->name = strdup(name)) || !(x->serial = strdup(state_cert_serial_hex(st, serial)))) {
		if (x)
			revoke_ctx_free(x);
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	x->d = d;
	x->call = call;
	x->reason = reason;
	x->replace = true;
	if (params && YAJL_IS_OBJECT(params))
		(void)json_get_bool(params, "replace", &x->replace);
	r = renewal_revoke(d, cert_get_ca(c), name, code, false, on_revoked, x);
	if (r < 0) {
		str_printf(msg, sizeof(msg), "cannot revoke cert '%s': %s", name,
			   r == -ENOENT ? "it has no certificate" : strerror(-r));
		control_call_error(call, JRPC_FAILED, msg, NULL);
		revoke_ctx_free(x);
	}
}

/* ---- renew.all ---- */

struct renew_one {
	struct renew_all *all;      /* borrowed: the batch */
	char *name;                 /* owned */
	int r;                      /* < 0 failed, 0 renewed, 1 not due */
	bool done;
	char *message;              /* owned */
	bool deploy_failed;
};

struct renew_all {
	struct control_call *call;
	struct renew_one *items;    /* owned array */
	size_t n_items;
	unsigned pending;           /* one for the starter, until everything started */
};

static void renew_all_done(struct renew_all *a)
{
	if (--a->pending > 0)
		return;
	struct json_writer *w = json_writer_new(false);
	bool ok = true;
	if (w) {
		json_begin_object(w);
		json_key(w, "results");
		json_begin_array(w);
		for (size_t i = 0; i < a->n_items; i++) {
			const struct renew_one *o = &a->items[i];
			bool good = o->r >= 0 && !o->deploy_failed;
			ok = ok && good;
			json_begin_object(w);
			json_kv_string(w, "cert", o->name);
			json_kv_bool(w, "ok", good);
			json_kv_bool(w, "renewed", o->r == 0);
			json_kv_bool(w, "due", o->r != 1);
			json_kv_bool(w, "deploy_failed", o->deploy_failed);
			json_kv_string(w, "message", o->message);
			json_end_object(w);
		}
		json_end_array(w);
		json_kv_bool(w, "ok", ok);
		json_end_object(w);
	}
	reply(a->call, w);
	json_writer_free(w);
	for (size_t i = 0; i < a->n_items; i++) {
		free(a->items[i].name);
		free(a->items[i].message);
	}
	free(a->items);
	free(a);
}

static void renew_one_set(struct renew_one *o, int r, const char *message)
{
	o->r = r;
	o->done = true;
	free(o->message);
	o->message = message ? strdup(message) : NULL;
}

static void on_one_renewed(struct cert *c, int r, const char *message, void *userdata)
{
	struct renew_one *o = userdata;
	const struct state_cert *st = cert_state(c);

	renew_one_set(o, r < 0 ? r : 0, message);
	o->deploy_failed = r >= 0 && st && st->deploy_failed &&
			   config_cert_opts(cert_get_config(c))->deploy_hook;
	renew_all_done(o->all);
}

void method_lifecycle_renew_all(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	bool force = false;

	if (params && YAJL_IS_OBJECT(params))
		(void)json_get_bool(params, "force", &force);
	struct renew_all *a = calloc(1, sizeof(*a));
	if (!a || !(a->items = calloc(d->n_certs ? d->n_certs : 1, sizeof(*a->items)))) {
		free(a);
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	a->call = call;
	a->pending = 1;
	a->n_items = d->n_certs;
	for (size_t i = 0; i < d->n_certs; i++) {
		struct renew_one *o = &a->items[i];
		struct cert *c = d->certs[i];
		char msg[300], why[200], when[40];
		o->all = a;
		o->name = strdup(cert_get_name(c));
		a->pending++;
		int r = cert_renew(c, force, on_one_renewed, o);
		if (r == 0)
			continue; /* on_one_renewed() comes */
		a->pending--;
		if (r == 1) {
			const struct state_cert *st = cert_state(c);
			time_format_iso(st ? st->next_renewal : 0, when, sizeof(when));
			str_printf(msg, sizeof(msg), "not due until %s", when);
		} else if (r == -EAGAIN && cert_renew_held(c, why, sizeof(why)))
			str_printf(msg, sizeof(msg), "not renewing now: %s", why);
		else
			str_printf(msg, sizeof(msg), "cannot start a renewal: %s",
				   r == -ESHUTDOWN ? "the daemon is stopping" : strerror(-r));
		renew_one_set(o, r, msg);
	}
	renew_all_done(a);
}

/* ---- certs.purge ---- */

void method_lifecycle_purge(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	const char *name = param_name(call, params);
	_cleanup_free_ char *path = NULL;
	char msg[PATH_MAX + 600];
	int r;

	if (!name)
		return;
	struct cert *c = daemon_find_cert(d, name);
	if (c) {
		const struct config_cert *cfg = cert_get_config(c);
		str_printf(msg, sizeof(msg),
			   "cert '%s' is still configured (%s:%u): remove it from the "
			   "configuration first (persistctl remove %s)",
			   name, cfg->file, cfg->line, name);
		control_call_error(call, JRPC_FAILED, msg, NULL);
		return;
	}
	if (!store_name_is_safe(name)) {
		str_printf(msg, sizeof(msg), "'%s' is not a cert name", name);
		control_call_error(call, JRPC_INVALID_PARAMS, msg, NULL);
		return;
	}
	if (asprintf(&path, "%s/certs/%s", store_get_dir(d->store), name) < 0) {
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	r = store_cert_purge(d->store, name);
	if (r == -ENOENT) {
		str_printf(msg, sizeof(msg), "nothing is stored for cert '%s' (no %s)", name, path);
		control_call_error(call, JRPC_NOT_FOUND, msg, NULL);
		return;
	}
	if (r < 0) {
		str_printf(msg, sizeof(msg), "deleting %s failed: %s", path, strerror(-r));
		log_error("cert '%s': %s", name, msg);
		control_call_error(call, JRPC_FAILED, msg, NULL);
		return;
	}
	log_info("cert '%s': deleted its files (%s)", name, path);
	struct json_writer *w = json_writer_new(false);
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "cert", name);
		json_kv_bool(w, "purged", true);
		json_kv_string(w, "path", path);
		json_end_object(w);
	}
	reply(call, w);
	json_writer_free(w);
}

/* ---- config.path ---- */

void method_lifecycle_config_path(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	struct json_writer *w = json_writer_new(false);
	/* Absolute, so that a persistctl in another directory finds the same
	 * file (the daemon never changes its directory: relative is from here). */
	_cleanup_free_ char *abs = realpath(d->config_path, NULL);

	(void)params;
	if (w) {
		json_begin_object(w);
		json_kv_string(w, "config_path", abs ? abs : d->config_path);
		json_kv_string(w, "state_dir", store_get_dir(d->store));
		json_end_object(w);
	}
	reply(call, w);
	json_writer_free(w);
}
