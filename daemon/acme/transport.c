/* daemon/acme/transport.c: directory, nonce pool, JWS-signed POSTs and the retry policy.
 * See transport.h for the contract.
 *
 * An op is one logical request. op_step() makes its next move: for a POST that is "get a
 * nonce" (from the pool, by HEAD newNonce, or by first waiting for the directory) and then
 * "sign and send". HTTP answers come back in on_http_done()/on_nonce_done(), which either
 * schedule another step (badNonce: at once; 5xx, network errors, short Retry-After: on the
 * op's uv timer) or deliver the reply. Delivery detaches the op from its conn first, so a
 * callback may free the conn; the op itself is freed in its timer's close callback.
 *
 * The pieces with no loop in them are modules of their own, below this one:
 * transport_nonce (the nonce pool), transport_retry (the policy's numbers),
 * transport_reply (the reply and the texts about answers) and transport_dir (the cached
 * directory, and whether an answer is one). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/list.h"
#include "common/json.h"
#include "common/jws.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/acme/transport.h"
#include "daemon/acme/transport_dir.h"
#include "daemon/acme/transport_nonce.h"
#include "daemon/acme/transport_retry.h"
#include "daemon/log.h"

/* ---- state ------------------------------------------------------------------------------- */

struct acme_conn {
	struct http *http;    /* borrowed */
	uv_loop_t *loop;      /* borrowed */
	char *directory_url;  /* owned */
	char *ca_bundle;      /* owned or NULL */
	struct acme_retry_policy policy;
	const struct key *key; /* borrowed */
	const struct acme_signer_ops *signer; /* borrowed; used when key is NULL */
	void *signer_ctx;
	char *kid;             /* owned or NULL */

	struct transport_dir dir;  /* the cache */
	struct acme_op *dir_fetch; /* the fetch in flight, or NULL */

	struct list_link ops;         /* struct acme_op.link: every op not yet delivered */
	struct list_link dir_waiters; /* struct acme_op.wait: ops waiting for the directory */
	struct transport_nonce_pool nonces;
	bool *destroyed;         /* set by acme_conn_free() while a delivery loop runs */
	uint64_t n_requests;     /* HTTP requests answered or failed, retries included */
	uint64_t n_errors;       /* of those: no answer, or an HTTP status >= 400 */
};

enum op_kind {
	OP_DIRECTORY,       /* a caller's acme_conn_directory() */
	OP_FETCH_DIRECTORY, /* the internal fetch that answers them */
	OP_GET,
	OP_POST,
};

struct acme_op {
	struct list_link link;       /* in c->ops until delivered or cancelled */
	struct list_link wait;       /* in c->dir_waiters while waiting for the directory */
	struct acme_conn *c;    /* borrowed; NULL once detached */
	uv_timer_t timer;       /* timer.data == this; the op is freed in on_op_closed */
	enum op_kind kind;
	bool delivering;        /* its callback runs: cancel is a no-op */
	acme_cb cb;
	void *ud;
	char *url;              /* owned */
	char *payload;          /* owned; NULL for POST-as-GET */
	const struct key *key;  /* borrowed signing key */
	const struct acme_signer_ops *signer; /* when key is NULL: signs in another process */
	void *signer_ctx;
	uint64_t sign_id;       /* the signature being made */
	bool signing;           /* waiting for the signer */
	char *kid;              /* owned; NULL embeds the JWK */
	struct http_xfer *xfer; /* the HTTP request in flight, or NULL */
	unsigned retries, bad_nonces, attempts;
	yajl_val json;          /* owned: the last answer's body */
	struct acme_problem problem; /* owned: the last answer's problem, if have_problem */
	bool have_problem;
	bool once;              /* acme_conn_post_once: no resend once it may have arrived */
};

static int op_step(struct acme_op *op);
static void op_fail(struct acme_op *op, int error, const char *fmt, ...) _printf_(3, 4);

static const char *op_method(const struct acme_op *op)
{
	return op->kind == OP_POST ? "POST" : "GET";
}

/* ---- counters ------------------------------------------------------------------------- */

size_t acme_conn_get_nonce_count(const struct acme_conn *c)
{
	return c ? transport_nonce_count(&c->nonces) : 0;
}

/* Counted when each HTTP exchange ends, so that /metrics sees every retry. */
static void count_request(struct acme_conn *c, const struct http_response *resp)
{
	c->n_requests++;
	if (resp->error || resp->status >= 400)
		c->n_errors++;
}

