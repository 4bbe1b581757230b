/* common/caa.c: see caa.h. */
#include "common/caa.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/limits.h"
#include "common/strutil.h"
#include "common/macro.h"

static const char *const caa_outcome_names[] = {
	[CAA_NO_RECORDS] = "NO_RECORDS",
	[CAA_PERMITTED] = "PERMITTED",
	[CAA_UNRESTRICTED] = "UNRESTRICTED",
	[CAA_WRONG_ISSUER] = "WRONG_ISSUER",
	[CAA_WRONG_ACCOUNT] = "WRONG_ACCOUNT",
	[CAA_WRONG_METHOD] = "WRONG_METHOD",
	[CAA_MALFORMED] = "MALFORMED",
	[CAA_CRITICAL] = "CRITICAL",
};
static_assert(ELEMENTSOF(caa_outcome_names) == _CAA_OUTCOME_MAX, "caa_outcome_names");

const char *caa_outcome_to_string(enum caa_outcome o)
{
	if ((unsigned)o >= _CAA_OUTCOME_MAX)
		return NULL;
	return caa_outcome_names[o];
}

bool caa_outcome_permits(enum caa_outcome o)
{
	return o == CAA_NO_RECORDS || o == CAA_PERMITTED || o == CAA_UNRESTRICTED;
}

int caa_rr_parse(const uint8_t *rdata, size_t len, struct caa_rr *ret)
{
	if (!rdata || len < 2)
		return -EINVAL;
	size_t tag_len = rdata[1];
	if (tag_len == 0 || 2 + tag_len > len)
		return -EINVAL;
	*ret = (struct caa_rr){
		.flags = rdata[0],
		.tag = (const char *)rdata + 2,
		.tag_len = tag_len,
		.value = (const char *)rdata + 2 + tag_len,
		.value_len = len - 2 - tag_len,
	};
	return 0;
}

/* ---- issue-value grammar (RFC 8659 section 4.2) ---- */

struct span {
	const char *p;
	size_t len;
};

struct issue_value {
	struct span issuer;                /* may be empty */
	struct span tags[CAA_MAX_PARAMS];
	struct span values[CAA_MAX_PARAMS];
	size_t n_params;
};

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool span_eq_ci(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(lit[i]))
			return false;
	return true;
}

/* label = (ALPHA / DIGIT) *( *"-" (ALPHA / DIGIT) ); returns its length, 0 if none. */
static size_t scan_label(const char *s, size_t len)
{
	size_t i = 0;

	if (i >= len || !is_alnum(s[i]))
		return 0;
	i++;
	for (;;) {
		size_t j = i;
		while (j < len && s[j] == '-')
			j++;
		if (j < len && is_alnum(s[j]))
			i = j + 1;
		else
			return i;
	}
}

/* Parses an issue value; on failure says why in err. */
static int issue_value_parse(const char *s, size_t len, struct issue_value *v, char *err,
			     size_t errsize)
{
	size_t i = 0;

	*v = (struct issue_value){ 0 };
	while (i < len && is_wsp(s[i]))
		i++;
	/* issuer-domain-name = label *("." label) */
	size_t start = i;
	size_t n = scan_label(s + i, len - i);
	if (n) {
		i += n;
		while (i < len && s[i] == '.') {
			n = scan_label(s + i + 1, len - i - 1);
			if (!n) {
				str_printf(err, errsize, "bad issuer domain name at offset %zu", i);
				return -EINVAL;
			}
			i += 1 + n;
		}
		v->issuer = (struct span){ s + start, i - start };
		if (v->issuer.len > DNS_NAME_MAX_BYTES) {
			str_printf(err, errsize, "issuer domain name too long");
			return -EINVAL;
		}
	}
	while (i < len && is_wsp(s[i]))
		i++;
	if (i == len)
		return 0;
	if (s[i] != ';') {
		str_printf(err, errsize, "unexpected byte 0x%02x at offset %zu", (unsigned char)s[i], i);
		return -EINVAL;
	}
	i++;
	while (i < len && is_wsp(s[i]))
		i++;
	if (i == len)
		return 0;
	for (;;) {
		size_t t0 = i;
		n = scan_label(s + i, len - i);
		if (!n) {
			str_printf(err, errsize, "bad parameter tag at offset %zu", i);
			return -EINVAL;
		}
		struct span tag = { s + t0, n };
		i += n;
		while (i < len && is_wsp(s[i]))
			i++;
		if (i == len || s[i] != '=') {
			str_printf(err, errsize, "parameter without '=' at offset %zu", i);
			return -EINVAL;
		}
		i++;
		while (i < len && is_wsp(s[i]))
			i++;
		size_t v0 = i;
		while (i < len && (unsigned char)s[i] >= 0x21 && (unsigned char)s[i] <= 0x7e &&
		       s[i] != ';')
			i++;
		struct span val = { s + v0, i - v0 };
		for (size_t k = 0; k < v->n_params; k++)
			if (v->tags[k].len == tag.len) {
				bool same = true;
				for (size_t c = 0; c < tag.len; c++)
					if (lower(v->tags[k].p[c]) != lower(tag.p[c]))
						same = false;
				if (same) {
					str_printf(err, errsize, "duplicate parameter '%.*s'", (int)MIN(tag.len, 32),
						   tag.p);
					return -EINVAL;
				}
			}
		if (v->n_params == CAA_MAX_PARAMS) {
			str_printf(err, errsize, "more than %d parameters", CAA_MAX_PARAMS);
			return -EINVAL;
		}
		v->tags[v->n_params] = tag;
		v->values[v->n_params] = val;
		v->n_params++;
		while (i < len && is_wsp(s[i]))
			i++;
		if (i == len)
			return 0;
		if (s[i] != ';') {
			str_printf(err, errsize, "unexpected byte 0x%02x at offset %zu", (unsigned char)s[i],
				   i);
			return -EINVAL;
		}
		i++;
		while (i < len && is_wsp(s[i]))
			i++;
		if (i == len) {
			str_printf(err, errsize, "';' after the last parameter");
			return -EINVAL;
		}
	}
}

