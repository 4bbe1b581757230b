/* daemon/acme/http.c: libcurl multi_socket on libuv. See http.h for the contract.
 *
 * Flow: http_submit() adds an easy handle; curl asks for socket watches (on_curl_socket ->
 * uv_poll) and a timeout (on_curl_timer -> uv_timer). Poll and timer events call
 * curl_multi_socket_action() and then drain(), which first moves every finished transfer
 * to h->done (reading what it needs before the easy handle goes away) and only then runs
 * the user callbacks, one by one, outside any curl call. A callback may free the whole
 * struct http: drain() notices h->closing and stops touching anything. The grammar of Link
 * headers is daemon/acme/http_link's; on_link() keeps the relations ACME uses. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "common/list.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/acme/http.h"
#include "daemon/acme/http_link.h"
#include "daemon/log.h"

#ifndef PERSISTD_VERSION
#define PERSISTD_VERSION "0"
#endif
#define DEFAULT_USER_AGENT "persistd/" PERSISTD_VERSION

/* ---- state ------------------------------------------------------------------------------- */

struct http {
	uv_loop_t *loop;  /* borrowed */
	CURLM *multi;     /* owned */
	uv_timer_t timer; /* timer.data == this; the struct is freed in its close callback */
	struct list_link active; /* struct http_xfer, in curl */
	struct list_link done;   /* struct http_xfer, finished, callback not yet run */
	struct list_link polls;  /* struct http_poll, open */
	size_t n_active;
	bool closing;       /* http_free() ran: deliver nothing more */
};

/* One socket curl asked us to watch. */
struct http_poll {
	uv_poll_t poll;   /* poll.data == this; freed in on_poll_closed */
	struct list_link link; /* in h->polls while open */
	struct http *h;   /* borrowed; NULL once closing */
	curl_socket_t fd;
};

enum xfer_state {
	XFER_ACTIVE,     /* in curl, on h->active */
	XFER_DONE,       /* finished, on h->done */
	XFER_DELIVERING, /* its callback is running; on no list */
};

struct http_xfer {
	struct list_link link;           /* in h->active or h->done */
	struct http *h;             /* borrowed */
	CURL *easy;                 /* owned; NULL once finished */
	struct curl_slist *headers; /* owned request headers */
	enum xfer_state state;
	http_cb cb;
	void *userdata;
	char *url;                  /* owned */
	size_t max_body_bytes;

	/* what the callbacks collect */
	char *body;                 /* owned, NUL-terminated */
	size_t body_len, body_cap;
	size_t header_bytes;
	bool body_over, header_over, oom;
	bool retry_after_seen;
	char *content_type, *location, *nonce; /* owned raw header values */
	char *alternates[ACME_MAX_LINKS];      /* owned */
	size_t n_alternates;
	char *link_up, *link_index, *link_next; /* owned */

	/* the result */
	int error;
	char error_text[256];
	long status;
	int64_t retry_after_sec;
	char errbuf[CURL_ERROR_SIZE];
};

static void drain(struct http *h);

/* ---- transfers ------------------------------------------------------------------------------ */

static void headers_reset(struct http_xfer *x)
{
	free(x->content_type);
	free(x->location);
	free(x->nonce);
	for (size_t i = 0; i < x->n_alternates; i++)
		free(x->alternates[i]);
	free(x->link_up);
	free(x->link_next);
	free(x->link_index);
	x->content_type = x->location = x->nonce = x->link_up = x->link_index = NULL;
	x->link_next = NULL;
	x->n_alternates = 0;
	x->retry_after_seen = false;
}