void acme_conn_get_counts(const struct acme_conn *c, uint64_t *ret_requests, uint64_t *ret_errors)
{
	*ret_requests = c ? c->n_requests : 0;
	*ret_errors = c ? c->n_errors : 0;
}

/* ---- op lifetime ------------------------------------------------------------------------- */

static void op_clear_answer(struct acme_op *op)
{
	if (op->json) {
		yajl_tree_free(op->json);
		op->json = NULL;
	}
	if (op->have_problem) {
		acme_problem_done(&op->problem);
		op->have_problem = false;
	}
}

static void on_op_closed(uv_handle_t *handle)
{
	struct acme_op *op = handle->data;

	op_clear_answer(op);
	free(op->url);
	free(op->payload);
	free(op->kid);
	free(op);
}

static struct acme_op *op_new(struct acme_conn *c, enum op_kind kind, const char *url,
			      acme_cb cb, void *ud)
{
	struct acme_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->url = strdup(url);
	if (!op->url || uv_timer_init(c->loop, &op->timer) < 0) {
		free(op->url);
		free(op);
		return NULL;
	}
	op->timer.data = op;
	op->c = c;
	op->kind = kind;
	op->cb = cb;
	op->ud = ud;
	list_init(&op->wait);
	list_add_tail(&c->ops, &op->link);
	return op;
}

/* Takes the op out of its conn: from here on it must not touch op->c. */
static void op_detach(struct acme_op *op)
{
	if (!op->c)
		return;
	if (op->c->dir_fetch == op)
		op->c->dir_fetch = NULL;
	list_del(&op->link);
	list_del(&op->wait);
	op->c = NULL;
}

static void op_close(struct acme_op *op)
{
	op_detach(op);
	if (op->xfer) {
		http_cancel(op->xfer);
		op->xfer = NULL;
	}
	if (op->signing) {
		op->signing = false;
		op->signer->cancel(op->signer_ctx, op->sign_id);
	}
	(void)uv_timer_stop(&op->timer);
	uv_close((uv_handle_t *)&op->timer, on_op_closed);
}

static void op_deliver(struct acme_op *op, const struct acme_reply *r)
{
	op_detach(op);
	op->delivering = true;
	if (op->cb)
		op->cb(r, op->ud);
	op_close(op);
}

static void op_fail(struct acme_op *op, int error, const char *fmt, ...)
{
	struct acme_reply r = {
		.error = error < 0 ? error : -EIO,
		.body = "",
		.retry_after_sec = -1,
		.url = op->url,
		.attempts = op->attempts,
	};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.error_text, sizeof(r.error_text), fmt, ap);
	va_end(ap);
	op_deliver(op, &r);
}

void acme_op_cancel(struct acme_op *op)
{
	if (!op || op->delivering)
		return;
	op_close(op);
}

/* ---- replies ---------------------------------------------------------------------------- */

static void reply_init(struct acme_reply *r, const struct acme_op *op,
		       const struct http_response *resp)
{
	*r = (struct acme_reply){
		.error = resp->error,
		.status = resp->status,
		.json = op->json,
		.body = resp->body,
		.body_len = resp->body_len,
		.content_type = resp->content_type,
		.location = resp->location,
		.retry_after_sec = resp->retry_after_sec,
		.problem = op->have_problem ? &op->problem : NULL,
		.link_alternate = resp->link_alternate,
		.n_link_alternate = resp->n_link_alternate,
		.link_up = resp->link_up,
		.link_next = resp->link_next,
		.url = op->url,
		.attempts = op->attempts,
	};
	if (resp->error)
		str_printf(r->error_text, sizeof(r->error_text), "%s %s: %s%s", op_method(op),
			   op->url, resp->error_text, op->attempts > 1 ? " (after retries)" : "");
}

/* Parses the body of an answer into op->json (and op->problem). Returns 0, or -EPROTO with
 * the reason in err when the body claims to be JSON and is not. */
