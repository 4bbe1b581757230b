/* daemon/control.c: the control socket server; see control.h. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/jrpc.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/control.h"
#include "daemon/control_internal.h"
#include "daemon/ctlsock.h"
#include "daemon/log.h"
#include "daemon/ratelimit.h"

#define CONTROL_LOG_LINE_BYTES 80 /* of a bad request, escaped, in debug logs */

static void conn_dispatch(struct conn *c);
static void on_kick(uv_idle_t *h);

void control_options_init(struct control_options *o)
{
	*o = (struct control_options){
		.listen_fd = -1,
		.mode = 0660,
		.group = (gid_t)-1,
		.admin_gid = (gid_t)-1,
		.daemon_uid = getuid(),
		.max_conns = CTL_MAX_CONNS,
		.idle_ms = CTL_IDLE_MS,
		.max_request_bytes = CTL_MAX_REQUEST_BYTES,
		.max_pending_out_bytes = CTL_MAX_PENDING_OUT_BYTES,
	};
}

/* ---- freeing ---- */

static void on_control_handle_closed(uv_handle_t *h)
{
	struct control *c = h->data;

	c->open_handles--;
	control_maybe_release(c);
}

void control_free(struct control *c)
{
	if (!c || c->freeing)
		return;
	c->freeing = true;
	for (struct conn *conn = c->conns; conn; conn = conn->next)
		control_conn_end(conn);
	if (c->created && c->path)
		ctlsock_remove(c->path, c->sock_dev, c->sock_ino);
	if (c->open_handles > 0) {
		if (!uv_is_closing((uv_handle_t *)&c->listener))
			uv_close((uv_handle_t *)&c->listener, on_control_handle_closed);
		if (!uv_is_closing((uv_handle_t *)&c->kick))
			uv_close((uv_handle_t *)&c->kick, on_control_handle_closed);
	}
	control_maybe_release(c);
}

unsigned control_connections(const struct control *c)
{
	return c->n_conns;
}

/* No more requests: close once everything queued is written. The idle
 * timer still runs, so a client that does not read cannot hold it open. */
static void conn_finish(struct conn *c)
{
	if (c->closing || c->finishing)
		return;
	c->finishing = true;
	if (c->reading) {
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = false;
	}
	if (c->n_writes == 0) {
		control_conn_end(c);
		return;
	}
	(void)uv_timer_start(&c->idle, control_on_conn_idle, c->control->o.idle_ms, 0);
}

/* ---- input ---- */

static const struct control_method *find_method(const struct control *c, const char *name)
{
	for (size_t i = 0; i < c->n_methods; i++)
		if (streq(c->methods[i].name, name))
			return &c->methods[i];
	return NULL;
}

static void deny(struct conn *c, const struct jrpc_request *req)
{
	struct control *ctl = c->control;
	char message[256], group[96], name[64];
	char more[64];

	str_escape_line(name, sizeof(name), req->method, strlen(req->method), 48);

	if (ctl->o.admin_gid == (gid_t)-1 && ctl->o.admin_group)
		str_printf(group, sizeof(group), "(admin group '%s' does not exist on this host)",
			   ctl->o.admin_group);
	else if (ctl->o.admin_gid == (gid_t)-1)
		str_printf(group, sizeof(group), "(no admin_group is configured)");
	else if (ctl->admin_group)
		str_printf(group, sizeof(group), "or membership of the admin group '%s'",
			   ctl->admin_group);
	else
		str_printf(group, sizeof(group), "or membership of the admin group (gid %u)",
			   (unsigned)ctl->o.admin_gid);
	str_printf(message, sizeof(message),
		   "permission denied: method '%s' changes state and needs root, "
		   "the daemon's user %s",
		   name, group);
	if (ratelimit_pass(&ctl->denied_log, uv_now(ctl->loop), more, sizeof(more)))
		log_notice("control: denied '%s' to uid %u gid %u pid %d, not an admin%s", name,
			   (unsigned)c->peer.uid, (unsigned)c->peer.gid, (int)c->peer.pid, more);
	if (req->id_json)
		control_conn_send_error(c, req->id_json, JRPC_PERMISSION_DENIED, message, NULL);
}

