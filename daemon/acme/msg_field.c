/* daemon/acme/msg_field.c: reading one member of an ACME JSON object. See msg_field.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/acme/msg_field.h"

/* ---- members ------------------------------------------------------------------------- */

int msg_field_fail(int r, char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Prepends "what: " to the reason a nested parser left in err. */
int msg_field_wrap(int r, char *err, size_t err_size, const char *fmt, ...)
{
	char inner[256], outer[128];
	va_list ap;

	if (!err || !err_size)
		return r;
	str_printf(inner, sizeof(inner), "%s", err);
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	str_printf(err, err_size, "%s: %s", outer, inner);
	return r;
}

void msg_field_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A string member: absent is fine unless required (then *ret stays NULL). An empty string
 * counts as absent for required members, since every required string names something. */
int msg_field_get_string(yajl_val obj, const char *what, const char *key, bool required,
		      size_t max_bytes, char **ret, char *err, size_t err_size)
{
	yajl_val v = json_get(obj, key);

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' missing", what,
					      key);
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is not a string", what,
				      key);
	const char *s = STR(v);
	size_t len = strlen(s);
	if (required && len == 0)
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is empty", what, key);
	if (len > max_bytes)
		return msg_field_fail(-E2BIG, err, err_size, "%s: '%s' longer than %zu bytes", what,
				      key, max_bytes);
	char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

int msg_field_get_url(yajl_val obj, const char *what, const char *key, bool required, char **ret,
		   char *err, size_t err_size)
{
	return msg_field_get_string(obj, what, key, required, ACME_MAX_URL_BYTES, ret, err,
				    err_size);
}

/* An array of strings, each non-empty and at most max_bytes. */
int msg_field_get_string_array(yajl_val obj, const char *what, const char *key, bool required,
			    size_t max_n, size_t max_bytes, char ***ret, size_t *ret_n, char *err,
			    size_t err_size)
{
	yajl_val v = json_get(obj, key);

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' missing", what,
					      key);
		return 0;
	}
	if (!YAJL_IS_ARRAY(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is not an array", what,
				      key);
	size_t n = v->u.array.len;
	if (n > max_n)
		return msg_field_fail(-E2BIG, err, err_size, "%s: '%s' has more than %zu entries",
				      what, key, max_n);
	if (n == 0)
		return 0;
	char **out = calloc(n, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		int r;

		if (!YAJL_IS_STRING(e) || !*STR(e)) {
			r = msg_field_fail(-EINVAL, err, err_size,
					   "%s: '%s'[%zu] is not a non-empty string", what, key, i);
		} else if (strlen(STR(e)) > max_bytes) {
			r = msg_field_fail(-E2BIG, err, err_size,
					   "%s: '%s'[%zu] longer than %zu bytes", what, key, i,
					   max_bytes);
		} else {
			out[i] = strdup(STR(e));
			r = out[i] ? 0 : -ENOMEM;
		}
		if (r < 0) {
			msg_field_strv_free(out, n);
			return r;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int msg_field_get_bool(yajl_val obj, const char *what, const char *key, bool *ret, char *err,
		    size_t err_size)
{
	yajl_val v = json_get(obj, key);

	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is not a boolean", what,
				      key);
	*ret = YAJL_IS_TRUE(v);
	return 0;
}

int msg_field_get_time(yajl_val obj, const char *what, const char *key, bool required,
		    int64_t *ret, char *err, size_t err_size)
{
	yajl_val v = json_get(obj, key);
	int64_t t;

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' missing", what,
					      key);
		*ret = 0;
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is not a string", what,
				      key);
	if (time_parse_rfc3339(STR(v), &t) < 0) {
		char esc[80];

		str_escape_line(esc, sizeof(esc), STR(v), strlen(STR(v)),
				40);
		return msg_field_fail(-EINVAL, err, err_size,
				      "%s: '%s' is not an RFC 3339 time: '%s'", what, key, esc);
	}
	*ret = t;
	return 0;
}

int msg_field_need_object(yajl_val v, const char *what, char *err, size_t err_size)
{
	if (!v || !YAJL_IS_OBJECT(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: not a JSON object", what);
	return 0;
}

/* Checks an issuer list against dns-persist-01 section 3.1: 1..RECORD_MAX_ISSUERS valid
 * lowercase A-label names, no trailing dot. On success *ret owns copies. */
int msg_field_issuer_list(yajl_val v, const char *what, const char *key, char ***ret,
			     size_t *ret_n, char *err, size_t err_size)
{
	if (!YAJL_IS_ARRAY(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is not an array", what,
				      key);
	size_t n = v->u.array.len;
	if (n == 0)
		return msg_field_fail(-EINVAL, err, err_size, "%s: '%s' is empty", what, key);
	if (n > RECORD_MAX_ISSUERS)
		return msg_field_fail(-EINVAL, err, err_size,
				      "%s: '%s' has %zu entries (at most %d)", what, key, n,
				      RECORD_MAX_ISSUERS);
	char **out = calloc(n, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		int r = 0;

		if (!YAJL_IS_STRING(e)) {
			r = msg_field_fail(-EINVAL, err, err_size, "%s: '%s'[%zu] is not a string",
					   what, key, i);
		} else if (!record_issuer_is_valid(STR(e))) {
			char esc[80];

			str_escape_line(esc, sizeof(esc), STR(e),
					strlen(STR(e)), 60);
			r = msg_field_fail(
				-EINVAL, err, err_size,
				"%s: '%s'[%zu] '%s' is not a lowercase domain name without a "
				"trailing dot",
				what, key, i, esc);
		} else {
			out[i] = strdup(STR(e));
			if (!out[i])
				r = -ENOMEM;
		}
		if (r < 0) {
			msg_field_strv_free(out, n);
			return r;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}
