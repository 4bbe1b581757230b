/* common/json.h: JSON in and out, over yajl, with the bounds every peer's
 * input needs.
 *
 * Reading: json_parse() refuses NUL bytes, more than JSON_MAX_DEPTH levels of
 * nesting (yajl's tree parser has no limit and its free recurses) and bodies
 * over the caller's size limit, and returns a yajl tree with a one-line error
 * text. The json_get_* helpers read one member of an object with its type
 * checked; they return NULL/false when it is absent or of another type.
 *
 * Writing: struct json_writer writes into a buffer of its own and latches
 * the first error (a value where a key must be, a close that matches no
 * open, more than 128 levels, out of memory), so callers emit a whole
 * document and check once at json_writer_finish(). Output is compact UTF-8
 * (pretty=true indents for humans), byte for byte what yajl_gen writes.
 *
 * Errors: -EINVAL malformed, -E2BIG over a limit, -ENOMEM. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"

/* Eight bytes of a string that JSON takes as they are, none below 0x20,
 * none '"' or '\\', none above 0x7f: the fast path of the writer and of
 * common/jsonscan. (x - 0x01..*n) & ~x & 0x80.. flags a byte below n; a
 * flag may be spurious only next to a real one, and any flag takes the
 * byte path. */
static inline bool json_word_is_plain(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');

	uint64_t flags = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
			 ((backslash - ones) & ~backslash) | x;

	return (flags & highs) == 0;
}

/* *ret is freed with yajl_tree_free. err (may be NULL) gets a one-line reason. */
int json_parse(const char *text, size_t len, size_t max_bytes, yajl_val *ret, char *err,
	       size_t err_size);

/* Depth of the deepest array/object in text, strings honoured; -E2BIG as soon
 * as it passes max_depth. */
int json_check_depth(const char *text, size_t len, unsigned max_depth);

const char *json_get_string(yajl_val obj, const char *key);
yajl_val json_get_object(yajl_val obj, const char *key);
yajl_val json_get_array(yajl_val obj, const char *key);
bool json_get_int(yajl_val obj, const char *key, int64_t *ret);
bool json_get_bool(yajl_val obj, const char *key, bool *ret);
/* NULL if absent; any type. */
yajl_val json_get(yajl_val obj, const char *key);

static inline void yajl_tree_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}

struct json_writer;

struct json_writer *json_writer_new(bool pretty);
void json_writer_free(struct json_writer *w);
DEFINE_FREEP(struct json_writer, json_writer_free)

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_string_n(struct json_writer *w, const char *s, size_t len);
/* s as it is, between quotes: only for bytes known to need no escape and to be UTF-8
 * (no '"', no backslash, nothing below 0x20), such as a string common/jsonscan handed
 * over in place. json_string_n() would write the same bytes, checking each. Sanitizer
 * builds check, and abort on a string that breaks the rule. */
void json_string_plain(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, int64_t v);
/* A number as a parser handed it over: text must be a valid JSON number. */
void json_number_raw(struct json_writer *w, const char *text, size_t len);
void json_uint(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Writes a parsed tree (a nested document) into the output. */
void json_value(struct json_writer *w, yajl_val v);
/* Copies raw, already valid JSON (a nested document) into the output. */
void json_raw(struct json_writer *w, const char *json, size_t len);

/* key + value in one call */

/* Inline: with a literal key the compiler knows its length, and the literal
 * is copied as it is (a status of 10,000 certs writes half a million keys):
 * a literal key must need no escape, and every one in this tree is a plain
 * ASCII name (the sanitizer builds that make check runs abort on one that
 * is not, see json_string_plain()). Keys made at run time are checked byte
 * by byte. */
static inline void json_key(struct json_writer *w, const char *key)
{
	/* A string literal: only then is its length a compile-time constant. */
	if (__builtin_constant_p(strlen(key)))
		json_string_plain(w, key, strlen(key));
	else
		json_string_n(w, key, strlen(key));
}

/* NULL writes null. */
static inline void json_string(struct json_writer *w, const char *s)
{
	if (!s)
		json_null(w);
	else
		json_string_n(w, s, strlen(s));
}

static inline void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

static inline void json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

static inline void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

/* The document so far (valid until the next call on w), or the first error. */
int json_writer_finish(struct json_writer *w, const char **ret, size_t *retlen);
/* The document as a NUL-terminated string the caller frees (ret_len may
 * be NULL), or the writer's first error. The writer hands over its buffer
 * (no copy) and is left empty. */
int json_writer_take(struct json_writer *w, char **ret, size_t *ret_len);

/* For a document too long to hold whole (persistctl's status printer, the daemon's
 * status sent in parts): what is written so far goes to sink and is forgotten, and the
 * writer goes on where it was. The sink's negative return, or the writer's first
 * error, is latched and returned. */
typedef int (*json_sink_fn)(void *userdata, const char *p, size_t n);
int json_writer_flush(struct json_writer *w, json_sink_fn sink, void *userdata);
/* Bytes written since the start or the last flush. */
size_t json_writer_pending(const struct json_writer *w);

/* {"key":"value"} as a new string (for JSON-RPC params). */
int json_object_1(const char *key, const char *value, char **ret);

/* Starts a new document, keeping the allocation. */
void json_writer_reset(struct json_writer *w);
