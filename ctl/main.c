/* persistctl: the command-line front end of persistd.
 * Offline subcommands (record generate, record lint, check --direct) use
 * common/ only; the rest talk JSON-RPC to the daemon's control socket. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/macro.h"
#include "common/strutil.h"
#include "ctl/check.h"
#include "ctl/lifecycle.h"
#include "ctl/output.h"
#include "ctl/record.h"
#include "ctl/remote.h"
#include "ctl/renew.h"
#include "ctl/storecmd.h"

#define EXIT_USAGE 2
#define EXIT_UNKNOWN 3
#define DEFAULT_SOCKET "/run/persistd/control.sock"

static const char main_help[] =
	"Usage: persistctl [-s SOCKET | -c CONFIG] [--json] [--no-color] COMMAND [ARGS...]\n"
	"The options may also follow the command (persistctl status --no-color).\n"
	"\n"
	"Asking the running daemon:\n"
	"  status [--nagios]      levels of the certs and names (monitoring: exit 0/1/2/3);\n"
	"                         --summary, --limit N, --offset N, --cert NAME\n"
	"  list                   the configured certs\n"
	"  show NAME              one cert in detail\n"
	"  record [NAME]          the TXT records to publish, from the daemon's account\n"
	"  check [NAME|--all]     re-check records now (monitoring: exit 0/1/2/3)\n"
	"  renew NAME [--force]   renew now and wait for the outcome\n"
	"  renew --all [--force]  renew every cert that is due (or all) and wait\n"
	"  renew NAME --dry-run   every step up to finalize; nothing installed\n"
	"  renew --all --dry-run  the same for every cert, one after another\n"
	"  reload                 re-read the configuration\n"
	"  add NAME --ca CA --name FQDN [--name FQDN...] [--key-type T]\n"
	"      [--persist-until DATE] [--deploy-hook PATH]\n"
	"                         write certs.d/NAME.conf, reload, print the records\n"
	"  remove NAME [--revoke [--reason R]] [--purge] [--yes]\n"
	"                         delete certs.d/NAME.conf and reload (--purge: the files)\n"
	"  revoke NAME [--reason R] --yes   revoke the current certificate (irreversible)\n"
	"  account show [CA]      the ACME account of each CA\n"
	"  account rollover [CA] --yes    replace the account key (irreversible)\n"
	"  account deactivate CA --yes    end the account at the CA (irreversible)\n"
	"  probe CA               does the CA offer dns-persist-01?\n"
	"  store migrate          copy this host's certs and keys into the fleet's database\n"
	"                         (store = in -c FILE; the daemon stopped)\n"
	"  watch                  follow alerts, renewals and checks\n"
	"  help                   this text\n"
	"\n"
	"Offline (no daemon, no config):\n"
	"  record generate        print the _validation-persist record to publish\n"
	"  record lint [VALUE...] evaluate TXT record values the way the CA will\n"
	"  check --direct NAME... look the records up in DNS and evaluate them\n"
	"\n"
	"  -s, --socket SOCKET    control socket (default: $PERSISTD_SOCKET, else\n"
	"                         " DEFAULT_SOCKET ")\n"
	"  -c, --config CONFIG    use control_socket from the [daemon] section of CONFIG\n"
	"      --json             machine-readable output; errors too, as a JSON object\n"
	"      --no-color         no colour even on a terminal\n"
	"      --version          the version\n"
	"Run 'persistctl COMMAND --help' for the options of a command.\n";

static int cmd_record(const struct remote_options *o, int argc, char **argv)
{
	if (argc >= 2 && streq(argv[1], "generate"))
		return ctl_record_generate(argc - 1, argv + 1);
	if (argc >= 2 && streq(argv[1], "lint"))
		return ctl_record_lint(argc - 1, argv + 1);
	return ctl_record_remote(o, argc, argv);
}


static int cmd_check(const struct remote_options *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (streq(argv[i], "--direct"))
			return ctl_check_direct(argc, argv);
	return ctl_check_remote(o, argc, argv);
}

/* Usage errors of the monitoring commands are UNKNOWN (3), as their
 * contract says: a check that could not run must not read as WARNING or
 * CRITICAL (exit 1 or 2) to the monitoring system. */
static int usage_exit(const char *cmd)
{
	return cmd && (streq(cmd, "status") || streq(cmd, "check")) ? EXIT_UNKNOWN : EXIT_USAGE;
}

/* A usage error: the message on stderr and, when the command line asks for
 * --json, as a JSON error object on stdout too. Returns exit_code. */
_printf_(3, 4) static int main_error(bool json, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = output_verror(json, "persistctl", exit_code, 0, fmt, ap);
	va_end(ap);
	return r;
}

/* control_socket from the [daemon] section of the configuration the daemon
 * runs with, read the way the daemon reads it (common/config), so that
 * persistctl finds a socket moved in the config without the daemon. */
