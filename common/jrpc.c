/* common/jrpc.c: JSON-RPC 2.0 lines; see jrpc.h for the contract. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"

#define JRPC_READER_MIN_BYTES 4096

const char *jrpc_code_to_string(int code)
{
	switch (code) {
	case JRPC_PARSE_ERROR:
		return "parse-error";
	case JRPC_INVALID_REQUEST:
		return "invalid-request";
	case JRPC_METHOD_NOT_FOUND:
		return "method-not-found";
	case JRPC_INVALID_PARAMS:
		return "invalid-params";
	case JRPC_INTERNAL_ERROR:
		return "internal-error";
	case JRPC_PERMISSION_DENIED:
		return "permission-denied";
	case JRPC_REQUEST_TOO_LARGE:
		return "request-too-large";
	case JRPC_BUSY:
		return "busy";
	case JRPC_NOT_FOUND:
		return "not-found";
	case JRPC_FAILED:
		return "failed";
	default:
		return NULL;
	}
}

/* ---- framing ---- */

void jrpc_reader_init(struct jrpc_reader *r, size_t max_line_bytes)
{
	/* The buffer holds a whole line plus its '\n': keep that sum finite. */
	*r = (struct jrpc_reader){ .max_line_bytes = MIN(max_line_bytes, SIZE_MAX / 4) };
}

void jrpc_reader_done(struct jrpc_reader *r)
{
	free(r->buf);
	jrpc_reader_init(r, r->max_line_bytes);
}

int jrpc_reader_space(struct jrpc_reader *r, char **ret, size_t *retlen)
{
	return jrpc_reader_space_min(r, 1, ret, retlen);
}

int jrpc_reader_space_min(struct jrpc_reader *r, size_t want, char **ret, size_t *retlen)
{
	size_t limit = r->max_line_bytes + 1;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scanned -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap || (r->cap - r->end < want && r->cap < limit)) {
		if (r->cap >= limit)
			return -E2BIG;
		size_t cap = MAX(r->cap * 2, (size_t)JRPC_READER_MIN_BYTES);
		while (cap - r->end < want && cap < limit)
			cap *= 2;
		cap = MIN(cap, limit);
		char *buf = realloc(r->buf, cap);
		if (!buf)
			return -ENOMEM;
		r->buf = buf;
		r->cap = cap;
	}
	*ret = r->buf + r->end;
	*retlen = r->cap - r->end;
	return 0;
}

void jrpc_reader_commit(struct jrpc_reader *r, size_t n)
{
	r->end += MIN(n, r->cap - r->end);
}

/* The longest the line at start may still be in the buffer: what it dropped
 * counts towards max_line_bytes. */
static size_t line_room(const struct jrpc_reader *r)
{
	return r->max_line_bytes - MIN(r->dropped, r->max_line_bytes);
}

int jrpc_reader_line(struct jrpc_reader *r, const char **ret, size_t *retlen)
{
	const char *nl = NULL;

	if (r->end > r->scanned)
		nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);

	if (!nl) {
		r->scanned = r->end;
		return r->end - r->start > line_room(r) ? -E2BIG : 0;
	}
	size_t len = (size_t)(nl - (r->buf + r->start));
	if (len > line_room(r))
		return -E2BIG;
	*ret = r->buf + r->start;
	*retlen = len;
	r->start += len + 1;
	r->scanned = r->start;
	r->dropped = 0;
	return 1;
}

int jrpc_reader_peek(struct jrpc_reader *r, const char **ret, size_t *retlen, bool *complete)
{
	const char *nl = NULL;

	if (r->end > r->scanned)
		nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
	/* scanned stays before the '\n', so that jrpc_reader_line() finds it. */
	r->scanned = nl ? (size_t)(nl - r->buf) : r->end;
	size_t len = r->scanned - r->start;
	if (len > line_room(r))
		return -E2BIG;
	*ret = r->buf ? r->buf + r->start : "";
	*retlen = len;
	*complete = nl != NULL;
	return 0;
}

void jrpc_reader_drop(struct jrpc_reader *r, size_t n)
{
	n = MIN(n, r->scanned - r->start);
	r->start += n;
	r->dropped += n;
}

