/* daemon/controlreply.c: answering the control socket's calls, and what goes
 * out on a connection, and how a connection ends; see controlreply.h and
 * control_internal.h. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "daemon/control_internal.h"
#include "daemon/controlreply.h"
#include "daemon/heaptrim.h"
#include "daemon/log.h"

/* ---- a connection's end ---- */

void control_maybe_release(struct control *c)
{
	if (!c->freeing || c->open_handles > 0 || c->conns)
		return;
	free(c->path);
	free(c->admin_group);
	free(c->busy_line);
	free(c);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct control *ctl = c->control;

	if (--c->open_handles > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	jrpc_reader_done(&c->in);
	free(c);
	control_maybe_release(ctl);
}

/* The one teardown of a connection: every error path ends here. The
 * connection's memory goes in on_conn_handle_closed(); a call still being
 * handled is detached and lives on until it is answered. */
void control_conn_end(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->ready = false;
	c->control->n_conns--;
	if (c->call) {
		c->call->conn = NULL;
		c->call = NULL;
	}
	uv_close((uv_handle_t *)&c->pipe, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->idle, on_conn_handle_closed);
}

void control_on_conn_idle(uv_timer_t *t)
{
	struct conn *c = t->data;

	if (c->finishing || c->call)
		log_debug("control: connection %" PRIu64 ": output not read in %" PRIu64
			  " ms, closing",
			  c->id, c->control->o.idle_ms);
	else
		log_debug("control: connection %" PRIu64 ": no request in %" PRIu64 " ms, closing",
			  c->id, c->control->o.idle_ms);
	control_conn_end(c);
}

/* ---- output ---- */

struct out {
	uv_write_t req;           /* req.data == this */
	char *data;               /* owned */
	size_t len;
	struct control_call *then; /* borrowed: the call whose part this is, or NULL */
};

static void call_parts_resume(struct control_call *call);

static void on_write_done(uv_write_t *req, int status)
{
	struct out *o = req->data;
	struct conn *c = req->handle->data; /* valid: close callbacks come after write callbacks */
	struct control_call *then = o->then;

	free(o->data);
	if (o->len >= HEAPTRIM_MIN_FREE)
		heaptrim_release(); /* a status of 10k certs is megabytes */
	free(o);
	c->n_writes--;
	if (status < 0 && status != UV_ECANCELED) {
		log_debug("control: connection %" PRIu64 ": write failed: %s", c->id,
			  uv_strerror(status));
		control_conn_end(c);
	} else if (c->finishing && c->n_writes == 0) {
		control_conn_end(c);
	}
	if (then)
		call_parts_resume(then); /* after control_conn_end(): a call cut off is given up */
}

/* Queues one line (consumed) on the connection, with on_write_done() to
 * resume `then` once it is written. False: not queued (the connection is
 * closing, or is closed now). */
static bool conn_send(struct conn *c, char *line, size_t len, struct control_call *then)
{
	struct control *ctl = c->control;
	int r;

	if (c->closing) {
		free(line);
		return false;
	}
	/* Judge by what is already waiting, so that one large answer to a client
	 * that reads does not count against it. */
	size_t unsent = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
	if (unsent >= ctl->o.max_pending_out_bytes) {
		log_warning("control: connection %" PRIu64 " (uid %u) does not read its replies "
			    "(%zu bytes unsent), closing it",
			    c->id, (unsigned)c->peer.uid, unsent);
		free(line);
		control_conn_end(c);
		return false;
	}
	assert(len <= UINT_MAX);
	struct out *o = malloc(sizeof(*o));
	if (!o) {
		log_error("control: connection %" PRIu64 ": out of memory, closing it", c->id);
		free(line);
		control_conn_end(c);
		return false;
	}
	o->data = line;
	o->len = len;
	o->then = then;
	o->req.data = o;
	uv_buf_t buf = uv_buf_init(line, (unsigned)len);
	r = uv_write(&o->req, (uv_stream_t *)&c->pipe, &buf, 1, on_write_done);
	if (r < 0) {
		log_debug("control: connection %" PRIu64 ": write failed: %s", c->id,
			  uv_strerror(r));
		free(line);
		free(o);
		control_conn_end(c);
		return false;
	}
	c->n_writes++;
	return true;
}

void control_conn_send_consume(struct conn *c, char *line, size_t len)
{
	(void)conn_send(c, line, len, NULL);
}

void control_conn_send_error(struct conn *c, const char *id_json, int code, const char *message,
			    const char *data_json)
{
	char *line;
	size_t len;
	int r;

	r = jrpc_error(id_json, code, message, data_json, &line, &len);
	if (r < 0) {
		/* Only out of memory, or invalid data_json from a handler (a bug). */
		log_error("control: connection %" PRIu64 ": building error reply: %s", c->id,
			  strerror(-r));
		r = jrpc_error(id_json, JRPC_INTERNAL_ERROR, "internal error", NULL, &line, &len);
		if (r < 0) {
			control_conn_end(c);
			return;
		}
	}
	control_conn_send_consume(c, line, len);
}

/* ---- calls ---- */

static void call_release(struct control_call *call)
{
	struct conn *c = call->conn;

	if (c) {
		c->call = NULL;
		c->idle_reset = true;
		/* Answered from a handler inside conn_dispatch(): its loop goes
		 * on. Answered later: dispatch the next line from the loop, so
		 * that no handler runs inside this one's caller. */
		if (!c->dispatching && !c->closing) {
			c->ready = true;
			(void)uv_idle_start(&c->control->kick, c->control->kick_cb);
		}
	}
	jrpc_request_free(call->req);
	streamout_done(&call->out);
	free(call);
}

static bool call_wants_answer(const struct control_call *call)
{
	return call->conn && !call->conn->closing && call->req->id_json;
}

static void call_reply(struct control_call *call, const char *result_json, size_t len,
		       bool trusted)
{
	char *line;
	size_t n;
	int r;

	if (call_wants_answer(call)) {
		struct conn *c = call->conn;

		r = trusted ? jrpc_result_trusted(call->req->id_json, result_json, len, &line, &n)
			    : jrpc_result(call->req->id_json, result_json, len, &line, &n);
		if (r >= 0) {
			control_conn_send_consume(c, line, n);
		} else {
			log_error("control: method '%s' produced an invalid result (%s)",
				  call->req->method, strerror(-r));
			control_conn_send_error(c, call->req->id_json, JRPC_INTERNAL_ERROR,
					"internal error: the method produced an invalid result",
					NULL);
		}
	}
	call_release(call);
}

void control_call_reply(struct control_call *call, const char *result_json, size_t len)
{
	call_reply(call, result_json, len, false);
}

void control_call_reply_trusted(struct control_call *call, const char *result_json, size_t len)
{
	call_reply(call, result_json, len, true);
}

/* ---- a result made in parts ---- */

static void call_parts_end(struct control_call *call)
{
	if (call->free_userdata)
		call->free_userdata(call->make_userdata);
	json_writer_free(call->w);
	call->w = NULL;
	call_release(call);
}

/* Out of memory, or a make() that wrote no valid JSON (a bug). */
static void call_parts_fail(struct control_call *call)
{
	if (call_wants_answer(call)) {
		log_error("control: method '%s': building the reply failed", call->req->method);
		if (call->out.sent)
			control_conn_end(call->conn); /* part of the line is out: no error line after it */
		else
			control_conn_send_error(call->conn, call->req->id_json, JRPC_INTERNAL_ERROR,
					"internal error: building the reply failed", NULL);
	}
	call_parts_end(call);
}

/* Makes parts until the socket holds one back, or this turn has written
 * CONTROL_TURN_BYTES (so that other work gets the loop), or the result is
 * whole. What is held back goes through the write queue, and its
 * on_write_done() comes back here for the next part. */
static void call_parts_pump(struct control_call *call)
{
	char *buf, *line;
	size_t len, n;
	bool done;

	if (!call_wants_answer(call)) {
		call_parts_end(call);
		return;
	}
	struct conn *c = call->conn;
	/* A subscriber gets notifications, which must not land inside the
	 * line: its result is made whole and then sent, as one write. */
	bool whole = c->subscriber;
	streamout_turn(&call->out, whole ? NULL : (uv_stream_t *)&c->pipe, CONTROL_TURN_BYTES);
	for (;;) {
		done = call->make(call->w, call->make_userdata);
		if (done)
			break;
		if (json_writer_flush(call->w, streamout_sink, &call->out) < 0) {
			call_parts_fail(call);
			return;
		}
		if (!whole && streamout_carrying(&call->out))
			break;
	}
	if (done) {
		if (jrpc_result_end(call->w, &line, &n) < 0 ||
		    streamout_finish(&call->out, line, n, &buf, &len) < 0) {
			call_parts_fail(call);
			return;
		}
		control_conn_send_consume(c, buf, len);
		call_parts_end(call);
		return;
	}
	if (streamout_finish(&call->out, NULL, 0, &buf, &len) < 0) {
		call_parts_fail(call);
		return;
	}
	call->part_writing = true;
	/* A client that stops reading is dropped after idle_ms, as if silent. */
	(void)uv_timer_start(&c->idle, control_on_conn_idle, c->control->o.idle_ms, 0);
	if (!conn_send(c, buf, len, call)) {
		call->part_writing = false;
		call_parts_end(call); /* the connection is gone */
	}
}

static void call_parts_resume(struct control_call *call)
{
	call->part_writing = false;
	if (call_wants_answer(call))
		(void)uv_timer_stop(&call->conn->idle);
	call_parts_pump(call);
}

void control_call_reply_parts(struct control_call *call, control_part_fn make, void *userdata,
			      void (*free_userdata)(void *userdata))
{
	call->make = make;
	call->make_userdata = userdata;
	call->free_userdata = free_userdata;
	streamout_init(&call->out);
	if (!call_wants_answer(call)) {
		call_parts_end(call);
		return;
	}
	call->w = json_writer_new(false);
	if (!call->w || jrpc_result_begin(call->w, call->req->id_json) < 0) {
		call_parts_fail(call);
		return;
	}
	call_parts_pump(call);
}

void control_call_error(struct control_call *call, int code, const char *message,
			const char *data_json)
{
	if (call_wants_answer(call))
		control_conn_send_error(call->conn, call->req->id_json, code, message, data_json);
	call_release(call);
}

void control_call_subscribe(struct control_call *call)
{
	if (call->conn)
		call->conn->subscriber = true;
}

const struct control_peer *control_call_peer(const struct control_call *call)
{
	return &call->peer;
}

const char *control_call_method(const struct control_call *call)
{
	return call->req->method;
}

bool control_call_connected(const struct control_call *call)
{
	return call->conn && !call->conn->closing;
}

int control_notify(struct control *c, const char *method, const char *params_json, size_t len)
{
	_cleanup_free_ char *line = NULL;
	size_t n;
	int r, sent = 0;

	r = jrpc_notification(method, params_json, len, &line, &n);
	if (r < 0)
		return log_errno(LOG_ERR, r, "control: notification '%s' not sent: %m", method);
	for (struct conn *conn = c->conns; conn; conn = conn->next) {
		if (!conn->subscriber || conn->closing)
			continue;
		char *copy = malloc(n + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, line, n + 1);
		control_conn_send_consume(conn, copy, n);
		sent++;
	}
	return sent;
}
