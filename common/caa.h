/* common/caa.h: would this CAA RRset let our CA issue? RFC 8659 property
 * rules (issue, issuewild for wildcard names, the critical flag) with the
 * RFC 8657 accounturi and validationmethods parameters (spec section 5).
 *
 * Pure: no I/O, no DNS. Finding the relevant RRset (tree climbing) is the
 * caller's job (common/dnscheck); this module judges the RRset it is given.
 * Errors: -EINVAL bad input (RDATA that is not CAA wire form, a query with no
 * issuer), -E2BIG over CAA_MAX_RRS. A verdict (PERMITTED, WRONG_ACCOUNT...) is
 * an enum result, never an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAA_FLAG_CRITICAL 0x80
#define CAA_METHOD_DNS_PERSIST "dns-persist-01"

/* One CAA RR, pointing into its RDATA. */
struct caa_rr {
	uint8_t flags;
	const char *tag;      /* borrowed, not NUL-terminated */
	size_t tag_len;
	const char *value;    /* borrowed, not NUL-terminated, raw bytes */
	size_t value_len;
};

/* Splits RDATA in RFC 8659 section 4.1.1 wire form: flags, tag length, tag,
 * value. -EINVAL when the tag is empty or runs past the end. */
int caa_rr_parse(const uint8_t *rdata, size_t len, struct caa_rr *ret);

enum caa_outcome {
	CAA_NO_RECORDS,     /* no CAA RRset up the tree: any CA may issue */
	CAA_PERMITTED,      /* a property names our CA and allows the account and method */
	CAA_UNRESTRICTED,   /* a CAA RRset without issue (issuewild) properties */
	CAA_WRONG_ISSUER,   /* issue (issuewild) properties exist, none names our CA */
	CAA_WRONG_ACCOUNT,  /* the ones naming our CA are bound to another accounturi */
	CAA_WRONG_METHOD,   /* ... or their validationmethods leave out dns-persist-01 */
	CAA_MALFORMED,      /* the only ones naming our CA cannot be parsed */
	CAA_CRITICAL,       /* an unknown property carries the critical flag */
	_CAA_OUTCOME_MAX,
};

const char *caa_outcome_to_string(enum caa_outcome o); /* "PERMITTED", ... */
bool caa_outcome_permits(enum caa_outcome o);

struct caa_query {
	const char *const *issuers; /* borrowed: our CA's CAA identities, lowercase */
	size_t n_issuers;
	const char *account_uri;    /* the plain account URL (RFC 8657); NULL: none */
	const char *method;         /* ACME method name; NULL means CAA_METHOD_DNS_PERSIST */
	bool wildcard;              /* the certificate name is a wildcard */
};

struct caa_verdict {
	enum caa_outcome outcome;
	int match;                  /* index of the deciding RR, -1 for none */
	bool issuewild;             /* the issuewild properties decided */
	char reason[320];           /* one line for humans */
};

/* Judges the relevant RRset (n == 0: none found up the tree). */
int caa_evaluate(const struct caa_rr *rrs, size_t n, const struct caa_query *q,
		 struct caa_verdict *ret);

/* The parsed issue/issuewild value, for callers that display it. */
struct caa_issue {
	char issuer[254];           /* lowercase; "" when the value names no CA */
	bool has_accounturi;
	bool has_methods;
	bool malformed;
	char error[96];             /* why, when malformed */
};

void caa_issue_parse(const char *value, size_t len, struct caa_issue *ret);