size_t jrpc_reader_pending(const struct jrpc_reader *r)
{
	return r->end - r->start;
}

int jrpc_reader_take_rest(struct jrpc_reader *r, const char **ret, size_t *retlen)
{
	size_t len = r->end - r->start;

	if (len == 0)
		return 0;
	if (len > line_room(r))
		return -E2BIG;
	*ret = r->buf + r->start;
	*retlen = len;
	r->start = r->scanned = r->end;
	r->dropped = 0;
	return 1;
}

bool jrpc_line_is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
			return false;
	return true;
}

/* ---- parsing ---- */

static bool is_id_value(yajl_val v)
{
	return v && (YAJL_IS_STRING(v) || YAJL_IS_NUMBER(v) || YAJL_IS_NULL(v));
}

static bool is_structured(yajl_val v)
{
	return v && (YAJL_IS_OBJECT(v) || YAJL_IS_ARRAY(v));
}

/* Raw JSON of an id: a number exactly as sent, a string re-encoded. */
static int id_to_json(yajl_val v, char **ret)
{
	if (YAJL_IS_NUMBER(v)) {
		char *s = strdup(YAJL_GET_NUMBER(v));
		if (!s)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	return jrpc_json_dump(v, ret, NULL);
}

/* The index of key in obj, -1 when absent, -2 when it appears twice. */
static ssize_t member_index(yajl_val obj, const char *key)
{
	ssize_t found = -1;

	for (size_t i = 0; i < obj->u.object.len; i++)
		if (streq(obj->u.object.keys[i], key)) {
			if (found >= 0)
				return -2;
			found = (ssize_t)i;
		}
	return found;
}

static yajl_val member(yajl_val obj, const char *key)
{
	ssize_t i = member_index(obj, key);
	return i >= 0 ? obj->u.object.values[i] : NULL;
}

/* Takes a member's value out of the tree, so it outlives yajl_tree_free(obj). */
static yajl_val member_detach(yajl_val obj, const char *key)
{
	ssize_t i = member_index(obj, key);
	if (i < 0)
		return NULL;
	return TAKE_PTR(obj->u.object.values[i]);
}

void jrpc_request_free(struct jrpc_request *r)
{
	if (!r)
		return;
	free(r->method);
	if (r->params)
		yajl_tree_free(r->params);
	free(r->id_json);
	free(r);
}

void jrpc_parse_error_done(struct jrpc_parse_error *e)
{
	free(e->id_json);
	e->id_json = NULL;
}

static int parse_fail(struct jrpc_parse_error *e, int code, int r, const char *fmt, ...)
	_printf_(4, 5);

static int parse_fail(struct jrpc_parse_error *e, int code, int r, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return r;
}

int jrpc_parse_request(const char *line, size_t len, size_t max_bytes, struct jrpc_request **ret,
		       struct jrpc_parse_error *reterr)
{
	static const char *const known[] = { "jsonrpc", "method", "params", "id" };
	_cleanup_(yajl_tree_freep) yajl_val root = NULL;
	char err[160], key[64];
	int r;

	*reterr = (struct jrpc_parse_error){ .code = JRPC_INVALID_REQUEST };
	if (len > max_bytes)
		return parse_fail(reterr, JRPC_REQUEST_TOO_LARGE, -E2BIG,
				  "request longer than %zu bytes", max_bytes);
	r = json_parse(line, len, max_bytes, &root, err, sizeof(err));
	if (r == -ENOMEM)
		return parse_fail(reterr, JRPC_INTERNAL_ERROR, r, "out of memory");
	if (r == -E2BIG)
		return parse_fail(reterr, JRPC_INVALID_REQUEST, r, "request %s", err);
	if (r < 0)
		return parse_fail(reterr, JRPC_PARSE_ERROR, r, "parse error: %s", err);
	if (YAJL_IS_ARRAY(root))
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
				  "batch requests are not supported: "
				  "send one request object per line");
	if (!YAJL_IS_OBJECT(root))
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
				  "a request must be a JSON object");

	/* Recover the id first, so that every later complaint can carry it. */
	yajl_val id = member(root, "id");
	if (is_id_value(id)) {
		r = id_to_json(id, &reterr->id_json);
		if (r < 0)
			return parse_fail(reterr, JRPC_INTERNAL_ERROR, r, "out of memory");
	}

	for (size_t i = 0; i < root->u.object.len; i++) {
		const char *k = root->u.object.keys[i];
		bool ok = false;

		for (size_t j = 0; j < ELEMENTSOF(known); j++)
			ok = ok || streq(k, known[j]);
		str_escape_line(key, sizeof(key), k, strlen(k), 40);
		if (!ok)
			return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
					  "unexpected member '%s' in a request", key);
		if (member_index(root, k) == -2)
			return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
					  "member '%s' appears more than once", key);
	}

	const char *version = json_get_string(root, "jsonrpc");
	if (!version || !streq(version, "2.0"))
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
				  "\"jsonrpc\" must be the string \"2.0\"");
	const char *method = json_get_string(root, "method");
	if (!method)
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
				  "\"method\" must be a string");
	if (!method[0])
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL, "\"method\" is empty");
	yajl_val params = member(root, "params");
	if (params && !is_structured(params))
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
				  "\"params\" must be an object or an array");
	if (id && !is_id_value(id))
		return parse_fail(reterr, JRPC_INVALID_REQUEST, -EINVAL,
				  "\"id\" must be a string, a number or null");

	_cleanup_(jrpc_request_freep) struct jrpc_request *req = calloc(1, sizeof(*req));
	if (!req)
		return parse_fail(reterr, JRPC_INTERNAL_ERROR, -ENOMEM, "out of memory");
	req->method = strdup(method);
	if (!req->method)
		return parse_fail(reterr, JRPC_INTERNAL_ERROR, -ENOMEM, "out of memory");
	req->id_json = TAKE_PTR(reterr->id_json);
	req->params = member_detach(root, "params");
	*ret = TAKE_PTR(req);
	return 0;
}

