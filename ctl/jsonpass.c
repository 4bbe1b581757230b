/* ctl/jsonpass.c: see jsonpass.h. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
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
	char level[16];
};

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
/* The writer latches its first error: it is read once, at the end. */
#define FORWARD(call) ((call), true)

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
	return r >= 0 ? r : FORWARD(json_null(PASS(ctx)->w));
}

static bool on_boolean(void *ctx, bool v)
{
	int r = scalar(ctx, NULL, 0, false, false);
	return r >= 0 ? r : FORWARD(json_bool(PASS(ctx)->w, v));
}

static bool on_number(void *ctx, const char *s, size_t len)
{
	int r = scalar(ctx, s, len, false, true);
	return r >= 0 ? r : FORWARD(json_number_raw(PASS(ctx)->w, s, len));
}

static bool on_string(void *ctx, const char *s, size_t len)
{
	int r = scalar(ctx, s, len, true, false);
	return r >= 0 ? r : FORWARD(json_string_n(PASS(ctx)->w, s, len));
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
		p->depth++;
		return -1;
	}
	return 0;
}

static bool on_start_map(void *ctx)
{
	int r = open_container(ctx);
	return r >= 0 ? r : FORWARD(json_begin_object(PASS(ctx)->w));
}

static bool on_start_array(void *ctx)
{
	int r = open_container(ctx);
	return r >= 0 ? r : FORWARD(json_begin_array(PASS(ctx)->w));
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
	return r >= 0 ? r : FORWARD(json_end_object(PASS(ctx)->w));
}

static bool on_end_array(void *ctx)
{
	int r = close_container(ctx);
	return r >= 0 ? r : FORWARD(json_end_array(PASS(ctx)->w));
}

static bool on_map_key(void *ctx, const char *s, size_t len)
{
	struct pass *p = ctx;

	if (p->in_result) {
		p->level_next = p->depth == 2 && len == 5 && memcmp(s, "level", 5) == 0;
		return FORWARD(json_string_n(p->w, s, len));
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

int jsonpass_result(const char *line, size_t len, const char *id, struct jsonpass *ret)
{
	struct pass p = { .id = id };
	int r = 0;

	if (memchr(line, '\0', len))
		return 0;
	p.w = json_writer_new(true);
	if (!p.w)
		return -ENOMEM;
	r = jsonscan(line, len, &events, &p);
	if (r < 0) {
		if (r != -ENOMEM)
			r = 0;
		goto out;
	}
	if (!p.seen_jsonrpc || !p.seen_id || !p.seen_result)
		goto out;
	char *text;
	size_t n;
	r = json_writer_take(p.w, &text, &n);
	if (r < 0) {
		/* What the printer refused (too deep) is the ordinary path's. */
		if (r != -ENOMEM)
			r = 0;
		goto out;
	}
	/* A whole pretty document ends in one newline. */
	assert(n > 0 && text[n - 1] == '\n');
	*ret = (struct jsonpass){ .text = text, .len = n };
	memcpy(ret->level, p.level, sizeof(p.level));
	r = 1;
out:
	json_writer_free(p.w);
	return r;
}

void jsonpass_done(struct jsonpass *p)
{
	free(p->text);
	p->text = NULL;
}
