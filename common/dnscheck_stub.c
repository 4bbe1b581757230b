/* common/dnscheck_stub.c: see dnscheck_stub.h. */
#include "common/dnscheck_stub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include "common/dnswire.h"

/* One UDP socket connected to one server. It serves one query at a time;
 * on loopback it then waits in its server's pool for the next one. */
struct dc_sock {
	uv_udp_t udp;                 /* udp.data == this */
	struct dnscheck *dc;          /* borrowed: it closes every socket before it goes */
	struct list_link link;        /* on ctx->idle_socks while idle */
	struct dc_stub *cur;          /* the query it waits for; NULL: none */
};

struct dc_stub {
	struct dnscheck *dc;          /* borrowed; NULL once cancelled or done */
	struct dc_ctx *ctx;           /* borrowed, likewise */
	dc_stub_done_fn done;
	void *arg;
	struct sockaddr_storage server;
	struct dc_sock *sock;         /* the UDP socket while it is ours */
	uv_tcp_t tcp;                 /* tcp.data == this */
	uv_connect_t connect;
	uv_write_t write;
	uv_udp_send_t send;
	bool sending;                 /* send in flight: the socket waits for it */
	bool tcp_open;
	uint8_t *tcp_buf;             /* owned: the 2-byte length, then the reply */
	size_t tcp_have;
	uint16_t id;
	size_t query_len;
	uint8_t query[2 + DNSWIRE_MAX_QUERY]; /* the TCP length prefix, then the query */
};

/* A random query id: from a pool of getrandom() bytes, refilled as used. */
static uint16_t stub_random_id(struct dnscheck *dc)
{
	if (dc->stub_rand_left < 2) {
		/* Never blocks after boot, and the daemon starts after it. */
		if (getrandom(dc->stub_rand, sizeof(dc->stub_rand), 0) !=
		    (ssize_t)sizeof(dc->stub_rand))
			/* No entropy call: still unpredictable enough to be
			 * distinct, and the port carries the rest. */
			for (size_t i = 0; i < sizeof(dc->stub_rand); i++)
				dc->stub_rand[i] ^= (uint8_t)(uv_hrtime() >> (i % 8));
		dc->stub_rand_left = sizeof(dc->stub_rand);
	}
	dc->stub_rand_left -= 2;
	return (uint16_t)(dc->stub_rand[dc->stub_rand_left] << 8 |
			  dc->stub_rand[dc->stub_rand_left + 1]);
}

static void stub_maybe_free(struct dc_stub *s)
{
	if (!s->dc && !s->sock && !s->tcp_open && !s->sending) {
		free(s->tcp_buf);
		free(s);
	}
}

static void on_sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static void sock_close(struct dc_sock *k)
{
	list_del(&k->link);
	k->cur = NULL;
	uv_close((uv_handle_t *)&k->udp, on_sock_closed);
}

/* The socket is done with s: back to the pool when it may be reused. */
static void stub_release_sock(struct dc_stub *s, bool healthy)
{
	struct dc_sock *k = s->sock;

	if (!k)
		return;
	s->sock = NULL;
	k->cur = NULL;
	if (s->sending)
		/* libuv still holds the send request; a closed handle
		 * cancels it (on_udp_sent then sees ECANCELED). */
		healthy = false;
	/* A server on this host: nobody off it can send as it (the kernel
	 * drops loopback sources arriving from outside), so its socket may
	 * serve query after query. Elsewhere each query gets a fresh port. */
	if (healthy && s->dc && s->ctx && !s->dc->freeing && s->ctx->loopback) {
		/* Idle, it must not keep the caller's loop running. */
		uv_unref((uv_handle_t *)&k->udp);
		list_add_tail(&s->ctx->idle_socks, &k->link);
	} else
		sock_close(k);
}

void dnscheck_stub_pool_close(struct dc_ctx *ctx)
{
	struct list_link *n;

	while ((n = list_pop(&ctx->idle_socks)))
		sock_close(container_of(n, struct dc_sock, link));
}

static void on_tcp_closed(uv_handle_t *h)
{
	struct dc_stub *s = h->data;

	s->tcp_open = false;
	stub_maybe_free(s);
}

/* Lets go of everything: the socket to its pool (healthy) or closed, the
 * TCP connection closed; s frees itself once nothing refers to it. */
