/* daemon/statusquery.h: the status method's params, read into a
 * statusdoc_query (daemon/statusdoc.h): {"summary": bool, "limit": N,
 * "offset": N, "cert": NAME}, each optional (docs/control-api.md). "offset"
 * without "limit" pages to the end.
 *
 * Errors: -EINVAL with a JSON-RPC code (JRPC_INVALID_PARAMS for a bad or
 * unknown member, JRPC_NOT_FOUND for a cert that is not configured) and a
 * one-line message in msg, for the caller to answer. Reads the daemon only
 * to find the cert; changes nothing. */
#pragma once

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "daemon/statusdoc.h"

struct daemon;

int statusquery_parse(struct daemon *d, yajl_val params, struct statusdoc_query *ret,
		      int *ret_code, char *msg, size_t msg_size);
