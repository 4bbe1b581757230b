/* common/strutil.h: small string helpers every module may use.
 * Pure. Truncating formatters are for human-readable text only (reasons,
 * messages), where a cut-off line is better than an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* n bytes as lowercase hex into out (2n + 1 bytes, NUL-terminated). */
void str_hex_encode(const uint8_t *p, size_t n, char *out);
/* An even run of hex digits (either case) into at most max bytes: their number, or
 * -EINVAL for anything else (empty, odd, another character, more than max bytes). */
int str_hex_decode(const char *hex, uint8_t *out, size_t max);

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF; left >= 1 bytes there), or 0. */
size_t str_utf8_seq_len(const unsigned char *s, size_t left);
