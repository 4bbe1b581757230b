/* common/jsonscan.h: a JSON text (RFC 8259) read as a stream of events,
 * without a tree: the reader persistctl's --json status printer needs for
 * a 10 MB reply (issue 12: yajl's event parser was a third of it).
 *
 * Owns nothing but a scratch buffer for the strings that hold escapes;
 * every other string and every number is handed over in place.
 *
 * Promises: it accepts nothing that yajl's parser (with its defaults)
 * refuses: strings must be UTF-8 (RFC 3629, stricter than yajl), no
 * comments, one top-level value and only JSON whitespace after it, and
 * no nesting deeper than JSONSCAN_MAX_DEPTH. Escapes are decoded as yajl decodes them,
 * "\u0000" included (a NUL inside the string: mind the length). A string
 * decoded from escapes may still not be UTF-8 (a lone "\uDC00"); callers
 * writing it out use json_string_n(), which mends that. Any callback
 * returning false stops the scan, which then fails. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define JSONSCAN_MAX_DEPTH 128

struct jsonscan_events {
	bool (*null)(void *ctx);
	bool (*boolean)(void *ctx, bool v);
	bool (*number)(void *ctx, const char *text, size_t len); /* the text as it stands */
	/* raw: s is the text between the quotes as it stood, in place: no escape in it, so
	 * it is UTF-8 with no byte that needs one (json_string_plain() may copy it). */
	bool (*string)(void *ctx, const char *s, size_t len, bool raw);
	bool (*start_map)(void *ctx);
	bool (*map_key)(void *ctx, const char *s, size_t len, bool raw);
	bool (*end_map)(void *ctx);
	bool (*start_array)(void *ctx);
	bool (*end_array)(void *ctx);
};

/* 0 when text is one JSON value and every callback went on; -EINVAL when
 * it is not JSON (or a callback stopped), -E2BIG too deep, -ENOMEM. */
int jsonscan(const char *text, size_t len, const struct jsonscan_events *ev, void *ctx);

/* The text as it arrives (persistctl reads a 12 MB reply while the daemon is
 * still writing it): when the scan needs bytes past len it calls more().
 * keep says where the bytes the scan still needs begin: more() may drop up
 * to keep bytes from the front of the text (*dropped says how many; a
 * reader that does keeps a buffer the size of a token and a read, not of
 * the text). It returns true with *text and *len set to the text after what
 * it dropped (the bytes kept unchanged, though they may have moved, and at
 * least one more), or false when the text ends where it is. Events are the
 * same as jsonscan()'s over the whole text, and pointers handed to them are
 * valid only during the callback. A text cut short is -EINVAL, as it would
 * be whole. */
typedef bool (*jsonscan_more_fn)(void *more_ctx, size_t keep, const char **text, size_t *len,
				 size_t *dropped);
int jsonscan_stream(const char *text, size_t len, jsonscan_more_fn more, void *more_ctx,
		    const struct jsonscan_events *ev, void *ctx);