static void conn_handle_line(struct conn *c, const char *line, size_t len)
{
	struct control *ctl = c->control;
	_cleanup_(jrpc_request_freep) struct jrpc_request *req = NULL;
	struct jrpc_parse_error perr;
	char shown[4 * CONTROL_LOG_LINE_BYTES + 8];
	int r;

	if (jrpc_line_is_blank(line, len))
		return;
	c->idle_reset = true;
	r = jrpc_parse_request(line, len, ctl->o.max_request_bytes, &req, &perr);
	if (r < 0) {
		str_escape_line(shown, sizeof(shown), line, len, CONTROL_LOG_LINE_BYTES);
		log_debug("control: connection %" PRIu64 ": %s: '%s'", c->id, perr.message, shown);
		control_conn_send_error(c, perr.id_json, perr.code, perr.message, NULL);
		jrpc_parse_error_done(&perr);
		return;
	}
	const struct control_method *m = find_method(ctl, req->method);
	if (!m) {
		char message[160], name[64];

		str_escape_line(name, sizeof(name), req->method, strlen(req->method), 48);
		str_printf(message, sizeof(message), "unknown method '%s'", name);
		log_debug("control: connection %" PRIu64 ": %s", c->id, message);
		if (req->id_json)
			control_conn_send_error(c, req->id_json, JRPC_METHOD_NOT_FOUND, message, NULL);
		return;
	}
	if (m->mutating && !c->peer.admin) {
		deny(c, req);
		return;
	}
	struct control_call *call = calloc(1, sizeof(*call));
	if (!call) {
		control_conn_send_error(c, req->id_json, JRPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	*call = (struct control_call){
		.conn = c,
		.req = TAKE_PTR(req),
		.method = m,
		.peer = c->peer,
	};
	c->call = call;
	m->handler(call, call->req->params, ctl->userdata);
}

static void conn_too_large(struct conn *c)
{
	struct control *ctl = c->control;
	char message[128], shown[4 * CONTROL_LOG_LINE_BYTES + 8];
	const char *start = c->in.buf + c->in.start;

	str_escape_line(shown, sizeof(shown), start, c->in.end - c->in.start,
			CONTROL_LOG_LINE_BYTES);
	log_debug("control: connection %" PRIu64 " (uid %u): request line over %zu bytes, "
		  "closing: '%s'",
		  c->id, (unsigned)c->peer.uid, ctl->o.max_request_bytes, shown);
	str_printf(message, sizeof(message), "request line longer than %zu bytes",
		   ctl->o.max_request_bytes);
	control_conn_send_error(c, NULL, JRPC_REQUEST_TOO_LARGE, message, NULL);
	conn_finish(c);
}

static void on_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	char *space;
	size_t len;

	(void)suggested;
	/* On failure libuv calls on_conn_read() with UV_ENOBUFS. */
	*buf = uv_buf_init(NULL, 0);
	if (jrpc_reader_space(&c->in, &space, &len) >= 0)
		*buf = uv_buf_init(space, (unsigned)MIN(len, (size_t)UINT_MAX));
}

static void on_conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	(void)buf; /* on_conn_alloc() handed out the free end of c->in */
	if (n == UV_EOF) {
		c->eof = true;
		(void)uv_read_stop(s);
		c->reading = false;
	} else if (n < 0) {
		if (n != UV_ECONNRESET)
			log_debug("control: connection %" PRIu64 ": read failed: %s", c->id,
				  uv_strerror((int)n));
		control_conn_end(c);
		return;
	} else {
		jrpc_reader_commit(&c->in, (size_t)n);
	}
	conn_dispatch(c);
}

/* Handles complete lines until one is still being answered, then sets
 * reading and the idle timer to match the connection's state. */