static void xfer_free(struct http_xfer *x)
{
	if (!x)
		return;
	if (x->easy) {
		(void)curl_multi_remove_handle(x->h->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	headers_reset(x);
	free(x->body);
	free(x->url);
	free(x);
}

static char *strndup_or_oom(struct http_xfer *x, const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		x->oom = true;
	return d;
}

static void replace(char **field, char *value)
{
	free(*field);
	*field = value;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* One relation of a Link header (daemon/acme/http_link): keeps those ACME uses. */
static void on_link(void *userdata, const char *url, size_t len, const char *t, size_t tlen)
{
	struct http_xfer *x = userdata;

	if (tlen == 9 && strncasecmp(t, "alternate", 9) == 0) {
		if (x->n_alternates < ACME_MAX_LINKS) {
			char *d = strndup_or_oom(x, url, len);
			if (d)
				x->alternates[x->n_alternates++] = d;
		}
	} else if (tlen == 2 && strncasecmp(t, "up", 2) == 0) {
		if (!x->link_up)
			x->link_up = strndup_or_oom(x, url, len);
	} else if (tlen == 4 && strncasecmp(t, "next", 4) == 0) {
		if (!x->link_next)
			x->link_next = strndup_or_oom(x, url, len);
	} else if (tlen == 5 && strncasecmp(t, "index", 5) == 0) {
		if (!x->link_index)
			x->link_index = strndup_or_oom(x, url, len);
	}
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t len = size * nitems, l = len;

	x->header_bytes += len;
	if (x->header_bytes > ACME_MAX_HEADER_BYTES) {
		x->header_over = true;
		return 0;
	}
	while (l > 0 && (buf[l - 1] == '\r' || buf[l - 1] == '\n'))
		l--;
	/* Each response of the transfer (1xx, proxy CONNECT) starts with a status line. */
	if (l >= 5 && strncasecmp(buf, "HTTP/", 5) == 0) {
		headers_reset(x);
		return len;
	}
	const char *colon = memchr(buf, ':', l);
	if (!colon)
		return len;
	size_t nlen = (size_t)(colon - buf);
	while (nlen > 0 && is_ws(buf[nlen - 1]))
		nlen--;
	const char *v = colon + 1, *end = buf + l;
	while (v < end && is_ws(*v))
		v++;
	while (end > v && is_ws(end[-1]))
		end--;
	size_t vlen = (size_t)(end - v);

#define NAME_IS(s) (nlen == strlen(s) && strncasecmp(buf, (s), nlen) == 0)
	if (NAME_IS("replay-nonce"))
		replace(&x->nonce, strndup_or_oom(x, v, vlen));
	else if (NAME_IS("location"))
		replace(&x->location, strndup_or_oom(x, v, vlen));
	else if (NAME_IS("content-type"))
		replace(&x->content_type, strndup_or_oom(x, v, vlen));
	else if (NAME_IS("retry-after"))
		x->retry_after_seen = true;
	else if (NAME_IS("link"))
		http_link_parse(v, vlen, on_link, x);
#undef NAME_IS
	return x->oom ? 0 : len;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t len = size * nmemb;

	if (len > x->max_body_bytes - x->body_len) {
		x->body_over = true;
		return 0; /* ends the transfer with CURLE_WRITE_ERROR */
	}
	if (x->body_len + len + 1 > x->body_cap) {
		size_t cap = MAX(x->body_cap * 2, x->body_len + len + 1);
		cap = MAX(cap, (size_t)4096);
		cap = MIN(cap, x->max_body_bytes + 1);
		char *b = realloc(x->body, cap);
		if (!b) {
			x->oom = true;
			return 0;
		}
		x->body = b;
		x->body_cap = cap;
	}
	memcpy(x->body + x->body_len, buf, len);
	x->body_len += len;
	x->body[x->body_len] = '\0';
	return len;
}

static int error_from_curl(const struct http_xfer *x, CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR: /* mostly a connection cut during the handshake */
		return -ECONNRESET;
	case CURLE_WRITE_ERROR:
		if (x->oom)
			return -ENOMEM;
		return x->body_over || x->header_over ? -E2BIG : -EIO;
	case CURLE_FILESIZE_EXCEEDED:
		return -E2BIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_BAD_CONTENT_ENCODING:
		return -EPROTO;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static bool is_absolute_url(const char *s)
{
	/* scheme ":" per RFC 3986 section 3.1 */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (s++; *s; s++) {
		if (*s == ':')
			return true;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
			return false;
	}
	return false;
}

/* A relative reference resolved against the request URL; absolute ones are kept byte for
 * byte, since curl would normalize them and an account URL must stay exactly as sent. */
static void resolve_url(struct http_xfer *x, char **field)
{
	char *out = NULL;

	if (!*field || is_absolute_url(*field))
		return;
	CURLU *u = curl_url();
	if (!u) {
		x->oom = true;
		return;
	}
	if (curl_url_set(u, CURLUPART_URL, x->url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, *field, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
		char *copy = strdup(out);
		if (copy)
			replace(field, copy);
		curl_free(out);
	}
	curl_url_cleanup(u);
}

static void xfer_set_error(struct http_xfer *x, CURLcode res)
{
	x->error = error_from_curl(x, res);
	if (x->error == 0)
		return;
	if (x->error == -E2BIG && x->header_over)
		str_printf(x->error_text, sizeof(x->error_text),
			   "response headers larger than %d bytes", ACME_MAX_HEADER_BYTES);
	else if (x->error == -E2BIG)
		str_printf(x->error_text, sizeof(x->error_text),
			   "response body larger than %zu bytes", x->max_body_bytes);
	else if (x->error == -ENOMEM)
		str_printf(x->error_text, sizeof(x->error_text), "out of memory");
	else if (x->errbuf[0])
		str_escape_line(x->error_text, sizeof(x->error_text), x->errbuf,
				strlen(x->errbuf), 200);
	else
		str_printf(x->error_text, sizeof(x->error_text), "%s", curl_easy_strerror(res));
}

/* Reads everything from the finished easy handle, releases it and queues the callback. */
static void xfer_finish(struct http_xfer *x, CURLcode res)
{
	struct http *h = x->h;
	curl_off_t ra = 0;
	long status = 0;

	(void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra);
	x->status = status;
	x->retry_after_sec = x->retry_after_seen ? (int64_t)MAX(ra, (curl_off_t)0) : -1;
	resolve_url(x, &x->location);
	resolve_url(x, &x->link_up);
	resolve_url(x, &x->link_index);
	resolve_url(x, &x->link_next);
	for (size_t i = 0; i < x->n_alternates; i++)
		resolve_url(x, &x->alternates[i]);
	xfer_set_error(x, res);
	if (x->error == 0 && x->oom) {
		x->error = -ENOMEM;
		str_printf(x->error_text, sizeof(x->error_text), "out of memory");
	}
	log_debug("%s: HTTP %ld, %zu bytes%s%s", x->url, status, x->body_len,
		  x->error ? ", error: " : "", x->error_text);

	(void)curl_multi_remove_handle(h->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->headers);
	x->headers = NULL;
	list_del(&x->link);
	h->n_active--;
	x->state = XFER_DONE;
	list_add_tail(&h->done, &x->link);
}

static void deliver(struct http_xfer *x)
{
	struct http_response resp = {
		.error = x->error,
		.status = x->status,
		/* a failed transfer has no body worth reading, even a partial one */
		.body = x->body && !x->error ? x->body : "",
		.body_len = x->error ? 0 : x->body_len,
		.content_type = x->content_type,
		.location = x->location,
		.replay_nonce = x->nonce,
		.retry_after_sec = x->retry_after_sec,
		.link_alternate = (const char *const *)x->alternates,
		.n_link_alternate = x->n_alternates,
		.link_up = x->link_up,
		.link_index = x->link_index,
		.link_next = x->link_next,
		.url = x->url,
	};

	memcpy(resp.error_text, x->error_text, sizeof(resp.error_text));
	x->cb(&resp, x->userdata);
}

static void drain(struct http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct http_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		/* m dies at curl_multi_remove_handle: take the result first. */
		CURLcode res = m->data.result;
		if (x)
			xfer_finish(x, res);
	}
	while (!h->closing && !list_empty(&h->done)) {
		struct http_xfer *x = container_of(h->done.next, struct http_xfer, link);

		list_del(&x->link);
		x->state = XFER_DELIVERING;
		deliver(x);
		xfer_free(x);
	}
}

/* ---- curl <-> uv glue ----------------------------------------------------------------------- */

static void on_poll_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void poll_close(struct http_poll *p)
{
	list_del(&p->link);
	p->h = NULL;
	(void)uv_poll_stop(&p->poll);
	uv_close((uv_handle_t *)&p->poll, on_poll_closed);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
	struct http_poll *p = handle->data;
	struct http *h = p->h;
	int flags = 0, running;

	if (!h)
		return;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* p may be closed inside this call (CURL_POLL_REMOVE): do not touch it afterwards. */
	(void)curl_multi_socket_action(h->multi, p->fd, flags, &running);
	drain(h);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct http_poll *p = socketp;
	int events = 0, r;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		/* Since curl 8.13 a REMOVE may come for a socket never announced. */
		if (p) {
			poll_close(p);
			(void)curl_multi_assign(h->multi, fd, NULL);
		}
		return 0;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -1;
		r = uv_poll_init_socket(h->loop, &p->poll, fd);
		if (r < 0) {
			log_debug("uv_poll_init_socket(%d): %s", (int)fd, uv_strerror(r));
			free(p);
			return -1;
		}
		p->poll.data = p;
		p->h = h;
		p->fd = fd;
		list_add_tail(&h->polls, &p->link);
		(void)curl_multi_assign(h->multi, fd, p);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	r = uv_poll_start(&p->poll, events, on_poll);
	if (r < 0) {
		log_debug("uv_poll_start(%d): %s", (int)fd, uv_strerror(r));
		return -1;
	}
	return 0;
}

static void on_timer(uv_timer_t *t)
{
	struct http *h = t->data;
	int running;

	(void)curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(h);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	/* Never call curl from here: a 0 ms uv timer runs on the next loop iteration. */
	if (timeout_ms < 0)
		(void)uv_timer_stop(&h->timer);
	else
		(void)uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ---- public API --------------------------------------------------------------------------- */

int http_new(uv_loop_t *loop, struct http **ret)
{
	struct http *h;
	int r;

	if (!loop || !ret)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	h = calloc(1, sizeof(*h));
	if (!h) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	h->loop = loop;
	list_init(&h->active);
	list_init(&h->done);
	list_init(&h->polls);
	h->multi = curl_multi_init();
	if (!h->multi ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
		r = h->multi ? -EIO : -ENOMEM;
		if (h->multi)
			curl_multi_cleanup(h->multi);
		free(h);
		curl_global_cleanup();
		return r;
	}
	r = uv_timer_init(loop, &h->timer);
	if (r < 0) {
		curl_multi_cleanup(h->multi);
		free(h);
		curl_global_cleanup();
		return -EIO;
	}
	h->timer.data = h;
	*ret = h;
	return 0;
}

static void on_http_closed(uv_handle_t *handle)
{
	free(handle->data);
	curl_global_cleanup();
}

void http_free(struct http *h)
{
	if (!h || h->closing)
		return;
	h->closing = true;
	while (!list_empty(&h->active)) {
		struct http_xfer *x = container_of(h->active.next, struct http_xfer, link);
		list_del(&x->link);
		xfer_free(x);
	}
	h->n_active = 0;
	while (!list_empty(&h->done)) {
		struct http_xfer *x = container_of(h->done.next, struct http_xfer, link);
		list_del(&x->link);
		xfer_free(x);
	}
	/* May still announce CURL_POLL_REMOVE for cached connections, or stop the timer. */
	curl_multi_cleanup(h->multi);
	h->multi = NULL;
	while (!list_empty(&h->polls))
		poll_close(container_of(h->polls.next, struct http_poll, link));
	(void)uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, on_http_closed);
}

size_t http_get_active(const struct http *h)
{
	return h ? h->n_active : 0;
}

static bool url_allowed(const char *url, bool allow_http)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	return allow_http && strncasecmp(url, "http://", 7) == 0 && url[7] != '\0';
}

#define SETOPT(opt, val)                                                   \
	do {                                                               \
		if (curl_easy_setopt(x->easy, (opt), (val)) != CURLE_OK) { \
			r = -EIO;                                          \
			goto fail;                                         \
		}                                                          \
	} while (0)

int http_submit(struct http *h, const struct http_request *req, http_cb cb, void *userdata,
		struct http_xfer **ret_xfer)
{
	struct http_xfer *x;
	bool post, head;
	uint64_t timeout_ms;
	int r;

	if (!h || h->closing || !req || !cb || !req->method || !req->url)
		return -EINVAL;
	post = streq(req->method, "POST");
	head = streq(req->method, "HEAD");
	if (!post && !head && !streq(req->method, "GET"))
		return -EINVAL;
	if (strlen(req->url) > ACME_MAX_URL_BYTES || !url_allowed(req->url, req->allow_http))
		return -EINVAL;
	if (req->body_len && !req->body)
		return -EINVAL;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	list_init(&x->link);
	x->h = h;
	x->cb = cb;
	x->userdata = userdata;
	x->max_body_bytes = req->max_body_bytes ? req->max_body_bytes : ACME_MAX_BODY_BYTES;
	x->retry_after_sec = -1;
	x->url = strdup(req->url);
	x->easy = curl_easy_init();
	if (!x->url || !x->easy) {
		r = -ENOMEM;
		goto fail;
	}
	timeout_ms = req->timeout_ms ? req->timeout_ms : ACME_HTTP_TIMEOUT_MS;

	SETOPT(CURLOPT_URL, x->url);
	SETOPT(CURLOPT_PRIVATE, x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, req->allow_http ? "http,https" : "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)MIN(timeout_ms, (uint64_t)ACME_CONNECT_TIMEOUT_MS));
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body_bytes);
	SETOPT(CURLOPT_USERAGENT, req->user_agent ? req->user_agent : DEFAULT_USER_AGENT);
	SETOPT(CURLOPT_PIPEWAIT, 1L);
	if (req->fresh_connection)
		SETOPT(CURLOPT_FRESH_CONNECT, 1L);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, x);
	if (req->ca_bundle) {
		/* The bundle is the whole trust: without clearing CAPATH, Debian's libcurl would
		 * still trust its built-in CA directory. */
		SETOPT(CURLOPT_CAINFO, req->ca_bundle);
		SETOPT(CURLOPT_CAPATH, (char *)NULL);
	}
	if (post) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SETOPT(CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
	} else if (head) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else {
		SETOPT(CURLOPT_HTTPGET, 1L);
	}

	/* No "Expect: 100-continue" round trip for large bodies. */
	struct curl_slist *l = curl_slist_append(NULL, "Expect:");
	if (!l) {
		r = -ENOMEM;
		goto fail;
	}
	x->headers = l;
	if (post && req->content_type) {
		_cleanup_free_ char *ct = NULL;
		if (strpbrk(req->content_type, "\r\n")) {
			r = -EINVAL;
			goto fail;
		}
		if (asprintf(&ct, "Content-Type: %s", req->content_type) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		l = curl_slist_append(x->headers, ct);
		if (!l) {
			r = -ENOMEM;
			goto fail;
		}
		x->headers = l;
	}
	SETOPT(CURLOPT_HTTPHEADER, x->headers);

	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		r = -EIO;
		goto fail;
	}
	x->state = XFER_ACTIVE;
	list_add_tail(&h->active, &x->link);
	h->n_active++;
	log_debug("%s %s", req->method, x->url);
	if (ret_xfer)
		*ret_xfer = x;
	return 0;

fail:
	if (x->easy) {
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	xfer_free(x);
	return r;
}

void http_cancel(struct http_xfer *x)
{
	if (!x || x->state == XFER_DELIVERING)
		return;
	if (x->state == XFER_ACTIVE)
		x->h->n_active--;
	list_del(&x->link);
	xfer_free(x);
}