static const struct span *issue_param(const struct issue_value *v, const char *tag)
{
	for (size_t k = 0; k < v->n_params; k++)
		if (span_eq_ci(v->tags[k], tag))
			return &v->values[k];
	return NULL;
}

/* validationmethods = label *("," label): -EINVAL on bad syntax, else
 * whether `method` is in the list. */
static int methods_contain(struct span list, const char *method)
{
	size_t i = 0;
	bool found = false;

	for (;;) {
		size_t n = scan_label(list.p + i, list.len - i);
		if (!n)
			return -EINVAL;
		if (span_eq_ci((struct span){ list.p + i, n }, method))
			found = true;
		i += n;
		if (i == list.len)
			return found;
		if (list.p[i] != ',')
			return -EINVAL;
		i++;
	}
}

void caa_issue_parse(const char *value, size_t len, struct caa_issue *ret)
{
	struct issue_value v;

	*ret = (struct caa_issue){ 0 };
	if (issue_value_parse(value, len, &v, ret->error, sizeof(ret->error)) < 0) {
		ret->malformed = true;
		/* Still say which CA it seems to name: the text before ';'. */
		size_t i = 0, o = 0;
		while (i < len && is_wsp(value[i]))
			i++;
		while (i < len && value[i] != ';' && !is_wsp(value[i]) && o + 1 < sizeof(ret->issuer)) {
			char c = lower(value[i++]);
			ret->issuer[o++] = (c >= 0x21 && c <= 0x7e) ? c : '?';
		}
		if (o > 0 && ret->issuer[o - 1] == '.')
			o--;
		ret->issuer[o] = 0;
		return;
	}
	for (size_t i = 0; i < v.issuer.len; i++)
		ret->issuer[i] = lower(v.issuer.p[i]);
	ret->issuer[v.issuer.len] = 0;
	ret->has_accounturi = issue_param(&v, "accounturi") != NULL;
	ret->has_methods = issue_param(&v, "validationmethods") != NULL;
}

/* ---- evaluation ---- */

static bool tag_is(const struct caa_rr *rr, const char *tag)
{
	return span_eq_ci((struct span){ rr->tag, rr->tag_len }, tag);
}

static bool tag_is_known(const struct caa_rr *rr)
{
	static const char *const known[] = {
		"issue", "issuewild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc",
	};

	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		if (tag_is(rr, known[i]))
			return true;
	return false;
}

static bool issuer_is_ours(struct span issuer, const struct caa_query *q)
{
	for (size_t k = 0; k < q->n_issuers; k++)
		if (span_eq_ci(issuer, q->issuers[k]))
			return true;
	return false;
}

/* Higher is better: the property that got furthest decides. */
static int rank(enum caa_outcome o)
{
	switch (o) {
	case CAA_PERMITTED:
		return 4;
	case CAA_WRONG_METHOD:
		return 3;
	case CAA_WRONG_ACCOUNT:
		return 2;
	case CAA_MALFORMED:
		return 1;
	default:
		return 0;
	}
}

static void printable(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\%03u", c);
	}
	buf[o] = 0;
}

int caa_evaluate(const struct caa_rr *rrs, size_t n, const struct caa_query *q,
		 struct caa_verdict *ret)
{
	const char *method = q->method ? q->method : CAA_METHOD_DNS_PERSIST;
	char val[160];

