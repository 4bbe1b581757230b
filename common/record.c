#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#include "common/b64.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"

static const char *const record_status_names[] = {
	[RECORD_VALID] = "VALID",
	[RECORD_NO_RECORD] = "NO_RECORD",
	[RECORD_WRONG_ISSUER] = "WRONG_ISSUER",
	[RECORD_WRONG_ACCOUNT] = "WRONG_ACCOUNT",
	[RECORD_NO_WILDCARD_POLICY] = "NO_WILDCARD_POLICY",
	[RECORD_EXPIRED] = "EXPIRED",
	[RECORD_MALFORMED] = "MALFORMED",
};
_Static_assert(ELEMENTSOF(record_status_names) == _RECORD_STATUS_MAX, "record status names");

static const char *const record_uri_mode_names[] = {
	[RECORD_URI_URL] = "url",
	[RECORD_URI_HASHED] = "hashed",
};
_Static_assert(ELEMENTSOF(record_uri_mode_names) == _RECORD_URI_MODE_MAX, "uri mode names");

const char *record_status_to_string(enum record_status s)
{
	return (unsigned)s < _RECORD_STATUS_MAX ? record_status_names[s] : "UNKNOWN";
}

int record_status_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(record_status_names); i++)
		if (streq(s, record_status_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *record_uri_mode_to_string(enum record_uri_mode m)
{
	return (unsigned)m < _RECORD_URI_MODE_MAX ? record_uri_mode_names[m] : "unknown";
}

int record_uri_mode_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(record_uri_mode_names); i++)
		if (streq(s, record_uri_mode_names[i]))
			return (int)i;
	return -EINVAL;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 8659 value characters: printable ASCII except ';' (and SP). */
static bool is_value_char(char c)
{
	unsigned char u = (unsigned char)c;
	return (u >= 0x21 && u <= 0x3a) || (u >= 0x3c && u <= 0x7e);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool strcaseeq_n(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

void record_free(struct record *r)
{
	if (!r)
		return;
	free(r->issuer);
	for (size_t i = 0; i < r->n_params; i++) {
		free(r->params[i].tag);
		free(r->params[i].value);
	}
	free(r->params);
	free(r->accounturi);
	free(r->policy);
	free(r);
}

_printf_(3, 4) static int parse_fail(struct record_error *err, size_t offset, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->offset = offset;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* label *( *"-" label-char ): letters and digits, hyphens only inside. */
static size_t scan_label_at(const char *s, size_t len, size_t p)
{
	size_t start = p;

	if (p >= len || !is_alnum(s[p]))
		return 0;
	p++;
	for (;;) {
		size_t q = p;
		while (q < len && s[q] == '-')
			q++;
		if (q < len && is_alnum(s[q])) {
			p = q + 1;
			continue;
		}
		break;
	}
	return p - start;
}

/* Describes the byte at s[p] for an error message. */
static const char *describe_byte(const char *s, size_t len, size_t p, char *buf, size_t size)
{
	if (p >= len)
		snprintf(buf, size, "end of record");
	else if ((unsigned char)s[p] >= 0x21 && (unsigned char)s[p] <= 0x7e)
		snprintf(buf, size, "'%c'", s[p]);
	else
		snprintf(buf, size, "byte 0x%02x", (unsigned char)s[p]);
	return buf;
}

static int parse_persist_until(const char *v, int64_t *ret)
{
	const char *p = v;
	bool neg = false;
	uint64_t n = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (n > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (!neg && n > (uint64_t)INT64_MAX)
		return -ERANGE;
	if (neg && n > (uint64_t)INT64_MAX + 1)
		return -ERANGE;
	*ret = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

static int add_param(struct record *r, const char *tag, size_t tag_len, const char *value,
		     size_t value_len)
{
	struct record_param *n = realloc(r->params, (r->n_params + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->params = n;
	char *t = strndup(tag, tag_len);
	char *v = strndup(value, value_len);
	if (!t || !v) {
		free(t);
		free(v);
		return -ENOMEM;
	}
	r->params[r->n_params++] = (struct record_param){ .tag = t, .value = v };
	return 0;
}

/* Applies the known parameters once the grammar holds: the rules of spec 2.4. */
static int interpret_params(struct record *r, const size_t *offsets, size_t len,
			    struct record_error *err)
{
	bool seen_account = false;

	for (size_t i = 0; i < r->n_params; i++) {
		const struct record_param *p = &r->params[i];
		size_t tl = strlen(p->tag);

		for (size_t j = 0; j < i; j++)
			if (strcaseeq_n(p->tag, tl, r->params[j].tag))
				return parse_fail(err, offsets[i], "duplicate parameter '%s'", p->tag);

		if (strcaseeq_n(p->tag, tl, "accounturi")) {
			if (!*p->value)
				return parse_fail(err, offsets[i], "accounturi is empty");
			r->accounturi = strdup(p->value);
			if (!r->accounturi)
				return -ENOMEM;
			seen_account = true;
		} else if (strcaseeq_n(p->tag, tl, "policy")) {
			r->policy = strdup(p->value);
			if (!r->policy)
				return -ENOMEM;
			r->policy_wildcard = strcaseeq_n(p->value, strlen(p->value), "wildcard");
		} else if (strcaseeq_n(p->tag, tl, "persistUntil")) {
			int q = parse_persist_until(p->value, &r->persist_until);
			if (q == -ERANGE)
				return parse_fail(err, offsets[i],
						  "persistUntil '%s' is outside the signed 64-bit range",
						  p->value);
			if (q < 0)
				return parse_fail(err, offsets[i],
						  "persistUntil '%s' is not a base-10 integer of Unix seconds",
						  p->value);
			r->has_persist_until = true;
		}
	}
	if (!seen_account)
		return parse_fail(err, len, "accounturi parameter is missing");
	return 0;
}

int record_parse(const char *s, size_t len, struct record **ret, struct record_error *err)
{
	_cleanup_(record_freep) struct record *r = NULL;
	size_t offsets[RECORD_MAX_PARAMS];
	char what[32];
	size_t p = 0;
	int q;

	if (len > RECORD_MAX_BYTES) {
		(void)parse_fail(err, RECORD_MAX_BYTES, "record longer than %d bytes",
				 RECORD_MAX_BYTES);
		return -E2BIG;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;

	while (p < len && is_wsp(s[p]))
		p++;
	size_t issuer_start = p;
	for (;;) {
		size_t l = scan_label_at(s, len, p);
		if (l == 0) {
			if (p == issuer_start)
				return parse_fail(err, p, "expected the issuer domain name, found %s",
						  describe_byte(s, len, p, what, sizeof(what)));
			/* One trailing dot is tolerated; the evaluator drops it (spec 3.1). */
			if (s[p - 1] == '.' && (p == len || s[p] == ';' || is_wsp(s[p])))
				break;
			return parse_fail(err, p, "bad issuer domain name: expected a label, found %s",
					  describe_byte(s, len, p, what, sizeof(what)));
		}
		if (l > 63)
			return parse_fail(err, p, "issuer label longer than 63 characters");
		p += l;
		if (p < len && s[p] == '.') {
			p++;
			continue;
		}
		break;
	}
	r->issuer = strndup(s + issuer_start, p - issuer_start);
	if (!r->issuer)
		return -ENOMEM;

	while (p < len && is_wsp(s[p]))
		p++;
	if (p < len) {
		if (s[p] != ';')
			return parse_fail(err, p, "expected ';' after the issuer domain name, found %s",
					  describe_byte(s, len, p, what, sizeof(what)));
		p++;
		while (p < len && is_wsp(s[p]))
			p++;
		while (p < len) {
			size_t tag_start = p;
			size_t tl = scan_label_at(s, len, p);
			if (tl == 0) {
				if (s[p] == ';')
					return parse_fail(err, p, "empty parameter (two ';' in a row)");
				return parse_fail(err, p,
						  "bad parameter tag: expected a letter or digit, found %s",
						  describe_byte(s, len, p, what, sizeof(what)));
			}
			p += tl;
			if (p < len && !is_wsp(s[p]) && s[p] != '=')
				return parse_fail(err, p,
						  "bad parameter tag: only letters, digits and inner '-' are allowed, found %s",
						  describe_byte(s, len, p, what, sizeof(what)));
			while (p < len && is_wsp(s[p]))
				p++;
			if (p >= len || s[p] != '=')
				return parse_fail(err, p, "expected '=' after tag '%.*s', found %s",
						  (int)MIN(tl, (size_t)40), s + tag_start,
						  describe_byte(s, len, p, what, sizeof(what)));
			p++;
			while (p < len && is_wsp(s[p]))
				p++;
			size_t value_start = p;
			while (p < len && is_value_char(s[p]))
				p++;
			size_t value_end = p;
			if (r->n_params >= RECORD_MAX_PARAMS)
				return parse_fail(err, tag_start, "more than %d parameters",
						  RECORD_MAX_PARAMS);
			offsets[r->n_params] = tag_start;
			q = add_param(r, s + tag_start, tl, s + value_start, value_end - value_start);
			if (q < 0)
				return q;
			while (p < len && is_wsp(s[p]))
				p++;
			if (p == len)
				break;
			if (s[p] != ';') {
				if (p > value_end && is_value_char(s[p]))
					return parse_fail(err, value_end,
							  "whitespace inside the value of '%.*s'",
							  (int)MIN(tl, (size_t)40), s + tag_start);
				return parse_fail(err, p, "%s is not allowed in a parameter value",
						  describe_byte(s, len, p, what, sizeof(what)));
			}
			p++;
			while (p < len && is_wsp(s[p]))
				p++;
			if (p == len)
				return parse_fail(err, p - 1, "';' after the last parameter");
		}
	}

	q = interpret_params(r, offsets, len, err);
	if (q < 0)
		return q;
	*ret = TAKE_PTR(r);
	return 0;
}

int record_join(const uint8_t *const *strs, const size_t *lens, size_t n, char **ret,
		size_t *retlen)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		if (lens[i] > RECORD_MAX_BYTES || total + lens[i] > RECORD_MAX_BYTES)
			return -E2BIG;
		total += lens[i];
	}
	char *buf = malloc(total + 1);
	if (!buf)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (lens[i])
			memcpy(buf + o, strs[i], lens[i]);
		o += lens[i];
	}
	buf[o] = '\0';
	*ret = buf;
	*retlen = o;
	return 0;
}

int record_issuer_normalize(const char *txt, size_t len, char *buf, size_t size)
{
	const char *semi = memchr(txt, ';', len);
	size_t end = semi ? (size_t)(semi - txt) : len;
	size_t start = 0;

	while (start < end && is_wsp(txt[start]))
		start++;
	while (end > start && is_wsp(txt[end - 1]))
		end--;
	if (end > start && txt[end - 1] == '.')
		end--;
	if (end - start + 1 > size)
		return -E2BIG;
	for (size_t i = start; i < end; i++)
		buf[i - start] = ascii_lower(txt[i]);
	buf[end - start] = '\0';
	return (int)(end - start);
}

/* Hostname rules shared by issuer names and certificate names. */
static bool dns_name_is_valid(const char *name, bool lowercase_only)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > DNS_NAME_MAX_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  (!lowercase_only && c >= 'A' && c <= 'Z') || c == '-';
		if (!ok || (c == '-' && label == 0) || ++label > 63)
			return false;
	}
	return label > 0 && name[len - 1] != '-';
}

bool record_issuer_is_valid(const char *issuer)
{
	return dns_name_is_valid(issuer, true);
}

static int normalize_issuer_list(const struct record_query *q, size_t i, char *buf, size_t size)
{
	return record_issuer_normalize(q->issuers[i], strlen(q->issuers[i]), buf, size);
}

/* Higher is better: the order of spec 3.2. */
static int status_rank(enum record_status s)
{
	switch (s) {
	case RECORD_VALID:
		return 5;
	case RECORD_MALFORMED:
		return 4;
	case RECORD_EXPIRED:
		return 3;
	case RECORD_NO_WILDCARD_POLICY:
		return 2;
	case RECORD_WRONG_ACCOUNT:
		return 1;
	default:
		return 0;
	}
}

static void verdict_reason(struct record_verdict *v, const struct record_query *q,
			   const struct record *r, const struct record_error *perr,
			   const char *issuer, int64_t now)
{
	char a[160], b[160], date[40];

	switch (v->status) {
	case RECORD_VALID:
		if (r->has_persist_until) {
			time_format_iso(r->persist_until, date, sizeof(date));
			str_printf(v->reason, sizeof(v->reason),
				 "record for '%s' names this account%s; usable until %s", issuer,
				 r->policy_wildcard ? " with policy=wildcard" : "", date);
		} else {
			str_printf(v->reason, sizeof(v->reason), "record for '%s' names this account%s",
				 issuer, r->policy_wildcard ? " with policy=wildcard" : "");
		}
		break;
	case RECORD_MALFORMED:
		str_printf(v->reason, sizeof(v->reason), "record for '%s' is malformed at byte %zu: %s",
			 issuer, perr->offset, perr->reason);
		break;
	case RECORD_WRONG_ACCOUNT:
		str_escape_line(a, sizeof(a), r->accounturi, strlen(r->accounturi), 120);
		str_escape_line(b, sizeof(b), q->account_uri, strlen(q->account_uri), 120);
		str_printf(v->reason, sizeof(v->reason),
			 "record for '%s' names accounturi '%s', but the CA expects '%s'", issuer, a, b);
		break;
	case RECORD_NO_WILDCARD_POLICY:
		if (r->policy) {
			str_escape_line(a, sizeof(a), r->policy, strlen(r->policy), 60);
			str_printf(v->reason, sizeof(v->reason),
				 "a wildcard name needs policy=wildcard, but the record has policy=%s",
				 a);
		} else {
			str_printf(v->reason, sizeof(v->reason),
				 "a wildcard name needs policy=wildcard, but the record has no policy");
		}
		break;
	case RECORD_EXPIRED:
		time_format_iso(r->persist_until, date, sizeof(date));
		str_printf(v->reason, sizeof(v->reason),
			 "persistUntil %s has passed (%" PRId64 " days ago)", date,
			 -time_days_left(r->persist_until, now));
		break;
	default:
		break;
	}
}

int record_evaluate(const struct record_rr *rrs, size_t n_rrs, const struct record_query *q,
		    struct record_verdict *ret)
{
	struct record_verdict best = { .status = RECORD_NO_RECORD, .match = -1 };
	char norm[DNS_NAME_MAX_BYTES + 2], want[DNS_NAME_MAX_BYTES + 2];
	int best_rank = -1;

	if (!q || !q->account_uri || !*q->account_uri || q->n_issuers == 0 || !q->issuers)
		return -EINVAL;
	if (n_rrs > RECORD_MAX_RRS)
		return -E2BIG;
	if (n_rrs == 0) {
		best.status = RECORD_NO_RECORD;
		snprintf(best.reason, sizeof(best.reason), "no TXT record at the label");
		*ret = best;
		return 0;
	}

	for (size_t i = 0; i < n_rrs; i++) {
		int l = record_issuer_normalize(rrs[i].text, rrs[i].len, norm, sizeof(norm));
		bool ours = false;

		if (l < 0)
			continue;
		for (size_t k = 0; k < q->n_issuers && !ours; k++)
			ours = normalize_issuer_list(q, k, want, sizeof(want)) >= 0 &&
			       streq(norm, want);
		if (!ours)
			continue;
		best.n_ours++;

		_cleanup_(record_freep) struct record *r = NULL;
		struct record_error perr = { 0 };
		struct record_verdict v = { .match = (int)i };
		int q2 = record_parse(rrs[i].text, rrs[i].len, &r, &perr);
		if (q2 == -ENOMEM)
			return q2;
		if (q2 < 0) {
			v.status = RECORD_MALFORMED;
			struct record empty = { 0 };
			verdict_reason(&v, q, &empty, &perr, norm, q->now);
		} else {
			if (!streq(r->accounturi, q->account_uri))
				v.status = RECORD_WRONG_ACCOUNT;
			else if (q->wildcard && !r->policy_wildcard)
				v.status = RECORD_NO_WILDCARD_POLICY;
			else if (r->has_persist_until && q->now > r->persist_until)
				v.status = RECORD_EXPIRED;
			else
				v.status = RECORD_VALID;
			v.policy_present = r->policy != NULL;
			v.policy_wildcard = r->policy_wildcard;
			v.has_persist_until = r->has_persist_until;
			v.persist_until = r->persist_until;
			verdict_reason(&v, q, r, &perr, norm, q->now);
		}
		int rank = status_rank(v.status);
		if (rank > best_rank) {
			size_t ours_so_far = best.n_ours;
			best = v;
			best.n_ours = ours_so_far;
			best_rank = rank;
		}
	}

	if (best.n_ours == 0) {
		char first[80];
		int l = record_issuer_normalize(rrs[0].text, rrs[0].len, norm, sizeof(norm));
		str_escape_line(first, sizeof(first), l >= 0 ? norm : rrs[0].text,
			   l >= 0 ? (size_t)l : rrs[0].len, 60);
		best.status = RECORD_WRONG_ISSUER;
		best.match = -1;
		str_printf(best.reason, sizeof(best.reason),
			 "%zu TXT record%s at the label, none for issuer '%s' (first names '%s')", n_rrs,
			 n_rrs == 1 ? "" : "s", q->issuers[0], first);
	}
	*ret = best;
	return 0;
}

int record_generate(const struct record_spec *s, char **ret)
{
	char until[32] = "";
	char *out;

	if (!s->issuer || !record_issuer_is_valid(s->issuer))
		return -EINVAL;
	if (!s->account_uri || !*s->account_uri)
		return -EINVAL;
	for (const char *p = s->account_uri; *p; p++)
		if (!is_value_char(*p))
			return -EINVAL;
	if (s->has_persist_until)
		snprintf(until, sizeof(until), "; persistUntil=%" PRId64, s->persist_until);
	if (asprintf(&out, "%s; accounturi=%s%s%s", s->issuer, s->account_uri,
		     s->wildcard ? "; policy=wildcard" : "", until) < 0)
		return -ENOMEM;
	if (strlen(out) > RECORD_MAX_BYTES) {
		free(out);
		return -E2BIG;
	}
	*ret = out;
	return 0;
}

int record_base_name(const char *name, char **ret_base, bool *ret_wildcard)
{
	bool wildcard = false;

	if (strncmp(name, "*.", 2) == 0) {
		wildcard = true;
		name += 2;
	}
	size_t len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX_BYTES)
		return -EINVAL;
	_cleanup_free_ char *base = strndup(name, len);
	if (!base)
		return -ENOMEM;
	for (char *p = base; *p; p++)
		*p = ascii_lower(*p);
	if (!dns_name_is_valid(base, true))
		return -EINVAL;
	*ret_base = TAKE_PTR(base);
	if (ret_wildcard)
		*ret_wildcard = wildcard;
	return 0;
}

int record_owner_name(const char *name, char **ret_owner, bool *ret_wildcard)
{
	_cleanup_free_ char *base = NULL;
	char *owner;
	int r;

	r = record_base_name(name, &base, ret_wildcard);
	if (r < 0)
		return r;
	if (strlen(RECORD_OWNER_PREFIX) + strlen(base) > DNS_NAME_MAX_BYTES)
		return -E2BIG;
	if (asprintf(&owner, RECORD_OWNER_PREFIX "%s", base) < 0)
		return -ENOMEM;
	*ret_owner = owner;
	return 0;
}

int record_zone_line(const char *owner, const char *value, size_t len, uint32_t ttl, char **ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	if (len > RECORD_MAX_BYTES)
		return -E2BIG;
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s.", owner);
	if (ttl)
		fprintf(f, " %" PRIu32, ttl);
	fputs(" IN TXT", f);
	if (len == 0)
		fputs(" \"\"", f);
	for (size_t start = 0; start < len; start += TXT_STRING_MAX_BYTES) {
		size_t end = MIN(len, start + TXT_STRING_MAX_BYTES);
		fputs(" \"", f);
		for (size_t i = start; i < end; i++) {
			unsigned char c = (unsigned char)value[i];
			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\%03u", c);
			else
				fputc(c, f);
		}
		fputc('"', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

int record_hashed_account_uri(const char *prefix, const char *domain, const char *thumbprint,
			      const char *account_url, char **ret)
{
	_cleanup_free_ char *d = NULL;
	uint8_t digest[32];
	char b64[48];
	int r;

	if (!prefix || !*prefix || !thumbprint || !*thumbprint || !account_url || !*account_url)
		return -EINVAL;
	if (streq(domain, "*")) {
		d = strdup("*");
		if (!d)
			return -ENOMEM;
	} else {
		r = record_base_name(domain, &d, NULL);
		if (r < 0)
			return r;
	}

	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	uint8_t dlen = (uint8_t)strlen(d);

	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md, 0);
	if (r == 0)
		r = mbedtls_md_starts(&ctx);
	if (r == 0)
		r = mbedtls_md_update(&ctx, &dlen, 1);
	if (r == 0)
		r = mbedtls_md_update(&ctx, (const uint8_t *)d, dlen);
	if (r == 0)
		r = mbedtls_md_update(&ctx, (const uint8_t *)thumbprint, strlen(thumbprint));
	if (r == 0)
		r = mbedtls_md_update(&ctx, (const uint8_t *)account_url, strlen(account_url));
	if (r == 0)
		r = mbedtls_md_finish(&ctx, digest);
	mbedtls_md_free(&ctx);
	if (r != 0)
		return -ENOMEM;

	r = b64url_encode_buf(digest, sizeof(digest), b64, sizeof(b64));
	if (r < 0)
		return r;
	char *out;
	if (asprintf(&out, "%ssha-256/%s", prefix, b64) < 0)
		return -ENOMEM;
	*ret = out;
	return 0;
}
