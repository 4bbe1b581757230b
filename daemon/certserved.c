/* daemon/certserved.c: see certserved.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"
#include "daemon/certbase.h"
#include "daemon/certserved.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/served.h"
#include "daemon/store.h"

#define SERVED_DAILY_SEC SEC_PER_DAY
#define SERVED_JITTER_SEC 3600
#define SERVED_FIRST_MAX_SEC 10    /* after a start or a reload, for a few certs... */
#define SERVED_FIRST_PER_SEC 10    /* ...and for many: about this many probes a second */
#define SERVED_FIRST_CAP_SEC 600
#define SERVED_MAX_ARCHIVE 100     /* newest versions compared with a stale leaf */

struct certserved {
	struct cert *c;                 /* borrowed: the owner (c->served == this) */
	struct sched_item item;         /* the next probe */
	struct served_probe *probe;     /* in flight, or NULL */
	int64_t deployed_at;            /* the last deploy ended; 0: none since the start */
	bool checked;                   /* a probe has ended */
	int64_t checked_at;
	bool matches;
	bool stale;                     /* an old or expiring certificate is served */
	enum level level;
	enum level alerted_level;
	int64_t alerted_at;
	char *error;                    /* owned: why no certificate was seen, or NULL */
	char *reason;                   /* owned: the outcome in one line */
	char *served_serial;            /* owned or NULL */
	int64_t served_not_after;       /* 0: unknown */
	unsigned served_version;        /* the archive version served; 0: none of ours */
};

/* The section's check_served settings (config_cert_opts). */
static const struct config_cert_opts *served_opts(const struct cert *c)
{
	return config_cert_opts(c->cfg);
}

static void served_free(struct certserved *s)
{
	if (!s)
		return;
	free(s->error);
	free(s->reason);
	free(s->served_serial);
	free(s);
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
}

/* Is `der` the leaf of one of the newest local archive versions? Which one, or 0. */
static unsigned archive_version_of(struct cert *c, const uint8_t *der, size_t len)
{
	_cleanup_free_ unsigned *v = NULL;
	size_t n;

	if (store_cert_versions(c->d->store, c->cfg->name, &v, &n) < 0)
		return 0;
	for (size_t i = n; i > 0 && n - i < SERVED_MAX_ARCHIVE; i--) {
		_cleanup_free_ char *pem = NULL;
		_cleanup_free_ uint8_t *vder = NULL;
		size_t pem_len, vlen;
		if (store_cert_load_version(c->d->store, c->cfg->name, v[i - 1], &pem,
					    &pem_len) < 0 ||
		    x509_leaf_der(pem, pem_len, &vder, &vlen) < 0)
			continue;
		if (vlen == len && memcmp(vder, der, len) == 0)
			return v[i - 1];
	}
	return 0;
}

/* The served leaf's serial and notAfter; false when mbedTLS cannot parse it. */
static bool leaf_facts(const uint8_t *der, size_t len, char *serial, size_t size,
		       int64_t *ret_not_after)
{
	mbedtls_x509_crt crt;
	bool ok = false;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_der(&crt, der, len) == 0 &&
	    x509_time_to_unix(&crt.valid_to, ret_not_after) == 0) {
		size_t k = 0;
		while (k + 1 < crt.serial.len && crt.serial.p[k] == 0)
			k++;
		/* As much of it as fits in size (a message, not an identity). */
		str_hex_encode(crt.serial.p + k, MIN(crt.serial.len - k, (size - 1) / 2), serial);
		ok = true;
	}
	mbedtls_x509_crt_free(&crt);
	return ok;
}

static void schedule(struct certserved *s, int64_t at)
{
	if (sched_at(s->c->d->sched, &s->item, at) < 0)
		log_warning("cert '%s': cannot schedule the check_served probe: %s, ignoring",
			    s->c->cfg->name, strerror(ENOMEM));
}

static void alert_if_due(struct certserved *s, int64_t now)
{
	struct cert *c = s->c;
	bool changed = s->level != s->alerted_level;
	bool remind = !changed && s->level != LEVEL_OK &&
		      now - s->alerted_at >= SERVED_DAILY_SEC - SERVED_JITTER_SEC;

	if (!changed && !remind)
		return;
	if (s->level == LEVEL_OK) {
		log_notice("cert '%s': %s:%u serves the current certificate again", c->cfg->name,
			   served_opts(c)->check_served_host,
			   served_opts(c)->check_served_port);
	} else {
		char message[700];
		str_printf(message, sizeof(message), "%s: %s", c->cfg->name, s->reason);
		struct alert a = {
			.kind = ALERT_CERT_SERVED_STALE,
			.level = s->level,
			.cert = c->cfg->name,
			.status = "SERVED_STALE",
			.has_until = s->served_not_after > 0,
			.until = s->served_not_after,
			.now = now,
			.message = message,
			.reason = s->reason,
			.reminder = remind,
		};
		certbase_emit(c, &a);
	}
	s->alerted_level = s->level;
	s->alerted_at = now;
}