	if (!q->issuers || q->n_issuers == 0)
		return -EINVAL;
	if (n > CAA_MAX_RRS)
		return -E2BIG;
	if (n > 0 && !rrs)
		return -EINVAL;

	struct caa_verdict v = { .outcome = CAA_NO_RECORDS, .match = -1 };

	if (n == 0) {
		str_printf(v.reason, sizeof(v.reason), "no CAA records: any CA may issue");
		*ret = v;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((rrs[i].flags & CAA_FLAG_CRITICAL) && !tag_is_known(&rrs[i])) {
			printable(rrs[i].tag, rrs[i].tag_len, val, sizeof(val));
			v.outcome = CAA_CRITICAL;
			v.match = (int)i;
			str_printf(v.reason, sizeof(v.reason),
				   "unknown CAA property '%s' is marked critical: no CA may issue", val);
			*ret = v;
			return 0;
		}

	const char *tag = "issue";
	if (q->wildcard)
		for (size_t i = 0; i < n; i++)
			if (tag_is(&rrs[i], "issuewild")) {
				tag = "issuewild";
				v.issuewild = true;
				break;
			}

	size_t n_props = 0, n_other = 0;
	enum caa_outcome best = CAA_WRONG_ISSUER;
	int best_i = -1;
	char why[128] = "";

	for (size_t i = 0; i < n; i++) {
		if (!tag_is(&rrs[i], tag))
			continue;
		n_props++;

		struct issue_value iv;
		char err[96];
		enum caa_outcome o;
		char detail[128] = "";

		if (issue_value_parse(rrs[i].value, rrs[i].value_len, &iv, err, sizeof(err)) < 0) {
			struct caa_issue ci;
			caa_issue_parse(rrs[i].value, rrs[i].value_len, &ci);
			if (!issuer_is_ours((struct span){ ci.issuer, strlen(ci.issuer) }, q)) {
				n_other++;
				continue;
			}
			o = CAA_MALFORMED;
			str_printf(detail, sizeof(detail), "%s", err);
		} else if (!issuer_is_ours(iv.issuer, q)) {
			n_other++;
			continue;
		} else {
			const struct span *acct = issue_param(&iv, "accounturi");
			const struct span *methods = issue_param(&iv, "validationmethods");
			int m = methods ? methods_contain(*methods, method) : 1;

			if (m < 0) {
				o = CAA_MALFORMED;
				str_printf(detail, sizeof(detail), "bad validationmethods list");
			} else if (acct && (!q->account_uri || acct->len != strlen(q->account_uri) ||
					    memcmp(acct->p, q->account_uri, acct->len) != 0)) {
				o = CAA_WRONG_ACCOUNT;
				printable(acct->p, acct->len, detail, sizeof(detail));
			} else if (m == 0) {
				o = CAA_WRONG_METHOD;
				printable(methods->p, methods->len, detail, sizeof(detail));
			} else
				o = CAA_PERMITTED;
		}
		if (best_i < 0 || rank(o) > rank(best)) {
			best = o;
			best_i = (int)i;
			str_printf(why, sizeof(why), "%s", detail);
		}
		if (o == CAA_PERMITTED)
			break;
	}

	if (n_props == 0) {
		v.outcome = CAA_UNRESTRICTED;
		str_printf(v.reason, sizeof(v.reason),
			   "CAA records have no %s property: any CA may issue", tag);
		*ret = v;
		return 0;
	}
	v.outcome = best;
	v.match = best_i;
	if (best_i >= 0)
		printable(rrs[best_i].value, rrs[best_i].value_len, val, sizeof(val));
	switch (best) {
	case CAA_PERMITTED:
		str_printf(v.reason, sizeof(v.reason), "CAA %s \"%.100s\" permits %s", tag, val, q->issuers[0]);
		break;
	case CAA_WRONG_METHOD:
		str_printf(v.reason, sizeof(v.reason),
			   "CAA %s \"%.100s\" allows only validationmethods=%.60s, not %s", tag, val, why,
			   method);
		break;
	case CAA_WRONG_ACCOUNT:
		str_printf(v.reason, sizeof(v.reason),
			   "CAA %s \"%.100s\" binds %s to accounturi %.60s, not %s", tag, val, q->issuers[0],
			   why, q->account_uri ? q->account_uri : "(none given)");
		break;
	case CAA_MALFORMED:
		str_printf(v.reason, sizeof(v.reason), "CAA %s \"%.100s\" for %s is malformed (%.60s)", tag, val,
			   q->issuers[0], why);
		break;
	default:
		str_printf(v.reason, sizeof(v.reason),
			   "CAA %s properties (%zu) do not name %s: it may not issue%s", tag, n_props,
			   q->issuers[0], v.issuewild ? " wildcards" : "");
		break;
	}
	*ret = v;
	return 0;
}
