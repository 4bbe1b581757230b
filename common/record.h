/* common/record.h: the dns-persist-01 TXT record: grammar, generation and the
 * CA's evaluation rules (docs/spec/dns-persist-01.md sections 2 and 3).
 *
 * Pure: no I/O, no logging, no clock. Callers pass `now` (Unix seconds).
 * Errors: -EINVAL bad input (with a position and reason for parse errors),
 * -E2BIG over a limit in common/limits.h, -ENOMEM.
 * A verdict (VALID, WRONG_ACCOUNT, ...) is an enum result, never an error.
 *
 * The record text is always handled as bytes with a length: a TXT RR may hold
 * NUL or any other byte, and the checker must see the raw bytes, never a
 * presentation-format escape of them. The character-strings of one RR are
 * joined with no separator before parsing (record_join). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define RECORD_OWNER_PREFIX "_validation-persist."

enum record_status {
	RECORD_VALID,
	RECORD_NO_RECORD,          /* no TXT RR at the label (NODATA or NXDOMAIN) */
	RECORD_WRONG_ISSUER,       /* RRs present, none names one of the CA's issuers */
	RECORD_WRONG_ACCOUNT,      /* accounturi is not the one the CA expects */
	RECORD_NO_WILDCARD_POLICY, /* wildcard name without policy=wildcard */
	RECORD_EXPIRED,            /* now > persistUntil */
	RECORD_MALFORMED,          /* a record for this CA breaks the grammar */
	_RECORD_STATUS_MAX,
};

const char *record_status_to_string(enum record_status s);
int record_status_from_string(const char *s); /* -EINVAL if unknown */

/* How the accounturi value is formed (spec section 0): the account URL itself
 * (drafts -00/-01, Pebble) or the hashed URI of draft -02. */
enum record_uri_mode {
	RECORD_URI_URL,
	RECORD_URI_HASHED,
	_RECORD_URI_MODE_MAX,
};

const char *record_uri_mode_to_string(enum record_uri_mode m); /* "url", "hashed" */
int record_uri_mode_from_string(const char *s);

struct record_param {
	char *tag;   /* owned, as written */
	char *value; /* owned, as written (may be empty) */
};

/* One parsed record. The known parameters are also in params[], in order. */
struct record {
	char *issuer;             /* owned, as written, WSP trimmed */
	char *accounturi;         /* owned; NULL when absent */
	char *policy;             /* owned, raw value; NULL when absent */
	bool policy_wildcard;     /* policy equals "wildcard", ignoring case */
	bool has_persist_until;
	int64_t persist_until;    /* Unix seconds, any int64 */
	struct record_param *params; /* owned array */
	size_t n_params;
};

struct record_error {
	size_t offset;    /* byte offset into the value where the problem is */
	char reason[160]; /* one line, no trailing period */
};

/* Parses one record value (strings already joined). On -EINVAL (and -E2BIG),
 * *reterr (if not NULL) says where and why. Everything that makes a record
 * MALFORMED is a parse error: the grammar of spec 2.3, duplicate tags (case
 * ignored), a missing or empty accounturi, and a persistUntil that is not a
 * base-10 int64. Unknown tags are kept in params[] and otherwise ignored. */
int record_parse(const char *txt, size_t len, struct record **ret, struct record_error *reterr);
void record_free(struct record *r);
DEFINE_FREEP(struct record, record_free)

/* Joins the character-strings of one RR with no separator.
 * -E2BIG beyond RECORD_MAX_BYTES. *ret is NUL-terminated (not counted). */
int record_join(const uint8_t *const *strs, const size_t *lens, size_t n, char **ret,
		size_t *retlen);

/* The issuer-domain-name of a record as the evaluator compares it: the text
 * before the first ';', WSP trimmed, ASCII-lowercased, one trailing '.'
 * dropped. Writes into buf; -E2BIG if it does not fit (then it cannot match
 * any issuer name). */
int record_issuer_normalize(const char *txt, size_t len, char *buf, size_t size);

/* Checks that an issuer domain name is what a CA may list: lowercase A-label
 * labels, no trailing dot, at most DNS_NAME_MAX_BYTES. */
bool record_issuer_is_valid(const char *issuer);

/* One TXT RR at the label, strings joined. */
struct record_rr {
	const char *text; /* borrowed */
	size_t len;
};

struct record_query {
	const char *const *issuers; /* borrowed: the CA's issuer names (normalized) */
	size_t n_issuers;
	const char *account_uri;    /* the exact accounturi string the CA expects */
	bool wildcard;              /* the name needs wildcard coverage */
	int64_t now;
};

struct record_verdict {
	enum record_status status;
	int match;                /* index of the deciding RR, -1 for none */
	size_t n_ours;            /* RRs that name one of our issuers */
	bool policy_present;      /* the deciding record has a policy parameter */
	bool policy_wildcard;     /* ... and it is "wildcard" */
	bool has_persist_until;
	int64_t persist_until;
	char reason[320];         /* one line for humans */
};

/* Evaluates every RR found at _validation-persist.<name> per spec section 3.
 * n_rrs == 0 is NO_RECORD. -E2BIG beyond RECORD_MAX_RRS, -EINVAL for a bad
 * query (no issuers, no account URI). */
int record_evaluate(const struct record_rr *rrs, size_t n_rrs, const struct record_query *q,
		    struct record_verdict *ret);

/* What to publish. */
struct record_spec {
	const char *issuer;       /* exactly as the CA lists it */
	const char *account_uri;  /* the accounturi value (URL or hashed URI) */
	bool wildcard;            /* emit policy=wildcard */
	bool has_persist_until;
	int64_t persist_until;
};

/* The canonical value: "<issuer>; accounturi=<uri>[; policy=wildcard]
 * [; persistUntil=<int>]". -EINVAL when the issuer or URI would not survive
 * the grammar (for instance a URI with ';' or whitespace). */
int record_generate(const struct record_spec *s, char **ret);

/* Owner name for a certificate name: "*.example.com" and "example.com" both
 * give "_validation-persist.example.com"; *ret_wildcard says whether the name
 * asked for wildcard coverage. The name is lowercased; a trailing dot is
 * dropped. -EINVAL for a name that is not a DNS name. */
int record_owner_name(const char *name, char **ret_owner, bool *ret_wildcard);

/* The base name (the name without "*.", lowercase, no trailing dot). */
int record_base_name(const char *name, char **ret_base, bool *ret_wildcard);

/* Zone-file line: `<owner>. <ttl> IN TXT "..." "..."`: the value split into
 * character-strings of at most 255 bytes, with '"' and '\\' escaped and
 * non-printable bytes as \DDD. ttl 0 leaves the TTL out. */
int record_zone_line(const char *owner, const char *value, size_t len, uint32_t ttl,
		     char **ret);

/* The draft -02 hashed accounturi (spec 2.5):
 * prefix || "sha-256/" || b64url(SHA-256(len(d) || d || thumbprint || url)),
 * with d the normalized domain or "*" for any domain. */
int record_hashed_account_uri(const char *prefix, const char *domain, const char *thumbprint,
			      const char *account_url, char **ret);
