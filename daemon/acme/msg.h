/* daemon/acme/msg.h: the ACME JSON objects (RFC 8555 section 7.1, RFC 9773, RFC 7807 and
 * dns-persist-01) read from yajl trees into plain structs.
 *
 * Pure: no loop, no curl, no logging, no clock. Every parser takes a tree from json_parse()
 * (common/json.h), fills *ret only on success (on failure *ret is left untouched), and
 * copies every string it keeps, so the tree may be freed right after. Each struct has an
 * x_done() that frees what it owns and zeroes it (NULL and zeroed structs are fine).
 *
 * Strict: a member of the wrong JSON type, a required member that is missing, an unknown
 * status for that object, or a date that is not RFC 3339 makes the whole object invalid.
 * Unknown members are ignored (servers may extend objects). Counts and string lengths are
 * bounded by the ACME_MAX_* limits in common/limits.h.
 *
 * Errors: -EINVAL malformed, -E2BIG over a limit, -ENOMEM. err (may be NULL) gets a
 * one-line reason naming the member, e.g. "order: 'finalize' is not a string"; it never
 * contains raw server text beyond escaped, bounded excerpts.
 *
 * Times are Unix seconds; 0 means the member was absent.
 *
 * The parsers live in several modules, one header each, which this header includes so
 * that a caller may include just this one: msg_problem.h (problem documents and
 * identifiers), msg_directory.h (the directory) and, here, the status names and the
 * objects of an account: account, order, challenge, authorization, renewal information.
 * daemon/acme/msg_field.h is what those parsers share, internal to them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"
#include "daemon/acme/msg_directory.h"
#include "daemon/acme/msg_problem.h"

enum acme_status {
	ACME_STATUS_PENDING,
	ACME_STATUS_READY,
	ACME_STATUS_PROCESSING,
	ACME_STATUS_VALID,
	ACME_STATUS_INVALID,
	ACME_STATUS_DEACTIVATED,
	ACME_STATUS_EXPIRED,
	ACME_STATUS_REVOKED,
	_ACME_STATUS_MAX,
};

/* "pending", "ready", ...; NULL when out of range. */
const char *acme_status_to_string(enum acme_status s);
/* The inverse, exact lowercase names; the enum value or -EINVAL. */
int acme_status_from_string(const char *s);

/* ---- account (section 7.1.2) ------------------------------------------------------- */

struct acme_account {
	enum acme_status status; /* valid, deactivated or revoked */
	char **contact;          /* owned array of owned strings */
	size_t n_contact;
	char *orders;            /* owned or NULL */
	bool terms_of_service_agreed;
};

int acme_account_parse(yajl_val v, struct acme_account *ret, char *err, size_t err_size);
void acme_account_done(struct acme_account *a);

/* ---- the account's orders list (section 7.1.2.1) ---------------------------------------- */

/* One page: {"orders": [URL, ...]}; the next page is in a Link rel="next" header, which the
 * caller follows. At most ACME_MAX_ORDERS_PAGE URLs, each at most ACME_MAX_URL_BYTES. */
struct acme_orders_list {
	char **orders;     /* owned URLs, in the CA's order; NULL when empty */
	size_t n_orders;
};

int acme_orders_list_parse(yajl_val v, struct acme_orders_list *ret, char *err,
			   size_t err_size);
void acme_orders_list_done(struct acme_orders_list *l);

/* ---- order (section 7.1.3) ---------------------------------------------------------- */

struct acme_order {
	enum acme_status status; /* pending, ready, processing, valid or invalid */
	int64_t expires;         /* 0 when absent */
	int64_t not_before, not_after; /* 0 when absent */
	struct acme_identifier *identifiers; /* owned, at least one */
	size_t n_identifiers;
	char **authorizations; /* owned URLs */
	size_t n_authorizations;
	char *finalize;     /* owned, required */
	char *certificate;  /* owned or NULL (set once valid) */
	char *profile;      /* owned or NULL */
	char *replaces;     /* owned or NULL (RFC 9773 section 5) */
	struct acme_problem *error; /* owned or NULL */
};

int acme_order_parse(yajl_val v, struct acme_order *ret, char *err, size_t err_size);
void acme_order_done(struct acme_order *o);
/* Whether the order is for exactly these DNS names: every identifier of type "dns", the
 * two compared as sets, ASCII case-insensitively ("*.a.example" matches only itself). */
bool acme_order_has_names(const struct acme_order *o, const char *const *names, size_t n);

/* ---- challenge (section 7.1.5, dns-persist-01 section 3.1) ------------------------ */

/* Which spelling of the issuer list a challenge used. */
enum acme_issuer_spelling {
	ACME_ISSUERS_ABSENT,  /* neither (every challenge type but dns-persist-01) */
	ACME_ISSUERS_CAMEL,   /* "issuerDomainNames": draft -02 */
	ACME_ISSUERS_DASHED,  /* "issuer-domain-names": drafts -00/-01, Pebble */
	_ACME_ISSUER_SPELLING_MAX,
};

/* "absent", "issuerDomainNames", "issuer-domain-names". */
const char *acme_issuer_spelling_to_string(enum acme_issuer_spelling s);

struct acme_challenge {
	char *type;              /* owned: "dns-persist-01", "dns-01", ... */
	char *url;               /* owned */
	enum acme_status status; /* pending, processing, valid or invalid */
	char *token;             /* owned or NULL: dns-persist-01 has none */
	/* The issuer list, read from "issuerDomainNames", else "issuer-domain-names". When
	 * present it must be 1..RECORD_MAX_ISSUERS valid lowercase A-label names without a
	 * trailing dot, else the challenge is malformed (-EINVAL). */
	char **issuer_domain_names; /* owned */
	size_t n_issuer_domain_names;
	enum acme_issuer_spelling issuer_spelling;
	char *accounturi;  /* owned or NULL (draft -01 only) */
	int64_t validated; /* 0 when absent */
	struct acme_problem *error; /* owned or NULL */
};

/* A dns-persist-01 challenge without any issuer list is malformed too. */
int acme_challenge_parse(yajl_val v, struct acme_challenge *ret, char *err, size_t err_size);
void acme_challenge_done(struct acme_challenge *c);

/* ---- authorization (section 7.1.4) ------------------------------------------------- */

struct acme_authz {
	enum acme_status status; /* pending, valid, invalid, deactivated, expired, revoked */
	struct acme_identifier identifier; /* owned, required */
	bool wildcard;
	int64_t expires; /* 0 when absent */
	struct acme_challenge *challenges; /* owned */
	size_t n_challenges;
};

/* Any malformed challenge makes the authorization malformed; err names it. */
int acme_authz_parse(yajl_val v, struct acme_authz *ret, char *err, size_t err_size);
void acme_authz_done(struct acme_authz *a);
/* The first challenge of that type, or NULL. Borrowed from a. */
const struct acme_challenge *acme_authz_get_challenge(const struct acme_authz *a,
						      const char *type);

/* ---- renewal information (RFC 9773 section 4.2) ----------------------------------- */

struct acme_renewal_info {
	int64_t window_start, window_end; /* start < end */
	char *explanation_url;            /* owned or NULL */
};

int acme_renewal_info_parse(yajl_val v, struct acme_renewal_info *ret, char *err,
			    size_t err_size);
void acme_renewal_info_done(struct acme_renewal_info *r);
