/* ctl/jsonpass.c: see jsonpass.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/json.h"
#include "common/jsonscan.h"
#include "ctl/jsonpass.h"

enum top_key { KEY_NONE, KEY_JSONRPC, KEY_ID, KEY_RESULT };

struct pass {
	struct json_writer *w;
	const char *id;
	unsigned depth;         /* open containers, the envelope's object included */
	enum top_key key;       /* the envelope member whose value comes next */
	bool in_result;         /* events go to g */
	bool level_next;        /* the next value is result.level */
	bool seen_jsonrpc, seen_id, seen_result;
	bool streaming;         /* the result is written out as it is made */
	bool wrote;             /* part of it is out */
	char level[16];
	FILE *out;
	jsonscan_more_fn more;  /* the caller's supply */
	void *more_ctx;
};

/* The writer's output is handed to stdio in pieces of about this size, so that the
 * reader of a 15 MB status (a pipe) works while the rest is made. */
#define JSONPASS_CHUNK (64 * 1024)

static int sink_file(void *userdata, const char *text, size_t n)
{
	return fwrite(text, 1, n, userdata) == n ? 0 : -EIO;
}

/* A value or container start at envelope level (depth 1): only the three
 * members we accept; returns whether to go on. */
static bool envelope_value(struct pass *p, const char *text, size_t len, bool is_string,
			   bool is_number)
{
	switch (p->key) {
	case KEY_JSONRPC:
		p->seen_jsonrpc = is_string && len == 3 && memcmp(text, "2.0", 3) == 0;
		return p->seen_jsonrpc;
	case KEY_ID:
		p->seen_id = is_number && len == strlen(p->id) && memcmp(text, p->id, len) == 0;
		return p->seen_id;
	default:
		return false;
	}
}

#define PASS(ctx) ((struct pass *)(ctx))

/* After a value went to the writer: a full piece goes out. The writer latches its first
 * error (a failed write included); it is read at the end. */
static bool written(struct pass *p)
{
	if (p->streaming && json_writer_pending(p->w) >= JSONPASS_CHUNK) {
		(void)json_writer_flush(p->w, sink_file, p->out);
		p->wrote = true;
	}
	return true;
}
#define FORWARD(ctx, call) ((call), written(PASS(ctx)))

/* A scalar in the result; at envelope level only jsonrpc and id. */
static int scalar(void *ctx, const char *text, size_t len, bool is_string, bool is_number)
{
	struct pass *p = ctx;

	if (!p->in_result) {
		if (p->depth != 1)
			return 0;
		if (p->key != KEY_RESULT)
			return envelope_value(p, text, len, is_string, is_number);
		p->seen_result = true; /* a scalar result */
		return -1;
	}
	if (p->level_next && is_string && len < sizeof(p->level)) {
		memcpy(p->level, text, len);
		p->level[len] = '\0';
	}
	p->level_next = false;
	return -1; /* forward */
}

static bool on_null(void *ctx)
{
	int r = scalar(ctx, NULL, 0, false, false);
	return r >= 0 ? r : FORWARD(ctx, json_null(PASS(ctx)->w));
}

static bool on_boolean(void *ctx, bool v)
{
	int r = scalar(ctx, NULL, 0, false, false);
	return r >= 0 ? r : FORWARD(ctx, json_bool(PASS(ctx)->w, v));
}

static bool on_number(void *ctx, const char *s, size_t len)
{
	int r = scalar(ctx, s, len, false, true);
	return r >= 0 ? r : FORWARD(ctx, json_number_raw(PASS(ctx)->w, s, len));
}

/* A raw string needs no escape: copied, not checked byte by byte again. */
static void put_string(struct json_writer *w, const char *s, size_t len, bool raw)
{
	if (raw)
		json_string_plain(w, s, len);
	else
		json_string_n(w, s, len);
}

static bool on_string(void *ctx, const char *s, size_t len, bool raw)
{
	int r = scalar(ctx, s, len, true, false);
	return r >= 0 ? r : FORWARD(ctx, put_string(PASS(ctx)->w, s, len, raw));
}

