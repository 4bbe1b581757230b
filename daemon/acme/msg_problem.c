/* daemon/acme/msg_problem.c: problem documents and identifiers. See msg_problem.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/acme/msg_field.h"
#include "daemon/acme/msg_problem.h"

/* ---- identifiers and problems ---------------------------------------------------------- */

void msg_problem_identifier_done(struct acme_identifier *id)
{
	free(id->type);
	free(id->value);
	*id = (struct acme_identifier){ 0 };
}

int msg_problem_identifier_parse(yajl_val v, const char *what, bool required,
			    struct acme_identifier *ret, char *err, size_t err_size)
{
	struct acme_identifier id = { 0 };
	int r;

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return msg_field_fail(-EINVAL, err, err_size, "%s: 'identifier' missing",
					      what);
		return 0;
	}
	if (!YAJL_IS_OBJECT(v))
		return msg_field_fail(-EINVAL, err, err_size, "%s: 'identifier' is not an object",
				      what);
	r = msg_field_get_string(v, what, "type", true, DNS_NAME_MAX_BYTES, &id.type, err,
				 err_size);
	if (r >= 0)
		r = msg_field_get_string(v, what, "value", true, ACME_MAX_URL_BYTES, &id.value, err,
					 err_size);
	if (r < 0) {
		msg_problem_identifier_done(&id);
		return r;
	}
	*ret = id;
	return 0;
}

static void subproblem_done(struct acme_subproblem *s)
{
	free(s->type);
	free(s->detail);
	msg_problem_identifier_done(&s->identifier);
}

void acme_problem_done(struct acme_problem *p)
{
	if (!p)
		return;
	free(p->type);
	free(p->detail);
	free(p->instance);
	for (size_t i = 0; i < p->n_subproblems; i++)
		subproblem_done(&p->subproblems[i]);
	free(p->subproblems);
	*p = (struct acme_problem){ 0 };
}

void acme_problem_free(struct acme_problem *p)
{
	acme_problem_done(p);
	free(p);
}

static int problem_type(yajl_val v, const char *what, char **ret, char *err, size_t err_size)
{
	int r = msg_field_get_string(v, what, "type", false, ACME_MAX_URL_BYTES, ret, err,
				     err_size);
	if (r < 0)
		return r;
	if (!*ret || !**ret) {
		free(*ret);
		*ret = strdup("about:blank");
		if (!*ret)
			return -ENOMEM;
	}
	return 0;
}

