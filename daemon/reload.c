#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <systemd/sd-daemon.h>

#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/daemon.h"
#include "daemon/heaptrim.h"
#include "daemon/log.h"
#include "daemon/reload.h"

/* The new set a reload builds before it touches the running one. */
struct next_set {
	struct config *config;      /* owned until the swap */
	struct ca **cas;            /* owned array; entries owned unless reused */
	bool *ca_reused;            /* cas[i] is a running CA */
	size_t n_cas;
	struct cert **certs;        /* owned array; entries owned unless reused */
	bool *cert_reused;          /* certs[i] is a running cert, staged */
	size_t n_certs;
	/* About the running certs, d->certs[k]: looked up by name through a
	 * sorted index, since ten thousand certs make a scan per cert slow. */
	struct by_name *old_index;  /* owned, sorted by name */
	bool *old_kept;             /* reused as is */
	struct cert **old_moved;    /* borrowed: its successor under another CA, or NULL */
};

struct by_name {
	const char *name;           /* borrowed from the cert */
	size_t k;                   /* index into d->certs */
};

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct by_name *)a)->name, ((const struct by_name *)b)->name);
}

/* The index into d->certs of the running cert called name, or -1. */
static ssize_t old_cert_index(const struct next_set *n, size_t n_old, const char *name)
{
	const struct by_name key = { name, 0 };
	const struct by_name *hit = bsearch(&key, n->old_index, n_old, sizeof(key), by_name_cmp);

	return hit ? (ssize_t)hit->k : -1;
}

static void next_set_abandon(struct daemon *d, struct next_set *n)
{
	for (size_t i = 0; i < n->n_certs; i++) {
		if (n->cert_reused[i])
			cert_unstage_config(n->certs[i]);
		else
			cert_free(n->certs[i]);
	}
	for (size_t i = 0; i < n->n_cas; i++)
		if (!n->ca_reused[i])
			ca_free(n->cas[i]);
	free(n->certs);
	free(n->cert_reused);
	free(n->old_index);
	free(n->old_kept);
	free(n->old_moved);
	free(n->cas);
	free(n->ca_reused);
	config_free(n->config);
	*n = (struct next_set){ 0 };
	/* cert_new() made state entries for certs that do not come to be. */
	_cleanup_free_ const char **keep = calloc(d->n_certs ? d->n_certs : 1, sizeof(*keep));
	if (keep) {
		for (size_t i = 0; i < d->n_certs; i++)
			keep[i] = cert_get_name(d->certs[i]);
		state_retain_certs(d->state, keep, d->n_certs);
	}
}

static bool same_strv(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!streq(a[i], b[i]))
			return false;
	return true;
}

static bool dns_settings_changed(const struct config_daemon *a, const struct config_daemon *b)
{
	return !streq_ptr(a->trust_anchor, b->trust_anchor) || a->trust_ad != b->trust_ad ||
	       a->trust_ad_remote != b->trust_ad_remote || a->dns_unbound != b->dns_unbound ||
	       !same_strv(a->resolvers, a->n_resolvers, b->resolvers, b->n_resolvers) ||
	       a->dns_timeout_ms != b->dns_timeout_ms || a->dns_max_inflight != b->dns_max_inflight;
}

/* The [daemon] settings a running daemon cannot change, comma-separated, or
 * "" when none of them changed. */
