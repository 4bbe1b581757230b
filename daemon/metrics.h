/* daemon/metrics.h: /metrics in the Prometheus text exposition format
 * (version 0.0.4), from the daemon's state.
 *
 * Two layers. The writer is pure formatting: metrics_family() opens a family
 * with its HELP and TYPE lines, metrics_sample() adds one sample with label
 * values escaped as the format requires (backslash, double quote, newline),
 * and it refuses (latching -EINVAL) a sample whose name does not belong to
 * the open family, a metric or label name outside [a-zA-Z_:][a-zA-Z0-9_:]*,
 * or a family opened twice, so that what it emits passes `promtool check
 * metrics`. metrics_collect() walks a struct daemon and writes every
 * persistd_* family (list in docs/web.md).
 *
 * Times are gauges in Unix seconds (0 samples are left out: "never");
 * values are integers. Errors latch in the writer and come back from
 * metrics_writer_take(): -EINVAL a misuse above, -ENOMEM. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

struct daemon;
struct metrics_writer;

enum metrics_type {
	METRICS_GAUGE,
	METRICS_COUNTER,   /* the name must end in _total */
	_METRICS_TYPE_MAX,
};

struct metrics_writer *metrics_writer_new(void);
void metrics_writer_free(struct metrics_writer *w);
DEFINE_FREEP(struct metrics_writer, metrics_writer_free)

void metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type,
		    const char *help);
/* labels: name, value, name, value, ..., NULL (may be NULL for none). */
void metrics_sample(struct metrics_writer *w, const char *const *labels, int64_t value);

/* The text so far as a new NUL-terminated string, or the first error. */
int metrics_writer_take(struct metrics_writer *w, char **ret, size_t *ret_len);

/* Every persistd_* family from d. */
void metrics_collect(const struct daemon *d, struct metrics_writer *w);
