/* tests/fuzz/fuzz_jrpc.c: JSON-RPC framing, request and response parsing,
 * and the builders' round trip. Input: one byte that sets the chunk size
 * (1..256) the stream is fed in, then the stream. Every line goes through
 * both parsers; what the server would answer must build and parse back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jrpc.h"

#define FUZZ_MAX_LINE_BYTES 4096

#define check(x)                        \
	do {                            \
		if (!(x))               \
			abort();        \
	} while (0)

static void answer_parses(char *line, size_t len, const char *id_json)
{
	_cleanup_(jrpc_message_freep) struct jrpc_message *m = NULL;

	check(len > 0 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));
	check(jrpc_parse_message(line, len - 1, SIZE_MAX, &m) == 0);
	check(streq(m->id_json, id_json ? id_json : "null"));
	free(line);
}

static void one_line(const char *line, size_t len)
{
	_cleanup_(jrpc_request_freep) struct jrpc_request *req = NULL;
	_cleanup_(jrpc_message_freep) struct jrpc_message *m = NULL;
	struct jrpc_parse_error e;
	char *out;
	size_t n;

	(void)jrpc_parse_message(line, len, FUZZ_MAX_LINE_BYTES, &m);
	if (jrpc_parse_request(line, len, FUZZ_MAX_LINE_BYTES, &req, &e) < 0) {
		check(jrpc_error(e.id_json, e.code, e.message, NULL, &out, &n) == 0);
		answer_parses(out, n, e.id_json);
		jrpc_parse_error_done(&e);
		return;
	}
	_cleanup_free_ char *params = NULL;
	size_t plen = 0;
	if (req->params)
		check(jrpc_json_dump(req->params, &params, &plen) == 0);
	const char *result = params ? params : "null";
	check(jrpc_result(req->id_json, result, strlen(result), &out, &n) == 0);
	answer_parses(out, n, req->id_json);
	check(jrpc_error(req->id_json, JRPC_FAILED, req->method, params, &out, &n) == 0);
	answer_parses(out, n, req->id_json);

	/* The client's own request line says the same thing. */
	check(jrpc_call(req->id_json, req->method, params, plen, &out, &n) == 0);
	_cleanup_(jrpc_request_freep) struct jrpc_request *again = NULL;
	check(jrpc_parse_request(out, n - 1, SIZE_MAX, &again, &e) == 0);
	check(streq(again->method, req->method));
	check(streq_ptr(again->id_json, req->id_json));
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jrpc_reader r;
	const char *line;
	size_t len;

	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	const char *p = (const char *)data + 1;
	size_t left = size - 1;

	jrpc_reader_init(&r, FUZZ_MAX_LINE_BYTES);
	for (;;) {
		int k;
		while ((k = jrpc_reader_line(&r, &line, &len)) > 0)
			if (!jrpc_line_is_blank(line, len))
				one_line(line, len);
		if (k < 0 || left == 0)
			break;
		char *space;
		size_t room;
		if (jrpc_reader_space(&r, &space, &room) < 0)
			break;
		size_t n = left < chunk ? left : chunk;
		n = n < room ? n : room;
		memcpy(space, p, n);
		jrpc_reader_commit(&r, n);
		p += n;
		left -= n;
	}
	if (jrpc_reader_take_rest(&r, &line, &len) > 0 && !jrpc_line_is_blank(line, len))
		one_line(line, len);
	jrpc_reader_done(&r);
	return 0;
}
