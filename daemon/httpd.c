/* daemon/httpd.c: see httpd.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/daemon.h"
#include "daemon/httpd.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/webpage.h"

struct httpd {
	struct daemon *d;          /* borrowed */
	struct httpd_sources src;
	struct MHD_Daemon *mhd;    /* owned */
	uv_poll_t poll;            /* poll.data == this; watches MHD's epoll fd */
	uv_timer_t timer;          /* timer.data == this; MHD_get_timeout() */
	unsigned open_handles;
	char path[108];            /* unix socket to remove at the end, or "" */
	dev_t sock_dev;
	ino_t sock_ino;
};

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "connect-src 'self'; img-src 'self'; base-uri 'none'; "
			  "form-action 'none'; frame-ancestors 'none'";

static void httpd_kick(struct httpd *h);

static void on_mhd_log(void *cls, const char *fmt, va_list ap) _printf_(2, 0);
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[300];

	(void)cls;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

static void add_headers(struct MHD_Response *resp, const char *content_type)
{
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	(void)MHD_add_response_header(resp, "Content-Security-Policy", csp);
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

/* body is malloc'ed and handed over (free_body) or static. */
static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      char *body, size_t len, bool free_body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, body, free_body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!resp) {
		if (free_body)
			free(body);
		return MHD_NO;
	}
	add_headers(resp, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	return answer(conn, status, "text/plain; charset=utf-8", (char *)text, strlen(text),
		      false);
}

static enum MHD_Result serve_json(struct httpd *h, struct MHD_Connection *conn, bool records)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	char *body;
	size_t len;

	if (!w)
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (records)
		h->src.write_records(h->d, w);
	else
		h->src.write_status(h->d, w);
	if (json_writer_take(w, &body, &len) < 0)
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "building the status failed\n");
	return answer(conn, MHD_HTTP_OK, "application/json", body, len, true);
}

static enum MHD_Result serve_metrics(struct httpd *h, struct MHD_Connection *conn)
{
	_cleanup_(metrics_writer_freep) struct metrics_writer *w = metrics_writer_new();
	char *body;
	size_t len;
	int r;

	if (!w)
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	metrics_collect(h->d, w);
	r = metrics_writer_take(w, &body, &len);
	if (r < 0) {
		log_error("http: building /metrics failed: %s", strerror(-r));
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "building the metrics failed\n");
	}
	return answer(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
		      true);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct httpd *h = cls;
	struct webpage_asset asset;

	(void)version;
	(void)upload_data;
	(void)req_cls;
	log_debug("http: %s '%s'", method, url);
	if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD)) {
		/* Answered before any body is read: MHD then closes the connection
		 * instead of reading what the client still sends. */
		*upload_data_size = 0;
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "read-only: only GET and HEAD\n");
	}
	if (streq(url, "/metrics"))
		return serve_metrics(h, conn);
	if (streq(url, "/api/status"))
		return serve_json(h, conn, false);
	if (streq(url, "/api/records"))
		return serve_json(h, conn, true);
	if (webpage_find(url, &asset))
		return answer(conn, MHD_HTTP_OK, asset.content_type, (char *)asset.data,
			      asset.len, false);
	return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- the loop ---- */

static void run_mhd(struct httpd *h)
{
	if (MHD_run(h->mhd) != MHD_YES)
		log_debug("http: MHD_run failed, ignoring");
	httpd_kick(h);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run_mhd(p->data);
}

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

/* Re-arms the timer from what MHD wants next. */
static void httpd_kick(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;

	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES)
		(void)uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
	else
		(void)uv_timer_stop(&h->timer);
}

static void on_handle_closed(uv_handle_t *handle)
{
	struct httpd *h = handle->data;

	if (--h->open_handles == 0)
		free(h);
}

static int open_listener(struct httpd *h, const struct listen_addr *addr)
{
	int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (addr->is_unix) {
		/* Only a stale socket is replaced, never another kind of file. */
		if (lstat(addr->path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				close(fd);
				return -EEXIST;
			}
			(void)unlink(addr->path);
		}
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (addr->sa.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->sa_len) < 0 ||
	    listen(fd, 64) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (addr->is_unix) {
		if (chmod(addr->path, 0660) < 0 || lstat(addr->path, &st) < 0) {
			int r = -errno;
			(void)unlink(addr->path);
			close(fd);
			return r;
		}
		str_printf(h->path, sizeof(h->path), "%s", addr->path);
		h->sock_dev = st.st_dev;
		h->sock_ino = st.st_ino;
	}
	return fd;
}

int httpd_new(struct daemon *d, const struct listen_addr *addr, const struct httpd_sources *src,
	      struct httpd **ret)
{
	const union MHD_DaemonInfo *info;
	struct httpd *h = calloc(1, sizeof(*h));
	unsigned per_ip = addr->is_unix ? 0 : HTTPD_MAX_CONNS_PER_IP;
	int fd, r;

	if (!h)
		return log_errno(LOG_ERR, -ENOMEM, "http_listen: %m");
	h->d = d;
	h->src = *src;
	fd = open_listener(h, addr);
	if (fd < 0) {
		free(h);
		return log_errno(LOG_ERR, fd, "http_listen = %s: %m",
				 d->config->daemon.http_listen);
	}
	h->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, h,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_MAX_CONNS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONN_MEMORY_BYTES,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_SEC,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
	if (!h->mhd) {
		close(fd);
		if (h->path[0])
			(void)unlink(h->path);
		free(h);
		return log_errno(LOG_ERR, -EIO, "http_listen: libmicrohttpd did not start");
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	r = info ? uv_poll_init(d->loop, &h->poll, info->epoll_fd) : UV_EINVAL;
	if (r < 0) {
		MHD_stop_daemon(h->mhd);
		if (h->path[0])
			(void)unlink(h->path);
		free(h);
		return log_errno(LOG_ERR, -EIO, "http_listen: watching MHD's epoll fd: %s",
				 uv_strerror(r));
	}
	h->poll.data = h;
	(void)uv_timer_init(d->loop, &h->timer);
	h->timer.data = h;
	h->open_handles = 2;
	(void)uv_poll_start(&h->poll, UV_READABLE, on_poll);
	httpd_kick(h);
	if (!addr->is_loopback)
		log_warning("http_listen = %s is not a loopback address: the status page, "
			    "/metrics and /api/status are readable from the network, without "
			    "authentication",
			    d->config->daemon.http_listen);
	log_info("serving /, /metrics and /api/status on %s", d->config->daemon.http_listen);
	*ret = h;
	return 0;
}

void httpd_free(struct httpd *h)
{
	struct stat st;

	if (!h)
		return;
	/* Stop watching before MHD closes the epoll fd under the poll handle. */
	(void)uv_poll_stop(&h->poll);
	(void)uv_timer_stop(&h->timer);
	MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
	if (h->path[0] && lstat(h->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == h->sock_dev && st.st_ino == h->sock_ino)
		(void)unlink(h->path);
	uv_close((uv_handle_t *)&h->poll, on_handle_closed);
	uv_close((uv_handle_t *)&h->timer, on_handle_closed);
}
