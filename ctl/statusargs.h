/* ctl/statusargs.h: the options of `persistctl status` that choose how much
 * of a big host to show (--summary, --limit N, --offset N, --cert NAME),
 * turned into the status method's params, and the lines that say what was
 * left out and how to see it (as `systemctl list-units` does).
 *
 * Text output without any of them shows the first STATUSARGS_DEFAULT_LIMIT
 * certs; --json without them asks for everything, as before.
 * Errors: -EINVAL with a one-line message in msg (a usage error), -ENOMEM. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

#define STATUSARGS_DEFAULT_LIMIT 100

struct statusargs {
	bool summary;
	bool has_limit, has_offset;
	uint64_t limit, offset;
	const char *cert;   /* borrowed from argv */
};

/* Takes the options above out of argv (before a "--"), as --opt VALUE or
 * --opt=VALUE; the rest stays in order for the common option parser. */
int statusargs_take(int *argc, char **argv, struct statusargs *ret, char *msg, size_t msg_size);

/* The status params as JSON (owned), or NULL in *ret for none (everything). */
int statusargs_params(const struct statusargs *a, bool json_output, char **ret);

/* After the table: "certs 1-100 of 100000 shown; ..." when a page left
 * certs out, and the worst certs and next events for --summary. */
void statusargs_print_page_note(FILE *f, yajl_val status);
void statusargs_print_summary(FILE *f, yajl_val status);
