/* Unit tests for daemon/streamout: a long line sent while it is made, over a
 * real socket pair on a uv loop. The reader end must get the whole line,
 * byte for byte and in order, whether the socket takes everything at once,
 * only part of it (the rest carried), or nothing (a write queued before). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/json.h"
#include "daemon/streamout.h"

struct pair {
	uv_loop_t loop;
	uv_pipe_t pipe; /* fds[0], the daemon's end */
	int fds[2];     /* fds[1]: the client's end, read directly */
};

static void pair_open(struct pair *p)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fds), 0);
	assert_int_equal(uv_loop_init(&p->loop), 0);
	assert_int_equal(uv_pipe_init(&p->loop, &p->pipe, 0), 0);
	assert_int_equal(uv_pipe_open(&p->pipe, p->fds[0]), 0);
}

static void pair_close(struct pair *p)
{
	uv_close((uv_handle_t *)&p->pipe, NULL);
	assert_int_equal(uv_run(&p->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&p->loop), 0);
	close(p->fds[1]);
}

/* Everything readable now on the client's end, appended to *buf. */
static void drain(struct pair *p, char **buf, size_t *len)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(p->fds[1], chunk, sizeof(chunk))) > 0) {
		*buf = realloc(*buf, *len + (size_t)n + 1);
		assert_non_null(*buf);
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
	assert_true(n < 0 && errno == EAGAIN);
}

static void on_write(uv_write_t *req, int status)
{
	assert_int_equal(status, 0);
	free(req->data);
	free(req);
}

static void queue_write(struct pair *p, char *data, size_t len)
{
	uv_write_t *req = malloc(sizeof(*req));
	assert_non_null(req);
	req->data = data;
	uv_buf_t b = uv_buf_init(data, (unsigned)len);
	assert_int_equal(uv_write(req, (uv_stream_t *)&p->pipe, &b, 1, on_write), 0);
}

/* A document of n objects flushed to streamout every 4 KiB, as the control socket
 * writes a status: returns how much of it the client got before the end, and checks that
 * the client gets the whole line, once the loop has written what was queued. */
static size_t send_document(struct pair *p, int n, const char *queued_before, bool read_while,
			    size_t direct_max)
{
	struct json_writer *w = json_writer_new(false), *whole = json_writer_new(false);
	struct streamout out;
	char *got = NULL, *line, *all;
	size_t got_len = 0, early, line_len, all_len;
	const char *want;
	size_t want_len;

	assert_non_null(w);
	assert_non_null(whole);
	if (queued_before)
		queue_write(p, strdup(queued_before), strlen(queued_before));
	streamout_init(&out);
	streamout_turn(&out, (uv_stream_t *)&p->pipe, direct_max);
	for (struct json_writer *x = w;; x = whole) {
		json_begin_array(x);
		for (int i = 0; i < n; i++) {
			json_begin_object(x);
			json_kv_int(x, "n", i);
			json_kv_string(x, "name", "some name of a cert");
			json_end_object(x);
			if (x == w && json_writer_pending(w) >= 4096)
				assert_int_equal(json_writer_flush(w, streamout_sink, &out), 0);
			if (x == w && read_while && i % 50 == 0)
				drain(p, &got, &got_len);
		}
		json_end_array(x);
		if (x == whole)
			break;
	}
	early = got_len;
	assert_int_equal(json_writer_take(w, &line, &line_len), 0);
	assert_int_equal(streamout_finish(&out, line, line_len, &all, &all_len), 0);
	if (all_len)
		queue_write(p, all, all_len);
	else
		free(all);
	while (uv_run(&p->loop, UV_RUN_NOWAIT))
		drain(p, &got, &got_len);
	drain(p, &got, &got_len);
	assert_int_equal(json_writer_finish(whole, &want, &want_len), 0);
	size_t skip = queued_before ? strlen(queued_before) : 0;
	assert_int_equal(got_len, skip + want_len);
	if (queued_before)
		assert_memory_equal(got, queued_before, skip);
	assert_memory_equal(got + skip, want, want_len);
	free(got);
	json_writer_free(w);
	json_writer_free(whole);
	streamout_done(&out);
	return early > skip ? early - skip : 0; /* of the document */
}

static void test_read_while_made(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	/* 5,000 objects (about 200 KB) read as they are made: most is out before the end. */
	size_t early = send_document(&p, 5000, NULL, true, SIZE_MAX);
	assert_true(early > 100000);
	pair_close(&p);
}

static void test_nobody_reading(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	/* 100,000 objects (4 MB) with nobody reading: the socket fills, the rest is
	 * carried and goes out in order through the queue. */
	assert_int_equal(send_document(&p, 100000, NULL, false, SIZE_MAX), 0);
	pair_close(&p);
}

static void test_queued_before(void **state)
{
	struct pair p;
	char big[300000];

	(void)state;
	pair_open(&p);
	/* A write still queued: nothing may pass it, so everything is carried. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(send_document(&p, 5000, big, true, SIZE_MAX), 0);
	pair_close(&p);
}

static void test_direct_max(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	/* A turn's budget: no more than it goes out directly, though the
	 * client reads everything; the rest is carried, in order. */
	size_t early = send_document(&p, 5000, NULL, true, 10000);
	assert_true(early > 0);
	assert_true(early <= 10000);
	pair_close(&p);
}

static void test_turns(void **state)
{
	struct pair p;
	struct streamout out;
	char *all, *got = NULL;
	size_t all_len, got_len = 0;

	(void)state;
	pair_open(&p);
	/* Turn after turn, as the control socket sends a result in parts: the
	 * carry of each turn is handed over, and the next turn starts clean. */
	streamout_init(&out);
	for (int turn = 0; turn < 3; turn++) {
		char piece[3000];
		memset(piece, 'a' + turn, sizeof(piece));
		streamout_turn(&out, (uv_stream_t *)&p.pipe, 1000);
		assert_int_equal(streamout_sink(&out, piece, sizeof(piece)), 0);
		assert_true(streamout_carrying(&out));
		assert_int_equal(streamout_finish(&out, NULL, 0, &all, &all_len), 0);
		assert_int_equal(all_len, 2000);
		assert_false(streamout_carrying(&out));
		queue_write(&p, all, all_len);
		while (uv_run(&p.loop, UV_RUN_NOWAIT))
			drain(&p, &got, &got_len);
		drain(&p, &got, &got_len);
	}
	assert_true(out.sent);
	assert_int_equal(got_len, 9000);
	for (size_t i = 0; i < got_len; i++)
		assert_int_equal(got[i], 'a' + (int)(i / 3000));
	/* Nothing carried: the tail alone, or nothing at all. */
	streamout_turn(&out, (uv_stream_t *)&p.pipe, 0);
	assert_int_equal(streamout_finish(&out, NULL, 0, &all, &all_len), 0);
	assert_null(all);
	assert_int_equal(all_len, 0);
	free(got);
	streamout_done(&out);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_while_made),
		cmocka_unit_test(test_nobody_reading),
		cmocka_unit_test(test_queued_before),
		cmocka_unit_test(test_direct_max),
		cmocka_unit_test(test_turns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
