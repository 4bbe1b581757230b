/* common/strutil.h: small string helpers every module may use.
 * Pure. Truncating formatters are for human-readable text only (reasons,
 * messages), where a cut-off line is better than an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"

/* snprintf that may truncate, on purpose; always NUL-terminates. */
void str_printf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);

/* Copies at most max bytes of untrusted text into buf, escaping anything
 * outside printable ASCII as \xHH and marking a cut with "...", so the
 * result is always one printable line. */
void str_escape_line(char *buf, size_t size, const char *s, size_t len, size_t max);

/* Joins the parts with sep; NULL on out-of-memory. */
char *str_join(const char *const *parts, size_t n, const char *sep);

bool str_has_prefix(const char *s, const char *prefix);

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF; left >= 1 bytes there), or 0. */
size_t str_utf8_seq_len(const unsigned char *s, size_t left);
