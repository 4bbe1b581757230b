/* daemon/served.c: see served.h. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>

#include "common/limits.h"
#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/log.h"
#include "daemon/served.h"

#define SERVED_IN_BYTES (16 * 1024) /* mbedTLS takes what arrives at each read */

struct served_probe {
	uv_loop_t *loop;                  /* borrowed */
	served_done_fn cb;                /* NULL once answered or cancelled */
	void *userdata;                   /* borrowed */
	char *host;                       /* owned */
	char *sni;                        /* owned */
	uint16_t port;
	uint64_t timeout_ms;
	uv_getaddrinfo_t gai;             /* gai.data == this probe */
	bool gai_pending;                 /* its callback will still come */
	uv_timer_t timer;                 /* timer.data == this probe */
	uv_tcp_t tcp;                     /* tcp.data == this probe */
	bool tcp_open;                    /* tcp was initialised: close it */
	uv_connect_t connect;
	unsigned open_handles;            /* handles not yet closed */
	bool ending;                      /* teardown started */
	bool peer_eof;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	uint8_t in[SERVED_IN_BYTES];      /* bytes read, not yet handed to mbedTLS */
	size_t in_off, in_len;
	size_t in_total;                  /* bounded by SERVED_MAX_BYTES */
	char addr[64];                    /* the address connected to, for messages */
};

struct served_write {
	uv_write_t req;
	uint8_t data[];
};

static void probe_free(struct served_probe *p)
{
	mbedtls_ssl_free(&p->ssl);
	mbedtls_ssl_config_free(&p->conf);
	mbedtls_ctr_drbg_free(&p->drbg);
	mbedtls_entropy_free(&p->entropy);
	free(p->host);
	free(p->sni);
	free(p);
}

static void maybe_free(struct served_probe *p)
{
	if (p->ending && p->open_handles == 0 && !p->gai_pending)
		probe_free(p);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct served_probe *p = h->data;

	p->open_handles--;
	maybe_free(p);
}

/* The one teardown: every path ends here, once. */
static void probe_end(struct served_probe *p)
{
	if (p->ending)
		return;
	p->ending = true;
	p->cb = NULL;
	if (p->gai_pending)
		(void)uv_cancel((uv_req_t *)&p->gai);
	uv_close((uv_handle_t *)&p->timer, on_handle_closed);
	if (p->tcp_open)
		uv_close((uv_handle_t *)&p->tcp, on_handle_closed);
	maybe_free(p);
}

static void finish(struct served_probe *p, int r, const uint8_t *der, size_t len,
		   const char *error)
{
	served_done_fn cb = p->cb;

	p->cb = NULL;
	if (cb)
		cb(r, der, len, error, p->userdata);
	probe_end(p);
}

_printf_(3, 4) static void fail(struct served_probe *p, int r, const char *fmt, ...)
{
	char error[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, sizeof(error), fmt, ap);
	va_end(ap);
	finish(p, r, NULL, 0, error);
}

static void on_timeout(uv_timer_t *t)
{
	struct served_probe *p = t->data;

	fail(p, -ETIMEDOUT, "%s:%u: no TLS handshake within %llus", p->host, p->port,
	     (unsigned long long)(p->timeout_ms / 1000));
}

static void on_written(uv_write_t *req, int status)
{
	(void)status; /* a failed write shows as a failed read or the timeout */
	free(req);
}

/* mbedTLS's send: handed to uv_write as a copy, so it never blocks. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct served_probe *p = ctx;

	if (p->ending)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	struct served_write *w = malloc(sizeof(*w) + len);
	if (!w)
		return MBEDTLS_ERR_SSL_ALLOC_FAILED;
	memcpy(w->data, buf, len);
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, on_written) < 0) {
		free(w);
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	}
	return (int)len;
}

/* mbedTLS's receive: what uv_read brought, or "wait". */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct served_probe *p = ctx;
	size_t avail = p->in_len - p->in_off;

	if (avail == 0)
		return p->peer_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = MIN(avail, len);
	memcpy(buf, p->in + p->in_off, n);
	p->in_off += n;
	return (int)n;
}