int acme_problem_parse(yajl_val v, struct acme_problem *ret, char *err, size_t err_size)
{
	_cleanup_(acme_problem_done) struct acme_problem p = { 0 };
	yajl_val subs, st;
	int r;

	r = msg_field_need_object(v, "problem", err, err_size);
	if (r < 0)
		return r;
	r = problem_type(v, "problem", &p.type, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string(v, "problem", "detail", false, ACME_MAX_TEXT_BYTES, &p.detail, err,
				 err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(v, "problem", "instance", false, &p.instance, err, err_size);
	if (r < 0)
		return r;
	st = json_get(v, "status");
	if (st && !YAJL_IS_NULL(st)) {
		if (!YAJL_IS_INTEGER(st) || YAJL_GET_INTEGER(st) < 100 ||
		    YAJL_GET_INTEGER(st) > 599)
			return msg_field_fail(-EINVAL, err, err_size,
					      "problem: 'status' is not an HTTP status code");
		p.status = (int)YAJL_GET_INTEGER(st);
	}
	subs = json_get(v, "subproblems");
	if (subs && !YAJL_IS_NULL(subs)) {
		if (!YAJL_IS_ARRAY(subs))
			return msg_field_fail(-EINVAL, err, err_size,
					      "problem: 'subproblems' is not an array");
		if (subs->u.array.len > ACME_MAX_SUBPROBLEMS)
			return msg_field_fail(-E2BIG, err, err_size,
					      "problem: more than %d subproblems",
					      ACME_MAX_SUBPROBLEMS);
		if (subs->u.array.len) {
			p.subproblems = calloc(subs->u.array.len, sizeof(*p.subproblems));
			if (!p.subproblems)
				return -ENOMEM;
		}
		for (size_t i = 0; i < subs->u.array.len; i++) {
			yajl_val s = subs->u.array.values[i];
			struct acme_subproblem *sp = &p.subproblems[i];
			char what[48];

			snprintf(what, sizeof(what), "problem: subproblem %zu", i);
			p.n_subproblems++;
			r = msg_field_need_object(s, what, err, err_size);
			if (r >= 0)
				r = problem_type(s, what, &sp->type, err, err_size);
			if (r >= 0)
				r = msg_field_get_string(s, what, "detail", false,
							 ACME_MAX_TEXT_BYTES, &sp->detail, err,
							 err_size);
			if (r >= 0)
				r = msg_problem_identifier_parse(json_get(s, "identifier"), what,
								 false, &sp->identifier, err,
								 err_size);
			if (r < 0)
				return r;
		}
	}
	*ret = p;
	p = (struct acme_problem){ 0 };
	return 0;
}

/* An optional "error" member holding a problem document. */
int msg_problem_get(yajl_val obj, const char *what, struct acme_problem **ret, char *err,
		       size_t err_size)
{
	yajl_val v = json_get(obj, "error");
	int r;

	if (!v || YAJL_IS_NULL(v))
		return 0;
	_cleanup_(acme_problem_freep) struct acme_problem *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = acme_problem_parse(v, p, err, err_size);
	if (r < 0)
		return msg_field_wrap(r, err, err_size, "%s: 'error'", what);
	*ret = TAKE_PTR(p);
	return 0;
}

bool acme_problem_is(const struct acme_problem *p, const char *name)
{
	if (!p || !p->type || !str_has_prefix(p->type, ACME_ERROR_PREFIX))
		return false;
	return streq(p->type + strlen(ACME_ERROR_PREFIX), name);
}

/* Appends to a growing heap string; latches out-of-memory in *s == NULL. */
struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_append(struct strbuf *b, const char *text, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = MAX(b->cap * 2, b->len + n + 64);
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, text, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_puts(struct strbuf *b, const char *text)
{
	sb_append(b, text, strlen(text));
}

/* Server text: control characters escaped, UTF-8 kept, cut at max bytes (at a character
 * boundary) with "...". */
static void sb_text(struct strbuf *b, const char *text, size_t max)
{
	size_t n = strlen(text), i = 0, shown = 0;

	for (; i < n && shown < max; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f) {
			char esc[8];

			snprintf(esc, sizeof(esc), "\\x%02x", c);
			sb_puts(b, esc);
			shown += 4;
		} else {
			sb_append(b, (const char *)&text[i], 1);
			shown++;
		}
	}
	if (i < n) {
		/* Cut before a partial UTF-8 sequence, not in the middle of it. */
		if (((unsigned char)text[i] & 0xc0) == 0x80) {
			while (b->len > 0 && ((unsigned char)b->s[b->len - 1] & 0xc0) == 0x80)
				b->len--;
			if (b->len > 0 && (unsigned char)b->s[b->len - 1] >= 0xc0)
				b->len--;
			if (b->s)
				b->s[b->len] = '\0';
		}
		sb_puts(b, "...");
	}
}

static const char *short_type(const char *type)
{
	if (!type || !*type)
		return "about:blank";
	if (str_has_prefix(type, ACME_ERROR_PREFIX) && type[strlen(ACME_ERROR_PREFIX)])
		return type + strlen(ACME_ERROR_PREFIX);
	return type;
}

const char *acme_problem_short_type(const struct acme_problem *p)
{
	return short_type(p ? p->type : NULL);
}

char *acme_problem_format(const struct acme_problem *p)
{
	struct strbuf b = { 0 };
	const size_t max_field = 400, max_subs = 20;
	char num[64];

	sb_text(&b, acme_problem_short_type(p), max_field);
	if (p && p->detail && *p->detail) {
		sb_puts(&b, ": ");
		sb_text(&b, p->detail, max_field);
	}
	if (p && p->status) {
		snprintf(num, sizeof(num), " (HTTP %d)", p->status);
		sb_puts(&b, num);
	}
	for (size_t i = 0; p && i < p->n_subproblems && i < max_subs; i++) {
		const struct acme_subproblem *s = &p->subproblems[i];

		sb_puts(&b, "\n  - ");
		if (s->identifier.value) {
			sb_text(&b, s->identifier.type ? s->identifier.type : "?", 40);
			sb_puts(&b, " '");
			sb_text(&b, s->identifier.value, 260);
			sb_puts(&b, "': ");
		}
		sb_text(&b, short_type(s->type), max_field);
		if (s->detail && *s->detail) {
			sb_puts(&b, ": ");
			sb_text(&b, s->detail, max_field);
		}
	}
	if (p && p->n_subproblems > max_subs) {
		snprintf(num, sizeof(num), "\n  ... and %zu more", p->n_subproblems - max_subs);
		sb_puts(&b, num);
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s ? b.s : strdup("");
}