static void conn_dispatch(struct conn *c)
{
	const char *line;
	size_t len;
	int r;

	if (c->dispatching)
		return;
	c->dispatching = true;
	c->ready = false;
	while (!c->closing && !c->finishing && !c->call) {
		r = jrpc_reader_line(&c->in, &line, &len);
		if (r == 0 && c->eof)
			r = jrpc_reader_take_rest(&c->in, &line, &len);
		if (r == -E2BIG) {
			conn_too_large(c);
			break;
		}
		if (r <= 0)
			break;
		conn_handle_line(c, line, len);
	}
	c->dispatching = false;
	if (c->closing || c->finishing)
		return;
	if (c->call) {
		/* Answered later: the next lines wait, in the buffer and in the socket. */
		if (c->reading) {
			(void)uv_read_stop((uv_stream_t *)&c->pipe);
			c->reading = false;
		}
		if (!c->call->part_writing) /* else the client must read on in idle_ms */
			(void)uv_timer_stop(&c->idle);
		return;
	}
	if (c->eof) {
		/* A subscriber may shut down its sending side and keep listening
		 * (a pipe into socat); the others are done. */
		if (c->subscriber)
			(void)uv_timer_stop(&c->idle);
		else
			conn_finish(c);
		return;
	}
	if (!c->reading) {
		r = uv_read_start((uv_stream_t *)&c->pipe, on_conn_alloc, on_conn_read);
		if (r < 0) {
			log_debug("control: connection %" PRIu64 ": %s", c->id, uv_strerror(r));
			control_conn_end(c);
			return;
		}
		c->reading = true;
	}
	if (c->subscriber) {
		(void)uv_timer_stop(&c->idle);
	} else if (c->idle_reset || !uv_is_active((uv_handle_t *)&c->idle)) {
		c->idle_reset = false;
		(void)uv_timer_start(&c->idle, control_on_conn_idle, c->control->o.idle_ms, 0);
	}
}

static void on_kick(uv_idle_t *h)
{
	struct control *ctl = h->data;

	(void)uv_idle_stop(h);
	/* control_conn_end() unlinks nothing (close callbacks do), so the walk is safe;
	 * a conn made ready meanwhile restarts the idle handle. */
	for (struct conn *c = ctl->conns; c; c = c->next)
		if (c->ready && !c->closing)
			conn_dispatch(c);
}

/* ---- accepting ---- */

static int peer_identify(const struct control *ctl, int fd, struct control_peer *ret)
{
	struct ucred cred;
	bool admin;
	int r = ctlsock_peer_identify(fd, ctl->o.daemon_uid, ctl->o.admin_gid, &cred, &admin);

	if (r < 0)
		return r;
	*ret = (struct control_peer){ .uid = cred.uid, .gid = cred.gid, .pid = cred.pid,
				      .admin = admin };
	return 0;
}

