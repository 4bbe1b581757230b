/* ctl/storecmd.c: persistctl store migrate. See storecmd.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/strutil.h"
#include "ctl/storecmd.h"

#define EXIT_USAGE 2

static const char usage[] =
	"Usage: persistctl [-c FILE] store migrate\n"
	"Copies this host's certificates, their keys (sealed with the fleet key) into the\n"
	"database of store = in FILE (default " CONFIG_DEFAULT_PATH "), with the daemon\n"
	"stopped. Runs persistd --store-migrate.\n";

int ctl_store(const struct remote_options *o, int argc, char **argv)
{
	const char *config = o->config ? o->config : CONFIG_DEFAULT_PATH;
	char self[PATH_MAX], sibling[PATH_MAX + 16];
	ssize_t n;

	if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2 || !streq(argv[1], "migrate")) {
		fprintf(stderr, "persistctl: store: expected 'store migrate' and no other "
				"argument\n%s",
			usage);
		return EXIT_USAGE;
	}
	fflush(stdout);
	/* The persistd installed beside this persistctl: the same build, the same schema. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			str_printf(sibling, sizeof(sibling), "%s/persistd", self);
			if (access(sibling, X_OK) == 0)
				execl(sibling, "persistd", "--store-migrate", "-c", config, (char *)NULL);
		}
	}
	execlp("persistd", "persistd", "--store-migrate", "-c", config, (char *)NULL);
	fprintf(stderr, "persistctl: store migrate: cannot run persistd: %s\n", strerror(errno));
	return 1;
}
