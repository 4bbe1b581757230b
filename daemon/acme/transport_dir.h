/* daemon/acme/transport_dir.h: the cached directory of one ACME CA (RFC 8555 section
 * 7.1.1).
 *
 * Owns: the parsed directory, its JSON tree and its body, kept together so that every
 * acme_conn_directory() caller gets the same reply as the fetch that filled the cache.
 * Decides whether an answer to the directory fetch is a directory: only a 200 whose body
 * parses as JSON and as a directory is; anything else is -EPROTO (or the network error,
 * or -ENOMEM), with the reason in the reply's error_text, and leaves the cache empty.
 *
 * Part of daemon/acme/transport (see transport.h), which runs the one fetch and keeps the
 * waiters. A plain struct embedded in its owner, zeroed to start with and emptied with
 * transport_dir_clear(). No loop, no I/O; it logs nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h" /* before uv.h: see http.h */
#include "daemon/acme/http.h"
#include "daemon/acme/msg_directory.h"
#include "daemon/acme/msg_problem.h"
#include "daemon/acme/transport_reply.h"

struct transport_dir {
	struct acme_directory parsed; /* valid when valid */
	bool valid;
	yajl_val json; /* owned, the cached directory tree */
	char *body;    /* owned */
	size_t body_len;
};

/* The answer to the directory fetch for url: resp, its body parsed into *json (NULL when
 * it was not JSON) with perr/perr_text from that parse, and its problem (may be NULL).
 * r was filled from resp by the caller. Success (0): the cache is valid and owns *json
 * (set to NULL). Failure (< 0): r->error and r->error_text say why; nothing changed. */
int transport_dir_store(struct transport_dir *d, const struct http_response *resp,
			yajl_val *json, const struct acme_problem *problem, int perr,
			const char *perr_text, const char *url, struct acme_reply *r);
/* The reply from the cache, for url: 200, the cached tree and body. Valid while d is. */
void transport_dir_reply(const struct transport_dir *d, const char *url, struct acme_reply *r);
/* Frees what it holds; d is empty (not valid) afterwards. */
void transport_dir_clear(struct transport_dir *d);
