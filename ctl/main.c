/* persistctl: the command-line front end of persistd.
 * Offline subcommands (record generate, record lint, check --direct) use
 * common/ only; the rest talk JSON-RPC to the daemon's control socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strutil.h"
#include "ctl/check.h"
#include "ctl/output.h"
#include "ctl/record.h"
#include "ctl/remote.h"

#define EXIT_USAGE 2
#define DEFAULT_SOCKET "/run/persistd/control.sock"

static const char main_help[] =
	"Usage: persistctl [-s SOCKET] [--json] [--no-color] COMMAND [ARGS...]\n"
	"\n"
	"Asking the running daemon:\n"
	"  status                 levels of every cert and name (monitoring: exit 0/1/2/3)\n"
	"  list                   the configured certs\n"
	"  show NAME              one cert in detail\n"
	"  record [NAME]          the TXT records to publish, from the daemon's account\n"
	"  check [NAME|--all]     re-check records now\n"
	"  renew NAME [--force]   renew now and wait for the outcome\n"
	"  reload                 re-read the configuration\n"
	"  account show|rollover [CA]\n"
	"  probe CA               does the CA offer dns-persist-01?\n"
	"  watch                  follow alerts, renewals and checks\n"
	"\n"
	"Offline (no daemon, no config):\n"
	"  record generate        print the _validation-persist record to publish\n"
	"  record lint            evaluate TXT record values the way the CA will\n"
	"  check --direct NAME... look the records up in DNS and evaluate them\n"
	"\n"
	"  -s, --socket SOCKET    control socket (default " DEFAULT_SOCKET ",\n"
	"                         or $PERSISTD_SOCKET)\n"
	"      --json             machine-readable output\n"
	"      --no-color         no colour even on a terminal\n"
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

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(const struct remote_options *o, int argc, char **argv);
	} commands[] = {
		{ "status", ctl_status }, { "list", ctl_list },	    { "show", ctl_show },
		{ "record", cmd_record }, { "check", cmd_check },   { "renew", ctl_renew },
		{ "reload", ctl_reload }, { "account", ctl_account }, { "probe", ctl_probe },
		{ "watch", ctl_watch },
	};
	struct remote_options o = {
		.socket = getenv("PERSISTD_SOCKET") ? getenv("PERSISTD_SOCKET") : DEFAULT_SOCKET,
		.color = output_use_color(stdout),
	};
	bool json = false;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			fputs(main_help, stdout);
			return 0;
		} else if (streq(argv[i], "--version")) {
			printf("persistctl %s\n", PERSISTD_VERSION);
			return 0;
		} else if ((streq(argv[i], "-s") || streq(argv[i], "--socket")) && i + 1 < argc) {
			o.socket = argv[++i];
		} else if (str_has_prefix(argv[i], "--socket=")) {
			o.socket = argv[i] + 9;
		} else if (streq(argv[i], "--json")) {
			json = true;
		} else if (streq(argv[i], "--no-color")) {
			o.color = false;
		} else {
			fprintf(stderr, "persistctl: unknown option '%s' (see persistctl --help)\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	o.json = json;
	if (i >= argc) {
		fputs(main_help, stderr);
		return EXIT_USAGE;
	}
	if (streq(argv[i], "help")) {
		fputs(main_help, stdout);
		return 0;
	}
	for (size_t k = 0; k < ELEMENTSOF(commands); k++)
		if (streq(argv[i], commands[k].name)) {
			/* --json before the command counts for offline commands too. */
			if (json && (streq(argv[i], "record") || streq(argv[i], "check"))) {
				static char json_flag[] = "--json";
				char **args = calloc((size_t)(argc - i + 2), sizeof(char *));
				if (!args)
					return 1;
				memcpy(args, argv + i, (size_t)(argc - i) * sizeof(char *));
				args[argc - i] = json_flag;
				int r = commands[k].run(&o, argc - i + 1, args);
				free(args);
				return r;
			}
			return commands[k].run(&o, argc - i, argv + i);
		}
	fprintf(stderr, "persistctl: unknown command '%s' (see persistctl --help)\n", argv[i]);
	return EXIT_USAGE;
}