void jrpc_message_free(struct jrpc_message *m)
{
	if (!m)
		return;
	free(m->id_json);
	if (m->result)
		yajl_tree_free(m->result);
	free(m->error_message);
	free(m->error_data_json);
	free(m->method);
	if (m->params)
		yajl_tree_free(m->params);
	free(m);
}

static int parse_error_object(yajl_val e, struct jrpc_message *m)
{
	static const char *const keys[] = { "code", "message", "data" };
	int64_t code;
	int r;

	if (!YAJL_IS_OBJECT(e))
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (member_index(e, keys[i]) == -2)
			return -EINVAL;
	if (!json_get_int(e, "code", &code) || code < INT_MIN || code > INT_MAX)
		return -EINVAL;
	const char *message = json_get_string(e, "message");
	if (!message)
		return -EINVAL;
	m->error_code = (int)code;
	m->error_message = strdup(message);
	if (!m->error_message)
		return -ENOMEM;
	yajl_val data = member(e, "data");
	if (data) {
		r = jrpc_json_dump(data, &m->error_data_json, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

int jrpc_parse_message(const char *line, size_t len, size_t max_bytes, struct jrpc_message **ret)
{
	static const char *const keys[] = {
		"jsonrpc", "id", "result", "error", "method", "params",
	};
	_cleanup_(yajl_tree_freep) yajl_val root = NULL;
	int r;

	r = json_parse(line, len, max_bytes, &root, NULL, 0);
	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(root))
		return -EINVAL;
	/* Unknown members are ignored, so that a newer daemon may add some;
	 * a member we read must appear once. */
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (member_index(root, keys[i]) == -2)
			return -EINVAL;
	const char *version = json_get_string(root, "jsonrpc");
	if (!version || !streq(version, "2.0"))
		return -EINVAL;

	_cleanup_(jrpc_message_freep) struct jrpc_message *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	yajl_val id = member(root, "id");
	yajl_val result = member(root, "result");
	yajl_val error = member(root, "error");
	const char *method = json_get_string(root, "method");

	if (member(root, "method")) {
		/* A notification; the daemon never sends requests that want an answer. */
		yajl_val params = member(root, "params");
		if (!method || !method[0] || id || result || error)
			return -EINVAL;
		if (params && !is_structured(params))
			return -EINVAL;
		m->kind = JRPC_MESSAGE_NOTIFICATION;
		m->method = strdup(method);
		if (!m->method)
			return -ENOMEM;
		m->params = member_detach(root, "params");
		*ret = TAKE_PTR(m);
		return 0;
	}
	if (!is_id_value(id) || !result == !error || member(root, "params"))
		return -EINVAL;
	r = id_to_json(id, &m->id_json);
	if (r < 0)
		return r;
	if (result) {
		m->kind = JRPC_MESSAGE_RESULT;
		m->result = member_detach(root, "result");
	} else {
		m->kind = JRPC_MESSAGE_ERROR;
		r = parse_error_object(error, m);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

/* ---- building ---- */

/* Copies the writer's document into a malloc'd string, with suffix appended. */
static int writer_take(struct json_writer *w, const char *suffix, char **ret, size_t *retlen)
{
	const char *doc;
	size_t len, slen = strlen(suffix);
	int r;

	r = json_writer_finish(w, &doc, &len);
	if (r < 0)
		return r;
	char *s = malloc(len + slen + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, doc, len);
	memcpy(s + len, suffix, slen + 1);
	*ret = s;
	if (retlen)
		*retlen = len + slen;
	return 0;
}

int jrpc_json_dump(yajl_val v, char **ret, size_t *retlen)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	if (!w)
		return -ENOMEM;
	json_value(w, v);
	return writer_take(w, "", ret, retlen);
}

/* Checks that text is exactly one JSON value (no callbacks: yajl only
 * validates, without building a tree, so any size or depth is cheap). */
static int validate_json(const char *text, size_t len)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	int r = 0;

	if (!h)
		return -ENOMEM;
	if (memchr(text, '\0', len) ||
	    yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok ||
	    yajl_complete_parse(h) != yajl_status_ok)
		r = -EINVAL;
	yajl_free(h);
	return r;
}

static char first_char(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			return text[i];
	return '\0';
}

static int validate_id(const char *id_json)
{
	if (!id_json)
		return 0;
	char c = first_char(id_json, strlen(id_json));
	if (c == '{' || c == '[' || c == 't' || c == 'f')
		return -EINVAL;
	return validate_json(id_json, strlen(id_json));
}

static int string_to_json(const char *s, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	if (!w)
		return -ENOMEM;
	json_string(w, s);
	return writer_take(w, "", ret, NULL);
}

/* Appends text to a line being built; raw newlines (JSON whitespace once
 * the text has been validated) become spaces so the message stays one line. */
static char *append(char *p, const char *text, size_t len, bool flatten)
{
	memcpy(p, text, len);
	if (flatten)
		for (size_t i = 0; i < len; i++)
			if (p[i] == '\n' || p[i] == '\r')
				p[i] = ' ';
	return p + len;
}

/* One piece of a line being built; flatten: caller-supplied JSON whose
 * newlines must become spaces. */
struct part {
	const char *text;
	size_t len;
	bool flatten;
};

/* Concatenates parts into one malloc'd line ending in "\n". */
static int join_line(const struct part *parts, size_t n, char **ret, size_t *retlen)
{
	size_t total = 2;

	for (size_t i = 0; i < n; i++) {
		if (parts[i].len > SIZE_MAX / 2 - total)
			return -E2BIG;
		total += parts[i].len;
	}
	char *line = malloc(total);
	if (!line)
		return -ENOMEM;
	char *p = line;
	for (size_t i = 0; i < n; i++)
		p = append(p, parts[i].text, parts[i].len, parts[i].flatten);
	*p++ = '\n';
	*p = '\0';
	*ret = line;
	*retlen = (size_t)(p - line);
	return 0;
}

static int result_line(const char *id_json, const char *result_json, size_t result_len,
		       bool flatten, char **ret, size_t *retlen)
{
	const char *id = id_json ? id_json : "null";
	const struct part parts[] = {
		{ "{\"jsonrpc\":\"2.0\",\"id\":", 22, false },
		{ id, strlen(id), true },
		{ ",\"result\":", 10, false },
		{ result_json, result_len, flatten },
		{ "}", 1, false },
	};
	return join_line(parts, ELEMENTSOF(parts), ret, retlen);
}

int jrpc_result(const char *id_json, const char *result_json, size_t result_len, char **ret,
		size_t *retlen)
{
	int r;

	r = validate_id(id_json);
	if (r < 0)
		return r;
	r = validate_json(result_json, result_len);
	if (r < 0)
		return r;
	return result_line(id_json, result_json, result_len, true, ret, retlen);
}

int jrpc_result_trusted(const char *id_json, const char *result_json, size_t result_len,
			char **ret, size_t *retlen)
{
	int r;

	r = validate_id(id_json);
	if (r < 0)
		return r;
	if (result_len == 0)
		return -EINVAL;
	return result_line(id_json, result_json, result_len, false, ret, retlen);
}

/* {"jsonrpc":"2.0","id":ID,"MEMBER": with id_json already validated (validate_id: a
 * number, a string or null, on one line as it came) and copied as it stands. */
static void envelope_head(struct json_writer *w, const char *id_json, const char *member)
{
	json_begin_object(w);
	json_kv_string(w, "jsonrpc", "2.0");
	json_key(w, "id");
	if (id_json)
		json_number_raw(w, id_json, strlen(id_json));
	else
		json_null(w);
	json_key(w, member);
}

int jrpc_result_begin(struct json_writer *w, const char *id_json)
{
	int r = validate_id(id_json);

	if (r < 0)
		return r;
	envelope_head(w, id_json, "result");
	return 0;
}

int jrpc_result_end(struct json_writer *w, char **ret, size_t *retlen)
{
	char *line;
	size_t n;
	int r;

	json_end_object(w);
	r = json_writer_take(w, &line, &n);
	if (r < 0)
		return r;
	line[n] = '\n'; /* where the NUL was: the buffer always has room for it */
	*ret = line;
	*retlen = n + 1;
	return 0;
}

int jrpc_error(const char *id_json, int code, const char *message, const char *data_json,
	       char **ret, size_t *retlen)
{
	_cleanup_(json_writer_freep) struct json_writer *w = NULL;
	int r;

	r = validate_id(id_json);
	if (r < 0)
		return r;
	if (data_json) {
		r = validate_json(data_json, strlen(data_json));
		if (r < 0)
			return r;
	}
	w = json_writer_new(false);
	if (!w)
		return -ENOMEM;
	envelope_head(w, id_json, "error");
	json_begin_object(w);
	json_kv_int(w, "code", code);
	json_kv_string(w, "message", message ? message : "");
	if (data_json) {
		json_key(w, "data");
		json_raw(w, data_json, strlen(data_json));
	}
	json_end_object(w);
	json_end_object(w);
	return writer_take(w, "\n", ret, retlen);
}

int jrpc_call(const char *id_json, const char *method, const char *params_json,
	      size_t params_len, char **ret, size_t *retlen)
{
	_cleanup_free_ char *method_json = NULL;
	int r;

	if (!method || !method[0])
		return -EINVAL;
	r = validate_id(id_json);
	if (r < 0)
		return r;
	if (params_json) {
		char c = first_char(params_json, params_len);
		if (c != '{' && c != '[')
			return -EINVAL;
		r = validate_json(params_json, params_len);
		if (r < 0)
			return r;
	}
	r = string_to_json(method, &method_json);
	if (r < 0)
		return r;
	struct part parts[7] = {
		{ "{\"jsonrpc\":\"2.0\",\"method\":", 26, false },
		{ method_json, strlen(method_json), false },
	};
	size_t n = 2;
	if (params_json) {
		parts[n++] = (struct part){ ",\"params\":", 10, false };
		parts[n++] = (struct part){ params_json, params_len, true };
	}
	if (id_json) {
		parts[n++] = (struct part){ ",\"id\":", 6, false };
		parts[n++] = (struct part){ id_json, strlen(id_json), true };
	}
	parts[n++] = (struct part){ "}", 1, false };
	return join_line(parts, n, ret, retlen);
}

int jrpc_notification(const char *method, const char *params_json, size_t params_len, char **ret,
		      size_t *retlen)
{
	return jrpc_call(NULL, method, params_json, params_len, ret, retlen);
}
