/* ctl/rpc.c: blocking JSON-RPC client; see rpc.h. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/jrpc.h"
#include "common/limits.h"
#include "ctl/jsonpass.h"
#include "ctl/rpc.h"

#define RPC_CONNECT_RETRY_MS 10 /* the daemon's accept backlog is full: retry */
#define RPC_READ_BYTES (128 * 1024) /* a recv() at least: a long reply in few calls */

struct rpc_note {
	struct rpc_note *next;
	struct jrpc_message *m;        /* owned */
	size_t bytes;                  /* the line's length, for the bound */
};

struct rpc_client {
	int fd;
	uint64_t timeout_ms;           /* per call; 0: none */
	uint64_t last_id;              /* of the latest request */
	struct jrpc_reader in;         /* lines up to CTL_MAX_RESPONSE_BYTES */
	struct rpc_note *notes, *notes_tail; /* owned: queued notifications */
	size_t notes_bytes;
	bool eof;
	int broken;                    /* sticky error, 0 while usable */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 means no deadline. */
static uint64_t deadline_after(uint64_t timeout_ms)
{
	return timeout_ms ? now_ms() + timeout_ms : 0;
}

/* Milliseconds left for poll(): -1 forever, 0 when passed. */
static int remaining_ms(uint64_t deadline)
{
	if (!deadline)
		return -1;
	uint64_t now = now_ms();
	if (now >= deadline)
		return 0;
	return (int)MIN(deadline - now, (uint64_t)INT32_MAX);
}

void rpc_error_done(struct rpc_error *e)
{
	free(e->message);
	free(e->data_json);
	*e = (struct rpc_error){ 0 };
}

void rpc_close(struct rpc_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		(void)close(c->fd);
	jrpc_reader_done(&c->in);
	while (c->notes) {
		struct rpc_note *n = c->notes;
		c->notes = n->next;
		jrpc_message_free(n->m);
		free(n);
	}
	free(c);
}

void rpc_set_timeout(struct rpc_client *c, uint64_t timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

int rpc_connect(const char *path, uint64_t timeout_ms, struct rpc_client **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = deadline_after(timeout_ms);

	if (!path || !path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINTR)
			continue;
		/* A Unix socket's connect() does not go in progress: EAGAIN
		 * means the listen backlog is full. */
		if (errno != EAGAIN)
			return -errno;
		int left = remaining_ms(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		(void)poll(NULL, 0, left < 0 ? RPC_CONNECT_RETRY_MS
					     : MIN(left, RPC_CONNECT_RETRY_MS));
	}
	struct rpc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = TAKE_FD(fd);
	c->timeout_ms = timeout_ms;
	jrpc_reader_init(&c->in, CTL_MAX_RESPONSE_BYTES);
	*ret = c;
	return 0;
}

static int client_fail(struct rpc_client *c, int r)
{
	if (r != -ETIMEDOUT && r != -EINTR)
		c->broken = r;
	return r;
}

/* Waits for events on the socket; 0 on timeout. */
static int wait_fd(struct rpc_client *c, short events, uint64_t deadline, bool eintr)
{
	struct pollfd p = { .fd = c->fd, .events = events };

	for (;;) {
		int r = poll(&p, 1, remaining_ms(deadline));
		if (r >= 0)
			return r;
		if (errno != EINTR || eintr)
			return -errno;
	}
}

/* Reads until one message is complete. 1 and *ret, or -errno. */
static int read_message_pass(struct rpc_client *c, uint64_t deadline, bool eintr,
			     const char *pass_id, struct jsonpass *pass, struct jrpc_message **ret,
			     size_t *retlen);

static int read_message(struct rpc_client *c, uint64_t deadline, bool eintr,
			struct jrpc_message **ret, size_t *retlen)
{
	return read_message_pass(c, deadline, eintr, NULL, NULL, ret, retlen);
}

/* One wait for the socket and one recv() into the reader. 1: read (or the end
 * of the stream, c->eof), 0: the deadline passed, < 0: an error. */
static int receive(struct rpc_client *c, uint64_t deadline, bool eintr)
{
	char *space;
	size_t len;

	if (c->eof)
		return -ECONNRESET;
	int r = wait_fd(c, POLLIN, deadline, eintr);
	if (r <= 0)
		return r;
	r = jrpc_reader_space_min(&c->in, RPC_READ_BYTES, &space, &len);
	if (r < 0)
		return r;
	ssize_t n = recv(c->fd, space, len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 1;
		if (errno != ECONNRESET)
			return -errno;
		n = 0;
	}
	if (n == 0)
		c->eof = true;
	jrpc_reader_commit(&c->in, (size_t)n);
	return 1;
}

/* jsonpass's supply: the next line as it arrives, ending at its '\n'. */
struct pass_feed {
	struct rpc_client *c;
	uint64_t deadline;
	bool eintr;
	int error; /* why it stopped before the line's end: 0, -ETIMEDOUT, ... */
};

static bool pass_feed_more(void *ctx, size_t keep, const char **text, size_t *len,
			   size_t *dropped)
{
	struct pass_feed *f = ctx;

	/* What the scan is done with goes, so that a 12 MB reply passes through
	 * a buffer the size of a read, which stays in the cache. */
	keep = MIN(keep, *len);
	jrpc_reader_drop(&f->c->in, keep);
	*dropped = keep;
	size_t had = *len - keep;
	for (;;) {
		const char *t;
		size_t n;
		bool complete;
		int r = jrpc_reader_peek(&f->c->in, &t, &n, &complete);
		if (r < 0) {
			f->error = r;
			return false;
		}
		*text = t;
		if (n > had) {
			*len = n;
			return true;
		}
		if (complete)
			return false;
		r = receive(f->c, f->deadline, f->eintr);
		if (r <= 0) {
			f->error = r < 0 ? r : -ETIMEDOUT;
			return false;
		}
	}
}

/* As read_message(); with pass, the next line is first offered to
 * jsonpass_result_stream() as it arrives: 2 when it took the line as a plain
 * result for pass_id (*ret untouched). A line it declines (a notification, an
 * error) is then read whole and parsed as usual. */
static int read_message_pass(struct rpc_client *c, uint64_t deadline, bool eintr,
			     const char *pass_id, struct jsonpass *pass, struct jrpc_message **ret,
			     size_t *retlen)
{
	const char *line;
	size_t len;
	bool offered = false; /* this line, to jsonpass */
	int r;

	for (;;) {
		if (pass && !offered) {
			struct pass_feed f = { .c = c, .deadline = deadline, .eintr = eintr };
			offered = true;
			r = jsonpass_result_stream("", 0, pass_feed_more, &f, pass_id, pass);
			/* The line did not come whole: what jsonpass made of it does not count. */
			if (f.error == -ETIMEDOUT)
				return -ETIMEDOUT;
			if (f.error < 0)
				return client_fail(c, f.error);
			if (r < 0)
				return client_fail(c, r);
			if (r > 0) {
				r = jrpc_reader_line(&c->in, &line, &len); /* the line it took */
				return r == 1 ? 2 : client_fail(c, r < 0 ? r : -EPROTO);
			}
		}
		r = jrpc_reader_line(&c->in, &line, &len);
		if (r < 0)
			return client_fail(c, r);
		if (r > 0) {
			offered = false;
			if (jrpc_line_is_blank(line, len))
				continue;
			r = jrpc_parse_message(line, len, CTL_MAX_RESPONSE_BYTES, ret);
			if (r < 0)
				return client_fail(c, r == -ENOMEM ? r : -EPROTO);
			*retlen = len;
			return 1;
		}
		r = receive(c, deadline, eintr);
		if (r < 0)
			return client_fail(c, r);
		if (r == 0)
			return -ETIMEDOUT;
	}
}

/* Sends the whole line. A daemon that closed on us may have said why
 * before (JRPC_BUSY): -EPIPE lets the caller read that. */
static int send_all(struct rpc_client *c, const char *data, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n >= 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return -EPIPE;
		if (errno != EAGAIN)
			return client_fail(c, -errno);
		int r = wait_fd(c, POLLOUT, deadline, false);
		if (r < 0)
			return client_fail(c, r);
		if (r == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int queue_note(struct rpc_client *c, struct jrpc_message *m, size_t bytes)
{
	if (c->notes_bytes + bytes > CTL_MAX_RESPONSE_BYTES) {
		jrpc_message_free(m);
		return client_fail(c, -E2BIG);
	}
	struct rpc_note *n = calloc(1, sizeof(*n));
	if (!n) {
		jrpc_message_free(m);
		return client_fail(c, -ENOMEM);
	}
	n->m = m;
	n->bytes = bytes;
	if (c->notes_tail)
		c->notes_tail->next = n;
	else
		c->notes = n;
	c->notes_tail = n;
	c->notes_bytes += bytes;
	return 0;
}

/* A reply to a request sent earlier, whose call gave up waiting. */
static bool is_stale_reply(const struct rpc_client *c, const char *id_json)
{
	char *end;

	errno = 0;
	unsigned long long id = strtoull(id_json, &end, 10);
	return errno == 0 && *end == '\0' && end != id_json && id_json[0] != '-' &&
	       id > 0 && id < c->last_id;
}

int rpc_call(struct rpc_client *c, const char *method, const char *params_json,
	     yajl_val *ret_result, struct rpc_error *ret_err)
{
	return rpc_call_pass(c, method, params_json, NULL, ret_result, ret_err);
}

int rpc_call_pass(struct rpc_client *c, const char *method, const char *params_json,
		  struct jsonpass *ret_pass, yajl_val *ret_result, struct rpc_error *ret_err)
{
	uint64_t deadline = deadline_after(c->timeout_ms);
	_cleanup_free_ char *line = NULL;
	char id[32];
	size_t len;
	int r;

	if (c->broken)
		return c->broken;
	snprintf(id, sizeof(id), "%" PRIu64, ++c->last_id);
	r = jrpc_call(id, method, params_json, params_json ? strlen(params_json) : 0, &line, &len);
	if (r < 0)
		return r;
	r = send_all(c, line, len, deadline);
	if (r < 0 && r != -EPIPE)
		return r;
	bool sent = r == 0;

	for (;;) {
		_cleanup_(jrpc_message_freep) struct jrpc_message *m = NULL;

		r = read_message_pass(c, deadline, false, id, ret_pass, &m, &len);
		if (r < 0)
			return sent || r == -ETIMEDOUT ? r : client_fail(c, -ECONNRESET);
		if (r == 2)
			return 0;
		if (m->kind == JRPC_MESSAGE_NOTIFICATION) {
			r = queue_note(c, TAKE_PTR(m), len);
			if (r < 0)
				return r;
			continue;
		}
		if (is_stale_reply(c, m->id_json))
			continue;
		bool null_error = m->kind == JRPC_MESSAGE_ERROR && streq(m->id_json, "null");
		if (!streq(m->id_json, id) && !null_error)
			return client_fail(c, -EPROTO);
		if (m->kind == JRPC_MESSAGE_RESULT) {
			if (ret_result)
				*ret_result = TAKE_PTR(m->result);
			return 0;
		}
		if (ret_err)
			*ret_err = (struct rpc_error){
				.code = m->error_code,
				.message = TAKE_PTR(m->error_message),
				.data_json = TAKE_PTR(m->error_data_json),
				.refused = null_error,
			};
		return 1;
	}
}

int rpc_next_notification(struct rpc_client *c, int timeout_ms, char **ret_method,
			  yajl_val *ret_params)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	struct jrpc_message *m = NULL;
	size_t len;
	int r;

	if (c->notes) {
		struct rpc_note *n = c->notes;
		c->notes = n->next;
		if (!c->notes)
			c->notes_tail = NULL;
		c->notes_bytes -= n->bytes;
		m = n->m;
		free(n);
	} else if (c->broken) {
		return c->broken;
	}
	while (!m) {
		r = read_message(c, deadline, true, &m, &len);
		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return r;
		if (m->kind == JRPC_MESSAGE_NOTIFICATION)
			break;
		bool stale = is_stale_reply(c, m->id_json);
		jrpc_message_free(TAKE_PTR(m));
		if (!stale)
			return client_fail(c, -EPROTO);
	}
	*ret_method = TAKE_PTR(m->method);
	*ret_params = TAKE_PTR(m->params);
	jrpc_message_free(m);
	return 1;
}