static void stub_detach(struct dc_stub *s, bool healthy)
{
	/* No callback of a request still in flight (a queued send, a TCP
	 * connect or write, cancelled by the closes below) may end it again. */
	s->done = NULL;
	stub_release_sock(s, healthy);
	s->dc = NULL;
	s->ctx = NULL;
	if (s->tcp_open && !uv_is_closing((uv_handle_t *)&s->tcp))
		uv_close((uv_handle_t *)&s->tcp, on_tcp_closed);
	stub_maybe_free(s);
}

/* Ends the wait: done runs once. The UDP socket is back in its pool
 * first, for the query that done may send next (a UDP reply is in the
 * checker's buffer, not the socket's); the rest of s goes after done,
 * which reads a TCP reply from s's own buffer. */
static void stub_finish(struct dc_stub *s, const uint8_t *wire, size_t len, enum dnscheck_error e)
{
	dc_stub_done_fn done = s->done;
	void *arg = s->arg;

	s->done = NULL;
	stub_release_sock(s, e == DNSCHECK_OK);
	done(arg, wire, len, e);
	stub_detach(s, e == DNSCHECK_OK);
}

void dnscheck_stub_cancel(struct dc_stub *s)
{
	/* A late reply on a pooled socket has this query's id, which the
	 * next query does not: it is dropped there. */
	stub_detach(s, true);
}

/* ---- TCP, after a truncated UDP answer ---- */

static void on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dc_stub *s = h->data;
	size_t cap = 2 + DNSWIRE_MAX_MESSAGE;

	(void)hint;
	*buf = uv_buf_init(NULL, 0);
	if (!s->tcp_buf) {
		s->tcp_buf = malloc(cap);
		if (!s->tcp_buf)
			return; /* libuv reports UV_ENOBUFS to on_tcp_read */
	}
	*buf = uv_buf_init((char *)s->tcp_buf + s->tcp_have, (unsigned)(cap - s->tcp_have));
}

static void on_tcp_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct dc_stub *s = st->data;

	(void)buf;
	if (!s->done)
		return;
	if (nread < 0) {
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
		return;
	}
	s->tcp_have += (size_t)nread;
	if (s->tcp_have < 2)
		return;
	size_t want = (size_t)s->tcp_buf[0] << 8 | s->tcp_buf[1];
	if (s->tcp_have < 2 + want)
		return;
	/* Another id on our own connection is not a reply to this query. */
	struct dnswire_msg m;
	if (dnswire_parse(s->tcp_buf + 2, want, &m) == 0 && (m.id != s->id || !m.qr)) {
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
		return;
	}
	stub_finish(s, s->tcp_buf + 2, want, DNSCHECK_OK);
}

static void on_tcp_written(uv_write_t *w, int status)
{
	struct dc_stub *s = w->data;

	if (status < 0 && s->done)
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
}

static void on_tcp_connected(uv_connect_t *c, int status)
{
	struct dc_stub *s = c->data;

	if (!s->done)
		return;
	if (status < 0) {
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)s->query, (unsigned)(2 + s->query_len));
	s->write.data = s;
	if (uv_write(&s->write, (uv_stream_t *)&s->tcp, &b, 1, on_tcp_written) < 0 ||
	    uv_read_start((uv_stream_t *)&s->tcp, on_tcp_alloc, on_tcp_read) < 0)
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
}

static void stub_start_tcp(struct dc_stub *s)
{
	if (uv_tcp_init(s->dc->loop, &s->tcp) < 0) {
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
		return;
	}
	s->tcp.data = s;
	s->tcp_open = true;
	s->connect.data = s;
	if (uv_tcp_connect(&s->connect, &s->tcp, (const struct sockaddr *)&s->server,
			   on_tcp_connected) < 0)
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
}

/* ---- UDP ---- */

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dc_sock *k = h->data;
	struct dnscheck *dc = k->dc;

	(void)hint;
	/* Always a buffer, also while idle: a datagram left unread would
	 * wake the loop again and again. */
	*buf = uv_buf_init(NULL, 0);
	if (!dc->stub_buf) {
		dc->stub_buf = malloc(DNSWIRE_MAX_MESSAGE);
		if (!dc->stub_buf)
			return;
	}
	*buf = uv_buf_init((char *)dc->stub_buf, DNSWIRE_MAX_MESSAGE);
}

