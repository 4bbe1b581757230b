/* ctl/checkfmt.h: one `persistctl check --direct` result judged and
 * printed: its level (monitoring-plugin convention, ctl/output), as a text
 * block of indented lines or as one JSON object (the fields docs/man
 * persistctl.1 lists). Text from DNS is printed escaped and written to JSON
 * with output_json_bytes(), so neither breaks the output whatever the bytes.
 *
 * Pure apart from writing to the stream or writer it is given: safe to call
 * from several threads at once on different outputs. Errors (out of memory)
 * latch in the json_writer or the FILE, where the caller sees them. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "common/dnscheck.h"
#include "common/json.h"
#include "ctl/check_internal.h"
#include "ctl/output.h"

/* The worst of: the record's verdict and persistUntil (against a->now,
 * warn_ms, critical_ms), the CAA verdict and every authoritative answer;
 * DNS errors are UNKNOWN, a BOGUS answer CRITICAL. */
enum level checkfmt_level(const struct dnscheck_result *r, const struct check_args *a);

void checkfmt_json(struct json_writer *w, const struct dnscheck_result *r,
		   const struct check_args *a, enum level level);
/* color: the level and warnings in colour (a TTY). */
void checkfmt_text(FILE *f, const struct dnscheck_result *r, const struct check_args *a,
		   enum level level, bool color);
