/* daemon/configcheck.c: see configcheck.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/listen.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/configcheck.h"
#include "daemon/fleetconfig.h"

static void print_errors(const struct config_errors *errs, const char *prefix)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct config_error *e = &errs->items[i];
		if (e->line)
			fprintf(stderr, "%s%s:%u: %s\n", prefix, e->file ? e->file : "?", e->line,
				e->message);
		else
			fprintf(stderr, "%s%s: %s\n", prefix, e->file ? e->file : "config",
				e->message);
	}
	if (errs->dropped)
		fprintf(stderr, "%s... and %zu more errors\n", prefix, errs->dropped);
}

static void print_summary(const struct config *c)
{
	const struct config_daemon *d = &c->daemon;
	char recheck[32], warn[32], crit[32];
	size_t names = 0, wildcards = 0, persist = 0;

	time_format_duration(d->recheck_interval_ms, recheck, sizeof(recheck));
	time_format_duration(d->warn_before_ms, warn, sizeof(warn));
	time_format_duration(d->critical_before_ms, crit, sizeof(crit));
	printf("persistd: configuration %s is valid\n", c->files[0]);
	printf("  files      %zu\n", c->n_files);
	for (size_t i = 0; i < c->n_files; i++)
		printf("             %s\n", c->files[i]);
	printf("  state      %s\n  socket     %s (admin group %s)\n", d->state_dir,
	       d->control_socket, d->admin_group);
	struct listen_addr la;
	bool exposed = d->http_listen && listen_addr_parse(d->http_listen, &la, NULL, 0) == 0 &&
		       !la.is_loopback;
	printf("  http       %s%s\n", d->http_listen ? d->http_listen : "off",
	       exposed ? " (not loopback: readable from the network, no authentication)" : "");
	printf("  rechecks   every %s; warn %s and critical %s before persistUntil\n", recheck,
	       warn, crit);
	if (d->n_resolvers) {
		_cleanup_free_ char *list = str_join((const char *const *)d->resolvers,
						     d->n_resolvers, ", ");
		printf("  resolver   %s\n", list ? list : "?");
	} else {
		printf("  resolver   system (/etc/resolv.conf)\n");
	}
	printf("  CAs        %zu\n", c->n_cas);
	for (size_t i = 0; i < c->n_cas; i++)
		printf("             %-14s %s (accounturi: %s)\n", c->cas[i]->name,
		       c->cas[i]->directory, config_uri_mode_to_string(c->cas[i]->uri_mode));
	for (size_t i = 0; i < c->n_certs; i++) {
		names += c->certs[i]->n_names;
		persist += c->certs[i]->challenge == CHALLENGE_DNS_PERSIST_01;
		for (size_t k = 0; k < c->certs[i]->n_names; k++)
			wildcards += str_has_prefix(c->certs[i]->names[k], "*.");
	}
	printf("  certs      %zu (%zu dns-persist-01, %zu dns-01), %zu names, %zu wildcard\n",
	       c->n_certs, persist, c->n_certs - persist, names, wildcards);
	for (size_t i = 0; i < c->n_certs && i < 50; i++) {
		const struct config_cert *cert = c->certs[i];
		_cleanup_free_ char *list = str_join((const char *const *)cert->names, cert->n_names,
						     ", ");
		char until[48] = "";
		if (cert->has_persist_until) {
			char iso[32];
			time_format_iso(cert->persist_until, iso, sizeof(iso));
			str_printf(until, sizeof(until), "  persistUntil %s", iso);
		}
		printf("             %-14s %-12s %-15s %s%s\n", cert->name, cert->ca_name,
		       challenge_type_to_string(cert->challenge), list ? list : "?", until);
	}
	if (c->n_certs > 50)
		printf("             ... and %zu more\n", c->n_certs - 50);
}

int configcheck_load(const char *path, struct config **ret)
{
	struct config_errors errs = { 0 };
	int r;

	r = config_load(path, ret, &errs);
	if (r < 0) {
		print_errors(&errs, "persistd: ");
		if (errs.n == 0)
			fprintf(stderr, "persistd: %s: %s\n", path, strerror(-r));
		fprintf(stderr, "persistd: configuration %s is NOT valid (%zu error%s)\n", path,
			errs.n + errs.dropped, errs.n + errs.dropped == 1 ? "" : "s");
	}
	config_errors_done(&errs);
	return r;
}

int configcheck_fleet(const struct config *c, const char *path)
{
	unsigned line = 0;
	char why[1024];

	if (fleet_check_config(c, why, sizeof(why), &line) == 0)
		return 0;
	if (line)
		fprintf(stderr, "persistd: %s:%u: %s\n", c->n_files ? c->files[0] : path, line, why);
	else
		fprintf(stderr, "persistd: %s: %s\n", path, why);
	fprintf(stderr, "persistd: configuration %s is NOT valid (1 error)\n", path);
	return -EINVAL;
}

int configcheck_run(const char *path)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;

	if (configcheck_load(path, &c) < 0)
		return 1;
	/* Valid syntax is not enough: what would fail at run time fails here. */
	if (config_check_runtime(c, (int64_t)time(NULL), &errs) < 0) {
		print_errors(&errs, "persistd: ");
		fprintf(stderr, "persistd: configuration %s is NOT valid (%zu error%s)\n", path,
			errs.n + errs.dropped, errs.n + errs.dropped == 1 ? "" : "s");
		config_errors_done(&errs);
		config_free(c);
		return 1;
	}
	config_errors_done(&errs);
	if (configcheck_fleet(c, path) < 0) {
		config_free(c);
		return 1;
	}
	print_summary(c);
	config_free(c);
	return 0;
}
