/* common/jrpc.h: JSON-RPC 2.0 framing for the control socket, both ends.
 *
 * The wire format is one JSON object per line: a message is UTF-8 JSON with
 * no raw newline in it, ended by "\n" (a "\r" before it is JSON whitespace
 * and ignored). This module splits a byte stream into lines (struct
 * jrpc_reader), parses and validates requests (server side) and responses
 * and notifications (client side), and builds every kind of message as one
 * line. It is pure: no I/O, no clock, no logging, no globals; every parser
 * here is fuzzed (tests/fuzz/fuzz_jrpc.c).
 *
 * Batch requests (a JSON array at the top level) are not supported: they are
 * answered with JRPC_INVALID_REQUEST and the message "batch requests are not
 * supported: send one request object per line". A request may carry only the
 * members "jsonrpc", "method", "params" and "id", each at most once; anything
 * else is an invalid request. "params", when present, must be an object or an
 * array (null is refused, as the specification says it is a structured value).
 * A string anywhere in a request may not contain U+0000.
 *
 * Errors: -EINVAL malformed, -E2BIG over a limit, -ENOMEM. The request parser
 * also says which JSON-RPC error to send back (struct jrpc_parse_error). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"

/* Error codes sent in "error": "code". The first five are JSON-RPC 2.0's own;
 * the rest are persistd's, from the range the specification leaves to
 * applications. They are not contiguous, so there is no _MAX: use
 * jrpc_code_to_string() for a name. */
enum jrpc_code {
	JRPC_PARSE_ERROR = -32700,       /* not JSON */
	JRPC_INVALID_REQUEST = -32600,   /* JSON, but not a valid request object */
	JRPC_METHOD_NOT_FOUND = -32601,
	JRPC_INVALID_PARAMS = -32602,
	JRPC_INTERNAL_ERROR = -32603,
	JRPC_PERMISSION_DENIED = -32001, /* a mutating method from a non-admin peer */
	JRPC_REQUEST_TOO_LARGE = -32002, /* request line over the limit; the server then closes */
	JRPC_BUSY = -32003,              /* too many connections, or the work is already running */
	JRPC_NOT_FOUND = -32004,         /* what params names does not exist (an unknown cert) */
	JRPC_FAILED = -32005,            /* the operation ran and failed; "data" says why */
};

/* "parse-error", "permission-denied", ...; NULL for a code we do not know. */
const char *jrpc_code_to_string(int code);

/* ---- framing: a byte stream into lines ----
 *
 * The reader owns a buffer that grows up to max_line_bytes + 1. Fill it
 * with jrpc_reader_space() + jrpc_reader_commit(), then take complete lines
 * with jrpc_reader_line() until it returns 0. A line handed out is valid
 * until the next jrpc_reader_space() call. */
struct jrpc_reader {
	char *buf;             /* owned */
	size_t cap;            /* bytes allocated at buf */
	size_t start;          /* first byte not yet handed out as a line */
	size_t end;            /* bytes of buf in use */
	size_t scanned;        /* [start, scanned) is known to hold no '\n' */
	size_t max_line_bytes; /* longest line accepted, the '\n' not counted */
	size_t dropped;        /* of the line at start, by jrpc_reader_drop() */
};

void jrpc_reader_init(struct jrpc_reader *r, size_t max_line_bytes);
void jrpc_reader_done(struct jrpc_reader *r);
/* Free space at the end of the buffer, at least one byte. Moves pending
 * bytes to the front and grows the buffer (doubling) as needed. -E2BIG when
 * bytes not yet taken as lines already fill max_line_bytes + 1 (take the
 * complete lines first; a partial line that long is reported by
 * jrpc_reader_line()), -ENOMEM. */
int jrpc_reader_space(struct jrpc_reader *r, char **ret, size_t *retlen);
/* The same with at least `want` bytes free where max_line_bytes allows: a
 * reader that drops what it is done with keeps a small buffer, but reads in
 * pieces of a useful size. */
int jrpc_reader_space_min(struct jrpc_reader *r, size_t want, char **ret, size_t *retlen);
/* n bytes were written at the pointer jrpc_reader_space() returned. */
void jrpc_reader_commit(struct jrpc_reader *r, size_t n);
/* 1: *ret, *retlen is the next line, without its '\n'. 0: no complete line
 * yet. -E2BIG: the line being received is already longer than
 * max_line_bytes (it stays an error: the stream cannot be resynchronised). */
int jrpc_reader_line(struct jrpc_reader *r, const char **ret, size_t *retlen);
/* The next line as far as it has come, without taking it: *ret, *retlen up
 * to its '\n' (*complete) or to the last byte received. The pointer is
 * valid until the next jrpc_reader_space(). -E2BIG as jrpc_reader_line(). */
int jrpc_reader_peek(struct jrpc_reader *r, const char **ret, size_t *retlen, bool *complete);
/* The first n bytes of the line jrpc_reader_peek() showed (at most what it
 * showed) are not wanted any more: they are freed from the buffer, and the
 * line goes on from there. They still count towards max_line_bytes. */
void jrpc_reader_drop(struct jrpc_reader *r, size_t n);
/* Bytes received after the last complete line: a partial line. At the end
 * of the stream, callers may treat it as a last line. */
size_t jrpc_reader_pending(const struct jrpc_reader *r);
/* Hands out the partial line (if any) as if a '\n' had ended it. */
int jrpc_reader_take_rest(struct jrpc_reader *r, const char **ret, size_t *retlen);

