/* common/dnscheck_pure.h: pure helpers that the pieces of the DNS checker
 * share (internal to common/dnscheck*.c): DNS names in wire and
 * presentation form, the phrases error reasons are made of, hashing. It
 * also defines dnscheck_question_matches(), which common/dnscheck.h
 * declares; the rest of that header's pure helpers are in dnscheck.c.
 *
 * Pure: no getdns, no loop, no allocation, no clock; everything works on
 * what it is given. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dnscheck.h"

#define DNSCHECK_NAME_BUF 1024 /* presentation names with \DDD escapes */
#define DNSCHECK_FNV_OFFSET UINT64_C(0xcbf29ce484222325)

/* What e means, as a phrase for error reasons ("no answer before the
 * timeout"); "no error" for DNSCHECK_OK. */
const char *dnscheck_pure_error_text(enum dnscheck_error e);

/* Wire-format name to lowercase presentation form without the trailing dot
 * ("" for the root). Bytes outside [a-z0-9-_*] are written as \DDD.
 * -EINVAL for a malformed name, -E2BIG when it does not fit in size. */
int dnscheck_pure_dname_to_str(const uint8_t *w, size_t len, char *buf, size_t size);

/* Is `name` equal to `zone` or below it? Both lowercase presentation form. */
bool dnscheck_pure_name_under(const char *name, const char *zone);

/* FNV-1a over len bytes, continuing from h (DNSCHECK_FNV_OFFSET to start). */
uint64_t dnscheck_pure_fnv1a(uint64_t h, const void *p, size_t len);