static void on_udp_read(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *addr, unsigned flags)
{
	struct dc_sock *k = u->data;
	struct dc_stub *s = k->cur;
	struct dnswire_msg m;

	if (!s || !s->done || (nread == 0 && !addr))
		return; /* nothing for a query now */
	if (nread < 0) {
		/* ECONNREFUSED: the port is closed (ICMP, on a connected socket). */
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
		return;
	}
	const uint8_t *p = (const uint8_t *)buf->base;
	/* Only a datagram with our id counts: anything else (noise, a late
	 * reply to the socket's previous query) is dropped. One with our id
	 * comes from the server (the socket is connected): what it is, even
	 * unreadable, is the lookup's to judge. */
	if (nread < 2 || (uint16_t)(p[0] << 8 | p[1]) != s->id)
		return;
	(void)flags; /* a datagram over 64 KiB cannot be: the buffer holds any */
	if (dnswire_parse(p, (size_t)nread, &m) == 0 && m.qr && m.tc) {
		stub_release_sock(s, true);
		stub_start_tcp(s);
		return;
	}
	stub_finish(s, p, (size_t)nread, DNSCHECK_OK);
}

static void on_udp_sent(uv_udp_send_t *req, int status)
{
	struct dc_stub *s = req->data;

	s->sending = false;
	if (status < 0 && s->done)
		stub_finish(s, NULL, 0, DNSCHECK_ERR_NETWORK);
	else
		stub_maybe_free(s);
}

/* A socket connected to the server: an idle one of its pool, or new. */
static int stub_sock(struct dc_stub *s, const struct dnscheck_addr *server)
{
	struct list_link *n = list_pop(&s->ctx->idle_socks);
	int r;

	if (n) {
		s->sock = container_of(n, struct dc_sock, link);
		s->sock->cur = s;
		uv_ref((uv_handle_t *)&s->sock->udp);
		return 0;
	}
	struct dc_sock *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	/* The socket now (no bind(): connect() picks a random port). */
	r = uv_udp_init_ex(s->dc->loop, &k->udp, (unsigned)server->family);
	if (r < 0) {
		free(k);
		return r;
	}
	k->udp.data = k;
	k->dc = s->dc;
	list_init(&k->link);
	r = uv_udp_connect(&k->udp, (const struct sockaddr *)&s->server);
	if (r == 0)
		r = uv_udp_recv_start(&k->udp, on_udp_alloc, on_udp_read);
	if (r < 0) {
		sock_close(k);
		return r;
	}
	k->cur = s;
	s->sock = k;
	return 0;
}

int dnscheck_stub_send(struct dnscheck *dc, struct dc_ctx *ctx, const char *name,
		       uint16_t qtype, bool dnssec_ok, dc_stub_done_fn done, void *arg,
		       struct dc_stub **ret)
{
	const struct dnscheck_addr *server = &ctx->addr;
	struct dc_stub *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->dc = dc;
	s->ctx = ctx;
	s->done = done;
	s->arg = arg;
	s->id = stub_random_id(dc);
	r = dnswire_query(s->query + 2, sizeof(s->query) - 2, s->id, name, qtype, true,
			  DNSWIRE_UDP_PAYLOAD, dnssec_ok);
	if (r < 0) {
		free(s);
		return r;
	}
	s->query_len = (size_t)r;
	s->query[0] = (uint8_t)(s->query_len >> 8);
	s->query[1] = (uint8_t)s->query_len;
	if (server->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&s->server;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(server->port);
		memcpy(&sin->sin_addr, server->addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->server;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(server->port);
		memcpy(&sin6->sin6_addr, server->addr, 16);
	}

	r = stub_sock(s, server);
	if (r == 0) {
		uv_buf_t b = uv_buf_init((char *)s->query + 2, (unsigned)s->query_len);
		r = uv_udp_try_send(&s->sock->udp, &b, 1, NULL);
		if (r == UV_EAGAIN) {
			s->send.data = s;
			r = uv_udp_send(&s->send, &s->sock->udp, &b, 1, NULL, on_udp_sent);
			s->sending = r == 0;
		} else if (r > 0)
			r = 0; /* the bytes sent */
	}
	if (r < 0) {
		/* Nothing was delivered: the caller hears r, not done. */
		s->done = NULL;
		stub_detach(s, false);
		return r;
	}
	*ret = s;
	return 0;
}
