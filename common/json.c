#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"

/* yajl decodes "\u0000" to a NUL that silently cuts the string short, so
 * "https://ca/acct/1\u0000x" would read as "https://ca/acct/1". */
static bool has_nul_escape(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '"') {
			in_string = false;
		} else if (c == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
				return true;
			i++;
		}
	}
	return false;
}

int json_check_depth(const char *text, size_t len, unsigned max_depth)
{
	unsigned depth = 0, deepest = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return -E2BIG;
			deepest = MAX(deepest, depth);
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return (int)deepest;
}

int json_parse(const char *text, size_t len, size_t max_bytes, yajl_val *ret, char *err,
	       size_t err_size)
{
	char yerr[256];

	if (len > max_bytes) {
		if (err)
			str_printf(err, err_size, "JSON text longer than %zu bytes", max_bytes);
		return -E2BIG;
	}
	if (memchr(text, '\0', len) || has_nul_escape(text, len)) {
		if (err)
			str_printf(err, err_size, "NUL byte (U+0000) in JSON text");
		return -EINVAL;
	}
	if (json_check_depth(text, len, JSON_MAX_DEPTH) < 0) {
		if (err)
			str_printf(err, err_size, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
		return -E2BIG;
	}
	/* yajl wants a NUL-terminated string; text may not be. */
	_cleanup_free_ char *copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	yerr[0] = '\0';
	yajl_val v = yajl_tree_parse(copy, yerr, sizeof(yerr));
	if (!v) {
		if (err) {
			/* yajl's message spans lines and quotes the input: keep the first line. */
			yerr[strcspn(yerr, "\r\n")] = '\0';
			str_escape_line(err, err_size, yerr, strlen(yerr), 160);
		}
		return yerr[0] && strstr(yerr, "memory") ? -ENOMEM : -EINVAL;
	}
	*ret = v;
	return 0;
}

yajl_val json_get(yajl_val obj, const char *key)
{
	if (!obj || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (streq(obj->u.object.keys[i], key))
			return obj->u.object.values[i];
	return NULL;
}

const char *json_get_string(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

yajl_val json_get_object(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return v && YAJL_IS_OBJECT(v) ? v : NULL;
}

yajl_val json_get_array(yajl_val obj, const char *key)
{
	yajl_val v = json_get(obj, key);
	return v && YAJL_IS_ARRAY(v) ? v : NULL;
}

bool json_get_int(yajl_val obj, const char *key, int64_t *ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || !YAJL_IS_INTEGER(v))
		return false;
	*ret = YAJL_GET_INTEGER(v);
	return true;
}

bool json_get_bool(yajl_val obj, const char *key, bool *ret)
{
	yajl_val v = json_get(obj, key);
	if (!v || !(YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)))
		return false;
	*ret = YAJL_IS_TRUE(v);
	return true;
}

/* The writer is our own, not yajl_gen: a status of 10,000 certs is 10 MB
 * of JSON, and yajl_gen encoded each string a byte at a time through a
 * callback and grew its buffer by copies (issue 12). The output is the
 * same text yajl_gen wrote, compact or beautified with two spaces: the
 * same separators, the same escapes (\b \f \n \r \t \" \\, \u00XX in
 * upper case for the other control characters, nothing else escaped). */
#define WRITER_MAX_DEPTH 128 /* yajl's: a generator bug, never data, reaches it */

enum writer_state {
	WS_START,       /* nothing written at this level */
	WS_MAP_START,   /* "{" written, no key yet */
	WS_MAP_KEY,     /* a key is next (after a value) */
	WS_MAP_VAL,     /* a value is next (after a key) */
	WS_ARRAY_START,
	WS_IN_ARRAY,
	WS_COMPLETE,
};

struct json_writer {
	char *buf;              /* owned, NUL-terminated after len */
	size_t len, cap;
	int error;
	bool pretty;
	unsigned depth;
	uint8_t state[WRITER_MAX_DEPTH + 1];
};

static bool grow_slow(struct json_writer *w, size_t more)
{
	if (w->error)
		return false;
	size_t cap = w->cap ? w->cap : 4096;
	while (more >= cap - w->len) {
		if (cap > SIZE_MAX / 2) {
			w->error = -ENOMEM;
			return false;
		}
		cap *= 2;
	}
	char *n = realloc(w->buf, cap);
	if (!n) {
		w->error = -ENOMEM;
		return false;
	}
	w->buf = n;
	w->cap = cap;
	return true;
}

/* Room for more bytes and the NUL. */
static inline bool grow(struct json_writer *w, size_t more)
{
	if (w->cap && more < w->cap - w->len && !w->error)
		return true;
	return grow_slow(w, more);
}

static void put(struct json_writer *w, const char *s, size_t n)
{
	if (!grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

static void put_c(struct json_writer *w, char c)
{
	if (!grow(w, 1))
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = 0;
}

/* Two spaces per level. */
static void indent(struct json_writer *w)
{
	size_t n = 2 * (size_t)w->depth;

	if (!grow(w, n))
		return;
	memset(w->buf + w->len, ' ', n);
	w->len += n;
	w->buf[w->len] = 0;
}

struct json_writer *json_writer_new(bool pretty)
{
	struct json_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->pretty = pretty;
	return w;
}

void json_writer_free(struct json_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

/* What comes before a value or a container at the current level: a comma
 * or a colon, and in pretty mode the line break and indent. Refuses (the
 * writer's error) a value where a key must be, or after the document. */
static inline bool before_value(struct json_writer *w, bool is_string)
{
	uint8_t st = w->state[w->depth];

	if (w->error)
		return false;
	if (st == WS_COMPLETE || (!is_string && (st == WS_MAP_START || st == WS_MAP_KEY))) {
		w->error = -EINVAL;
		return false;
	}
	if (st == WS_MAP_KEY || st == WS_IN_ARRAY) {
		put(w, w->pretty ? ",\n" : ",", w->pretty ? 2 : 1);
	} else if (st == WS_MAP_VAL) {
		put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
		return !w->error;
	}
	if (w->pretty)
		indent(w);
	return !w->error;
}

/* A value (or a key) was written at the current level. */
static inline void after_value(struct json_writer *w)
{
	uint8_t *st = &w->state[w->depth];

	switch (*st) {
	case WS_START:
		*st = WS_COMPLETE;
		break;
	case WS_MAP_START:
	case WS_MAP_KEY:
		*st = WS_MAP_VAL;
		break;
	case WS_MAP_VAL:
		*st = WS_MAP_KEY;
		break;
	case WS_ARRAY_START:
		*st = WS_IN_ARRAY;
		break;
	default:
		break;
	}
}

static void open_container(struct json_writer *w, char c, enum writer_state st)
{
	if (!before_value(w, false))
		return;
	if (w->depth + 1 >= WRITER_MAX_DEPTH) {
		w->error = -E2BIG;
		return;
	}
	w->state[++w->depth] = st;
	put_c(w, c);
	if (w->pretty)
		put_c(w, '\n');
}

static void close_container(struct json_writer *w, char c, enum writer_state open,
			    enum writer_state inside)
{
	uint8_t st = w->state[w->depth];

	if (w->error)
		return;
	if (w->depth == 0 || (st != open && st != inside)) {
		w->error = -EINVAL;
		return;
	}
	w->depth--;
	if (w->pretty)
		put_c(w, '\n');
	after_value(w);
	if (w->pretty && w->state[w->depth] != WS_MAP_VAL)
		indent(w);
	put_c(w, c);
	if (w->pretty && w->state[w->depth] == WS_COMPLETE)
		put_c(w, '\n');
}

void json_begin_object(struct json_writer *w)
{
	open_container(w, '{', WS_MAP_START);
}

void json_end_object(struct json_writer *w)
{
	close_container(w, '}', WS_MAP_START, WS_MAP_KEY);
}

void json_begin_array(struct json_writer *w)
{
	open_container(w, '[', WS_ARRAY_START);
}

void json_end_array(struct json_writer *w)
{
	close_container(w, ']', WS_ARRAY_START, WS_IN_ARRAY);
}

/* A whole value was written; the document may be complete. */
static inline void after_atom(struct json_writer *w)
{
	after_value(w);
	if (w->pretty && w->state[w->depth] == WS_COMPLETE)
		put_c(w, '\n');
}

/* An atom: a number, true, false, null, already in JSON form. */
static void atom(struct json_writer *w, const char *text, size_t len)
{
	if (!before_value(w, false))
		return;
	put(w, text, len);
	after_atom(w);
}

void json_number_raw(struct json_writer *w, const char *text, size_t len)
{
	atom(w, text, len);
}


/* What a byte needs inside a string: 0 nothing, 1 an escape, 2 a check
 * (it starts a multi-byte UTF-8 sequence, or is not UTF-8 at all). */
static const uint8_t string_byte_class[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 2,
};


/* One pass: each byte copied, escaped as yajl_gen escapes, or (text from
 * outside, a TXT record or a CA's problem detail, is not always UTF-8,
 * and replies are sent without a second parse) replaced by U+FFFD when it
 * is not part of valid UTF-8, so the document stays JSON. */
void json_string_n(struct json_writer *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;

	if (!before_value(w, true))
		return;
	/* The most a byte can become is six ("\u001F"). */
	if (len > (SIZE_MAX - 3) / 6) {
		w->error = -ENOMEM;
		return;
	}
	if (!grow(w, len * 6 + 2))
		return;
	char *o = w->buf + w->len;
	*o++ = '"';
	for (size_t i = 0; i < len;) {
		uint64_t word;
		if (len - i >= 8 && (memcpy(&word, u + i, 8), json_word_is_plain(word))) {
			memcpy(o, &word, 8);
			o += 8;
			i += 8;
			continue;
		}
		unsigned char c = u[i];
		switch (string_byte_class[c]) {
		case 0:
			*o++ = (char)c;
			i++;
			continue;
		case 1:
			*o++ = '\\';
			switch (c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				memcpy(o, "u00", 3);
				o[3] = hex[c >> 4];
				o[4] = hex[c & 15];
				o += 5;
			}
			i++;
			continue;
		default: {
			size_t n = str_utf8_seq_len(u + i, len - i);
			if (n) {
				memcpy(o, u + i, n);
				o += n;
				i += n;
			} else {
				memcpy(o, "\xef\xbf\xbd", 3);
				o += 3;
				i++;
			}
		}
		}
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = 0;
	after_atom(w);
}

#if defined(__SANITIZE_ADDRESS__)
/* Whether json_string_n() would copy s unchanged. */
static bool json_bytes_are_plain(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		if (string_byte_class[u[i]] == 1)
			return false;
		size_t n = string_byte_class[u[i]] ? str_utf8_seq_len(u + i, len - i) : 1;
		if (!n)
			return false;
		i += n;
	}
	return true;
}
#endif

void json_string_plain(struct json_writer *w, const char *s, size_t len)
{
#if defined(__SANITIZE_ADDRESS__)
	if (!json_bytes_are_plain(s, len))
		abort(); /* a caller broke json_string_plain()'s rule: see json.h */
#endif
	if (!before_value(w, true))
		return;
	if (len > SIZE_MAX - 3 || !grow(w, len + 2))
		return;
	char *o = w->buf + w->len;
	*o++ = '"';
	memcpy(o, s, len);
	o += len;
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = 0;
	after_atom(w);
}

void json_int(struct json_writer *w, int64_t v)
{
	/* Not sprintf: a status of 10,000 certs writes a hundred thousand. */
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	atom(w, p, (size_t)(buf + sizeof(buf) - p));
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	atom(w, buf, (size_t)n);
}

void json_bool(struct json_writer *w, bool v)
{
	if (v)
		atom(w, "true", 4);
	else
		atom(w, "false", 5);
}

void json_null(struct json_writer *w)
{
	atom(w, "null", 4);
}

/* Replays a parsed tree into the generator. */
void json_value(struct json_writer *w, yajl_val v)
{
	if (!v) {
		json_null(w);
	} else if (YAJL_IS_STRING(v)) {
		json_string(w, YAJL_GET_STRING(v));
	} else if (YAJL_IS_NUMBER(v)) {
		const char *raw = YAJL_GET_NUMBER(v);
		atom(w, raw, strlen(raw));
	} else if (YAJL_IS_OBJECT(v)) {
		json_begin_object(w);
		for (size_t i = 0; i < v->u.object.len; i++) {
			json_key(w, v->u.object.keys[i]);
			json_value(w, v->u.object.values[i]);
		}
		json_end_object(w);
	} else if (YAJL_IS_ARRAY(v)) {
		json_begin_array(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			json_value(w, v->u.array.values[i]);
		json_end_array(w);
	} else if (YAJL_IS_TRUE(v)) {
		json_bool(w, true);
	} else if (YAJL_IS_FALSE(v)) {
		json_bool(w, false);
	} else {
		json_null(w);
	}
}

void json_raw(struct json_writer *w, const char *json, size_t len)
{
	yajl_val v = NULL;
	int r = json_parse(json, len, SIZE_MAX, &v, NULL, 0);

	if (r < 0) {
		if (!w->error)
			w->error = r;
		return;
	}
	json_value(w, v);
	yajl_tree_free(v);
}

int json_writer_finish(struct json_writer *w, const char **ret, size_t *retlen)
{
	if (w->error)
		return w->error;
	*ret = w->buf ? w->buf : "";
	*retlen = w->len;
	return 0;
}

size_t json_writer_pending(const struct json_writer *w)
{
	return w->len;
}

int json_writer_flush(struct json_writer *w, json_sink_fn sink, void *userdata)
{
	if (w->error)
		return w->error;
	if (w->len == 0)
		return 0;
	int r = sink(userdata, w->buf, w->len);
	if (r < 0)
		return w->error = r;
	/* Nothing before len is read again: the nesting state lives in w->state. */
	w->len = 0;
	w->buf[0] = 0;
	return 0;
}

int json_writer_take(struct json_writer *w, char **ret, size_t *ret_len)
{
	if (w->error)
		return w->error;
	/* The buffer itself, not a copy (the status of 10,000 certs is 10 MB);
	 * the writer starts again empty. */
	char *out = w->buf ? w->buf : strdup("");
	if (!out)
		return -ENOMEM;
	*ret = out;
	if (ret_len)
		*ret_len = w->len;
	w->buf = NULL;
	w->cap = 0;
	json_writer_reset(w);
	return 0;
}

int json_object_1(const char *key, const char *value, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_kv_string(w, key, value);
	json_end_object(w);
	return json_writer_take(w, ret, NULL);
}

void json_writer_reset(struct json_writer *w)
{
	w->len = 0;
	if (w->buf)
		w->buf[0] = 0;
	w->depth = 0;
	w->state[0] = WS_START;
	w->error = 0;
}
