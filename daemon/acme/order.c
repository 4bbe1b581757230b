#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"
#include "daemon/acme/authz.h"
#include "daemon/acme/chain.h"
#include "daemon/acme/order.h"
#include "daemon/acme/pollwait.h"
#include "daemon/acme/orderbody.h"
#include "daemon/acme/orphan.h"
#include "daemon/acme/transport.h"
#include "daemon/keygen.h"
#include "daemon/log.h"

/* How long we keep polling one authorization or the order, in total. */

enum order_phase {
	PHASE_START,          /* waiting for the first turn of the loop */
	PHASE_NEW_ORDER,
	PHASE_FETCH_ORDER,
	PHASE_FIND_ORPHAN,    /* the account, then its orders list, then its orders */
	PHASE_AUTHZ,          /* the authorizations (daemon/acme/authz) */
	PHASE_ORDER_READY,    /* waiting for status ready */
	PHASE_KEYGEN,
	PHASE_FINALIZE,
	PHASE_ORDER_VALID,    /* waiting for status valid */
	PHASE_DOWNLOAD,
	PHASE_DONE,
};

struct order_job {
	struct order_env env;              /* its pointers borrowed */
	const struct config_cert *cfg;     /* borrowed */
	char *profile;                     /* owned or NULL */
	char *replaces;                    /* owned or NULL */
	bool new_order_held;
	bool dry_run;                      /* stop before finalize (order.h) */
	char *order_url;                   /* owned */
	int pending_key_error;
	order_url_fn on_order_url;
	order_intent_fn on_order_intent;
	order_url_taken_fn url_taken;
	bool find_orphan;                  /* look for an orphan before the next newOrder */
	bool orphan_searched;              /* once per job */
	order_challenge_fn on_challenge;
	order_key_fn save_key;
	order_done_fn done;
	void *userdata;                    /* borrowed */

	enum order_phase phase;
	struct acme_order order;           /* the last order object seen */
	bool have_order;
	struct authz_run *authz_run;       /* in flight, or NULL */
	struct acme_op *op;                /* in flight, or NULL */
	struct orphan_search *orphan;      /* in flight, or NULL */
	struct keygen *keygen;             /* in flight, or NULL */
	struct key *cert_key;              /* owned */
	struct chain_dl *chain_dl;         /* in flight, or NULL */
	char *message;                     /* owned: result.message */
	char *records;                     /* owned: result.records */

	uv_timer_t timer;                  /* polls; timer.data == this */
	struct pollwait poll;
	bool cancelled;                    /* free once the last callback came */
	bool closing;
	struct order_result result;
};

static void step(struct order_job *job);
static void job_release(struct order_job *job);

/* Appends to a heap string that only grows; out of memory keeps what was there, since
 * these are messages and losing a line beats losing the outcome. */
_printf_(2, 0) static void vappend(char **s, const char *fmt, va_list ap)
{
	_cleanup_free_ char *add = NULL;
	char *n;

	if (vasprintf(&add, fmt, ap) < 0)
		return;
	if (!*s) {
		*s = TAKE_PTR(add);
		return;
	}
	if (asprintf(&n, "%s%s", *s, add) < 0)
		return;
	free(*s);
	*s = n;
}

_printf_(2, 3) static void msg(struct order_job *job, const char *fmt, ...)
{
	va_list ap;

	free(job->message);
	job->message = NULL;
	va_start(ap, fmt);
	vappend(&job->message, fmt, ap);
	va_end(ap);
}

