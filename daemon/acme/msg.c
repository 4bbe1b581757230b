/* daemon/acme/msg.c: ACME JSON objects into structs. See msg.h for the contract. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/acme/msg.h"

static const char *const status_names[] = {
	[ACME_STATUS_PENDING] = "pending",
	[ACME_STATUS_READY] = "ready",
	[ACME_STATUS_PROCESSING] = "processing",
	[ACME_STATUS_VALID] = "valid",
	[ACME_STATUS_INVALID] = "invalid",
	[ACME_STATUS_DEACTIVATED] = "deactivated",
	[ACME_STATUS_EXPIRED] = "expired",
	[ACME_STATUS_REVOKED] = "revoked",
};
static_assert(ELEMENTSOF(status_names) == _ACME_STATUS_MAX, "status_names");

static const char *const spelling_names[] = {
	[ACME_ISSUERS_ABSENT] = "absent",
	[ACME_ISSUERS_CAMEL] = "issuerDomainNames",
	[ACME_ISSUERS_DASHED] = "issuer-domain-names",
};
static_assert(ELEMENTSOF(spelling_names) == _ACME_ISSUER_SPELLING_MAX, "spelling_names");

/* The text of a string node whose type was checked (YAJL_GET_STRING may return NULL,
 * which the compiler then warns about). */
#define STR(v) ((const char *)(v)->u.string)
#define BIT(s) (1u << (s))
#define ACCOUNT_STATUSES (BIT(ACME_STATUS_VALID) | BIT(ACME_STATUS_DEACTIVATED) | \
			  BIT(ACME_STATUS_REVOKED))
#define ORDER_STATUSES (BIT(ACME_STATUS_PENDING) | BIT(ACME_STATUS_READY) | \
			BIT(ACME_STATUS_PROCESSING) | BIT(ACME_STATUS_VALID) |    \
			BIT(ACME_STATUS_INVALID))
#define AUTHZ_STATUSES (BIT(ACME_STATUS_PENDING) | BIT(ACME_STATUS_VALID) |           \
			BIT(ACME_STATUS_INVALID) | BIT(ACME_STATUS_DEACTIVATED) |     \
			BIT(ACME_STATUS_EXPIRED) | BIT(ACME_STATUS_REVOKED))
#define CHALLENGE_STATUSES (BIT(ACME_STATUS_PENDING) | BIT(ACME_STATUS_PROCESSING) | \
			    BIT(ACME_STATUS_VALID) | BIT(ACME_STATUS_INVALID))

const char *acme_status_to_string(enum acme_status s)
{
	if ((unsigned)s >= _ACME_STATUS_MAX)
		return NULL;
	return status_names[s];
}