static void step(struct served_probe *p)
{
	int r = mbedtls_ssl_handshake(&p->ssl);

	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return;
	if (r == 0) {
		const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&p->ssl);
		if (!peer || !peer->raw.p || peer->raw.len == 0) {
			fail(p, -EPROTO, "%s:%u: the server sent no certificate", p->host, p->port);
			return;
		}
		finish(p, 0, peer->raw.p, peer->raw.len, NULL);
		return;
	}
	char text[160];
	mbedtls_strerror(r, text, sizeof(text));
	log_debug("check_served %s:%u: mbedTLS says -0x%04x %s", p->host, p->port, (unsigned)-r,
		  text);
	if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
		fail(p, -ENOMEM, "%s:%u: out of memory during the handshake", p->host, p->port);
		return;
	}
	if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
	    p->ssl.in_msg && p->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION) {
		fail(p, -EPROTO, "%s:%u: the server refused TLS 1.2 (persistd's mbedTLS 2.28 does "
				 "not speak TLS 1.3)", p->host, p->port);
		return;
	}
	fail(p, -EPROTO, "%s:%u (%s): the TLS handshake failed: %s", p->host, p->port, p->addr,
	     p->peer_eof ? "the server closed the connection" : text);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct served_probe *p = h->data;

	(void)suggested;
	if (p->in_off > 0) {
		memmove(p->in, p->in + p->in_off, p->in_len - p->in_off);
		p->in_len -= p->in_off;
		p->in_off = 0;
	}
	*buf = uv_buf_init((char *)p->in + p->in_len, (unsigned)(sizeof(p->in) - p->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct served_probe *p = s->data;

	(void)buf; /* on_alloc handed out p->in + p->in_len */
	if (p->ending)
		return;
	if (n == UV_EOF) {
		p->peer_eof = true;
		uv_read_stop(s);
	} else if (n < 0) {
		fail(p, (int)n, "%s:%u (%s): reading: %s", p->host, p->port, p->addr, uv_strerror((int)n));
		return;
	} else {
		p->in_len += (size_t)n;
		p->in_total += (size_t)n;
		if (p->in_total > SERVED_MAX_BYTES) {
			fail(p, -E2BIG, "%s:%u: over %u bytes without finishing the handshake",
			     p->host, p->port, (unsigned)SERVED_MAX_BYTES);
			return;
		}
	}
	step(p);
}

static void on_connected(uv_connect_t *req, int status)
{
	struct served_probe *p = req->data;

	if (p->ending)
		return;
	if (status < 0) {
		fail(p, status, "connecting to %s:%u (%s): %s", p->host, p->port, p->addr,
		     uv_strerror(status));
		return;
	}
	int r = uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
	if (r < 0) {
		fail(p, r, "%s:%u: %s", p->host, p->port, uv_strerror(r));
		return;
	}
	step(p);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct served_probe *p = req->data;
	int r;

	p->gai_pending = false;
	if (p->ending) {
		uv_freeaddrinfo(ai);
		maybe_free(p);
		return;
	}
	if (status < 0 || !ai) {
		fail(p, status == UV_EAI_NONAME ? -ENOENT : -EIO, "resolving '%s': %s", p->host,
		     status < 0 ? uv_strerror(status) : "no address");
		uv_freeaddrinfo(ai);
		return;
	}
	/* XXX: only the first address is tried, as a client would try it first. */
	(void)uv_ip_name(ai->ai_addr, p->addr, sizeof(p->addr));
	r = uv_tcp_init(p->loop, &p->tcp);
	if (r == 0) {
		p->tcp.data = p;
		p->tcp_open = true;
		p->open_handles++;
		p->connect.data = p;
		r = uv_tcp_connect(&p->connect, &p->tcp, ai->ai_addr, on_connected);
	}
	uv_freeaddrinfo(ai);
	if (r < 0)
		fail(p, r, "connecting to %s:%u: %s", p->host, p->port, uv_strerror(r));
}

static int tls_setup(struct served_probe *p)
{
	static const char pers[] = "persistd check_served";
	int r;

	mbedtls_entropy_init(&p->entropy);
	mbedtls_ctr_drbg_init(&p->drbg);
	mbedtls_ssl_config_init(&p->conf);
	mbedtls_ssl_init(&p->ssl);
	r = mbedtls_ctr_drbg_seed(&p->drbg, mbedtls_entropy_func, &p->entropy,
				  (const unsigned char *)pers, sizeof(pers) - 1);
	if (r == 0)
		r = mbedtls_ssl_config_defaults(&p->conf, MBEDTLS_SSL_IS_CLIENT,
						MBEDTLS_SSL_TRANSPORT_STREAM,
						MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0)
		return -ENOMEM;
	/* What is served is compared with what we installed; trust is not the question. */
	mbedtls_ssl_conf_authmode(&p->conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&p->conf, mbedtls_ctr_drbg_random, &p->drbg);
	r = mbedtls_ssl_setup(&p->ssl, &p->conf);
	if (r == 0 && p->sni)
		r = mbedtls_ssl_set_hostname(&p->ssl, p->sni);
	if (r != 0)
		return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EINVAL;
	mbedtls_ssl_set_bio(&p->ssl, p, bio_send, bio_recv, NULL);
	return 0;
}

int served_probe_start(uv_loop_t *loop, const char *host, uint16_t port, const char *sni,
		       uint64_t timeout_ms, served_done_fn cb, void *userdata,
		       struct served_probe **ret)
{
	struct served_probe *p = calloc(1, sizeof(*p));
	char service[8];
	int r;

	if (!p)
		return -ENOMEM;
	p->loop = loop;
	p->port = port;
	p->timeout_ms = timeout_ms;
	p->host = strdup(host);
	p->sni = sni ? strdup(sni) : NULL;
	if (!p->host || (sni && !p->sni)) {
		free(p->host);
		free(p->sni);
		free(p);
		return -ENOMEM;
	}
	r = tls_setup(p);
	if (r < 0) {
		probe_free(p);
		return r;
	}
	r = uv_timer_init(loop, &p->timer);
	if (r < 0) {
		probe_free(p);
		return r;
	}
	p->timer.data = p;
	p->open_handles = 1;
	(void)uv_timer_start(&p->timer, on_timeout, timeout_ms, 0);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	snprintf(service, sizeof(service), "%u", port);
	p->gai.data = p;
	r = uv_getaddrinfo(loop, &p->gai, on_resolved, host, service, &hints);
	if (r < 0) {
		probe_end(p); /* no callback: cb is dropped first */
		return r;
	}
	p->gai_pending = true;
	p->cb = cb;
	p->userdata = userdata;
	*ret = p;
	return 0;
}

void served_probe_cancel(struct served_probe *p)
{
	if (p)
		probe_end(p);
}
