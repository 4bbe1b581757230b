/* daemon/acme/msg_field.h: reading one member of an ACME JSON object. Internal to the
 * parsers of daemon/acme/msg*.c (msg, msg_problem, msg_directory); nothing else includes
 * it. The public contract of those parsers is in msg.h.
 *
 * Owns: the checks every object shares: the JSON type of a member, whether a required one
 * is there, its length and count limits, RFC 3339 times, and the dns-persist-01 issuer
 * list; and the one-line reasons that name the object and member ("order: 'finalize' is
 * not a string").
 *
 * Promises: a reader fills *ret only on success (strings are heap copies the caller then
 * owns); an absent or null member that is not required leaves *ret as it was (a time
 * becomes 0). Errors: -EINVAL malformed, -E2BIG over a limit, -ENOMEM; err (may be NULL)
 * gets the reason, with server text escaped and cut short. Pure: no I/O, no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"

/* The text of a string node whose type was checked (YAJL_GET_STRING may return NULL,
 * which the compiler then warns about). */
#define STR(v) ((const char *)(v)->u.string)

/* Writes the reason into err and returns r. */
int msg_field_fail(int r, char *err, size_t err_size, const char *fmt, ...) _printf_(4, 5);
/* Prepends "what: " to the reason a nested parser left in err; returns r. */
int msg_field_wrap(int r, char *err, size_t err_size, const char *fmt, ...) _printf_(4, 5);
/* Frees n strings and the array; NULL is fine. */
void msg_field_strv_free(char **v, size_t n);

/* A string member: absent is fine unless required (then *ret stays NULL). An empty string
 * counts as absent for required members, since every required string names something. */
int msg_field_get_string(yajl_val obj, const char *what, const char *key, bool required,
			 size_t max_bytes, char **ret, char *err, size_t err_size);
/* A string member of at most ACME_MAX_URL_BYTES. */
int msg_field_get_url(yajl_val obj, const char *what, const char *key, bool required,
		      char **ret, char *err, size_t err_size);
/* An array of strings, each non-empty and at most max_bytes. */
int msg_field_get_string_array(yajl_val obj, const char *what, const char *key,
			       bool required, size_t max_n, size_t max_bytes, char ***ret,
			       size_t *ret_n, char *err, size_t err_size);
int msg_field_get_bool(yajl_val obj, const char *what, const char *key, bool *ret, char *err,
		       size_t err_size);
/* An RFC 3339 time, as Unix seconds. */
int msg_field_get_time(yajl_val obj, const char *what, const char *key, bool required,
		       int64_t *ret, char *err, size_t err_size);
/* -EINVAL unless v is a JSON object. */
int msg_field_need_object(yajl_val v, const char *what, char *err, size_t err_size);

/* Checks an issuer list against dns-persist-01 section 3.1: 1..RECORD_MAX_ISSUERS valid
 * lowercase A-label names, no trailing dot. On success *ret owns copies. */
int msg_field_issuer_list(yajl_val v, const char *what, const char *key, char ***ret,
			  size_t *ret_n, char *err, size_t err_size);
