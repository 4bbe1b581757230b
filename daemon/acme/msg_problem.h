/* daemon/acme/msg_problem.h: ACME problem documents (RFC 7807, RFC 8555 section 6.7) and
 * the identifiers they and other objects name, read from yajl trees into plain structs;
 * and the one text for humans that every caller shows of a problem.
 *
 * One of the parsers of daemon/acme/msg.h, which includes this header and states the
 * rules they all follow: pure; *ret filled only on success, with copies of every string;
 * strict about types and limits, lenient about unknown members; -EINVAL, -E2BIG or
 * -ENOMEM with a one-line reason in err. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"

/* ---- problem documents (RFC 7807, RFC 8555 section 6.7) ---------------------------- */

#define ACME_ERROR_PREFIX "urn:ietf:params:acme:error:"

struct acme_identifier {
	char *type;  /* owned: "dns", "ip", ... */
	char *value; /* owned */
};

struct acme_subproblem {
	char *type;                        /* owned; "about:blank" when absent */
	char *detail;                      /* owned or NULL */
	struct acme_identifier identifier; /* members NULL when absent */
};

struct acme_problem {
	char *type;   /* owned; "about:blank" when absent (RFC 7807 section 4.2) */
	char *detail; /* owned or NULL */
	char *instance; /* owned or NULL */
	int status;   /* the "status" member, 0 when absent */
	struct acme_subproblem *subproblems; /* owned array */
	size_t n_subproblems;
};

int acme_problem_parse(yajl_val v, struct acme_problem *ret, char *err, size_t err_size);
void acme_problem_done(struct acme_problem *p);
/* A heap copy, for objects that keep a problem as a member. */
void acme_problem_free(struct acme_problem *p); /* acme_problem_done + free; NULL ok */
DEFINE_FREEP(struct acme_problem, acme_problem_free)

/* true when p->type is ACME_ERROR_PREFIX + name, e.g. acme_problem_is(p, "badNonce"). */
bool acme_problem_is(const struct acme_problem *p, const char *name);
/* The type without ACME_ERROR_PREFIX ("rateLimited"), or the whole type for other URIs.
 * Borrowed from p. */
const char *acme_problem_short_type(const struct acme_problem *p);

/* For humans, one line, plus one indented line per subproblem:
 *   rateLimited: too many new orders recently (HTTP 429)
 *     - dns 'a.example': caa: CAA record forbids issuance
 * Server text is escaped (control characters as \xHH) and cut at a few hundred bytes
 * per field; at most 20 subproblems are listed, then "... and N more". Returns a heap
 * string (free()), NULL only on out-of-memory. */
char *acme_problem_format(const struct acme_problem *p);

/* For the other parsers of daemon/acme/msg*.c. An identifier object: absent or null is an
 * error only when required (then "<what>: 'identifier' missing"). */
int msg_problem_identifier_parse(yajl_val v, const char *what, bool required,
				 struct acme_identifier *ret, char *err, size_t err_size);
void msg_problem_identifier_done(struct acme_identifier *id);
/* An optional "error" member holding a problem document: *ret a heap copy, untouched when
 * the member is absent or null. */
int msg_problem_get(yajl_val obj, const char *what, struct acme_problem **ret, char *err,
		    size_t err_size);