static int parse_answer(struct acme_op *op, const struct http_response *resp, char *err,
			size_t err_size)
{
	bool problem;
	int r;

	op_clear_answer(op);
	if (!transport_reply_is_json(resp->content_type, &problem))
		return 0;
	if (resp->body_len == 0) {
		str_printf(err, err_size, "empty JSON body");
		return -EPROTO;
	}
	r = json_parse(resp->body, resp->body_len, ACME_MAX_BODY_BYTES, &op->json, err,
		       err_size);
	if (r < 0)
		return r == -ENOMEM ? r : -EPROTO;
	if (problem) {
		char perr[160];

		if (acme_problem_parse(op->json, &op->problem, perr, sizeof(perr)) >= 0)
			op->have_problem = true;
		else
			log_debug("%s: unusable problem document: %s", op->url, perr);
	}
	return 0;
}

/* ---- retries ---------------------------------------------------------------------------- */

static void on_retry_timer(uv_timer_t *t)
{
	struct acme_op *op = t->data;
	int r;

	r = op_step(op);
	if (r < 0)
		op_fail(op, r, "%s %s: %s", op_method(op), op->url, strerror(-r));
}

/* why: what went wrong, for the log line. */
static void schedule_retry(struct acme_op *op, uint64_t delay_ms, const char *why)
{
	struct acme_conn *c = op->c;
	char d[32];

	op->retries++;
	time_format_duration(delay_ms, d, sizeof(d));
	log_info("%s %s: %s; retrying in %s (%u/%u)", op_method(op), op->url, why, d,
		 op->retries, c->policy.max_retries);
	op_clear_answer(op);
	(void)uv_timer_start(&op->timer, on_retry_timer, delay_ms, 0);
}

/* Decides whether an answer is retried. true: a retry is scheduled (or started). */
static bool maybe_retry(struct acme_op *op, const struct http_response *resp)
{
	struct acme_conn *c = op->c;
	char why[256];
	int r;

	transport_reply_describe_answer(resp, op->have_problem ? &op->problem : NULL, why,
					sizeof(why));
	if (resp->error) {
		if (!transport_retry_is_transient(resp->error) ||
		    op->retries >= c->policy.max_retries)
			return false;
		/* Only a request that never reached the CA is safe to send again. */
		if (op->once && resp->error != -ECONNREFUSED && resp->error != -EHOSTUNREACH)
			return false;
		schedule_retry(op, transport_retry_backoff_ms(&c->policy, op->retries), why);
		return true;
	}
	if (op->kind == OP_POST && resp->status == 400 && op->have_problem &&
	    acme_problem_is(&op->problem, "badNonce")) {
		if (op->bad_nonces >= c->policy.max_bad_nonce)
			return false;
		op->bad_nonces++;
		log_info("%s %s: %s; re-signing with a fresh nonce (%u/%u)", op_method(op),
			 op->url, why, op->bad_nonces, c->policy.max_bad_nonce);
		op_clear_answer(op);
		r = op_step(op);
		if (r < 0)
			op_fail(op, r, "%s %s: %s", op_method(op), op->url, strerror(-r));
		return true;
	}
	if ((resp->status == 429 || resp->status == 503) && resp->retry_after_sec >= 0) {
		uint64_t wait_ms = (uint64_t)resp->retry_after_sec * 1000;

		if (resp->retry_after_sec > (int64_t)(c->policy.max_retry_after_ms / 1000) ||
		    op->retries >= c->policy.max_retries)
			return false;
		schedule_retry(op, MAX(wait_ms, (uint64_t)1000), why);
		return true;
	}
	if (resp->status >= 500 && resp->status <= 599) {
		if (op->retries >= c->policy.max_retries || op->once)
			return false;
		schedule_retry(op, transport_retry_backoff_ms(&c->policy, op->retries), why);
		return true;
	}
	return false;
}

/* ---- the directory ------------------------------------------------------------------------ */

static void on_cached_directory(uv_timer_t *t)
{
	struct acme_op *op = t->data;
	struct acme_reply r;

	transport_dir_reply(&op->c->dir, op->url, &r);
	op_deliver(op, &r);
}

/* Hands the fetch result to everyone waiting: directory ops get the reply, POSTs that
 * waited for newNonce continue (or fail). Then closes the fetch op. */