static int socket_from_config(const char *path, bool json, int exit_code, char **ret)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct config_errors errs = { 0 };
	int r = config_load(path, &c, &errs);

	if (r < 0) {
		const struct config_error *e = errs.n ? &errs.items[0] : NULL;
		char where[32] = "";
		if (e && e->line)
			str_printf(where, sizeof(where), ":%u", e->line);
		(void)main_error(json, exit_code,
				 "-c %s: cannot read the control socket from it: %s%s%s%s", path,
				 e ? (e->file ? e->file : path) : strerror(-r), where,
				 e ? ": " : "", e ? e->message : "");
		for (size_t i = 1; i < errs.n; i++)
			fprintf(stderr, "  %s:%u: %s\n",
				errs.items[i].file ? errs.items[i].file : path, errs.items[i].line,
				errs.items[i].message);
		config_errors_done(&errs);
		return r;
	}
	config_errors_done(&errs);
	*ret = strdup(c->daemon.control_socket);
	return *ret ? 0 : -ENOMEM;
}

/* The global options may stand anywhere before "--", as users of getopt
 * programs expect (persistctl status --no-color): they are taken out of
 * argv here, and the rest is the command line of the command. --help and
 * --version are global only before the command; after it they belong to
 * the command. An option's value is the next word, or after '='. */
static int take_global(char **argv, int *i, const char *longname, char shortname,
		       const char **ret_value)
{
	const char *a = argv[*i];
	size_t n = strlen(longname);
	char s[3] = { '-', shortname, 0 };

	if (streq(a, longname) || (shortname && streq(a, s))) {
		if (!argv[*i + 1])
			return -EINVAL;
		*ret_value = argv[++*i];
		return 1;
	}
	if (str_has_prefix(a, longname) && a[n] == '=') {
		*ret_value = a + n + 1;
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct remote_options *o, int argc, char **argv);
	} commands[] = {
		{ "status", ctl_status }, { "list", ctl_list },	    { "show", ctl_show },
		{ "record", cmd_record }, { "check", cmd_check },   { "renew", ctl_renew },
		{ "reload", ctl_reload }, { "account", ctl_account }, { "probe", ctl_probe },
		{ "watch", ctl_watch },	  { "add", ctl_add },	      { "remove", ctl_remove },
		{ "revoke", ctl_revoke }, { "store", ctl_store },
	};
	struct remote_options o = {
		.socket = getenv("PERSISTD_SOCKET") && *getenv("PERSISTD_SOCKET")
				  ? getenv("PERSISTD_SOCKET")
				  : DEFAULT_SOCKET,
		.color = output_use_color(stdout),
	};
	_cleanup_free_ char **args = calloc((size_t)argc + 2, sizeof(char *));
	_cleanup_free_ char *config_socket = NULL;
	const char *cmd = NULL, *socket = NULL, *config = NULL;
	bool json = false, rest = false, wants_json = output_wants_json(argc, argv);
	int n = 0, dashdash = -1;

	if (!args)
		return 1;
	args[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int t;
		if (rest || a[0] != '-' || streq(a, "-")) {
			if (!cmd)
				cmd = a;
			args[n++] = argv[i];
			continue;
		}
		if (streq(a, "--")) {
			rest = true;
			dashdash = n;
			args[n++] = argv[i];
			continue;
		}
		if (!cmd && (streq(a, "--help") || streq(a, "-h"))) {
			fputs(main_help, stdout);
			return 0;
		}
		if (!cmd && streq(a, "--version")) {
			printf("persistctl %s\n", PERSISTD_VERSION);
			return 0;
		}
		if ((t = take_global(argv, &i, "--socket", 's', &socket)) ||
		    (t = take_global(argv, &i, "--config", 'c', &config))) {
			if (t < 0) {
				return main_error(wants_json, usage_exit(cmd),
						  "option '%s' needs a value", a);
			}
		} else if (streq(a, "--json")) {
			json = true;
		} else if (streq(a, "--no-color")) {
			o.color = false;
		} else if (!cmd) {
			return main_error(wants_json, EXIT_USAGE,
					  "unknown option '%s' (see persistctl --help)", a);
		} else {
			args[n++] = argv[i]; /* the command's own option */
		}
	}
	if (config && !socket) {
		if (socket_from_config(config, wants_json, usage_exit(cmd), &config_socket) < 0)
			return usage_exit(cmd);
		socket = config_socket;
	}
	if (socket)
		o.socket = socket;
	o.config = config;
	o.json = json;
	if (!cmd) {
		fputs(main_help, stderr);
		return EXIT_USAGE;
	}
	if (streq(cmd, "help")) {
		fputs(main_help, stdout);
		return 0;
	}
	/* The offline commands parse --json themselves: it goes before "--". */
	if (json && (streq(cmd, "record") || streq(cmd, "check"))) {
		static char json_flag[] = "--json";
		int at = dashdash >= 0 ? dashdash : n;
		memmove(args + at + 1, args + at, (size_t)(n - at) * sizeof(char *));
		args[at] = json_flag;
		n++;
	}
	for (size_t k = 0; k < ELEMENTSOF(commands); k++)
		if (streq(cmd, commands[k].name))
			return commands[k].run(&o, n - 1, args + 1);
	return main_error(wants_json, EXIT_USAGE, "unknown command '%s' (see persistctl --help)",
			  cmd);
}