/* What the served leaf means, against the current version's. */
static void judge(struct certserved *s, const uint8_t *der, size_t len, int64_t now)
{
	struct cert *c = s->c;
	const struct config_daemon *dc = &c->d->config->daemon;
	const struct state_cert *st = cert_state(c);
	_cleanup_free_ char *pem = NULL;
	_cleanup_free_ uint8_t *current = NULL;
	size_t pem_len, current_len = 0;
	char serial[80] = "", until[40] = "", why[600];

	if (store_cert_load_current(c->d->store, c->cfg->name, &pem, &pem_len) == 0)
		(void)x509_leaf_der(pem, pem_len, &current, &current_len);
	s->matches = current && current_len == len && memcmp(current, der, len) == 0;
	s->served_version = s->matches && st ? st->version : archive_version_of(c, der, len);
	s->served_not_after = 0;
	if (leaf_facts(der, len, serial, sizeof(serial), &s->served_not_after))
		time_format_iso(s->served_not_after, until, sizeof(until));
	set_str(&s->served_serial, serial[0] ? serial : NULL);
	s->stale = false;
	s->level = LEVEL_OK;
	if (s->matches) {
		str_printf(why, sizeof(why), "%s:%u serves the current certificate (version %u)",
			   served_opts(c)->check_served_host,
			   served_opts(c)->check_served_port, s->served_version);
		set_str(&s->reason, why);
		return;
	}
	int64_t left = s->served_not_after - now;
	bool old = s->served_version != 0;
	bool expiring = s->served_not_after > 0 && left < (int64_t)(dc->warn_before_ms / 1000);
	char what[200];
	if (old)
		str_printf(what, sizeof(what), "the old version %u (serial %s, valid until %s)",
			   s->served_version, serial, until);
	else
		str_printf(what, sizeof(what), "a certificate that is not the current one "
					       "(serial %s, valid until %s)", serial[0] ? serial : "unknown",
			   until[0] ? until : "unknown");
	if (!old && !expiring) {
		str_printf(why, sizeof(why), "%s:%u serves %s", served_opts(c)->check_served_host,
			   served_opts(c)->check_served_port, what);
		set_str(&s->reason, why);
		return;
	}
	s->stale = true;
	int64_t grace_end =
		s->deployed_at + (int64_t)(served_opts(c)->check_served_grace_ms / 1000);
	if (s->deployed_at > 0 && now < grace_end) {
		str_printf(why, sizeof(why), "%s:%u still serves %s; within check_served_grace of "
					     "the deploy, checked again then",
			   served_opts(c)->check_served_host,
			   served_opts(c)->check_served_port, what);
		set_str(&s->reason, why);
		schedule(s, grace_end);
		return;
	}
	bool bad = left <= 0 || left < (int64_t)(dc->critical_before_ms / 1000);
	s->level = bad ? LEVEL_ERROR : LEVEL_WARNING;
	str_printf(why, sizeof(why), "%s:%u serves %s instead of the current version %u%s; "
				     "reload or restart the service that serves it",
		   served_opts(c)->check_served_host,
		   served_opts(c)->check_served_port, what,
		   st ? st->version : 0,
		   left <= 0 ? ", which has EXPIRED" : bad ? ", which expires within critical_before" : "");
	set_str(&s->reason, why);
}

static void on_probe_done(int r, const uint8_t *der, size_t len, const char *error,
			  void *userdata)
{
	struct certserved *s = userdata;
	struct cert *c = s->c;
	int64_t now = daemon_now(c->d);

	s->probe = NULL;
	s->checked = true;
	s->checked_at = now;
	/* The next daily probe; judge() may move it sooner (the grace's end). */
	schedule(s, now + certbase_random_between(SERVED_DAILY_SEC - SERVED_JITTER_SEC,
						  SERVED_DAILY_SEC));
	if (r < 0) {
		if (!s->error || !streq(s->error, error))
			log_warning("cert '%s': check_served: %s", c->cfg->name, error);
		set_str(&s->error, error);
		set_str(&s->reason, error);
		set_str(&s->served_serial, NULL);
		s->matches = s->stale = false;
		s->served_version = 0;
		s->served_not_after = 0;
		s->level = LEVEL_OK;
	} else {
		set_str(&s->error, NULL);
		judge(s, der, len, now);
		log_debug("cert '%s': check_served: %s", c->cfg->name, s->reason);
	}
	alert_if_due(s, now); /* nothing of it is in the state: it is probed again at start */
}

