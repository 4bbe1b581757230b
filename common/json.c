#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

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

struct json_writer {
	yajl_gen g;
	int error;
};

struct json_writer *json_writer_new(bool pretty)
{
	struct json_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->g = yajl_gen_alloc(NULL);
	if (!w->g) {
		free(w);
		return NULL;
	}
	if (pretty) {
		yajl_gen_config(w->g, yajl_gen_beautify, 1);
		yajl_gen_config(w->g, yajl_gen_indent_string, "  ");
	}
	return w;
}

void json_writer_free(struct json_writer *w)
{
	if (!w)
		return;
	yajl_gen_free(w->g);
	free(w);
}

static void check(struct json_writer *w, yajl_gen_status s)
{
	if (s != yajl_gen_status_ok && !w->error)
		w->error = s == yajl_gen_in_error_state ? -EINVAL : -EINVAL;
}

void json_begin_object(struct json_writer *w)
{
	check(w, yajl_gen_map_open(w->g));
}

void json_end_object(struct json_writer *w)
{
	check(w, yajl_gen_map_close(w->g));
}

void json_begin_array(struct json_writer *w)
{
	check(w, yajl_gen_array_open(w->g));
}

void json_end_array(struct json_writer *w)
{
	check(w, yajl_gen_array_close(w->g));
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		: c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

void json_string_n(struct json_writer *w, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len && (n = utf8_seq_len(u + i, len - i)) > 0)
		i += n;
	if (i == len) {
		check(w, yajl_gen_string(w->g, u, len));
		return;
	}
	/* Text from outside (a TXT record, a CA's problem detail, a certificate's
	 * names) is not always UTF-8, and replies are sent without a second
	 * parse: each invalid byte becomes U+FFFD, so the document stays JSON. */
	char *fixed = len <= (SIZE_MAX - 1) / 3 ? malloc(len * 3 + 1) : NULL;
	size_t o = 0;
	if (!fixed) {
		check(w, yajl_gen_invalid_string);
		return;
	}
	for (i = 0; i < len; i += n) {
		n = utf8_seq_len(u + i, len - i);
		if (n) {
			memcpy(fixed + o, u + i, n);
			o += n;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	}
	check(w, yajl_gen_string(w->g, (const unsigned char *)fixed, o));
	free(fixed);
}

void json_key(struct json_writer *w, const char *key)
{
	json_string_n(w, key, strlen(key));
}

void json_string(struct json_writer *w, const char *s)
{
	if (!s)
		json_null(w);
	else
		json_string_n(w, s, strlen(s));
}

void json_int(struct json_writer *w, int64_t v)
{
	/* yajl_gen_integer() goes through sprintf: by hand, a status of 10,000
	 * certs writes a hundred thousand of these. */
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	check(w, yajl_gen_number(w->g, p, (size_t)(buf + sizeof(buf) - p)));
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	check(w, yajl_gen_number(w->g, buf, (size_t)n));
}

void json_bool(struct json_writer *w, bool v)
{
	check(w, yajl_gen_bool(w->g, v));
}

void json_null(struct json_writer *w)
{
	check(w, yajl_gen_null(w->g));
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
		check(w, yajl_gen_number(w->g, raw, strlen(raw)));
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

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

int json_writer_finish(struct json_writer *w, const char **ret, size_t *retlen)
{
	const unsigned char *buf;
	size_t len;

	if (w->error)
		return w->error;
	if (yajl_gen_get_buf(w->g, &buf, &len) != yajl_gen_status_ok)
		return -EINVAL;
	*ret = (const char *)buf;
	*retlen = len;
	return 0;
}

int json_writer_take(struct json_writer *w, char **ret, size_t *ret_len)
{
	const char *out = NULL;
	size_t len = 0;
	int r;

	r = json_writer_finish(w, &out, &len);
	if (r < 0)
		return r;
	char *copy = strndup(out, len);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	if (ret_len)
		*ret_len = len;
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
	yajl_gen_reset(w->g, NULL);
	yajl_gen_clear(w->g);
	w->error = 0;
}