static void conn_reject_busy(struct conn *c)
{
	struct control *ctl = c->control;
	uv_buf_t buf = uv_buf_init(ctl->busy_line, (unsigned)ctl->busy_len);
	char more[64];

	/* A fresh socket's buffer takes one short line; if not, closing is
	 * the answer anyway. */
	(void)uv_try_write((uv_stream_t *)&c->pipe, &buf, 1);
	if (ratelimit_pass(&ctl->busy_log, uv_now(ctl->loop), more, sizeof(more)))
		log_warning("control: %u connections open (the limit), refusing new ones%s",
			    ctl->n_conns - 1, more);
	control_conn_end(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	char more[64];
	int r;

	if (status < 0) {
		if (ratelimit_pass(&ctl->accept_log, uv_now(ctl->loop), more, sizeof(more)))
			log_warning("control: accepting a connection: %s, ignoring%s",
				    uv_strerror(status), more);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		/* XXX: without a handle we cannot uv_accept(), and libuv stops
		 * accepting until we do; the next connection retries. */
		log_error("control: out of memory accepting a connection");
		return;
	}
	c->control = ctl;
	c->id = ++ctl->next_conn_id;
	jrpc_reader_init(&c->in, ctl->o.max_request_bytes);
	(void)uv_pipe_init(ctl->loop, &c->pipe, 0);
	(void)uv_timer_init(ctl->loop, &c->idle);
	c->pipe.data = c;
	c->idle.data = c;
	c->open_handles = 2;
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->n_conns++;

	r = uv_accept(server, (uv_stream_t *)&c->pipe);
	if (r < 0) {
		if (ratelimit_pass(&ctl->accept_log, uv_now(ctl->loop), more, sizeof(more)))
			log_warning("control: accepting a connection: %s, ignoring%s",
				    uv_strerror(r), more);
		control_conn_end(c);
		return;
	}
	if (ctl->n_conns > ctl->o.max_conns) {
		conn_reject_busy(c);
		return;
	}
	uv_os_fd_t fd;
	r = uv_fileno((uv_handle_t *)&c->pipe, &fd);
	if (r >= 0)
		r = peer_identify(ctl, fd, &c->peer);
	if (r < 0) {
		log_warning("control: connection %" PRIu64 ": reading peer credentials: %s, "
			    "closing",
			    c->id, strerror(-r));
		control_conn_end(c);
		return;
	}
	log_debug("control: connection %" PRIu64 " from uid %u gid %u pid %d (%s)", c->id,
		  (unsigned)c->peer.uid, (unsigned)c->peer.gid, (int)c->peer.pid,
		  c->peer.admin ? "admin" : "read-only");
	conn_dispatch(c); /* starts reading and the idle timer */
}

int control_new(uv_loop_t *loop, const struct control_options *o,
		const struct control_method *methods, size_t n_methods, void *userdata,
		struct control **ret)
{
	char message[96];
	int fd = -1, r;

	assert(o->path || o->listen_fd >= 0);
	for (size_t i = 0; i < n_methods; i++)
		assert(methods[i].name && methods[i].handler);
	r = ctlsock_ignore_sigpipe();
	if (r < 0)
		return log_errno(LOG_ERR, r, "control socket: ignoring SIGPIPE: %m");

	struct control *c = calloc(1, sizeof(*c));
	if (!c)
		return log_errno(LOG_ERR, -ENOMEM, "control socket: %m");
	c->loop = loop;
	c->o = *o;
	if (!c->o.max_conns)
		c->o.max_conns = CTL_MAX_CONNS;
	if (!c->o.idle_ms)
		c->o.idle_ms = CTL_IDLE_MS;
	if (!c->o.max_request_bytes)
		c->o.max_request_bytes = CTL_MAX_REQUEST_BYTES;
	if (!c->o.max_pending_out_bytes)
		c->o.max_pending_out_bytes = CTL_MAX_PENDING_OUT_BYTES;
	c->methods = methods;
	c->n_methods = n_methods;
	c->userdata = userdata;
	c->path = o->path ? strdup(o->path) : NULL;
	c->admin_group = o->admin_group ? strdup(o->admin_group) : NULL;
	str_printf(message, sizeof(message), "too many connections (limit %u), try again later",
		   c->o.max_conns);
	r = jrpc_error(NULL, JRPC_BUSY, message, NULL, &c->busy_line, &c->busy_len);
	if (r < 0 || (o->path && !c->path) || (o->admin_group && !c->admin_group)) {
		c->freeing = true;
		control_maybe_release(c);
		return log_errno(LOG_ERR, -ENOMEM, "control socket: %m");
	}
	c->o.path = c->path;
	c->o.admin_group = c->admin_group;

	if (o->listen_fd >= 0) {
		fd = o->listen_fd;
		r = ctlsock_check_adopted(fd);
		if (r < 0)
			(void)close(fd);
	} else {
		r = ctlsock_create(c->path, c->o.group, c->o.mode, &fd, &c->sock_dev, &c->sock_ino);
		c->created = r == 0;
	}
	if (r < 0) {
		control_free(c); /* nothing opened yet: frees at once */
		return r;
	}
	(void)uv_pipe_init(loop, &c->listener, 0);
	(void)uv_idle_init(loop, &c->kick);
	c->listener.data = c;
	c->kick.data = c;
	c->kick_cb = on_kick;
	c->open_handles = 2;
	r = uv_pipe_open(&c->listener, fd);
	if (r < 0) {
		(void)close(fd);
		log_error("control socket '%s': %s", c->path ? c->path : "(passed)",
			  uv_strerror(r));
		control_free(c);
		return r;
	}
	r = uv_listen((uv_stream_t *)&c->listener, SOMAXCONN, on_connection);
	if (r < 0) {
		log_error("control socket '%s': listening: %s", c->path ? c->path : "(passed)",
			  uv_strerror(r));
		control_free(c);
		return r;
	}
	log_debug("control: listening on '%s' (max %u connections, idle %" PRIu64 " ms)",
		  c->path ? c->path : "(passed socket)", c->o.max_conns, c->o.idle_ms);
	*ret = c;
	return 0;
}
