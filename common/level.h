/* common/level.h: the one severity scale that persistd, its state file, its
 * control API, its metrics and persistctl all report in.
 *
 * Pure: no I/O, no logging, no clock, no state.
 * Errors: level_from_string returns -EINVAL for a word that is not a level.
 *
 * The numeric values are fixed: they are what the persistd_cert_level and
 * persistd_name_level metrics export (OK 0, WARNING 1, CRITICAL 2, ERROR 3), so
 * UNKNOWN comes last although it is not the worst. Among the levels the daemon
 * computes (OK to ERROR) a larger value is worse, so MAX() picks the worse of
 * two; where UNKNOWN may appear, use level_merge.
 *
 * ERROR is the daemon's "it already does not work" (no certificate, an expired
 * certificate or record); to a monitoring system it is CRITICAL (exit code 2),
 * but it outranks CRITICAL when two levels merge. UNKNOWN is the monitoring
 * plugins' "could not tell" (exit code 3). The worst-first order is
 * ERROR > CRITICAL > UNKNOWN > WARNING > OK. */
#pragma once

#include "common/macro.h"

/* One byte: two of them sit in every name's and every cert's state (100k each). */
enum _packed_ level {
	LEVEL_OK,
	LEVEL_WARNING,
	LEVEL_CRITICAL,
	LEVEL_ERROR,
	LEVEL_UNKNOWN,
	_LEVEL_MAX,
};

/* "OK", "WARNING", "CRITICAL", "ERROR", "UNKNOWN": the words in state.json, the
 * control API, the journal (PERSISTD_LEVEL=) and the Nagios line. A value out
 * of range is "UNKNOWN". */
const char *level_to_string(enum level l);
/* The same words in lower case, as persistctl prints them ("ok", "warning", ...). */
const char *level_to_lower_string(enum level l);
/* Exactly one of the upper-case words above: its level, else -EINVAL. */
int level_from_string(const char *s);
/* The worse of a and b in the order above. */
enum level level_merge(enum level a, enum level b);
/* The monitoring-plugin exit code: OK 0, WARNING 1, CRITICAL and ERROR 2,
 * UNKNOWN (and anything out of range) 3. */
int level_exit_code(enum level l);
