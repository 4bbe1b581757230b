/* ctl/checkpool.h: the bulk checker behind `persistctl check --direct`.
 * Checks names with common/dnscheck on worker threads, each with its own uv
 * loop, getdns context(s) and dnscheck (so the CAA and NS caches are per
 * thread); one worker, the default below 2000 names, runs on the calling
 * thread. DNS queries in flight are split evenly between the workers.
 *
 * Results are formatted by ctl/checkfmt as they come, on the worker that
 * got them, and printed to stdout in input order by the calling thread
 * (at once on a TTY, batched by stdio otherwise), with the JSON array's
 * brackets and, for several names in text, a summary line. A progress line
 * goes to stderr when a->file is set and stderr is a TTY. A worker thread
 * that cannot be started runs on the calling thread instead: slower, same
 * results. Every loop is drained and closed before checkpool_run() returns.
 *
 * Returns the exit code (see check.h): the worst level of all names, or 3
 * (EXIT_CHECK_USAGE) when setting up DNS or memory failed, with a message on
 * stderr. names are valid DNS names (the caller checks). */
#pragma once

#include <stddef.h>

#include "ctl/check_internal.h"

int checkpool_run(const struct check_args *a, const char *const *names, size_t n_names);