int acme_status_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(status_names); i++)
		if (streq(s, status_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *acme_issuer_spelling_to_string(enum acme_issuer_spelling s)
{
	if ((unsigned)s >= _ACME_ISSUER_SPELLING_MAX)
		return NULL;
	return spelling_names[s];
}

/* ---- helpers ------------------------------------------------------------------------- */

static int fail(int r, char *err, size_t err_size, const char *fmt, ...) _printf_(4, 5);
static int fail(int r, char *err, size_t err_size, const char *fmt, ...)
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
static int wrap(int r, char *err, size_t err_size, const char *fmt, ...) _printf_(4, 5);
static int wrap(int r, char *err, size_t err_size, const char *fmt, ...)
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

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A string member: absent is fine unless required (then *ret stays NULL). An empty string
 * counts as absent for required members, since every required string names something. */
static int get_string(yajl_val obj, const char *what, const char *key, bool required,
		      size_t max_bytes, char **ret, char *err, size_t err_size)
{
	yajl_val v = json_get(obj, key);

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return fail(-EINVAL, err, err_size, "%s: '%s' missing", what, key);
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return fail(-EINVAL, err, err_size, "%s: '%s' is not a string", what, key);
	const char *s = STR(v);
	size_t len = strlen(s);
	if (required && len == 0)
		return fail(-EINVAL, err, err_size, "%s: '%s' is empty", what, key);
	if (len > max_bytes)
		return fail(-E2BIG, err, err_size, "%s: '%s' longer than %zu bytes", what, key,
			    max_bytes);
	char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

static int get_url(yajl_val obj, const char *what, const char *key, bool required, char **ret,
		   char *err, size_t err_size)
{
	return get_string(obj, what, key, required, ACME_MAX_URL_BYTES, ret, err, err_size);
}

/* An array of strings, each non-empty and at most max_bytes. */
static int get_string_array(yajl_val obj, const char *what, const char *key, bool required,
			    size_t max_n, size_t max_bytes, char ***ret, size_t *ret_n, char *err,
			    size_t err_size)
{
	yajl_val v = json_get(obj, key);

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return fail(-EINVAL, err, err_size, "%s: '%s' missing", what, key);
		return 0;
	}
	if (!YAJL_IS_ARRAY(v))
		return fail(-EINVAL, err, err_size, "%s: '%s' is not an array", what, key);
	size_t n = v->u.array.len;
	if (n > max_n)
		return fail(-E2BIG, err, err_size, "%s: '%s' has more than %zu entries", what, key,
			    max_n);
	if (n == 0)
		return 0;
	char **out = calloc(n, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		int r;

		if (!YAJL_IS_STRING(e) || !*STR(e)) {
			r = fail(-EINVAL, err, err_size, "%s: '%s'[%zu] is not a non-empty string",
				 what, key, i);
		} else if (strlen(STR(e)) > max_bytes) {
			r = fail(-E2BIG, err, err_size, "%s: '%s'[%zu] longer than %zu bytes", what,
				 key, i, max_bytes);
		} else {
			out[i] = strdup(STR(e));
			r = out[i] ? 0 : -ENOMEM;
		}
		if (r < 0) {
			strv_free(out, n);
			return r;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static int get_bool(yajl_val obj, const char *what, const char *key, bool *ret, char *err,
		    size_t err_size)
{
	yajl_val v = json_get(obj, key);

	if (!v || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return fail(-EINVAL, err, err_size, "%s: '%s' is not a boolean", what, key);
	*ret = YAJL_IS_TRUE(v);
	return 0;
}

static int get_time(yajl_val obj, const char *what, const char *key, bool required,
		    int64_t *ret, char *err, size_t err_size)
{
	yajl_val v = json_get(obj, key);
	int64_t t;

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return fail(-EINVAL, err, err_size, "%s: '%s' missing", what, key);
		*ret = 0;
		return 0;
	}
	if (!YAJL_IS_STRING(v))
		return fail(-EINVAL, err, err_size, "%s: '%s' is not a string", what, key);
	if (time_parse_rfc3339(STR(v), &t) < 0) {
		char esc[80];

		str_escape_line(esc, sizeof(esc), STR(v), strlen(STR(v)),
				40);
		return fail(-EINVAL, err, err_size, "%s: '%s' is not an RFC 3339 time: '%s'", what,
			    key, esc);
	}
	*ret = t;
	return 0;
}

static int get_status(yajl_val obj, const char *what, unsigned allowed, enum acme_status *ret,
		      char *err, size_t err_size)
{
	const char *s;
	int st;

	s = json_get_string(obj, "status");
	if (!s) {
		if (json_get(obj, "status"))
			return fail(-EINVAL, err, err_size, "%s: 'status' is not a string", what);
		return fail(-EINVAL, err, err_size, "%s: 'status' missing", what);
	}
	st = acme_status_from_string(s);
	if (st < 0 || !(allowed & BIT(st))) {
		char esc[80];

		str_escape_line(esc, sizeof(esc), s, strlen(s), 40);
		return fail(-EINVAL, err, err_size, "%s: status '%s' is not valid here", what, esc);
	}
	*ret = (enum acme_status)st;
	return 0;
}

static int need_object(yajl_val v, const char *what, char *err, size_t err_size)
{
	if (!v || !YAJL_IS_OBJECT(v))
		return fail(-EINVAL, err, err_size, "%s: not a JSON object", what);
	return 0;
}

/* ---- identifiers and problems ---------------------------------------------------------- */

static void identifier_done(struct acme_identifier *id)
{
	free(id->type);
	free(id->value);
	*id = (struct acme_identifier){ 0 };
}

static int identifier_parse(yajl_val v, const char *what, bool required,
			    struct acme_identifier *ret, char *err, size_t err_size)
{
	struct acme_identifier id = { 0 };
	int r;

	if (!v || YAJL_IS_NULL(v)) {
		if (required)
			return fail(-EINVAL, err, err_size, "%s: 'identifier' missing", what);
		return 0;
	}
	if (!YAJL_IS_OBJECT(v))
		return fail(-EINVAL, err, err_size, "%s: 'identifier' is not an object", what);
	r = get_string(v, what, "type", true, DNS_NAME_MAX_BYTES, &id.type, err, err_size);
	if (r >= 0)
		r = get_string(v, what, "value", true, ACME_MAX_URL_BYTES, &id.value, err,
			       err_size);
	if (r < 0) {
		identifier_done(&id);
		return r;
	}
	*ret = id;
	return 0;
}

static void subproblem_done(struct acme_subproblem *s)
{
	free(s->type);
	free(s->detail);
	identifier_done(&s->identifier);
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
	int r = get_string(v, what, "type", false, ACME_MAX_URL_BYTES, ret, err, err_size);
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

	r = need_object(v, "problem", err, err_size);
	if (r < 0)
		return r;
	r = problem_type(v, "problem", &p.type, err, err_size);
	if (r < 0)
		return r;
	r = get_string(v, "problem", "detail", false, ACME_MAX_TEXT_BYTES, &p.detail, err,
		       err_size);
	if (r < 0)
		return r;
	r = get_url(v, "problem", "instance", false, &p.instance, err, err_size);
	if (r < 0)
		return r;
	st = json_get(v, "status");
	if (st && !YAJL_IS_NULL(st)) {
		if (!YAJL_IS_INTEGER(st) || YAJL_GET_INTEGER(st) < 100 ||
		    YAJL_GET_INTEGER(st) > 599)
			return fail(-EINVAL, err, err_size,
				    "problem: 'status' is not an HTTP status code");
		p.status = (int)YAJL_GET_INTEGER(st);
	}
	subs = json_get(v, "subproblems");
	if (subs && !YAJL_IS_NULL(subs)) {
		if (!YAJL_IS_ARRAY(subs))
			return fail(-EINVAL, err, err_size, "problem: 'subproblems' is not an array");
		if (subs->u.array.len > ACME_MAX_SUBPROBLEMS)
			return fail(-E2BIG, err, err_size,
				    "problem: more than %d subproblems", ACME_MAX_SUBPROBLEMS);
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
			r = need_object(s, what, err, err_size);
			if (r >= 0)
				r = problem_type(s, what, &sp->type, err, err_size);
			if (r >= 0)
				r = get_string(s, what, "detail", false, ACME_MAX_TEXT_BYTES,
					       &sp->detail, err, err_size);
			if (r >= 0)
				r = identifier_parse(json_get(s, "identifier"), what, false,
						     &sp->identifier, err, err_size);
			if (r < 0)
				return r;
		}
	}
	*ret = p;
	p = (struct acme_problem){ 0 };
	return 0;
}

/* An optional "error" member holding a problem document. */
static int get_problem(yajl_val obj, const char *what, struct acme_problem **ret, char *err,
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
		return wrap(r, err, err_size, "%s: 'error'", what);
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

/* ---- directory ----------------------------------------------------------------------- */

void acme_directory_done(struct acme_directory *d)
{
	if (!d)
		return;
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->meta.terms_of_service);
	free(d->meta.website);
	strv_free(d->meta.caa_identities, d->meta.n_caa_identities);
	for (size_t i = 0; i < d->meta.n_profiles; i++) {
		free(d->meta.profiles[i].name);
		free(d->meta.profiles[i].description);
	}
	free(d->meta.profiles);
	strv_free(d->meta.issuer_domain_names, d->meta.n_issuer_domain_names);
	free(d->meta.account_hash_prefix);
	*d = (struct acme_directory){ 0 };
}

const char *acme_directory_get_profile(const struct acme_directory *d, const char *name)
{
	for (size_t i = 0; d && name && i < d->meta.n_profiles; i++)
		if (streq(d->meta.profiles[i].name, name))
			return d->meta.profiles[i].description;
	return NULL;
}

/* Checks an issuer list against dns-persist-01 section 3.1: 1..RECORD_MAX_ISSUERS valid
 * lowercase A-label names, no trailing dot. On success *ret owns copies. */
static int issuer_list_parse(yajl_val v, const char *what, const char *key, char ***ret,
			     size_t *ret_n, char *err, size_t err_size)
{
	if (!YAJL_IS_ARRAY(v))
		return fail(-EINVAL, err, err_size, "%s: '%s' is not an array", what, key);
	size_t n = v->u.array.len;
	if (n == 0)
		return fail(-EINVAL, err, err_size, "%s: '%s' is empty", what, key);
	if (n > RECORD_MAX_ISSUERS)
		return fail(-EINVAL, err, err_size, "%s: '%s' has %zu entries (at most %d)", what,
			    key, n, RECORD_MAX_ISSUERS);
	char **out = calloc(n, sizeof(char *));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = v->u.array.values[i];
		int r = 0;

		if (!YAJL_IS_STRING(e)) {
			r = fail(-EINVAL, err, err_size, "%s: '%s'[%zu] is not a string", what, key,
				 i);
		} else if (!record_issuer_is_valid(STR(e))) {
			char esc[80];

			str_escape_line(esc, sizeof(esc), STR(e),
					strlen(STR(e)), 60);
			r = fail(-EINVAL, err, err_size,
				 "%s: '%s'[%zu] '%s' is not a lowercase domain name without a "
				 "trailing dot",
				 what, key, i, esc);
		} else {
			out[i] = strdup(STR(e));
			if (!out[i])
				r = -ENOMEM;
		}
		if (r < 0) {
			strv_free(out, n);
			return r;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static int directory_meta(yajl_val meta, struct acme_directory *d, char *err, size_t err_size)
{
	const char *what = "directory: meta";
	yajl_val profiles, idn;
	int r;

	if (!meta || YAJL_IS_NULL(meta))
		return 0;
	if (!YAJL_IS_OBJECT(meta))
		return fail(-EINVAL, err, err_size, "directory: 'meta' is not an object");
	r = get_url(meta, what, "termsOfService", false, &d->meta.terms_of_service, err,
		    err_size);
	if (r < 0)
		return r;
	r = get_url(meta, what, "website", false, &d->meta.website, err, err_size);
	if (r < 0)
		return r;
	r = get_string_array(meta, what, "caaIdentities", false, ACME_MAX_CAA_IDENTITIES,
			     DNS_NAME_MAX_BYTES, &d->meta.caa_identities,
			     &d->meta.n_caa_identities, err, err_size);
	if (r < 0)
		return r;
	r = get_bool(meta, what, "externalAccountRequired", &d->meta.external_account_required,
		     err, err_size);
	if (r < 0)
		return r;
	profiles = json_get(meta, "profiles");
	if (profiles && !YAJL_IS_NULL(profiles)) {
		size_t n;

		if (!YAJL_IS_OBJECT(profiles))
			return fail(-EINVAL, err, err_size, "%s: 'profiles' is not an object", what);
		n = profiles->u.object.len;
		if (n > ACME_MAX_PROFILES)
			return fail(-E2BIG, err, err_size, "%s: more than %d profiles", what,
				    ACME_MAX_PROFILES);
		if (n) {
			d->meta.profiles = calloc(n, sizeof(*d->meta.profiles));
			if (!d->meta.profiles)
				return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			const char *name = profiles->u.object.keys[i];
			yajl_val desc = profiles->u.object.values[i];
			struct acme_profile *p = &d->meta.profiles[i];

			if (!*name || strlen(name) > DNS_NAME_MAX_BYTES)
				return fail(-EINVAL, err, err_size, "%s: profile %zu has a bad name",
					    what, i);
			if (!YAJL_IS_STRING(desc))
				return fail(-EINVAL, err, err_size,
					    "%s: description of profile %zu is not a string", what, i);
			if (strlen(STR(desc)) > ACME_MAX_TEXT_BYTES)
				return fail(-E2BIG, err, err_size,
					    "%s: description of profile %zu is too long", what, i);
			d->meta.n_profiles++;
			p->name = strdup(name);
			p->description = strdup(STR(desc));
			if (!p->name || !p->description)
				return -ENOMEM;
		}
	}
	idn = json_get(meta, "issuerDomainNames");
	if (idn && !YAJL_IS_NULL(idn)) {
		char ignored[8];

		d->meta.issuer_domain_names_present = true;
		r = issuer_list_parse(idn, what, "issuerDomainNames", &d->meta.issuer_domain_names,
				      &d->meta.n_issuer_domain_names, ignored, sizeof(ignored));
		if (r == -ENOMEM)
			return r;
		d->meta.issuer_domain_names_malformed = r < 0;
	}
	return get_url(meta, what, "accountHashPrefix", false, &d->meta.account_hash_prefix, err,
		       err_size);
}

int acme_directory_parse(yajl_val v, struct acme_directory *ret, char *err, size_t err_size)
{
	_cleanup_(acme_directory_done) struct acme_directory d = { 0 };
	static const struct {
		const char *key;
		bool required;
		size_t offset;
	} urls[] = {
		{ "newNonce", true, offsetof(struct acme_directory, new_nonce) },
		{ "newAccount", true, offsetof(struct acme_directory, new_account) },
		{ "newOrder", true, offsetof(struct acme_directory, new_order) },
		{ "revokeCert", false, offsetof(struct acme_directory, revoke_cert) },
		{ "keyChange", false, offsetof(struct acme_directory, key_change) },
		{ "renewalInfo", false, offsetof(struct acme_directory, renewal_info) },
	};
	int r;

	r = need_object(v, "directory", err, err_size);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(urls); i++) {
		char **field = (char **)((char *)&d + urls[i].offset);

		r = get_url(v, "directory", urls[i].key, urls[i].required, field, err, err_size);
		if (r < 0)
			return r;
	}
	r = directory_meta(json_get(v, "meta"), &d, err, err_size);
	if (r < 0)
		return r;
	*ret = d;
	d = (struct acme_directory){ 0 };
	return 0;
}

/* ---- account ------------------------------------------------------------------------- */

void acme_account_done(struct acme_account *a)
{
	if (!a)
		return;
	strv_free(a->contact, a->n_contact);
	free(a->orders);
	*a = (struct acme_account){ 0 };
}

int acme_account_parse(yajl_val v, struct acme_account *ret, char *err, size_t err_size)
{
	_cleanup_(acme_account_done) struct acme_account a = { 0 };
	int r;

	r = need_object(v, "account", err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "account", ACCOUNT_STATUSES, &a.status, err, err_size);
	if (r < 0)
		return r;
	r = get_string_array(v, "account", "contact", false, ACME_MAX_CONTACTS,
			     ACME_MAX_URL_BYTES, &a.contact, &a.n_contact, err, err_size);
	if (r < 0)
		return r;
	r = get_url(v, "account", "orders", false, &a.orders, err, err_size);
	if (r < 0)
		return r;
	r = get_bool(v, "account", "termsOfServiceAgreed", &a.terms_of_service_agreed, err,
		     err_size);
	if (r < 0)
		return r;
	*ret = a;
	a = (struct acme_account){ 0 };
	return 0;
}

/* ---- orders list ---------------------------------------------------------------------- */

void acme_orders_list_done(struct acme_orders_list *l)
{
	if (!l)
		return;
	strv_free(l->orders, l->n_orders);
	*l = (struct acme_orders_list){ 0 };
}

int acme_orders_list_parse(yajl_val v, struct acme_orders_list *ret, char *err,
			   size_t err_size)
{
	struct acme_orders_list l = { 0 };
	int r;

	r = need_object(v, "orders list", err, err_size);
	if (r < 0)
		return r;
	r = get_string_array(v, "orders list", "orders", true, ACME_MAX_ORDERS_PAGE,
			     ACME_MAX_URL_BYTES, &l.orders, &l.n_orders, err, err_size);
	if (r < 0)
		return r;
	*ret = l;
	return 0;
}

/* ---- order --------------------------------------------------------------------------- */

bool acme_order_has_names(const struct acme_order *o, const char *const *names, size_t n)
{
	/* Every identifier is one of the names and every name one of the identifiers:
	 * duplicates on either side do not matter, as they do not to the CA. */
	for (size_t i = 0; i < o->n_identifiers; i++) {
		bool found = false;

		if (!o->identifiers[i].type || strcasecmp(o->identifiers[i].type, "dns") != 0)
			return false;
		for (size_t k = 0; k < n && !found; k++)
			found = strcasecmp(o->identifiers[i].value, names[k]) == 0;
		if (!found)
			return false;
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;

		for (size_t i = 0; i < o->n_identifiers && !found; i++)
			found = strcasecmp(o->identifiers[i].value, names[k]) == 0;
		if (!found)
			return false;
	}
	return n > 0;
}


void acme_order_done(struct acme_order *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_identifiers; i++)
		identifier_done(&o->identifiers[i]);
	free(o->identifiers);
	strv_free(o->authorizations, o->n_authorizations);
	free(o->finalize);
	free(o->certificate);
	free(o->profile);
	free(o->replaces);
	acme_problem_free(o->error);
	*o = (struct acme_order){ 0 };
}

int acme_order_parse(yajl_val v, struct acme_order *ret, char *err, size_t err_size)
{
	_cleanup_(acme_order_done) struct acme_order o = { 0 };
	yajl_val ids;
	int r;

	r = need_object(v, "order", err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "order", ORDER_STATUSES, &o.status, err, err_size);
	if (r < 0)
		return r;
	r = get_time(v, "order", "expires", false, &o.expires, err, err_size);
	if (r < 0)
		return r;
	r = get_time(v, "order", "notBefore", false, &o.not_before, err, err_size);
	if (r < 0)
		return r;
	r = get_time(v, "order", "notAfter", false, &o.not_after, err, err_size);
	if (r < 0)
		return r;
	ids = json_get(v, "identifiers");
	if (!ids || !YAJL_IS_ARRAY(ids))
		return fail(-EINVAL, err, err_size, "order: 'identifiers' %s",
			    ids ? "is not an array" : "missing");
	if (ids->u.array.len == 0)
		return fail(-EINVAL, err, err_size, "order: 'identifiers' is empty");
	if (ids->u.array.len > ACME_MAX_IDENTIFIERS)
		return fail(-E2BIG, err, err_size, "order: more than %d identifiers",
			    ACME_MAX_IDENTIFIERS);
	o.identifiers = calloc(ids->u.array.len, sizeof(*o.identifiers));
	if (!o.identifiers)
		return -ENOMEM;
	for (size_t i = 0; i < ids->u.array.len; i++) {
		char what[40];

		snprintf(what, sizeof(what), "order: identifier %zu", i);
		r = identifier_parse(ids->u.array.values[i], what, true, &o.identifiers[i], err,
				     err_size);
		if (r < 0)
			return r;
		o.n_identifiers++;
	}
	r = get_string_array(v, "order", "authorizations", true, ACME_MAX_IDENTIFIERS,
			     ACME_MAX_URL_BYTES, &o.authorizations, &o.n_authorizations, err,
			     err_size);
	if (r < 0)
		return r;
	r = get_url(v, "order", "finalize", true, &o.finalize, err, err_size);
	if (r < 0)
		return r;
	r = get_url(v, "order", "certificate", false, &o.certificate, err, err_size);
	if (r < 0)
		return r;
	r = get_string(v, "order", "profile", false, DNS_NAME_MAX_BYTES, &o.profile, err,
		       err_size);
	if (r < 0)
		return r;
	r = get_string(v, "order", "replaces", false, ACME_MAX_URL_BYTES, &o.replaces, err,
		       err_size);
	if (r < 0)
		return r;
	r = get_problem(v, "order", &o.error, err, err_size);
	if (r < 0)
		return r;
	*ret = o;
	o = (struct acme_order){ 0 };
	return 0;
}

/* ---- challenge ----------------------------------------------------------------------- */

void acme_challenge_done(struct acme_challenge *c)
{
	if (!c)
		return;
	free(c->type);
	free(c->url);
	free(c->token);
	strv_free(c->issuer_domain_names, c->n_issuer_domain_names);
	free(c->accounturi);
	acme_problem_free(c->error);
	*c = (struct acme_challenge){ 0 };
}

int acme_challenge_parse(yajl_val v, struct acme_challenge *ret, char *err, size_t err_size)
{
	_cleanup_(acme_challenge_done) struct acme_challenge c = { 0 };
	yajl_val camel, dashed;
	int r;

	r = need_object(v, "challenge", err, err_size);
	if (r < 0)
		return r;
	r = get_string(v, "challenge", "type", true, DNS_NAME_MAX_BYTES, &c.type, err, err_size);
	if (r < 0)
		return r;
	r = get_url(v, "challenge", "url", true, &c.url, err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "challenge", CHALLENGE_STATUSES, &c.status, err, err_size);
	if (r < 0)
		return r;
	r = get_string(v, "challenge", "token", false, ACME_MAX_URL_BYTES, &c.token, err,
		       err_size);
	if (r < 0)
		return r;
	r = get_url(v, "challenge", "accounturi", false, &c.accounturi, err, err_size);
	if (r < 0)
		return r;
	r = get_time(v, "challenge", "validated", false, &c.validated, err, err_size);
	if (r < 0)
		return r;
	r = get_problem(v, "challenge", &c.error, err, err_size);
	if (r < 0)
		return r;

	camel = json_get(v, "issuerDomainNames");
	dashed = json_get(v, "issuer-domain-names");
	if (camel && !YAJL_IS_NULL(camel)) {
		c.issuer_spelling = ACME_ISSUERS_CAMEL;
		r = issuer_list_parse(camel, "challenge", "issuerDomainNames",
				      &c.issuer_domain_names, &c.n_issuer_domain_names, err,
				      err_size);
	} else if (dashed && !YAJL_IS_NULL(dashed)) {
		c.issuer_spelling = ACME_ISSUERS_DASHED;
		r = issuer_list_parse(dashed, "challenge", "issuer-domain-names",
				      &c.issuer_domain_names, &c.n_issuer_domain_names, err,
				      err_size);
	} else if (streq(c.type, "dns-persist-01")) {
		r = fail(-EINVAL, err, err_size,
			 "challenge: dns-persist-01 without 'issuerDomainNames' or "
			 "'issuer-domain-names'");
	}
	if (r < 0)
		return r;
	*ret = c;
	c = (struct acme_challenge){ 0 };
	return 0;
}

/* ---- authorization --------------------------------------------------------------------- */

void acme_authz_done(struct acme_authz *a)
{
	if (!a)
		return;
	identifier_done(&a->identifier);
	for (size_t i = 0; i < a->n_challenges; i++)
		acme_challenge_done(&a->challenges[i]);
	free(a->challenges);
	*a = (struct acme_authz){ 0 };
}

const struct acme_challenge *acme_authz_get_challenge(const struct acme_authz *a,
						      const char *type)
{
	for (size_t i = 0; a && type && i < a->n_challenges; i++)
		if (streq(a->challenges[i].type, type))
			return &a->challenges[i];
	return NULL;
}

int acme_authz_parse(yajl_val v, struct acme_authz *ret, char *err, size_t err_size)
{
	_cleanup_(acme_authz_done) struct acme_authz a = { 0 };
	yajl_val chs;
	int r;

	r = need_object(v, "authorization", err, err_size);
	if (r < 0)
		return r;
	r = get_status(v, "authorization", AUTHZ_STATUSES, &a.status, err, err_size);
	if (r < 0)
		return r;
	r = identifier_parse(json_get(v, "identifier"), "authorization", true, &a.identifier, err,
			     err_size);
	if (r < 0)
		return r;
	r = get_bool(v, "authorization", "wildcard", &a.wildcard, err, err_size);
	if (r < 0)
		return r;
	r = get_time(v, "authorization", "expires", false, &a.expires, err, err_size);
	if (r < 0)
		return r;
	chs = json_get(v, "challenges");
	if (!chs || !YAJL_IS_ARRAY(chs))
		return fail(-EINVAL, err, err_size, "authorization: 'challenges' %s",
			    chs ? "is not an array" : "missing");
	if (chs->u.array.len > ACME_MAX_CHALLENGES)
		return fail(-E2BIG, err, err_size, "authorization: more than %d challenges",
			    ACME_MAX_CHALLENGES);
	if (chs->u.array.len) {
		a.challenges = calloc(chs->u.array.len, sizeof(*a.challenges));
		if (!a.challenges)
			return -ENOMEM;
	}
	for (size_t i = 0; i < chs->u.array.len; i++) {
		yajl_val cv = chs->u.array.values[i];

		r = acme_challenge_parse(cv, &a.challenges[i], err, err_size);
		if (r < 0) {
			const char *type = json_get_string(cv, "type");
			char esc[48];

			str_escape_line(esc, sizeof(esc), type ? type : "?", type ? strlen(type) : 1,
					32);
			return wrap(r, err, err_size, "authorization: challenge %zu ('%s')", i, esc);
		}
		a.n_challenges++;
	}
	*ret = a;
	a = (struct acme_authz){ 0 };
	return 0;
}

/* ---- renewal information ----------------------------------------------------------------- */

void acme_renewal_info_done(struct acme_renewal_info *r)
{
	if (!r)
		return;
	free(r->explanation_url);
	*r = (struct acme_renewal_info){ 0 };
}

int acme_renewal_info_parse(yajl_val v, struct acme_renewal_info *ret, char *err,
			    size_t err_size)
{
	_cleanup_(acme_renewal_info_done) struct acme_renewal_info ri = { 0 };
	yajl_val w;
	int r;

	r = need_object(v, "renewalInfo", err, err_size);
	if (r < 0)
		return r;
	w = json_get(v, "suggestedWindow");
	if (!w || !YAJL_IS_OBJECT(w))
		return fail(-EINVAL, err, err_size, "renewalInfo: 'suggestedWindow' %s",
			    w ? "is not an object" : "missing");
	r = get_time(w, "renewalInfo: suggestedWindow", "start", true, &ri.window_start, err,
		     err_size);
	if (r < 0)
		return r;
	r = get_time(w, "renewalInfo: suggestedWindow", "end", true, &ri.window_end, err,
		     err_size);
	if (r < 0)
		return r;
	if (ri.window_end <= ri.window_start)
		return fail(-EINVAL, err, err_size,
			    "renewalInfo: suggestedWindow ends before it starts");
	r = get_url(v, "renewalInfo", "explanationURL", false, &ri.explanation_url, err,
		    err_size);
	if (r < 0)
		return r;
	*ret = ri;
	ri = (struct acme_renewal_info){ 0 };
	return 0;
}