static void dir_fetch_finish(struct acme_op *fop, const struct acme_reply *r, bool ok)
{
	struct acme_conn *c = fop->c;
	struct list_link waiters;
	bool destroyed = false;

	list_init(&waiters);
	if (!list_empty(&c->dir_waiters)) {
		/* splice: the local list takes every waiter, new ones go to a fresh fetch */
		waiters.next = c->dir_waiters.next;
		waiters.prev = c->dir_waiters.prev;
		waiters.next->prev = &waiters;
		waiters.prev->next = &waiters;
		list_init(&c->dir_waiters);
	}
	op_detach(fop);
	c->destroyed = &destroyed;
	while (!destroyed && !list_empty(&waiters)) {
		struct acme_op *op = container_of(waiters.next, struct acme_op, wait);
		int res;

		list_del(&op->wait);
		if (op->kind == OP_DIRECTORY) {
			op_deliver(op, r);
		} else if (ok) {
			res = op_step(op);
			if (res < 0)
				op_fail(op, res, "%s %s: %s", op_method(op), op->url, strerror(-res));
		} else {
			op_fail(op, r->error ? r->error : -EPROTO, "%s %s: no directory: %s",
				op_method(op), op->url, r->error_text);
		}
	}
	if (!destroyed)
		c->destroyed = NULL;
	op_close(fop);
}

/* The answer to the directory fetch: cache it, or fail every waiter. */
static void dir_fetch_done(struct acme_op *fop, const struct http_response *resp, int perr,
			   const char *perr_text)
{
	struct acme_conn *c = fop->c;
	struct acme_reply r;

	reply_init(&r, fop, resp);
	if (transport_dir_store(&c->dir, resp, &fop->json, fop->have_problem ? &fop->problem : NULL,
				perr, perr_text, fop->url, &r) < 0) {
		dir_fetch_finish(fop, &r, false);
		return;
	}
	log_debug("directory of '%s' cached: %zu profiles, renewalInfo %s, issuerDomainNames %zu",
		  c->directory_url, c->dir.parsed.meta.n_profiles,
		  c->dir.parsed.renewal_info ? "yes" : "no",
		  c->dir.parsed.meta.n_issuer_domain_names);
	transport_dir_reply(&c->dir, fop->url, &r);
	r.attempts = fop->attempts;
	dir_fetch_finish(fop, &r, true);
}

/* Puts op on the waiting list and makes sure one fetch runs. */
static int dir_wait(struct acme_op *op)
{
	struct acme_conn *c = op->c;
	int r;

	if (!c->dir_fetch) {
		struct acme_op *fop = op_new(c, OP_FETCH_DIRECTORY, c->directory_url, NULL, NULL);
		if (!fop)
			return -ENOMEM;
		c->dir_fetch = fop;
		r = op_step(fop);
		if (r < 0) {
			op_close(fop);
			return r;
		}
	}
	list_del(&op->wait);
	list_add_tail(&c->dir_waiters, &op->wait);
	return 0;
}

/* ---- HTTP answers -------------------------------------------------------------------------- */

static void on_http_done(const struct http_response *resp, void *userdata)
{
	struct acme_op *op = userdata;
	struct acme_reply r;
	char perr_text[200] = "";
	int perr;

	op->xfer = NULL;
	op->attempts++;
	count_request(op->c, resp);
	transport_nonce_add(&op->c->nonces, resp->replay_nonce, op->c->directory_url);
	perr = resp->error ? 0 : parse_answer(op, resp, perr_text, sizeof(perr_text));
	if (maybe_retry(op, resp))
		return;
	if (op->kind == OP_FETCH_DIRECTORY) {
		dir_fetch_done(op, resp, perr, perr_text);
		return;
	}
	reply_init(&r, op, resp);
	if (!resp->error && perr < 0 && resp->status >= 200 && resp->status <= 299) {
		r.error = perr;
		str_printf(r.error_text, sizeof(r.error_text), "%s %s: malformed JSON in the answer: %s",
			   op_method(op), op->url, perr_text);
	}
	if (resp->status == 400 && op->have_problem && acme_problem_is(&op->problem, "badNonce"))
		log_warning("%s %s: badNonce %u times in a row, giving up", op_method(op), op->url,
			    op->bad_nonces + 1);
	op_deliver(op, &r);
}