static void on_probe_due(struct sched_item *it)
{
	struct certserved *s = container_of(it, struct certserved, item);
	struct cert *c = s->c;
	const struct config_cert *cfg = c->cfg;
	_cleanup_free_ char *sni = NULL;
	int r;

	if (s->probe)
		return;
	if (served_opts(c)->check_served_sni)
		sni = strdup(served_opts(c)->check_served_sni);
	else if (cfg->n_names > 0)
		sni = strdup(str_has_prefix(cfg->names[0], "*.") ? cfg->names[0] + 2 : cfg->names[0]);
	r = served_probe_start(c->d->loop, served_opts(c)->check_served_host,
			       served_opts(c)->check_served_port, sni, SERVED_TIMEOUT_MS, on_probe_done,
			       s, &s->probe);
	if (r < 0) {
		log_warning("cert '%s': cannot start the check_served probe: %s, ignoring",
			    c->cfg->name, strerror(-r));
		schedule(s, daemon_now(c->d) + 3600);
	}
}

void certserved_start(struct cert *c)
{
	if (!served_opts(c)->check_served_host) {
		certserved_stop(c);
		return;
	}
	if (!c->served) {
		c->served = calloc(1, sizeof(*c->served));
		if (!c->served) {
			log_warning("cert '%s': no memory for check_served, ignoring",
				    c->cfg->name);
			return;
		}
		c->served->c = c;
		sched_item_init(&c->served->item, on_probe_due);
	}
	/* A reload may have changed HOST:PORT (or the server was fixed): ask afresh. */
	served_probe_cancel(c->served->probe);
	c->served->probe = NULL;
	/* Thousands of certs must not all shake hands at once after a start. */
	int64_t window = MIN(MAX((int64_t)(c->d->n_certs / SERVED_FIRST_PER_SEC),
				 (int64_t)SERVED_FIRST_MAX_SEC),
			     (int64_t)SERVED_FIRST_CAP_SEC);
	schedule(c->served, daemon_now(c->d) + certbase_random_between(1, window));
}

void certserved_deployed(struct cert *c)
{
	struct certserved *s = c->served;
	int64_t now = daemon_now(c->d);

	if (!s)
		return;
	s->deployed_at = now;
	schedule(s, now + (int64_t)(served_opts(c)->check_served_grace_ms / 1000));
}

void certserved_stop(struct cert *c)
{
	struct certserved *s = c->served;

	if (!s)
		return;
	sched_cancel(c->d->sched, &s->item);
	served_probe_cancel(s->probe);
	served_free(s);
	c->served = NULL;
}

enum level certserved_level(const struct cert *c)
{
	return c->served ? c->served->level : LEVEL_OK;
}

bool certserved_last(const struct cert *c, bool *ret_matches, int64_t *ret_checked_at)
{
	if (!c->served || !c->served->checked)
		return false;
	*ret_matches = c->served->matches;
	*ret_checked_at = c->served->checked_at;
	return true;
}

static void kv_time(struct json_writer *w, const char *key, const char *iso_key, int64_t t)
{
	char iso[40];

	json_key(w, key);
	if (t <= 0) {
		json_null(w);
		json_kv_string(w, iso_key, NULL);
		return;
	}
	json_int(w, t);
	time_format_iso(t, iso, sizeof(iso));
	json_kv_string(w, iso_key, iso);
}

void certserved_write_json(struct json_writer *w, const struct cert *c)
{
	const struct certserved *s = c->served;

	json_key(w, "served");
	if (!s) {
		json_null(w);
		return;
	}
	char target[300];
	str_printf(target, sizeof(target), "%s:%u", served_opts(c)->check_served_host,
		   served_opts(c)->check_served_port);
	json_begin_object(w);
	json_kv_string(w, "target", target);
	json_kv_bool(w, "checked", s->checked);
	kv_time(w, "checked_at", "checked_at_iso", s->checked ? s->checked_at : 0);
	json_kv_string(w, "level", level_to_string(s->level));
	json_key(w, "matches");
	if (s->checked && !s->error)
		json_bool(w, s->matches);
	else
		json_null(w);
	json_kv_bool(w, "stale", s->stale);
	json_kv_string(w, "reason", s->reason);
	json_kv_string(w, "error", s->error);
	json_kv_string(w, "serial", s->served_serial);
	kv_time(w, "not_after", "not_after_iso", s->served_not_after);
	json_key(w, "version");
	if (s->served_version)
		json_int(w, s->served_version);
	else
		json_null(w);
	kv_time(w, "next_check", "next_check_iso", sched_item_pending(&s->item) ? s->item.due : 0);
	json_end_object(w);
}
