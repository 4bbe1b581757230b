/* daemon/streamout.c: see streamout.h. */
#include "daemon/streamout.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

void streamout_init(struct streamout *s)
{
	*s = (struct streamout){ 0 };
}

void streamout_turn(struct streamout *s, uv_stream_t *stream, size_t direct_max)
{
	assert(s->len == 0);
	s->stream = stream && uv_stream_get_write_queue_size(stream) == 0 ? stream : NULL;
	s->direct_left = direct_max;
}

bool streamout_carrying(const struct streamout *s)
{
	return s->len > 0;
}

/* Writes what the socket takes now; returns how much that was. */
static size_t write_now(struct streamout *s, const char *p, size_t n)
{
	n = MIN(n, s->direct_left);
	if (!s->stream || n == 0)
		return 0;
	uv_buf_t buf = uv_buf_init((char *)p, (unsigned)MIN(n, (size_t)UINT_MAX));
	int r = uv_try_write(s->stream, &buf, 1);
	if (r == UV_EAGAIN)
		return 0;
	if (r < 0) {
		s->stream = NULL;
		return 0;
	}
	s->sent = true;
	s->direct_left -= (size_t)r;
	return (size_t)r;
}

static int carry(struct streamout *s, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > s->cap - s->len) {
		size_t cap = MAX(s->cap * 2, s->len + n);
		char *b = realloc(s->carry, cap);
		if (!b)
			return -ENOMEM;
		s->carry = b;
		s->cap = cap;
	}
	memcpy(s->carry + s->len, p, n);
	s->len += n;
	return 0;
}

int streamout_sink(void *userdata, const char *p, size_t n)
{
	struct streamout *s = userdata;

	/* Once something is carried, the rest follows it: the turn is over for
	 * the socket (the control socket makes no more parts in it). */
	if (s->len > 0)
		return carry(s, p, n);
	size_t w = write_now(s, p, n);
	return carry(s, p + w, n - w);
}

int streamout_finish(struct streamout *s, char *tail, size_t tail_len, char **ret,
		     size_t *ret_len)
{
	if (s->len == 0) {
		*ret = tail;
		*ret_len = tail ? tail_len : 0;
		return 0;
	}
	int r = carry(s, tail, tail_len);
	free(tail);
	if (r < 0)
		return r;
	*ret = s->carry;
	*ret_len = s->len;
	*s = (struct streamout){ .sent = s->sent };
	return 0;
}

void streamout_done(struct streamout *s)
{
	free(s->carry);
	*s = (struct streamout){ 0 };
}
