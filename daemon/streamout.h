/* daemon/streamout.h: a long reply line sent while it is still being made.
 *
 * The status of 10k certs is a 12.5 MB line that the loop makes in one go
 * (about 57 ms here); sent only once it was whole, persistctl could start
 * on it only then. As a json_writer spill sink (common/json.h), streamout
 * hands each piece to the socket at once with uv_try_write(), so that the
 * client reads and prints while the rest is made; what the socket does not
 * take now is carried, in order, and goes out with the end of the line
 * through the connection's ordinary write queue.
 *
 * Owns the carried bytes. Promises, provided nothing else is written to the
 * stream between streamout_init() and streamout_finish() (the control
 * socket makes a result in one callback): bytes reach the socket in the order
 * they were given; nothing is written directly unless the stream's write
 * queue was empty at streamout_init() (else everything is carried, and the
 * line goes out whole after what was queued before it); once `sent` is
 * true part of the line is out, so the caller can no longer answer with an
 * error line instead and must close the connection on failure. A write
 * error stops direct writing; the bytes are carried and the queue's
 * uv_write() then reports it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#define STREAMOUT_PIECE_BYTES (256 * 1024) /* spilled from the writer at a time */

struct streamout {
	uv_stream_t *stream; /* borrowed; NULL: carry everything */
	char *carry;         /* owned: [head, len) is still to go */
	size_t head, len, cap;
	bool sent;           /* some of the line went out directly */
};

void streamout_init(struct streamout *s, uv_stream_t *stream);
/* A json_sink_fn: userdata is the struct streamout. -ENOMEM. */
int streamout_sink(void *userdata, const char *p, size_t n);
/* The carried bytes followed by tail[0..tail_len) (consumed: freed or reused) as one
 * buffer in *ret (the caller frees it). -ENOMEM (tail is freed). */
int streamout_finish(struct streamout *s, char *tail, size_t tail_len, char **ret,
		     size_t *ret_len);
void streamout_done(struct streamout *s);