/* True when the line holds only JSON whitespace: such lines are skipped. */
bool jrpc_line_is_blank(const char *line, size_t len);

/* ---- server side: requests ---- */

struct jrpc_request {
	char *method;    /* owned */
	yajl_val params; /* owned: an object, an array, or NULL when absent */
	char *id_json;   /* owned: raw JSON of the id (a number as sent, a string
			  * re-encoded, or "null"); NULL for a notification */
};

void jrpc_request_free(struct jrpc_request *r);
DEFINE_FREEP(struct jrpc_request, jrpc_request_free)

/* Why a line is not a request, and what to answer. */
struct jrpc_parse_error {
	int code;          /* JRPC_PARSE_ERROR, JRPC_INVALID_REQUEST,
			    * JRPC_REQUEST_TOO_LARGE or JRPC_INTERNAL_ERROR */
	char message[192]; /* one printable line for the reply's "message" */
	char *id_json;     /* owned: the request's id when it could be read, else
			    * NULL (answer with "id": null) */
};

void jrpc_parse_error_done(struct jrpc_parse_error *e);

/* Parses one request line (without its '\n'). 0 and *ret on success; on
 * failure -EINVAL (garbage or invalid request), -E2BIG (over max_bytes or
 * nested deeper than JSON_MAX_DEPTH) or -ENOMEM, with *reterr filled in
 * (reterr is always reset first; call jrpc_parse_error_done() after use).
 * An invalid request is answered even when it carries no id. */
int jrpc_parse_request(const char *line, size_t len, size_t max_bytes, struct jrpc_request **ret,
		       struct jrpc_parse_error *reterr);

/* ---- client side: responses and notifications ---- */

enum jrpc_message_kind {
	JRPC_MESSAGE_RESULT,
	JRPC_MESSAGE_ERROR,
	JRPC_MESSAGE_NOTIFICATION,
	_JRPC_MESSAGE_KIND_MAX,
};

struct jrpc_message {
	enum jrpc_message_kind kind;
	char *id_json;           /* owned: RESULT and ERROR ("null" when the server
				  * could not read our id); NULL for NOTIFICATION */
	yajl_val result;         /* owned: RESULT; any JSON value (null is a yajl
				  * null node, not NULL) */
	int error_code;          /* ERROR */
	char *error_message;     /* owned: ERROR */
	char *error_data_json;   /* owned: ERROR, raw JSON of "data"; NULL when absent */
	char *method;            /* owned: NOTIFICATION */
	yajl_val params;         /* owned: NOTIFICATION; object, array or NULL */
};

void jrpc_message_free(struct jrpc_message *m);
DEFINE_FREEP(struct jrpc_message, jrpc_message_free)

/* Parses one line from a server. -EINVAL when it is not a JSON-RPC 2.0
 * response or notification, -E2BIG over max_bytes or too deep, -ENOMEM. */
int jrpc_parse_message(const char *line, size_t len, size_t max_bytes, struct jrpc_message **ret);

/* ---- builders: each returns one line ending in "\n" ----
 *
 * id_json is raw JSON as held in jrpc_request.id_json (NULL is written as
 * null). *_json arguments must be one valid JSON value; they are checked
 * (-EINVAL otherwise) and newlines in them (whitespace, since JSON strings
 * cannot hold a raw one) become spaces, so pretty-printed JSON is fine.
 * *ret is malloc'd, NUL-terminated, and *retlen excludes the NUL. */
int jrpc_result(const char *id_json, const char *result_json, size_t result_len, char **ret,
		size_t *retlen);
/* As jrpc_result() for a result our own json_writer produced (compact, so no
 * raw newline, and valid by construction): it is copied without being parsed
 * again, which for a status of 10,000 certs (10 MB) was most of the reply's
 * cost in the daemon. Only the id is checked. */
int jrpc_result_trusted(const char *id_json, const char *result_json, size_t result_len,
			char **ret, size_t *retlen);
/* The same line written straight into w, for a result of megabytes (the status
 * of 10,000 certs), which then is neither copied into an envelope nor held
 * twice: jrpc_result_begin() on an empty compact writer, then the caller
 * writes the result, then jrpc_result_end() hands over the line ("\n"-terminated,
 * *retlen counts it) as jrpc_result_trusted() would have made it, or the
 * writer's first error (-EINVAL: the result was not one value). */
struct json_writer;
int jrpc_result_begin(struct json_writer *w, const char *id_json);
int jrpc_result_end(struct json_writer *w, char **ret, size_t *retlen);
/* data_json may be NULL (no "data" member); message is any text (escaped). */
int jrpc_error(const char *id_json, int code, const char *message, const char *data_json,
	       char **ret, size_t *retlen);
/* params_json may be NULL (no "params"); else it must be an object or array. */
int jrpc_notification(const char *method, const char *params_json, size_t params_len, char **ret,
		      size_t *retlen);
/* A request line as a client sends it; id_json NULL makes a notification. */
int jrpc_call(const char *id_json, const char *method, const char *params_json,
	      size_t params_len, char **ret, size_t *retlen);

/* Serialises a yajl tree (NULL is null) to compact JSON; *ret is malloc'd
 * and NUL-terminated. -EINVAL for a tree yajl cannot write, -ENOMEM. */
int jrpc_json_dump(yajl_val v, char **ret, size_t *retlen);
