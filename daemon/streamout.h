/* daemon/streamout.h: the bytes of a long reply line, sent while it is made.
 *
 * The status of 10k certs is a 12.5 MB line. The control socket makes it a
 * part at a time (control_call_reply_parts()): each part goes to the socket
 * at once with uv_try_write(), and what the socket does not take is carried
 * and handed back, to go out through the connection's write queue before
 * the next part is made. So a client that reads slower than the daemon
 * writes holds back the making, not megabytes of the daemon's memory.
 *
 * Owns the carried bytes. Promises, provided nothing else is written to the
 * stream while a line is under way (the control socket holds back other
 * output on the connection): bytes reach the socket in the order they were
 * given; in a turn, nothing is written directly unless the stream's write
 * queue was empty when it began (else everything is carried, to go out after
 * what was queued before), at most the turn's direct_max bytes are, and
 * nothing once something was carried (it all follows the carry); once
 * `sent` is true part of the line is out, so the caller can no longer answer
 * with an error line instead and must close the connection on failure. A
 * write error stops direct writing; the bytes are carried and the queue's
 * uv_write() then reports it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

struct streamout {
	uv_stream_t *stream; /* borrowed; NULL: carry everything */
	char *carry;         /* owned: [0, len) is still to go */
	size_t len, cap;
	size_t direct_left;  /* may still be written directly in this turn */
	bool sent;           /* some of the line went out directly */
};

void streamout_init(struct streamout *s);
/* Starts a turn: write directly to stream (NULL: carry everything) at most
 * direct_max bytes from now on. Nothing may be carried at this point. */
void streamout_turn(struct streamout *s, uv_stream_t *stream, size_t direct_max);
/* A json_sink_fn: userdata is the struct streamout. -ENOMEM. */
int streamout_sink(void *userdata, const char *p, size_t n);
/* True when bytes wait to be handed over by streamout_finish(). */
bool streamout_carrying(const struct streamout *s);
/* The carried bytes followed by tail[0..tail_len) (consumed: freed or reused;
 * NULL for none) as one buffer in *ret (the caller frees it; NULL when there
 * are no bytes), and nothing is carried any more. -ENOMEM (tail is freed). */
int streamout_finish(struct streamout *s, char *tail, size_t tail_len, char **ret,
		     size_t *ret_len);
void streamout_done(struct streamout *s);