static void on_nonce_done(const struct http_response *resp, void *userdata)
{
	struct acme_op *op = userdata;
	struct acme_conn *c = op->c;
	char why[256];
	int r;

	op->xfer = NULL;
	count_request(c, resp);
	transport_nonce_add(&c->nonces, resp->replay_nonce, c->directory_url);
	if (transport_nonce_count(&c->nonces) > 0) {
		r = op_step(op);
		if (r < 0)
			op_fail(op, r, "%s %s: %s", op_method(op), op->url, strerror(-r));
		return;
	}
	if (resp->error)
		str_printf(why, sizeof(why), "newNonce: %s", resp->error_text);
	else
		str_printf(why, sizeof(why), "newNonce: HTTP %ld without a usable Replay-Nonce",
			   resp->status);
	if (op->retries < c->policy.max_retries &&
	    (transport_retry_is_transient(resp->error) || resp->status >= 500 ||
	     resp->status == 429)) {
		schedule_retry(op, transport_retry_backoff_ms(&c->policy, op->retries), why);
		return;
	}
	op_fail(op, resp->error ? resp->error : -EPROTO, "%s %s: %s", op_method(op), op->url, why);
}

/* ---- steps ---------------------------------------------------------------------------- */

static int submit(struct acme_op *op, const char *method, const char *url, const char *body,
		  size_t body_len, http_cb cb)
{
	struct acme_conn *c = op->c;
	struct http_request req = {
		.method = method,
		.url = url,
		.body = body,
		.body_len = body_len,
		.content_type = body ? "application/jose+json" : NULL,
		.ca_bundle = c->ca_bundle,
		.timeout_ms = c->policy.timeout_ms,
		.max_body_bytes = ACME_MAX_BODY_BYTES,
		.fresh_connection = op->once && body,
	};

	return http_submit(c->http, &req, cb, op, &op->xfer);
}

static void on_signed(int r, const char *jws, const char *why, void *ud)
{
	struct acme_op *op = ud;

	op->signing = false;
	if (r < 0) {
		op_fail(op, r, "POST %s: the signer: %s", op->url, why ? why : strerror(-r));
		return;
	}
	r = submit(op, "POST", op->url, jws, strlen(jws), on_http_done);
	if (r < 0)
		op_fail(op, r, "POST %s: %s", op->url, strerror(-r));
}

static int post_step(struct acme_op *op)
{
	struct acme_conn *c = op->c;
	_cleanup_free_ char *nonce = NULL, *body = NULL;
	int r;

	nonce = transport_nonce_take(&c->nonces);
	if (!nonce) {
		if (!c->dir.valid)
			return dir_wait(op);
		return submit(op, "HEAD", c->dir.parsed.new_nonce, NULL, 0, on_nonce_done);
	}
	if (!op->key) {
		/* The nonce is spent either way: a failed signature just ends the op. */
		r = op->signer->sign(op->signer_ctx, op->url, nonce, op->kid, op->payload, on_signed,
				     op, &op->sign_id);
		if (r < 0)
			return r;
		op->signing = true;
		return 0;
	}
	r = jws_build(op->key, nonce, op->url, op->kid, op->payload,
		      op->payload ? strlen(op->payload) : 0, &body);
	if (r < 0)
		return r;
	return submit(op, "POST", op->url, body, strlen(body), on_http_done);
}

static int op_step(struct acme_op *op)
{
	switch (op->kind) {
	case OP_DIRECTORY:
		if (op->c->dir.valid)
			return uv_timer_start(&op->timer, on_cached_directory, 0, 0) < 0 ? -EIO : 0;
		return dir_wait(op);
	case OP_FETCH_DIRECTORY:
	case OP_GET:
		return submit(op, "GET", op->url, NULL, 0, on_http_done);
	case OP_POST:
		return post_step(op);
	}
	return -EINVAL;
}

/* ---- public API ------------------------------------------------------------------------- */

static bool is_https(const char *url)
{
	return url && strncasecmp(url, "https://", 8) == 0 && url[8] &&
	       strlen(url) <= ACME_MAX_URL_BYTES;
}

