/* tests/fuzz/fuzz_jsonscan.c: common/jsonscan on any bytes, its events
 * written out by a json_writer, as persistctl's --json status printer does.
 * Aborts when it accepts what yajl's parser refuses, when what it wrote
 * is not JSON that yajl reads, when a string it calls raw needs an escape, or
 * when jsonscan_stream() fed the same bytes in pieces does anything else. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "common/json.h"
#include "common/jsonscan.h"
#include "tests/unit/jsonscan_feed.h"

#define W(ctx) ((struct json_writer *)(ctx))

static bool on_null(void *ctx) { json_null(W(ctx)); return true; }
static bool on_bool(void *ctx, bool v) { json_bool(W(ctx), v); return true; }
static bool on_number(void *ctx, const char *s, size_t n) { json_number_raw(W(ctx), s, n); return true; }
/* A raw string must need no escape: written plain, it is what json_string_n() makes of it. */
static bool on_string(void *ctx, const char *s, size_t n, bool raw)
{
	if (raw) {
		struct json_writer *a = json_writer_new(false), *b = json_writer_new(false);
		const char *pa, *pb;
		size_t la, lb;

		if (!a || !b)
			abort();
		json_string_plain(a, s, n);
		json_string_n(b, s, n);
		if (json_writer_finish(a, &pa, &la) < 0 || json_writer_finish(b, &pb, &lb) < 0 ||
		    la != lb || memcmp(pa, pb, la) != 0)
			abort();
		json_writer_free(a);
		json_writer_free(b);
		json_string_plain(W(ctx), s, n);
	} else {
		json_string_n(W(ctx), s, n);
	}
	return true;
}
static bool on_start_map(void *ctx) { json_begin_object(W(ctx)); return true; }
static bool on_end_map(void *ctx) { json_end_object(W(ctx)); return true; }
static bool on_start_array(void *ctx) { json_begin_array(W(ctx)); return true; }
static bool on_end_array(void *ctx) { json_end_array(W(ctx)); return true; }

static const struct jsonscan_events events = {
	.null = on_null, .boolean = on_bool, .number = on_number, .string = on_string,
	.start_map = on_start_map, .map_key = on_string, .end_map = on_end_map,
	.start_array = on_start_array, .end_array = on_end_array,
};

/* yajl's verdict on len bytes (it wants a NUL-terminated text). */
static yajl_val yajl_reads(const char *data, size_t len)
{
	char *s = strndup(data, len);
	if (!s || strlen(s) != len) {
		free(s);
		return NULL;
	}
	yajl_val v = yajl_tree_parse(s, NULL, 0);
	free(s);
	return v;
}

/* jsonscan_stream() in pieces, dropping what it is done with or not, must do
 * what jsonscan() does on the whole: the same result and, event by event, the
 * same text written. */
static void same_in_pieces(const uint8_t *data, size_t size, int want, struct json_writer *whole)
{
	struct json_writer *w = json_writer_new(size & 1);
	struct jsonscan_feed f = { .all = (const char *)data, .all_len = size,
				   .piece = 1 + (size ? data[0] % 13 : 0),
				   .drop = size && (data[0] & 0x40) };
	const char *a, *b;
	size_t la, lb;

	if (!w)
		abort();
	if (jsonscan_stream("", 0, jsonscan_feed_more, &f, &events, w) != want)
		abort();
	if (want == 0 && (json_writer_finish(w, &a, &la) < 0 ||
			  json_writer_finish(whole, &b, &lb) < 0 || la != lb || memcmp(a, b, la) != 0))
		abort();
	free(f.copy);
	json_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_writer *w = json_writer_new(size & 1);

	if (!w)
		return 0;
	int r = jsonscan((const char *)data, size, &events, w);
	same_in_pieces(data, size, r, w);
	if (r == 0) {
		yajl_val v = yajl_reads((const char *)data, size);
		if (!v)
			abort(); /* accepted what yajl refuses */
		yajl_tree_free(v);
		const char *out;
		size_t len;
		if (json_writer_finish(w, &out, &len) < 0)
			abort();
		v = yajl_reads(out, len);
		if (!v)
			abort(); /* wrote what is not JSON */
		yajl_tree_free(v);
	}
	json_writer_free(w);
	return 0;
}
