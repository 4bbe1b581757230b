/* common/timeutil.h: durations, dates and the time math around persistUntil.
 * Pure: no clock (callers pass `now`), no time zone (everything is UTC), no
 * libc calendar functions (they overflow or depend on TZ). Instants are
 * int64_t Unix seconds; durations are uint64_t milliseconds.
 * Errors: -EINVAL for text that is not what the function accepts, -ERANGE
 * for values that overflow. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/level.h"

#define SEC_PER_DAY INT64_C(86400)
#define MS_PER_SEC UINT64_C(1000)

/* Is the 32-bit timestamp a at or after b? In serial number arithmetic
 * (RFC 1982), as RFC 4034 section 3.1.5 compares an RRSIG's inception and
 * expiration with the clock, so the answer holds across 2106's wrap. */
static inline bool time32_not_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* "90s", "15m", "6h", "30d", "2w", "1d12h", "500ms"; a bare number is seconds.
 * Whitespace between parts is allowed ("1d 12h"). Zero is allowed. */
int time_parse_duration_ms(const char *s, uint64_t *ret_ms);

/* Shortest exact form with at most two units: "3d 4h", "6h", "45s", "0s". */
void time_format_duration(uint64_t ms, char *buf, size_t size);

/* "2027-06-01" (midnight UTC), "2027-06-01T12:00:00Z", "2027-06-01 12:00:00",
 * "2027-06-01T12:00Z", or a Unix time as a base-10 integer (optionally
 * prefixed with '@'). Dates are checked (no Feb 30). */
int time_parse_date(const char *s, int64_t *ret);

/* RFC 3339 date-time as ACME uses it: "2026-11-25T12:00:00Z", with optional
 * fractional seconds (dropped) and a "+HH:MM"/"-HH:MM" offset or "Z".
 * Lowercase t/z are accepted (RFC 3339 section 5.6 note). */
int time_parse_rfc3339(const char *s, int64_t *ret);

/* "2027-06-01T00:00:00Z". Works for any int64 (years far out of range print
 * as the numeric Unix time instead). */
void time_format_iso(int64_t t, char *buf, size_t size);

/* Whole days from now until `until`, rounded toward minus infinity, so
 * "expires in 0 days" means within the next 24 hours and -1 means it passed
 * less than a day ago. Saturates instead of overflowing. */
int64_t time_days_left(int64_t until, int64_t now);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* How close persistUntil is: the thresholds are durations before `until`.
 * `until` itself counts as the moment the record stops working (spec 2.4:
 * the CA may already refuse within that second), so now >= until is
 * LEVEL_ERROR ("expired") for warnings, although record_evaluate (the CA's
 * rule) still calls now == until VALID. The result is LEVEL_OK, LEVEL_WARNING,
 * LEVEL_CRITICAL or LEVEL_ERROR, never LEVEL_UNKNOWN. */
enum level time_expiry_level(int64_t until, int64_t now, uint64_t warn_before_ms,
			     uint64_t critical_before_ms);
/* The same result in the words persistctl prints for a record's expiry:
 * "ok", "warning", "critical", "expired" (LEVEL_ERROR), else "unknown". */
const char *time_expiry_to_string(enum level l);

/* a + b for instants and durations, saturating at the int64 range. */
int64_t time_add_ms(int64_t t, uint64_t ms);