/* Replaces *slot with a copy of v (NULL clears it); -ENOMEM keeps the old value. */
static int set_str(char **slot, const char *v)
{
	char *copy = NULL;

	if (v && !(copy = strdup(v)))
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static const char *cert_name(const struct order_job *job)
{
	return job->cfg->name;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct order_job *job = h->data;

	acme_order_done(&job->order);
	key_free(job->cert_key);
	key_free(job->result.key);
	free(job->result.chain);
	free(job->profile);
	free(job->replaces);
	free(job->order_url);
	free(job->message);
	free(job->records);
	free(job);
}

/* Frees the job once nothing can call back into it any more. */
static void job_release(struct order_job *job)
{
	if (job->closing)
		return;
	job->closing = true;
	acme_op_cancel(job->op);
	job->op = NULL;
	orphan_search_cancel(job->orphan);
	job->orphan = NULL;
	keygen_abandon(job->keygen);
	job->keygen = NULL;
	authz_cancel(job->authz_run);
	job->authz_run = NULL;
	chain_cancel(job->chain_dl);
	job->chain_dl = NULL;
	uv_close((uv_handle_t *)&job->timer, on_timer_closed);
}

static void finish(struct order_job *job, int error)
{
	job->phase = PHASE_DONE;
	job->result.error = error;
	job->result.message = job->message ? job->message : "";
	job->result.records = job->records;
	if (!job->cancelled)
		job->done(job, &job->result, job->userdata);
	job_release(job);
}

static void fail_transient(struct order_job *job, int error)
{
	job->result.transient = true;
	finish(job, error);
}

/* A reply that is not what we asked for: describe it and end the job. */
static void fail_reply(struct order_job *job, const struct acme_reply *rep, const char *what)
{
	char why[600];

	acme_reply_describe(rep, why, sizeof(why));
	msg(job, "%s failed: %s", what, why);
	job->result.retry_after = rep->retry_after_sec;
	if (acme_reply_try_later(rep))
		fail_transient(job, rep->error < 0 ? rep->error : -EAGAIN);
	else
		finish(job, -EPROTO);
}

static void on_timer(uv_timer_t *t)
{
	step(t->data);
}

/* Waits, then runs step() again (daemon/acme/pollwait says how long), or
 * gives up once the wait in all would be too long. */
static void poll_later(struct order_job *job, int64_t retry_after, const char *what)
{
	uint64_t ms;

	if (pollwait_next(&job->poll, retry_after, &ms) < 0) {
		msg(job, "gave up waiting for %s after %" PRIu64 " s", what,
		    job->poll.waited_ms / 1000);
		fail_transient(job, -ETIMEDOUT);
		return;
	}
	(void)uv_timer_start(&job->timer, on_timer, ms, 0);
}

static bool parse_order_reply(struct order_job *job, const struct acme_reply *rep)
{
	struct acme_order o;
	char err[200];

	if (!rep->json || acme_order_parse(rep->json, &o, err, sizeof(err)) < 0) {
		msg(job, "the CA sent a malformed order (%s): %s", rep->url,
		    rep->json ? err : "not JSON");
		finish(job, -EPROTO);
		return false;
	}
	acme_order_done(&job->order);
	job->order = o;
	job->have_order = true;
	return true;
}

static void set_order_url(struct order_job *job, const char *url)
{
	if (job->order_url && streq(job->order_url, url))
		return;
	(void)set_str(&job->order_url, url);
	if (job->on_order_url)
		job->on_order_url(job, url, job->userdata);
}

/* ---- newOrder / resume ---- */

static void after_order_object(struct order_job *job)
{
	const struct acme_order *o = &job->order;

	if (job->dry_run && (o->status == ACME_STATUS_READY || o->status == ACME_STATUS_PROCESSING ||
			     o->status == ACME_STATUS_VALID)) {
		msg(job, "the order is %s: every authorization is valid; dry run, not finalized",
		    acme_status_to_string(o->status));
		finish(job, 0);
		return;
	}
	switch (o->status) {
	case ACME_STATUS_PENDING:
		job->phase = PHASE_AUTHZ;
		break;
	case ACME_STATUS_READY:
		job->phase = PHASE_KEYGEN;
		break;
	case ACME_STATUS_PROCESSING:
		job->phase = PHASE_ORDER_VALID;
		break;
	case ACME_STATUS_VALID:
		job->phase = PHASE_DOWNLOAD;
		break;
	default: {
		_cleanup_free_ char *p = o->error ? acme_problem_format(o->error) : NULL;
		msg(job, "the order %s is %s%s%s", job->order_url, acme_status_to_string(o->status),
		    p ? ": " : "", p ? p : "");
		finish(job, -EPROTO);
		return;
	}
	}
	step(job);
}

static void on_order(const struct acme_reply *rep, void *userdata)
{
	struct order_job *job = userdata;
	bool created = job->phase == PHASE_NEW_ORDER;

	job->op = NULL;
	if (created && (rep->error < 0 || rep->status >= 500) && rep->error != -ECONNREFUSED &&
	    rep->error != -EHOSTUNREACH && !job->orphan_searched) {
		/* The CA may have made the order without our hearing of it: look for it
		 * before ordering again. */
		char why[300];
		acme_reply_describe(rep, why, sizeof(why));
		log_info("cert '%s': no answer to newOrder (%s); looking for the order it may have "
			 "made",
			 cert_name(job), why);
		job->phase = PHASE_FIND_ORPHAN;
		step(job);
		return;
	}
	if (created && rep->error == 0 && rep->status < 500 && rep->status != 201 &&
	    job->on_order_intent)
		(void)job->on_order_intent(job, false, job->userdata); /* refused: no order */
	if (created && rep->error == 0 && rep->status == 201 && rep->location) {
		if (!parse_order_reply(job, rep))
			return;
		set_order_url(job, rep->location);
		log_info("cert '%s': new order %s", cert_name(job), job->order_url);
		after_order_object(job);
		return;
	}
	if (!created && rep->error == 0 && rep->status == 200) {
		if (!parse_order_reply(job, rep))
			return;
		/* A saved order that can no longer lead anywhere (it failed or expired
		 * while we were away, or the cert's names changed since) is dropped. */
		const char *why = orderbody_order_unusable(&job->order, job->cfg);
		if (why) {
			log_info("cert '%s': saved order %s %s; starting a new one", cert_name(job),
				 job->order_url, why);
			free(job->order_url);
			job->order_url = NULL;
			job->phase = PHASE_NEW_ORDER;
			step(job);
			return;
		}
		after_order_object(job);
		return;
	}
	if (created && job->replaces && rep->error == 0 && rep->status >= 400 &&
	    rep->status < 500 && rep->status != 429 &&
	    !(rep->problem && acme_problem_is(rep->problem, "rateLimited"))) {
		/* The CA will not take `replaces`: already used or a stale ARI id (409
		 * alreadyReplaced), or a CA that refuses it some other way (400 malformed,
		 * 403). An order without it is still a valid renewal, so try once more
		 * without it; a second refusal is then about the order itself. */
		log_info("cert '%s': the CA refused newOrder with replaces=%s (HTTP %ld %s); ordering "
			 "without it",
			 cert_name(job), job->replaces, rep->status,
			 rep->problem ? acme_problem_short_type(rep->problem) : "");
		free(job->replaces);
		job->replaces = NULL;
		step(job);
		return;
	}
	if (!created && rep->error == 0 && rep->status >= 400 && rep->status < 500 &&
	    rep->status != 429) {
		/* The saved order is gone (expired, or another CA): start over. */
		log_info("cert '%s': saved order %s is no longer usable (HTTP %ld); starting a new "
			 "one",
			 cert_name(job), job->order_url, rep->status);
		free(job->order_url);
		job->order_url = NULL;
		job->phase = PHASE_NEW_ORDER;
		step(job);
		return;
	}
	fail_reply(job, rep, created ? "newOrder" : "fetching the order");
}

static void do_new_order(struct order_job *job)
{
	const struct acme_directory *dir = acme_conn_get_directory(job->env.conn);
	_cleanup_free_ char *payload = NULL;
	int r;

	/* Before the breaker: continuing an order already made is not a new one. */
	if (job->find_orphan && !job->orphan_searched) {
		job->phase = PHASE_FIND_ORPHAN;
		step(job);
		return;
	}
	if (job->new_order_held) {
		/* Forget a saved order that led here, so the next attempt does not resume it. */
		if (job->order_url && job->on_order_url)
			job->on_order_url(job, NULL, job->userdata);
		msg(job, "a new order is needed, but max_orders_per_hour is reached");
		job->result.limited = true;
		finish(job, -EAGAIN);
		return;
	}
	r = orderbody_new_order(job->cfg, dir, job->profile, job->replaces, &payload);
	if (r == 0 && job->on_order_intent) {
		/* Remembered on disk before the CA can act on it. */
		r = job->on_order_intent(job, true, job->userdata);
		if (r < 0) {
			msg(job, "saving the state before newOrder: %s", strerror(-r));
			fail_transient(job, r);
			return;
		}
	}
	if (r == 0)
		r = acme_conn_post_once(job->env.conn, dir->new_order, payload, on_order, job,
					&job->op);
	if (r < 0) {
		if (job->on_order_intent)
			(void)job->on_order_intent(job, false, job->userdata);
		msg(job, "starting newOrder: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- an order the CA made while we did not hear its answer (daemon/acme/orphan) ---- */

/* The search ended without an order to adopt: place a new one. */
static void orphan_none(struct order_job *job, const char *why)
{
	log_info("cert '%s': %s; placing a new order", cert_name(job), why);
	if (job->on_order_intent)
		(void)job->on_order_intent(job, false, job->userdata);
	job->phase = PHASE_NEW_ORDER;
	step(job);
}

/* Another cert of ours may be working on an order for the same names (another key type,
 * say): that one is not an orphan. Only the caller knows the other certs. */
static bool order_url_taken(const char *url, void *userdata)
{
	const struct order_job *job = userdata;

	return job->url_taken && job->url_taken(url, job->userdata);
}

static void on_orphan_done(const struct orphan_result *r, void *userdata)
{
	struct order_job *job = userdata;

	job->orphan = NULL;
	if (r->error < 0 && r->reply) {
		/* The CA could not answer now: the intent stays, the next attempt searches. */
		fail_reply(job, r->reply, r->what);
		return;
	}
	if (r->error < 0) {
		msg(job, "%s: %s", r->what, strerror(-r->error));
		finish(job, r->error);
		return;
	}
	if (!r->url) {
		orphan_none(job, r->why);
		return;
	}
	acme_order_done(&job->order);
	job->order = *r->order;
	*r->order = (struct acme_order){ 0 };
	job->have_order = true;
	set_order_url(job, r->url);
	log_info("cert '%s': continuing order %s (%s), which the CA made for a newOrder whose "
		 "answer never reached us",
		 cert_name(job), job->order_url, acme_status_to_string(job->order.status));
	after_order_object(job);
}

static void do_find_orphan(struct order_job *job)
{
	int r;

	job->orphan_searched = true;
	r = orphan_search_start(job->env.conn, job->env.account->url,
				(const char *const *)job->cfg->names, job->cfg->n_names, order_url_taken,
				on_orphan_done, job, &job->orphan);
	if (r == -EINVAL) {
		orphan_none(job, "no account URL or no names to look for an order with");
		return;
	}
	if (r < 0) {
		msg(job, "looking for an order made before: %s", strerror(-r));
		finish(job, r);
	}
}

static void do_fetch_order(struct order_job *job)
{
	int r = acme_conn_post(job->env.conn, job->order_url, NULL, false, on_order, job,
			       &job->op);
	if (r < 0) {
		msg(job, "fetching the order: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- authorizations (daemon/acme/authz) ---- */

static void on_authz_challenge(const struct acme_challenge *ch, void *userdata)
{
	struct order_job *job = userdata;

	if (job->on_challenge)
		job->on_challenge(job, ch, job->userdata);
}

static void on_authz_done(struct authz_run *run, const struct authz_result *res, void *userdata)
{
	struct order_job *job = userdata;

	(void)run;
	job->authz_run = NULL;
	if (res->error < 0) {
		msg(job, "%s", res->message ? res->message : strerror(-res->error));
		(void)set_str(&job->records, res->records);
		job->result.transient = res->transient;
		job->result.refused = res->refused;
		job->result.retry_after = res->retry_after;
		finish(job, res->error);
		return;
	}
	/* Every authorization is valid, so the order is ready (RFC 8555 7.1.6):
	 * finalize without fetching it first, saving a signed request; a CA not
	 * caught up answers orderNotReady, and on_finalized() polls as before.
	 * A dry run fetches the order instead, to see it ready, and stops. */
	pollwait_reset(&job->poll);
	job->phase = job->dry_run ? PHASE_ORDER_READY : PHASE_KEYGEN;
	step(job);
}

static void do_authorize(struct order_job *job)
{
	struct authz_params p = {
		.cert = job->cfg,
		.urls = job->order.authorizations,
		.n_urls = job->order.n_authorizations,
		.on_challenge = on_authz_challenge,
		.done = on_authz_done,
		.userdata = job,
	};
	int r = authz_start(&job->env, &p, &job->authz_run);
	if (r < 0) {
		msg(job, "starting on the authorizations: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- finalize ---- */

static void on_finalized(const struct acme_reply *rep, void *userdata);

static void finalize_with_key(struct order_job *job)
{
	_cleanup_free_ char *payload = NULL;
	int r;

	r = orderbody_finalize(job->cfg, job->cert_key, &payload);
	if (r < 0) {
		msg(job, "making the CSR: %s", strerror(-r));
		finish(job, r);
		return;
	}
	job->phase = PHASE_FINALIZE;
	r = acme_conn_post(job->env.conn, job->order.finalize, payload, false, on_finalized,
			   job, &job->op);
	if (r < 0) {
		msg(job, "finalizing: %s", strerror(-r));
		finish(job, r);
	}
}

static void on_cert_key(int r, struct key *k, void *userdata)
{
	struct order_job *job = userdata;

	job->keygen = NULL;
	if (r < 0) {
		msg(job, "generating the certificate key: %s", strerror(-r));
		finish(job, r);
		return;
	}
	/* On disk before the CA sees a CSR for it: a restart must finish the order
	 * with the key that matches the certificate. */
	r = job->save_key ? job->save_key(job, k, job->userdata) : 0;
	if (r < 0) {
		key_free(k);
		msg(job, "saving the certificate key: %s", strerror(-r));
		finish(job, r);
		return;
	}
	job->cert_key = k;
	finalize_with_key(job);
}

static void do_keygen(struct order_job *job)
{
	int r;

	if (job->cert_key) {
		finalize_with_key(job);
		return;
	}
	r = keygen_start(job->env.loop, job->cfg->key_type, on_cert_key, job, &job->keygen);
	if (r < 0) {
		msg(job, "starting key generation: %s", strerror(-r));
		finish(job, r);
	}
}

static void on_order_poll(const struct acme_reply *rep, void *userdata)
{
	struct order_job *job = userdata;

	job->op = NULL;
	if (rep->error < 0 || rep->status != 200) {
		fail_reply(job, rep, "polling the order");
		return;
	}
	if (!parse_order_reply(job, rep))
		return;
	enum acme_status s = job->order.status;
	if (job->phase == PHASE_ORDER_READY && s == ACME_STATUS_PENDING) {
		poll_later(job, rep->retry_after_sec, "the order to become ready");
		return;
	}
	if (job->phase == PHASE_ORDER_VALID && s == ACME_STATUS_PROCESSING) {
		poll_later(job, rep->retry_after_sec, "the certificate");
		return;
	}
	after_order_object(job);
}

static void on_finalized(const struct acme_reply *rep, void *userdata)
{
	struct order_job *job = userdata;

	job->op = NULL;
	if (rep->error == 0 && rep->status == 403 && rep->problem &&
	    acme_problem_is(rep->problem, "orderNotReady")) {
		job->phase = PHASE_ORDER_READY;
		poll_later(job, rep->retry_after_sec, "the order to become ready");
		return;
	}
	if (rep->error < 0 || rep->status != 200) {
		fail_reply(job, rep, "finalize");
		return;
	}
	if (!parse_order_reply(job, rep))
		return;
	pollwait_reset(&job->poll);
	job->phase = PHASE_ORDER_VALID;
	if (job->order.status == ACME_STATUS_PROCESSING) {
		poll_later(job, rep->retry_after_sec, "the certificate");
		return;
	}
	after_order_object(job);
}

static void do_poll_order(struct order_job *job)
{
	int r = acme_conn_post(job->env.conn, job->order_url, NULL, false, on_order_poll, job,
			       &job->op);
	if (r < 0) {
		msg(job, "polling the order: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- download and check (daemon/acme/chain) ---- */

static void on_chain(struct chain_dl *dl, struct chain_result *res, void *userdata)
{
	struct order_job *job = userdata;

	(void)dl;
	job->chain_dl = NULL;
	if (res->error < 0) {
		msg(job, "%s", res->message);
		job->result.transient = res->transient;
		job->result.rejected = res->rejected;
		job->result.retry_after = res->retry_after;
		finish(job, res->error);
		return;
	}
	job->result.chain = TAKE_PTR(res->chain);
	job->result.chain_len = res->chain_len;
	job->result.leaf_len = res->leaf_len;
	job->result.key = TAKE_PTR(job->cert_key);
	msg(job, "certificate issued");
	finish(job, 0);
}

static void do_download(struct order_job *job)
{
	int r;

	if (!job->order.certificate) {
		msg(job, "the order is valid but names no certificate URL");
		finish(job, -EPROTO);
		return;
	}
	if (!job->cert_key) {
		r = job->pending_key_error ? job->pending_key_error : -ENOENT;
		msg(job, "the order is valid, but its key is gone (%s); a new order is needed",
		    strerror(-r));
		free(job->order_url);
		job->order_url = NULL;
		if (job->on_order_url)
			job->on_order_url(job, NULL, job->userdata);
		fail_transient(job, -ENOKEY);
		return;
	}
	struct chain_params p = {
		.url = job->order.certificate,
		.cert = job->cfg,
		.key = job->cert_key,
		.now = job->env.now(job->env.now_userdata),
		.done = on_chain,
		.userdata = job,
	};
	r = chain_download(job->env.conn, &p, &job->chain_dl);
	if (r < 0) {
		msg(job, "downloading the certificate: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- driver ---- */

static void step(struct order_job *job)
{
	if (job->cancelled || job->phase == PHASE_DONE)
		return;
	switch (job->phase) {
	case PHASE_START:
		job->phase = job->order_url ? PHASE_FETCH_ORDER : PHASE_NEW_ORDER;
		step(job);
		break;
	case PHASE_NEW_ORDER:
		do_new_order(job);
		break;
	case PHASE_FETCH_ORDER:
		do_fetch_order(job);
		break;
	case PHASE_FIND_ORPHAN:
		do_find_orphan(job);
		break;
	case PHASE_AUTHZ:
		do_authorize(job);
		break;
	case PHASE_ORDER_READY:
	case PHASE_ORDER_VALID:
		do_poll_order(job);
		break;
	case PHASE_KEYGEN:
		do_keygen(job);
		break;
	case PHASE_DOWNLOAD:
		do_download(job);
		break;
	default:
		break;
	}
}

int order_start(const struct order_env *env, const struct order_params *p,
		struct order_job **ret)
{
	struct order_job *job = calloc(1, sizeof(*job));
	int r;

	if (!job) {
		key_free(p->pending_key);
		return -ENOMEM;
	}
	job->env = *env;
	job->cfg = p->cert;
	job->cert_key = p->pending_key;
	job->pending_key_error = p->pending_key_error;
	job->on_order_url = p->on_order_url;
	job->on_order_intent = p->on_order_intent;
	job->url_taken = p->url_taken;
	job->find_orphan = p->find_orphan;
	job->on_challenge = p->on_challenge;
	job->save_key = p->save_key;
	job->new_order_held = p->new_order_held;
	job->dry_run = p->dry_run;
	job->done = p->done;
	job->userdata = p->userdata;
	job->result.retry_after = -1;
	if ((p->replaces && !(job->replaces = strdup(p->replaces))) ||
	    (p->profile && !(job->profile = strdup(p->profile))) ||
	    (p->resume_url && !(job->order_url = strdup(p->resume_url)))) {
		r = -ENOMEM;
		goto fail;
	}
	r = uv_timer_init(env->loop, &job->timer);
	if (r < 0)
		goto fail;
	job->timer.data = job;
	job->phase = PHASE_START;
	/* The first step on the next turn of the loop: no callback from inside this call. */
	r = uv_timer_start(&job->timer, on_timer, 0, 0);
	if (r < 0) {
		job->cancelled = true;
		job_release(job);
		return r;
	}
	*ret = job;
	return 0;
fail:
	key_free(job->cert_key);
	free(job->replaces);
	free(job->profile);
	free(job->order_url);
	free(job);
	return r;
}

void order_cancel(struct order_job *job)
{
	if (!job || job->cancelled)
		return;
	job->cancelled = true;
	job_release(job);
}