/* A container opens: the envelope itself, the result, or inside it. */
static int open_container(struct pass *p)
{
	if (p->in_result) {
		p->level_next = false;
		p->depth++;
		return -1;
	}
	if (p->depth == 0) {
		p->depth = 1;
		return 1;
	}
	if (p->depth == 1 && p->key == KEY_RESULT) {
		p->in_result = true;
		/* Only once the envelope is known to be ours: what is declined has
		 * written nothing. */
		p->streaming = p->seen_jsonrpc && p->seen_id;
		p->depth++;
		return -1;
	}
	return 0;
}

static bool on_start_map(void *ctx)
{
	int r = open_container(ctx);
	return r >= 0 ? r : FORWARD(ctx, json_begin_object(PASS(ctx)->w));
}

static bool on_start_array(void *ctx)
{
	int r = open_container(ctx);
	return r >= 0 ? r : FORWARD(ctx, json_begin_array(PASS(ctx)->w));
}

/* A container closes; the result ends when the depth is back to 1. */
static int close_container(struct pass *p)
{
	p->depth--;
	if (!p->in_result)
		return 1;
	if (p->depth == 1) {
		p->in_result = false;
		p->seen_result = true;
	}
	return -1;
}

static bool on_end_map(void *ctx)
{
	int r = close_container(ctx);
	return r >= 0 ? r : FORWARD(ctx, json_end_object(PASS(ctx)->w));
}

static bool on_end_array(void *ctx)
{
	int r = close_container(ctx);
	return r >= 0 ? r : FORWARD(ctx, json_end_array(PASS(ctx)->w));
}

static bool on_map_key(void *ctx, const char *s, size_t len, bool raw)
{
	struct pass *p = ctx;

	if (p->in_result) {
		p->level_next = p->depth == 2 && len == 5 && memcmp(s, "level", 5) == 0;
		return FORWARD(ctx, put_string(p->w, s, len, raw));
	}
	if (len == 7 && memcmp(s, "jsonrpc", 7) == 0 && !p->seen_jsonrpc)
		p->key = KEY_JSONRPC;
	else if (len == 2 && memcmp(s, "id", 2) == 0 && !p->seen_id)
		p->key = KEY_ID;
	else if (len == 6 && memcmp(s, "result", 6) == 0 && !p->seen_result)
		p->key = KEY_RESULT;
	else
		return 0; /* error, method, params, a repeat: not ours */
	return 1;
}

static const struct jsonscan_events events = {
	.null = on_null,
	.boolean = on_boolean,
	.number = on_number,
	.string = on_string,
	.start_map = on_start_map,
	.map_key = on_map_key,
	.end_map = on_end_map,
	.start_array = on_start_array,
	.end_array = on_end_array,
};

/* The caller's more(), told to keep the whole line until part of the result
 * is out: a line declined before then goes to its ordinary path, whole. */
static bool pass_more(void *ctx, size_t keep, const char **text, size_t *len, size_t *dropped)
{
	struct pass *p = ctx;

	return p->more(p->more_ctx, p->wrote ? keep : 0, text, len, dropped);
}

int jsonpass_result_stream(const char *line, size_t len, jsonscan_more_fn more, void *more_ctx,
			   const char *id, struct jsonpass *ret)
{
	struct pass p = { .id = id, .out = ret->out, .more = more, .more_ctx = more_ctx };
	int r = 0;

	/* A NUL needs no search of its own: jsonscan refuses it anywhere (it is
	 * neither JSON whitespace nor allowed raw in a string). */
	p.w = json_writer_new(true);
	if (!p.w)
		return -ENOMEM;
	r = jsonscan_stream(line, len, more ? pass_more : NULL, &p, &events, &p);
	if (r == 0 && !(p.seen_jsonrpc && p.seen_id && p.seen_result))
		r = -EINVAL;
	if (r == 0)
		r = json_writer_flush(p.w, sink_file, p.out);
	if (r < 0 && r != -ENOMEM && r != -EIO) {
		/* Declined, for the caller's ordinary path: unless part of the result is
		 * out already, and the line broke off or went wrong after it. */
		r = p.wrote ? -EPROTO : 0;
		ret->partial = p.wrote;
		goto out;
	}
	if (r < 0)
		goto out;
	memcpy(ret->level, p.level, sizeof(p.level));
	ret->taken = true;
	r = 1;
out:
	json_writer_free(p.w);
	return r;
}

int jsonpass_result(const char *line, size_t len, const char *id, struct jsonpass *ret)
{
	return jsonpass_result_stream(line, len, NULL, NULL, id, ret);
}