static void restart_settings(const struct config_daemon *a, const struct config_daemon *b,
			     char *buf, size_t size)
{
	const struct {
		const char *name;
		bool changed;
	} keys[] = {
		{ "state_dir", !streq(a->state_dir, b->state_dir) },
		{ "control_socket", !streq(a->control_socket, b->control_socket) },
		{ "admin_group", !streq(a->admin_group, b->admin_group) },
		/* The HTTP listener keeps its socket: rebinding on reload could lose
		 * the address to another process. */
		{ "http_listen", !streq_ptr(a->http_listen, b->http_listen) },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (keys[i].changed && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
						keys[i].name);
}

/* The same CA: same name, directory and trust roots, so its connection,
 * account and everything in flight on it stay valid. */
static struct ca *reusable_ca(const struct daemon *d, const struct config_ca *cfg)
{
	struct ca *old = daemon_find_ca(d, cfg->name);

	if (old && streq(ca_get_config(old)->directory, cfg->directory) &&
	    streq_ptr(ca_get_config(old)->ca_bundle, cfg->ca_bundle))
		return old;
	return NULL;
}

static int build_next(struct daemon *d, struct next_set *n, char *why, size_t why_size)
{
	const struct config *next = n->config;
	int r;

	n->cas = calloc(next->n_cas ? next->n_cas : 1, sizeof(*n->cas));
	n->ca_reused = calloc(next->n_cas ? next->n_cas : 1, sizeof(*n->ca_reused));
	n->certs = calloc(next->n_certs ? next->n_certs : 1, sizeof(*n->certs));
	n->cert_reused = calloc(next->n_certs ? next->n_certs : 1, sizeof(*n->cert_reused));
	n->old_index = calloc(d->n_certs ? d->n_certs : 1, sizeof(*n->old_index));
	n->old_kept = calloc(d->n_certs ? d->n_certs : 1, sizeof(*n->old_kept));
	n->old_moved = calloc(d->n_certs ? d->n_certs : 1, sizeof(*n->old_moved));
	if (!n->cas || !n->ca_reused || !n->certs || !n->cert_reused || !n->old_index ||
	    !n->old_kept || !n->old_moved) {
		str_printf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	for (size_t k = 0; k < d->n_certs; k++)
		n->old_index[k] = (struct by_name){ cert_get_name(d->certs[k]), k };
	qsort(n->old_index, d->n_certs, sizeof(*n->old_index), by_name_cmp);
	for (size_t i = 0; i < next->n_cas; i++) {
		struct ca *old = reusable_ca(d, next->cas[i]);
		if (old) {
			n->cas[i] = old;
			n->ca_reused[i] = true;
		} else {
			r = ca_new(d, next->cas[i], &n->cas[i]);
			if (r < 0) {
				str_printf(why, why_size, "CA '%s': %s", next->cas[i]->name,
					   strerror(-r));
				return r;
			}
		}
		n->n_cas++;
	}
	for (size_t i = 0; i < next->n_certs; i++) {
		const struct config_cert *cfg = next->certs[i];
		struct ca *ca = NULL;
		for (size_t k = 0; k < n->n_cas && !ca; k++)
			if (streq(next->cas[k]->name, cfg->ca_name))
				ca = n->cas[k];
		/* config_finish() resolved every cert's CA: this is a bug, not input. */
		assert(ca);
		ssize_t k = old_cert_index(n, d->n_certs, cfg->name);
		struct cert *old = k >= 0 ? d->certs[k] : NULL;
		if (old && cert_get_ca(old) == ca) {
			r = cert_stage_config(old, cfg);
			if (r >= 0) {
				n->certs[n->n_certs] = old;
				n->cert_reused[n->n_certs] = true;
				n->old_kept[k] = true;
			}
		} else {
			/* New, or under another CA: a fresh cert against the new CA. */
			r = cert_new(d, cfg, ca, &n->certs[n->n_certs]);
			if (r >= 0 && old)
				n->old_moved[k] = n->certs[n->n_certs];
		}
		if (r < 0) {
			str_printf(why, why_size, "cert '%s': %s", cfg->name, strerror(-r));
			return r;
		}
		n->n_certs++;
	}
	return 0;
}

static bool in_next_cas(const struct next_set *n, const struct ca *ca)
{
	for (size_t i = 0; i < n->n_cas; i++)
		if (n->cas[i] == ca)
			return true;
	return false;
}

/* ---- the DNS checker ---- */

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_dns_retire_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	size_t kept = 0;

	for (size_t i = 0; i < d->n_dns_retired; i++) {
		if (dnscheck_pending(d->dns_retired[i]) > 0) {
			d->dns_retired[kept++] = d->dns_retired[i];
			continue;
		}
		dnscheck_free(d->dns_retired[i]);
		log_info("a DNS checker of earlier resolver settings is idle and gone");
	}
	d->n_dns_retired = kept;
	/* Stopped, not closed: a reload later in this loop iteration may start it
	 * again, which a closing handle does not allow. */
	if (kept == 0)
		(void)uv_timer_stop(t);
}

/* New lookups go to the new checker at once; the old one answers what it
 * has in flight (order prechecks and record checks hold no pointer to it,
 * and each waits for its answer: none may be dropped) and is freed once
 * idle. Cannot fail: the caller made room in d->dns_retired first
 * (reserve_retired_slot), before anything was swapped. */
static void retire_dns(struct daemon *d, struct dnscheck *next)
{
	struct dnscheck *old = d->dns;

	d->dns = next;
	if (dnscheck_pending(old) == 0) {
		dnscheck_free(old);
		return;
	}
	d->dns_retired[d->n_dns_retired++] = old;
	if (!d->dns_retire_timer_init) {
		(void)uv_timer_init(d->loop, &d->dns_retire_timer);
		d->dns_retire_timer.data = d;
		d->dns_retire_timer_init = true;
	}
	if (!uv_is_active((uv_handle_t *)&d->dns_retire_timer))
		(void)uv_timer_start(&d->dns_retire_timer, on_dns_retire_timer, 200, 200);
}

static int reserve_retired_slot(struct daemon *d)
{
	struct dnscheck **a = realloc(d->dns_retired, (d->n_dns_retired + 1) * sizeof(*a));

	if (!a)
		return -ENOMEM;
	d->dns_retired = a;
	return 0;
}

void daemon_reload_done(struct daemon *d)
{
	for (size_t i = 0; i < d->n_dns_retired; i++)
		dnscheck_free(d->dns_retired[i]);
	free(d->dns_retired);
	d->dns_retired = NULL;
	d->n_dns_retired = 0;
	if (d->dns_retire_timer_init) {
		d->dns_retire_timer_init = false;
		uv_close((uv_handle_t *)&d->dns_retire_timer, on_handle_closed);
	}
	free(d->reload_error_file);
	d->reload_error_file = NULL;
	free(d->reload_error);
	d->reload_error = NULL;
}

void daemon_reload_check_runtime(struct daemon *d)
{
	struct config_errors errs = { 0 };

	if (config_check_runtime(d->config, daemon_now(d), &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_warning("%s:%u: %s (persistd -t calls this an error), ignoring",
				    errs.items[i].file ? errs.items[i].file : "?", errs.items[i].line,
				    errs.items[i].message);
	}
	config_errors_done(&errs);
}

/* ---- failure ---- */

static int reload_failed(struct daemon *d, const char *file, unsigned line, const char *msg,
			 char **ret_message)
{
	free(d->reload_error_file);
	free(d->reload_error);
	d->reload_failed_at = daemon_now(d);
	d->reload_error_file = file ? strdup(file) : NULL;
	d->reload_error_line = line;
	d->reload_error = strdup(msg);
	log_error("reload of %s failed, keeping the old configuration: %s", d->config_path, msg);
	*ret_message = strdup(msg);
	return -EINVAL;
}

int daemon_reload(struct daemon *d, char **ret_message)
{
	struct config_errors errs = { 0 };
	struct next_set n = { 0 };
	char why[512], restart[128];
	int r;

	(void)sd_notify(0, "RELOADING=1");
	r = config_load(d->config_path, &n.config, &errs);
	if (r < 0) {
		_cleanup_free_ char *all = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&all, &len);
		if (f) {
			for (size_t i = 0; i < errs.n; i++)
				fprintf(f, "%s%s:%u: %s", i ? "; " : "",
					errs.items[i].file ? errs.items[i].file : "?",
					errs.items[i].line, errs.items[i].message);
			if (errs.n == 0)
				fprintf(f, "%s: %s", d->config_path, strerror(-r));
			if (errs.dropped)
				fprintf(f, "; ... and %zu more errors", errs.dropped);
			fclose(f);
		}
		r = reload_failed(d, errs.n ? errs.items[0].file : d->config_path,
				  errs.n ? errs.items[0].line : 0, all ? all : "cannot read the configuration",
				  ret_message);
		config_errors_done(&errs);
		return r;
	}
	config_errors_done(&errs);

	const struct config_daemon *a = &d->config->daemon, *b = &n.config->daemon;
	struct dnscheck *next_dns = NULL;
	if (dns_settings_changed(a, b)) {
		struct dnscheck_options o = {
			.resolvers = (const char *const *)b->resolvers,
			.n_resolvers = b->n_resolvers,
			.trust_anchor_file = b->trust_anchor,
			.no_dnssec = !b->trust_anchor,
			.trust_ad = b->trust_ad,
			.trust_ad_remote = b->trust_ad_remote,
			.unbound = b->dns_unbound,
			.timeout_ms = b->dns_timeout_ms,
			.max_inflight = b->dns_max_inflight,
		};
		r = reserve_retired_slot(d);
		if (r == 0)
			r = dnscheck_new(d->loop, &o, &next_dns);
		if (r < 0) {
			str_printf(why, sizeof(why),
				   "the new resolver settings do not work (resolver, trust_anchor "
				   "%s): %s",
				   b->trust_anchor ? b->trust_anchor : "none", strerror(-r));
			config_free(n.config);
			return reload_failed(d, d->config_path, 0, why, ret_message);
		}
	}
	r = build_next(d, &n, why, sizeof(why));
	if (r < 0) {
		dnscheck_free(next_dns);
		next_set_abandon(d, &n);
		return reload_failed(d, d->config_path, 0, why, ret_message);
	}

	/* ---- the swap: nothing below can fail ---- */
	restart_settings(a, b, restart, sizeof(restart));
	if (restart[0])
		log_warning("reload: %s changed; these take effect at the next restart, ignoring",
			    restart);
	log_set_max_level(b->log_level);
	if (next_dns) {
		retire_dns(d, next_dns);
		log_notice("reload: new resolver settings applied");
	}
	/* Certs that go, or move to another CA: stopped (waiters answered) while
	 * their CA still exists, then freed. */
	size_t n_removed = 0, n_new = 0;
	for (size_t k = 0; k < d->n_certs; k++)
		if (!n.old_kept[k])
			cert_stop(d->certs[k]);
	for (size_t i = 0; i < n.n_certs; i++)
		if (!n.cert_reused[i] && old_cert_index(&n, d->n_certs, cert_get_name(n.certs[i])) < 0)
			n_new++;
	struct cert **old_certs = d->certs;
	size_t n_old_certs = d->n_certs;
	struct ca **old_cas = d->cas;
	size_t n_old_cas = d->n_cas;
	struct config *old_config = d->config;
	d->certs = n.certs;
	d->n_certs = n.n_certs;
	d->cas = n.cas;
	d->n_cas = n.n_cas;
	d->config = n.config;
	for (size_t i = 0; i < n.n_cas; i++)
		if (n.ca_reused[i])
			ca_set_config(n.cas[i], n.config->cas[i]);
	for (size_t k = 0; k < n_old_certs; k++) {
		struct cert *c = old_certs[k];
		if (n.old_kept[k])
			continue;
		struct cert *moved = n.old_moved[k];
		if (moved) {
			/* Under another CA: an order in flight and the ARI window were
			 * the old CA's; the new one starts afresh. */
			struct state_cert *st = cert_state(moved);
			log_notice("cert '%s' moved to CA '%s'", cert_get_name(c),
				   ca_get_name(cert_get_ca(moved)));
			if (st && st->orders) {
				(void)state_set_str(&st->orders->order_url, NULL);
				(void)state_set_str(&st->orders->order_replaces, NULL);
			}
			if (st)
				st->ari_start = st->ari_end = st->ari_next_fetch = 0;
		} else {
			n_removed++;
		}
		cert_free(c);
	}
	for (size_t i = 0; i < n.n_certs; i++)
		if (n.cert_reused[i])
			(void)cert_set_config(n.certs[i], n.config->certs[i], cert_get_ca(n.certs[i]));
	free(old_certs);
	for (size_t i = 0; i < n_old_cas; i++)
		if (!in_next_cas(&n, old_cas[i])) {
			log_notice("CA '%s' removed", ca_get_name(old_cas[i]));
			ca_free(old_cas[i]);
		}
	free(old_cas);
	config_free(old_config);
	free(n.ca_reused);
	free(n.cert_reused);
	free(n.old_index);
	free(n.old_kept);
	free(n.old_moved);

	_cleanup_free_ const char **keep = calloc(d->n_certs ? d->n_certs : 1, sizeof(*keep));
	if (keep) {
		for (size_t i = 0; i < d->n_certs; i++)
			keep[i] = cert_get_name(d->certs[i]);
		state_retain_certs(d->state, keep, d->n_certs);
	}
	for (size_t i = 0; i < d->n_certs; i++)
		(void)cert_start(d->certs[i]);
	heaptrim_release(); /* the old config and what building the new one freed */
	daemon_state_changed(d);
	daemon_reload_check_runtime(d);

	d->reload_failed_at = 0;
	free(d->reload_error_file);
	d->reload_error_file = NULL;
	d->reload_error_line = 0;
	free(d->reload_error);
	d->reload_error = NULL;

	char *message = NULL;
	if (asprintf(&message, "configuration reloaded: %zu certs (%zu new, %zu removed)%s%s%s",
		     d->n_certs, n_new, n_removed, restart[0] ? "; needs a restart to apply: " : "",
		     restart, next_dns ? "; new resolver settings applied" : "") < 0)
		message = NULL;
	log_notice("%s", message ? message : "configuration reloaded");
	*ret_message = message;
	return 0;
}
