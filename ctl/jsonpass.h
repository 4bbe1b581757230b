/* ctl/jsonpass.h: `persistctl --json status` without a parse tree.
 *
 * The full status of 10,000 certs is a 10 MB reply; building a yajl tree of
 * it (a million small allocations) and writing the tree out again was most
 * of persistctl's time. jsonpass_result() reads one reply line with
 * common/jsonscan's event reader and re-emits its "result" member straight
 * into a pretty json_writer: the same text remotecall_print_json() prints,
 * with no tree.
 *
 * The result is written to the caller's FILE as it is made, in pieces of
 * 64 KiB, so that whoever reads persistctl's output (a pipe) works while the
 * rest is made, and the 15 MB of pretty text are never held whole.
 * jsonpass_result_stream() also reads the line as it arrives: persistctl
 * then prints while the daemon is still writing, instead of after it (at
 * 10k certs the two took about the same time, one after the other).
 *
 * It takes only a plain success reply: an object whose members are exactly
 * "jsonrpc": "2.0", "id" equal to id (raw JSON text) and "result". Anything
 * else (an error, a notification, another id, malformed JSON, nesting past
 * JSONSCAN_MAX_DEPTH) is declined (0), having written nothing, so that the
 * caller's ordinary path, with its error handling, reads the line instead.
 * Writing starts only once "jsonrpc" and "id" were seen and matched, and
 * only in whole pieces; a line that goes wrong after a piece went out
 * (malformed inside the result, a member after it) is -EPROTO, with part of
 * the result written. The line is bounded by the caller's reply limit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/jsonscan.h"

struct jsonpass {
	FILE *out;        /* in: where the pretty "result" goes (it ends in "\n") */
	bool taken;       /* out: the whole result was written */
	bool partial;     /* out: -EPROTO after part of it was written */
	char level[16];   /* out: the result's top-level "level" string; "" when absent */
};

/* 1 (ret->taken, ret->level), 0 declined, -EPROTO broken off after writing began, -EIO a
 * failed write, -ENOMEM. */
int jsonpass_result(const char *line, size_t len, const char *id, struct jsonpass *ret);
/* The same on a line as it arrives (common/jsonscan's jsonscan_stream()): the result
 * goes out while the daemon is still writing the rest. more() ends the text at the
 * line's end, and may drop what the scan is done with (see jsonscan_stream()) only once
 * part of the result is out: until then it is asked to keep the whole line, which goes
 * to the caller's ordinary path if it is declined. When it stops early (a timeout, a
 * closed socket) the scan fails like a line cut short, and the caller tells why. */
int jsonpass_result_stream(const char *line, size_t len, jsonscan_more_fn more, void *more_ctx,
			   const char *id, struct jsonpass *ret);
