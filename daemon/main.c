/* persistd: the certificate renewal daemon. main() parses the command line
 * and runs one mode: --check-config (validate and summarize, like nginx -t). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/strutil.h"
#include "common/timeutil.h"

#define EXIT_USAGE 2

static const char help[] =
	"Usage: persistd [-c FILE] [--check-config] [--help] [--version]\n"
	"\n"
	"Keeps TLS certificates renewed with the ACME dns-persist-01 challenge.\n"
	"  -c, --config FILE   main configuration (default " CONFIG_DEFAULT_PATH ");\n"
	"                      drop-ins are read from certs.d/ next to it\n"
	"  -t, --check-config  validate the configuration, print a summary, exit 0 or 1\n"
	"  -h, --help          this help\n"
	"      --version       print the version\n";

static void print_errors(const struct config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++) {
		const struct config_error *e = &errs->items[i];
		if (e->line)
			fprintf(stderr, "persistd: %s:%u: %s\n", e->file ? e->file : "?", e->line,
				e->message);
		else
			fprintf(stderr, "persistd: %s: %s\n", e->file ? e->file : "config",
				e->message);
	}
	if (errs->dropped)
		fprintf(stderr, "persistd: ... and %zu more errors\n", errs->dropped);
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
	for (size_t i = 0; i < c->n_certs; i++) {
		const struct config_cert *cert = c->certs[i];
		_cleanup_free_ char *list = str_join((const char *const *)cert->names, cert->n_names,
						     ", ");
		char until[40] = "";
		if (cert->has_persist_until) {
			char iso[32];
			time_format_iso(cert->persist_until, iso, sizeof(iso));
			str_printf(until, sizeof(until), "  persistUntil %s", iso);
		}
		printf("             %-14s %-12s %-15s %s%s\n", cert->name, cert->ca_name,
		       challenge_type_to_string(cert->challenge), list ? list : "?", until);
	}
}

static int check_config(const char *path)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	int r;

	r = config_load(path, &c, &errs);
	if (r < 0) {
		print_errors(&errs);
		if (errs.n == 0)
			fprintf(stderr, "persistd: %s: %s\n", path, strerror(-r));
		fprintf(stderr, "persistd: configuration %s is NOT valid (%zu error%s)\n", path,
			errs.n + errs.dropped, errs.n + errs.dropped == 1 ? "" : "s");
		config_errors_done(&errs);
		return 1;
	}
	print_summary(c);
	config_free(c);
	config_errors_done(&errs);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *config_path = CONFIG_DEFAULT_PATH;
	bool check = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:th", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'V':
			printf("persistd %s\n", PERSISTD_VERSION);
			return 0;
		default:
			fputs(help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "persistd: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (check)
		return check_config(config_path);
	fputs(help, stderr);
	fprintf(stderr, "persistd: choose a mode (--check-config)\n");
	return EXIT_USAGE;
}
