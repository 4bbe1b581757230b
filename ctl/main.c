/* persistctl: the command-line front end of persistd.
 * Offline subcommands (record generate, record lint, check --direct) use
 * common/ only; the rest talk JSON-RPC to the daemon's control socket. */
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "ctl/record.h"

#define EXIT_USAGE 2

static const char main_help[] =
	"Usage: persistctl [--help] [--version] COMMAND [ARGS...]\n"
	"\n"
	"Offline commands (no daemon, no config needed):\n"
	"  record generate   print the _validation-persist TXT record to publish\n"
	"  record lint       evaluate TXT record values the way the CA will\n"
	"\n"
	"Run 'persistctl COMMAND --help' for the options of a command.\n";

static int cmd_record(int argc, char **argv)
{
	if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
		fputs("Usage: persistctl record generate|lint [OPTIONS...]\n", argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (streq(argv[1], "generate"))
		return ctl_record_generate(argc - 1, argv + 1);
	if (streq(argv[1], "lint"))
		return ctl_record_lint(argc - 1, argv + 1);
	fprintf(stderr, "persistctl: unknown record command '%s': expected generate or lint\n",
		argv[1]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int argc, char **argv);
	} commands[] = {
		{ "record", cmd_record },
	};

	if (argc < 2) {
		fputs(main_help, stderr);
		return EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		fputs(main_help, stdout);
		return 0;
	}
	if (streq(argv[1], "--version")) {
		printf("persistctl %s\n", PERSISTD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "persistctl: unknown command '%s' (see persistctl --help)\n", argv[1]);
	return EXIT_USAGE;
}