int acme_conn_new(struct http *http, uv_loop_t *loop, const char *directory_url,
		  const char *ca_bundle, struct acme_conn **ret)
{
	struct acme_conn *c;

	if (!http || !loop || !ret || !is_https(directory_url))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->http = http;
	c->loop = loop;
	c->policy = transport_retry_default;
	list_init(&c->ops);
	list_init(&c->dir_waiters);
	c->directory_url = strdup(directory_url);
	c->ca_bundle = ca_bundle ? strdup(ca_bundle) : NULL;
	if (!c->directory_url || (ca_bundle && !c->ca_bundle)) {
		acme_conn_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void acme_conn_free(struct acme_conn *c)
{
	if (!c)
		return;
	if (c->destroyed)
		*c->destroyed = true;
	while (!list_empty(&c->ops))
		op_close(container_of(c->ops.next, struct acme_op, link));
	transport_nonce_clear(&c->nonces);
	transport_dir_clear(&c->dir);
	free(c->kid);
	free(c->directory_url);
	free(c->ca_bundle);
	free(c);
}

void acme_conn_set_policy(struct acme_conn *c, const struct acme_retry_policy *p)
{
	c->policy = *p;
	transport_retry_normalize(&c->policy);
}

void acme_conn_get_policy(const struct acme_conn *c, struct acme_retry_policy *ret)
{
	*ret = c->policy;
}

int acme_conn_set_account(struct acme_conn *c, const struct key *key, const char *kid)
{
	char *copy = NULL;

	if (!c)
		return -EINVAL;
	if (kid) {
		copy = strdup(kid);
		if (!copy)
			return -ENOMEM;
	}
	free(c->kid);
	c->kid = copy;
	c->key = key;
	c->signer = NULL;
	c->signer_ctx = NULL;
	return 0;
}

int acme_conn_set_signer(struct acme_conn *c, const struct acme_signer_ops *ops, void *ctx,
			 const char *kid)
{
	int r;

	if (!c || !ops)
		return -EINVAL;
	r = acme_conn_set_account(c, NULL, kid);
	if (r < 0)
		return r;
	c->signer = ops;
	c->signer_ctx = ctx;
	return 0;
}

int acme_conn_directory(struct acme_conn *c, acme_cb cb, void *ud)
{
	struct acme_op *op;
	int r;

	if (!c || !cb)
		return -EINVAL;
	op = op_new(c, OP_DIRECTORY, c->directory_url, cb, ud);
	if (!op)
		return -ENOMEM;
	r = op_step(op);
	if (r < 0) {
		op_close(op);
		return r;
	}
	return 0;
}

const struct acme_directory *acme_conn_get_directory(const struct acme_conn *c)
{
	return c && c->dir.valid ? &c->dir.parsed : NULL;
}

static int start_post(struct acme_conn *c, const char *url, const char *payload,
		      const struct key *key, const struct acme_signer_ops *signer,
		      void *signer_ctx, const char *kid, bool once, acme_cb cb, void *ud,
		      struct acme_op **ret_op)
{
	struct acme_op *op;
	int r;

	if (!c || !cb || (!key && !signer) || !is_https(url))
		return -EINVAL;
	op = op_new(c, OP_POST, url, cb, ud);
	if (!op)
		return -ENOMEM;
	op->key = key;
	op->signer = key ? NULL : signer;
	op->signer_ctx = signer_ctx;
	op->once = once;
	if ((payload && !(op->payload = strdup(payload))) || (kid && !(op->kid = strdup(kid)))) {
		op_close(op);
		return -ENOMEM;
	}
	r = op_step(op);
	if (r < 0) {
		op_close(op);
		return r;
	}
	if (ret_op)
		*ret_op = op;
	return 0;
}

int acme_conn_post(struct acme_conn *c, const char *url, const char *payload, bool use_jwk,
		   acme_cb cb, void *ud, struct acme_op **ret_op)
{
	if (!c)
		return -EINVAL;
	return start_post(c, url, payload, c->key, c->signer, c->signer_ctx,
			  use_jwk ? NULL : c->kid, false, cb, ud, ret_op);
}

int acme_conn_post_once(struct acme_conn *c, const char *url, const char *payload, acme_cb cb,
			void *ud, struct acme_op **ret_op)
{
	if (!c)
		return -EINVAL;
	return start_post(c, url, payload, c->key, c->signer, c->signer_ctx, c->kid, true, cb, ud,
			  ret_op);
}

int acme_conn_post_with_key(struct acme_conn *c, const char *url, const char *payload,
			    const struct key *key, acme_cb cb, void *ud, struct acme_op **ret_op)
{
	return start_post(c, url, payload, key, NULL, NULL, NULL, false, cb, ud, ret_op);
}

int acme_conn_get(struct acme_conn *c, const char *url, acme_cb cb, void *ud,
		  struct acme_op **ret_op)
{
	struct acme_op *op;
	int r;

	if (!c || !cb || !is_https(url))
		return -EINVAL;
	op = op_new(c, OP_GET, url, cb, ud);
	if (!op)
		return -ENOMEM;
	r = op_step(op);
	if (r < 0) {
		op_close(op);
		return r;
	}
	if (ret_op)
		*ret_op = op;
	return 0;
}
