/* ctl/jsonpass.h: `persistctl --json status` without a parse tree.
 *
 * The full status of 10,000 certs is a 10 MB reply; building a yajl tree of
 * it (a million small allocations) and writing the tree out again was most
 * of persistctl's time. jsonpass_result() reads one reply line with
 * common/jsonscan's event reader and re-emits its "result" member straight
 * into a pretty json_writer: the same text remotecall_print_json() prints,
 * with no tree.
 *
 * It takes only a plain success reply: an object whose members are exactly
 * "jsonrpc": "2.0", "id" equal to id (raw JSON text) and "result". Anything
 * else (an error, a notification, another id, malformed JSON, nesting past
 * JSONSCAN_MAX_DEPTH) is declined (0) so that the caller's ordinary path,
 * with its error handling, reads the line instead. The line is bounded by
 * the caller's reply limit. */
#pragma once

#include <stddef.h>
#include <stdio.h>

struct jsonpass {
	char *text;       /* owned: the pretty "result", ending in "\n" */
	size_t len;
	char level[16];   /* the result's top-level "level" string; "" when absent */
};

/* 1 and *ret filled (free with jsonpass_done), 0 declined, -ENOMEM. */
int jsonpass_result(const char *line, size_t len, const char *id, struct jsonpass *ret);
void jsonpass_done(struct jsonpass *p);
