/* daemon/acme/transport_reply.h: what an ACME op hands back to its caller, and the texts
 * about it for humans.
 *
 * Owns: struct acme_reply (the fields, and what "error" means, are explained in
 * transport.h, which includes this header), acme_cb, the reading of a Content-Type as
 * JSON or a problem document, and the one-line texts about an answer and a reply.
 * Pure: no loop, no I/O, no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h" /* before uv.h: see http.h */
#include "daemon/acme/http.h"
#include "daemon/acme/msg_problem.h"

struct acme_reply {
	int error;             /* see transport.h */
	char error_text[256];  /* "" when error == 0 */
	long status;           /* HTTP status of the final answer; 0 if none */
	yajl_val json;         /* the parsed body when it is JSON, else NULL; owned by the reply */
	const char *body;      /* raw body, body_len bytes plus a NUL; "" when none */
	size_t body_len;
	const char *content_type; /* as sent; NULL when absent */
	const char *location;     /* NULL when absent (the account or order URL after a 201) */
	int64_t retry_after_sec;  /* -1 when absent */
	const struct acme_problem *problem; /* parsed application/problem+json, else NULL */
	const char *const *link_alternate;  /* Link rel="alternate" (alternate chains) */
	size_t n_link_alternate;
	const char *link_up;      /* Link rel="up", or NULL */
	const char *link_next;    /* Link rel="next" (the next page of a list), or NULL */
	const char *url;          /* the URL the op was for */
	unsigned attempts;        /* HTTP requests this op made for its URL, retries included */
};

/* r and everything it points to are valid only during the callback. */
typedef void (*acme_cb)(const struct acme_reply *r, void *userdata);

/* The CA could not answer now (a network error, a 5xx, a 429): worth trying
 * again later, rather than a refusal to give up on. */
bool acme_reply_try_later(const struct acme_reply *rep);

/* One line for humans about a reply that did not succeed: the error text, or
 * "<url>: HTTP <status>: <problem>" (acme_problem_format with its lines joined by ';', so
 * subproblems are included), or "<url>: HTTP <status>". Writes into buf (truncating). */
void acme_reply_describe(const struct acme_reply *r, char *buf, size_t size);

/* Whether a Content-Type is JSON: application/json, application/problem+json (then
 * *ret_problem is true) or any other +json type; parameters are ignored. NULL is not. */
bool transport_reply_is_json(const char *ct, bool *ret_problem);

/* An answer in one line for the log, before it becomes a reply: the network error text,
 * or "HTTP <status>" with the problem's short type and detail (problem may be NULL),
 * escaped and cut short. Writes into buf (truncating). */
void transport_reply_describe_answer(const struct http_response *resp,
				     const struct acme_problem *problem, char *buf, size_t size);
