#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#include "common/b64.h"
#include "common/certcheck.h"
#include "common/csr.h"
#include "common/dnscheck.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"
#include "daemon/acme/dns01.h"
#include "daemon/acme/msg.h"
#include "daemon/acme/order.h"
#include "daemon/acme/orphan.h"
#include "daemon/acme/transport.h"
#include "daemon/ca.h"
#include "daemon/daemon.h"
#include "daemon/keygen.h"
#include "daemon/log.h"

/* How long we keep polling one authorization or the order, in total. */
#define ORDER_POLL_MAX_MS (10 * 60 * 1000)
#define ORDER_POLL_FIRST_MS 500
#define ORDER_POLL_CAP_MS (15 * 1000)

enum order_phase {
	PHASE_PREPARE,
	PHASE_NEW_ORDER,
	PHASE_FETCH_ORDER,
	PHASE_FIND_ORPHAN,    /* the account, then its orders list, then its orders */
	PHASE_AUTHZ,          /* fetching authz[authz_index] */
	PHASE_PRECHECK,       /* dns-persist-01: our own read-only check */
	PHASE_DNS01_SET,
	PHASE_RESPOND,        /* POST {} to the challenge */
	PHASE_AUTHZ_POLL,
	PHASE_ORDER_READY,    /* waiting for status ready */
	PHASE_KEYGEN,
	PHASE_FINALIZE,
	PHASE_ORDER_VALID,    /* waiting for status valid */
	PHASE_DOWNLOAD,
	PHASE_ALTERNATE,
	PHASE_DONE,
};

struct order_job {
	struct daemon *d;                  /* borrowed */
	struct ca *ca;                     /* borrowed */
	const struct config_cert *cfg;     /* borrowed */
	char *replaces;                    /* owned or NULL */
	bool new_order_held;
	char *order_url;                   /* owned */
	order_url_fn on_order_url;
	order_intent_fn on_order_intent;
	bool find_orphan;                  /* look for an orphan before the next newOrder */
	bool orphan_searched;              /* once per job */
	order_done_fn done;
	void *userdata;                    /* borrowed */

	enum order_phase phase;
	struct acme_order order;           /* the last order object seen */
	bool have_order;
	size_t authz_index;
	struct acme_authz authz;           /* the authorization being worked on */
	bool have_authz;
	char *authz_url;                   /* owned */
	char *challenge_url;               /* owned */
	struct dns01_job *dns01;           /* owned until dns01_clean */
	struct acme_op *op;                /* in flight, or NULL */
	struct orphan_search *orphan;      /* in flight, or NULL */
	struct keygen *keygen;             /* in flight, or NULL */
	bool dnscheck_pending;             /* a dnscheck callback will come */
	char *expected_uri;                /* owned: the accounturi the precheck wants; dnscheck
					    * borrows it until its callback */
	struct key *cert_key;              /* owned */
	char *chain;                       /* owned: the chain we will install */
	size_t chain_len;
	size_t alt_index;
	char **alternates;                 /* owned: Link rel="alternate" URLs */
	size_t n_alternates;

	/* dns-persist-01 goes in two passes: every pending authorization is
	 * checked first, and the CA is asked to validate only when all would
	 * pass; a refusal then names every record to publish at once. */
	struct answer {
		char *authz_url;           /* owned */
		char *challenge_url;       /* owned */
		bool respond;              /* false: already processing at the CA */
	} *answers;                        /* owned array */
	size_t n_answers, answer_index;
	bool refusing;
	char *refusals;                    /* owned: grows with every refusal */
	char *message;                     /* owned: result.message */
	char *records;                     /* owned: result.records */

	uv_timer_t timer;                  /* polls; timer.data == this */
	uint64_t poll_ms;
	uint64_t polled_ms;
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

_printf_(2, 3) static void append(char **s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(s, fmt, ap);
	va_end(ap);
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

static const char *cert_name(const struct order_job *job)
{
	return job->cfg->name;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct order_job *job = h->data;

	acme_order_done(&job->order);
	acme_authz_done(&job->authz);
	key_free(job->cert_key);
	free(job->chain);
	for (size_t i = 0; i < job->n_alternates; i++)
		free(job->alternates[i]);
	free(job->alternates);
	free(job->replaces);
	free(job->order_url);
	free(job->authz_url);
	free(job->challenge_url);
	free(job->expected_uri);
	free(job->refusals);
	free(job->message);
	free(job->records);
	for (size_t i = 0; i < job->n_answers; i++) {
		free(job->answers[i].authz_url);
		free(job->answers[i].challenge_url);
	}
	free(job->answers);
	free(job);
}

/* Frees the job once nothing can call back into it any more. */
static void job_release(struct order_job *job)
{
	if (job->closing || job->dnscheck_pending)
		return;
	job->closing = true;
	acme_op_cancel(job->op);
	job->op = NULL;
	orphan_search_cancel(job->orphan);
	job->orphan = NULL;
	keygen_abandon(job->keygen);
	job->keygen = NULL;
	if (job->dns01) {
		dns01_clean(job->dns01, NULL, NULL);
		job->dns01 = NULL;
	}
	uv_close((uv_handle_t *)&job->timer, on_timer_closed);
}

static void finish(struct order_job *job, int error)
{
	job->phase = PHASE_DONE;
	job->result.error = error;
	job->result.message = job->message ? job->message : "";
	job->result.records = job->records;
	if (job->dns01) {
		/* Always clean up after dns-01, success or not. */
		dns01_clean(job->dns01, NULL, NULL);
		job->dns01 = NULL;
	}
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
	if (rep->error < 0 || rep->status >= 500 || rep->status == 429)
		fail_transient(job, rep->error < 0 ? rep->error : -EAGAIN);
	else
		finish(job, -EPROTO);
}

static void on_timer(uv_timer_t *t)
{
	step(t->data);
}

/* Waits, then runs step() again: Retry-After if the CA gave one, else a
 * doubling interval; gives up after ORDER_POLL_MAX_MS in total. */
static void poll_later(struct order_job *job, int64_t retry_after, const char *what)
{
	uint64_t ms = job->poll_ms ? job->poll_ms : ORDER_POLL_FIRST_MS;

	if (retry_after > 0)
		ms = (uint64_t)MIN(retry_after, (int64_t)60) * 1000;
	if (job->polled_ms + ms > ORDER_POLL_MAX_MS) {
		msg(job, "gave up waiting for %s after %" PRIu64 " s", what,
		    job->polled_ms / 1000);
		fail_transient(job, -ETIMEDOUT);
		return;
	}
	job->polled_ms += ms;
	job->poll_ms = MIN(ms * 2, (uint64_t)ORDER_POLL_CAP_MS);
	(void)uv_timer_start(&job->timer, on_timer, ms, 0);
}

static void reset_poll(struct order_job *job)
{
	job->poll_ms = 0;
	job->polled_ms = 0;
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
	(void)state_set_str(&job->order_url, url);
	if (job->on_order_url)
		job->on_order_url(job, url, job->userdata);
}

/* ---- newOrder / resume ---- */

static void after_order_object(struct order_job *job)
{
	const struct acme_order *o = &job->order;

	switch (o->status) {
	case ACME_STATUS_PENDING:
		job->phase = PHASE_AUTHZ;
		job->authz_index = 0;
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

static const char *saved_order_unusable(const struct order_job *job)
{
	const struct acme_order *o = &job->order;

	if (o->status == ACME_STATUS_INVALID || o->status == ACME_STATUS_EXPIRED ||
	    o->status == ACME_STATUS_DEACTIVATED || o->status == ACME_STATUS_REVOKED)
		return "is no longer pending";
	if (o->n_identifiers != job->cfg->n_names)
		return "is for other names";
	for (size_t i = 0; i < o->n_identifiers; i++) {
		bool found = false;
		for (size_t k = 0; k < job->cfg->n_names && !found; k++)
			found = streq(o->identifiers[i].value, job->cfg->names[k]);
		if (!found)
			return "is for other names";
	}
	return NULL;
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
		const char *why = saved_order_unusable(job);
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

static int new_order_payload(struct order_job *job, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const struct acme_directory *dir = ca_get_directory(job->ca);
	const char *profile = job->cfg->profile ? job->cfg->profile : ca_get_config(job->ca)->profile;

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_key(w, "identifiers");
	json_begin_array(w);
	for (size_t i = 0; i < job->cfg->n_names; i++) {
		json_begin_object(w);
		json_kv_string(w, "type", "dns");
		json_kv_string(w, "value", job->cfg->names[i]);
		json_end_object(w);
	}
	json_end_array(w);
	if (profile) {
		if (dir->meta.n_profiles == 0)
			log_warning("cert '%s': profile '%s' configured, but the CA lists no profiles, "
				    "ignoring",
				    cert_name(job), profile);
		else
			json_kv_string(w, "profile", profile);
	}
	if (job->replaces && dir->renewal_info)
		json_kv_string(w, "replaces", job->replaces);
	json_end_object(w);
	return json_writer_take(w, ret, NULL);
}

static void do_new_order(struct order_job *job)
{
	const struct acme_directory *dir = ca_get_directory(job->ca);
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
	r = new_order_payload(job, &payload);
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
		r = acme_conn_post_once(ca_get_conn(job->ca), dir->new_order, payload, on_order,
					job, &job->op);
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
 * say): that one is not an orphan. */
static bool order_url_taken(const char *url, void *userdata)
{
	const struct order_job *job = userdata;
	const struct state *st = job->d->state;

	for (size_t i = 0; st && i < st->n_certs; i++)
		if (st->certs[i]->order_url && streq(st->certs[i]->order_url, url) &&
		    !streq(st->certs[i]->name, cert_name(job)))
			return true;
	return false;
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
	r = orphan_search_start(job->ca, (const char *const *)job->cfg->names, job->cfg->n_names,
				order_url_taken, on_orphan_done, job, &job->orphan);
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
	int r = acme_conn_post(ca_get_conn(job->ca), job->order_url, NULL, false, on_order, job,
			       &job->op);
	if (r < 0) {
		msg(job, "fetching the order: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- authorizations ---- */

static void on_authz(const struct acme_reply *rep, void *userdata);
static void respond_next(struct order_job *job);

static int answer_add(struct order_job *job, bool respond)
{
	struct answer *t = realloc(job->answers, (job->n_answers + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	job->answers = t;
	t[job->n_answers] = (struct answer){ strdup(job->authz_url), strdup(job->challenge_url), respond };
	if (!t[job->n_answers].authz_url || !t[job->n_answers].challenge_url) {
		free(t[job->n_answers].authz_url);
		free(t[job->n_answers].challenge_url);
		return -ENOMEM;
	}
	job->n_answers++;
	return 0;
}

/* First pass done with this authorization: on to the next. */
static void next_authz(struct order_job *job)
{
	job->authz_index++;
	job->phase = PHASE_AUTHZ;
	step(job);
}

static void do_fetch_authz(struct order_job *job)
{
	int r;

	if (job->authz_index >= job->order.n_authorizations) {
		if (job->refusing) {
			msg(job, "%s%s%s", job->refusals ? job->refusals : "",
			    job->records ? "\nPublish (once), then renew again:\n" : "",
			    job->records ? job->records : "");
			job->result.refused = true;
			finish(job, -EACCES);
			return;
		}
		if (job->answer_index < job->n_answers) {
			respond_next(job);
			return;
		}
		job->phase = PHASE_ORDER_READY;
		reset_poll(job);
		step(job);
		return;
	}
	(void)state_set_str(&job->authz_url, job->order.authorizations[job->authz_index]);
	r = acme_conn_post(ca_get_conn(job->ca), job->authz_url, NULL, false, on_authz, job,
			   &job->op);
	if (r < 0) {
		msg(job, "fetching an authorization: %s", strerror(-r));
		finish(job, r);
	}
}

static const char *authz_name(const struct order_job *job, char *buf, size_t size)
{
	str_printf(buf, size, "%s%s", job->authz.wildcard ? "*." : "", job->authz.identifier.value);
	return buf;
}

static void offered_types(const struct acme_authz *a, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < a->n_challenges; i++)
		str_printf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "",
			   a->challenges[i].type);
	if (!buf[0])
		str_printf(buf, size, "none");
}

static void start_persist(struct order_job *job);
static void start_dns01(struct order_job *job);

static void work_on_authz(struct order_job *job)
{
	char name[DNS_NAME_MAX_BYTES + 8], types[200];
	const struct acme_authz *a = &job->authz;

	switch (a->status) {
	case ACME_STATUS_VALID:
		/* Just-in-time validation, or an authorization the CA reused. */
		log_info("cert '%s': %s is already authorized", cert_name(job),
			 authz_name(job, name, sizeof(name)));
		next_authz(job);
		return;
	case ACME_STATUS_PENDING:
		break;
	default: {
		const struct acme_challenge *used = NULL;
		for (size_t i = 0; i < a->n_challenges && !used; i++)
			if (a->challenges[i].error)
				used = &a->challenges[i];
		_cleanup_free_ char *p = used ? acme_problem_format(used->error) : NULL;
		msg(job, "the authorization for %s is %s%s%s", authz_name(job, name, sizeof(name)),
		    acme_status_to_string(a->status), p ? ": " : "", p ? p : "");
		finish(job, -EACCES);
		return;
	}
	}

	const char *want = job->cfg->challenge == CHALLENGE_DNS_PERSIST_01 ? "dns-persist-01"
									   : "dns-01";
	const struct acme_challenge *ch = acme_authz_get_challenge(a, want);
	if (!ch) {
		offered_types(a, types, sizeof(types));
		if (job->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
			ca_learn_offers_persist(job->ca, false);
			msg(job,
			    "the CA does not offer dns-persist-01 for %s (it offers: %s). Use a CA "
			    "that supports dns-persist-01, or challenge = dns-01 for this cert",
			    authz_name(job, name, sizeof(name)), types);
		} else {
			msg(job, "the CA does not offer dns-01 for %s (it offers: %s)",
			    authz_name(job, name, sizeof(name)), types);
		}
		finish(job, -EOPNOTSUPP);
		return;
	}
	(void)state_set_str(&job->challenge_url, ch->url);
	if (ch->status == ACME_STATUS_PROCESSING) {
		/* Answered before a restart: just wait for the outcome. */
		if (job->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
			if (answer_add(job, false) < 0) {
				finish(job, -ENOMEM);
				return;
			}
			next_authz(job);
			return;
		}
		job->phase = PHASE_AUTHZ_POLL;
		reset_poll(job);
		poll_later(job, -1, "the CA's validation");
		return;
	}
	if (job->cfg->challenge == CHALLENGE_DNS_PERSIST_01)
		start_persist(job);
	else
		start_dns01(job);
}

static void on_authz(const struct acme_reply *rep, void *userdata)
{
	struct order_job *job = userdata;
	struct acme_authz a;
	char err[200];

	job->op = NULL;
	if (rep->error < 0 || rep->status != 200) {
		fail_reply(job, rep, "fetching an authorization");
		return;
	}
	if (!rep->json || acme_authz_parse(rep->json, &a, err, sizeof(err)) < 0) {
		msg(job, "the CA sent a malformed authorization (%s): %s", rep->url,
		    rep->json ? err : "not JSON");
		finish(job, -EPROTO);
		return;
	}
	acme_authz_done(&job->authz);
	job->authz = a;
	job->have_authz = true;
	if (job->phase == PHASE_AUTHZ_POLL) {
		if (a.status == ACME_STATUS_PENDING) {
			poll_later(job, rep->retry_after_sec, "the CA's validation");
			return;
		}
		if (a.status == ACME_STATUS_VALID && job->dns01) {
			dns01_clean(job->dns01, NULL, NULL);
			job->dns01 = NULL;
		}
		if (a.status == ACME_STATUS_VALID) {
			char name[DNS_NAME_MAX_BYTES + 8];
			log_notice("cert '%s': %s validated by the CA", cert_name(job),
				   authz_name(job, name, sizeof(name)));
			if (job->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
				job->answer_index++;
				respond_next(job);
				return;
			}
		}
	}
	work_on_authz(job);
}

/* ---- dns-persist-01: our read-only check, then the CA's ---- */

static bool cert_has_wildcard_for(const struct order_job *job, const char *base)
{
	for (size_t i = 0; i < job->cfg->n_names; i++)
		if (str_has_prefix(job->cfg->names[i], "*.") && streq(job->cfg->names[i] + 2, base))
			return true;
	return false;
}

/* The record to publish, as a zone-file line, into job->records. */
static void describe_record_to_publish(struct order_job *job, const char *issuer,
				       const char *account_uri)
{
	const char *base = job->authz.identifier.value;
	_cleanup_free_ char *owner = NULL, *value = NULL, *line = NULL;
	struct record_spec spec = {
		.issuer = issuer,
		.account_uri = account_uri,
		/* One record serves base and *.base: it needs the policy if either asks. */
		.wildcard = job->authz.wildcard || cert_has_wildcard_for(job, base),
		.has_persist_until = job->cfg->has_persist_until,
		.persist_until = job->cfg->persist_until,
	};

	if (record_owner_name(base, &owner, NULL) < 0 || record_generate(&spec, &value) < 0 ||
	    record_zone_line(owner, value, strlen(value), 3600, &line) < 0)
		return;
	/* x and *.x share one record: name it once. */
	if (job->records && strstr(job->records, line))
		return;
	append(&job->records, "%s%s", job->records ? "\n" : "", line);
}

static void respond_to_challenge(struct order_job *job);

_printf_(2, 3) static void refuse(struct order_job *job, const char *fmt, ...)
{
	va_list ap;

	append(&job->refusals, "%s", job->refusing ? "; " : "refusing to ask the CA to validate: ");
	job->refusing = true;
	va_start(ap, fmt);
	vappend(&job->refusals, fmt, ap);
	va_end(ap);
}

static void on_precheck(const struct dnscheck_result *res, void *userdata)
{
	struct order_job *job = userdata;
	char name[DNS_NAME_MAX_BYTES + 8];
	size_t n_issuers;
	_cleanup_free_ char *expected = NULL;

	job->dnscheck_pending = false;
	/* A cancelled job's CA may be gone (a reload removed it): touch nothing. */
	if (job->cancelled) {
		/* Perhaps from inside dnscheck_free() at shutdown: the CA may be gone. */
		job_release(job);
		return;
	}
	const char *const *issuers = ca_get_issuers(job->ca, &n_issuers);
	authz_name(job, name, sizeof(name));
	if (res->error != DNSCHECK_OK) {
		msg(job,
		    "cannot verify %s before asking the CA: %s (%s). Not triggering validation "
		    "until the record can be checked",
		    res->owner, dnscheck_error_to_string(res->error), res->error_reason);
		fail_transient(job, -EAGAIN);
		return;
	}
	if (res->caa.checked && res->caa.error == DNSCHECK_OK &&
	    !caa_outcome_permits(res->caa.verdict.outcome)) {
		refuse(job, "%s: CAA at %s forbids it: %s", name,
		       res->caa.owner ? res->caa.owner : "?", res->caa.verdict.reason);
		next_authz(job);
		return;
	}
	if (res->verdict.status == RECORD_VALID) {
		log_info("cert '%s': %s: %s (DNSSEC %s)", cert_name(job), res->owner,
			 res->verdict.reason, dnscheck_dnssec_to_string(res->dnssec));
		if (answer_add(job, true) < 0) {
			finish(job, -ENOMEM);
			return;
		}
		next_authz(job);
		return;
	}
	const struct acme_challenge *ch = acme_authz_get_challenge(&job->authz, "dns-persist-01");
	if (ca_expected_account_uri(job->ca, job->authz.identifier.value,
				    ch ? ch->accounturi : NULL, &expected) == 0 && n_issuers)
		describe_record_to_publish(job, issuers[0], expected);
	refuse(job, "%s: the record at %s would fail: %s: %s", name, res->owner,
	       record_status_to_string(res->verdict.status), res->verdict.reason);
	next_authz(job);
}

/* Draft -02 section 3.1: the challenge's list must contain the directory's,
 * and sit inside caaIdentities when that is given. */
static bool issuers_consistent(const struct order_job *job, const struct acme_challenge *ch,
			       char *why, size_t size)
{
	const struct acme_directory *dir = ca_get_directory(job->ca);

	if (ch->issuer_spelling != ACME_ISSUERS_CAMEL)
		return true;
	for (size_t i = 0; i < dir->meta.n_issuer_domain_names; i++) {
		bool found = false;
		for (size_t k = 0; k < ch->n_issuer_domain_names && !found; k++)
			found = streq(dir->meta.issuer_domain_names[i], ch->issuer_domain_names[k]);
		if (!found) {
			str_printf(why, size, "directory issuer '%s' is missing from the challenge",
				   dir->meta.issuer_domain_names[i]);
			return false;
		}
	}
	for (size_t k = 0; dir->meta.n_caa_identities && k < ch->n_issuer_domain_names; k++) {
		bool found = false;
		for (size_t i = 0; i < dir->meta.n_caa_identities && !found; i++)
			found = streq(dir->meta.caa_identities[i], ch->issuer_domain_names[k]);
		if (!found) {
			str_printf(why, size, "challenge issuer '%s' is not in caaIdentities",
				   ch->issuer_domain_names[k]);
			return false;
		}
	}
	return true;
}

static void start_persist(struct order_job *job)
{
	const struct acme_challenge *ch = acme_authz_get_challenge(&job->authz, "dns-persist-01");
	char name[DNS_NAME_MAX_BYTES + 8], why[300];
	_cleanup_free_ char *expected = NULL;
	int r;

	authz_name(job, name, sizeof(name));
	if (!issuers_consistent(job, ch, why, sizeof(why))) {
		msg(job, "the CA's dns-persist-01 challenge for %s is malformed: %s", name, why);
		finish(job, -EPROTO);
		return;
	}
	r = ca_learn_from_challenge(job->ca, ch);
	if (r == 0)
		r = ca_expected_account_uri(job->ca, job->authz.identifier.value, ch->accounturi,
					    &expected);
	if (r < 0) {
		msg(job, "computing the accounturi for %s: %s", name, strerror(-r));
		finish(job, r);
		return;
	}
	struct dnscheck_request rq = {
		.name = name,
		.issuers = (const char *const *)ch->issuer_domain_names,
		.n_issuers = ch->n_issuer_domain_names,
		.account_uri = expected,
		.caa_account_uri = ca_get_account_url(job->ca),
		.wildcard = job->authz.wildcard,
		.now = daemon_now(job->d),
		.caa = true,
	};
	job->phase = PHASE_PRECHECK;
	free(job->expected_uri);
	job->expected_uri = TAKE_PTR(expected);
	rq.account_uri = job->expected_uri;
	r = dnscheck_submit(job->d->dns, &rq, on_precheck, job);
	if (r < 0) {
		msg(job, "checking the record of %s: %s", name, strerror(-r));
		fail_transient(job, r);
		return;
	}
	job->dnscheck_pending = true;
}

static void on_challenge_posted(const struct acme_reply *rep, void *userdata)
{
	struct order_job *job = userdata;

	job->op = NULL;
	if (rep->error < 0 || rep->status != 200) {
		fail_reply(job, rep, "answering the challenge");
		return;
	}
	job->phase = PHASE_AUTHZ_POLL;
	reset_poll(job);
	poll_later(job, rep->retry_after_sec, "the CA's validation");
}

static void respond_to_challenge(struct order_job *job)
{
	int r;

	job->phase = PHASE_RESPOND;
	r = acme_conn_post(ca_get_conn(job->ca), job->challenge_url, "{}", false,
			   on_challenge_posted, job, &job->op);
	if (r < 0) {
		msg(job, "answering the challenge: %s", strerror(-r));
		finish(job, r);
	}
}

/* Second pass of dns-persist-01: every check passed; now the CA validates. */
static void respond_next(struct order_job *job)
{
	if (job->answer_index >= job->n_answers) {
		job->phase = PHASE_ORDER_READY;
		reset_poll(job);
		step(job);
		return;
	}
	const struct answer *t = &job->answers[job->answer_index];
	(void)state_set_str(&job->authz_url, t->authz_url);
	(void)state_set_str(&job->challenge_url, t->challenge_url);
	if (t->respond) {
		log_info("cert '%s': asking the CA to validate %s", cert_name(job), t->authz_url);
		respond_to_challenge(job);
		return;
	}
	job->phase = PHASE_AUTHZ_POLL;
	reset_poll(job);
	poll_later(job, -1, "the CA's validation");
}

/* ---- dns-01 ---- */

static void on_dns01_ready(struct dns01_job *dj, int r, const char *message, void *userdata)
{
	struct order_job *job = userdata;

	(void)dj;
	if (r < 0) {
		msg(job, "dns-01 for %s: %s", job->authz.identifier.value, message);
		fail_transient(job, r);
		return;
	}
	respond_to_challenge(job);
}

static void start_dns01(struct order_job *job)
{
	const struct acme_challenge *ch = acme_authz_get_challenge(&job->authz, "dns-01");
	_cleanup_free_ char *keyauth = NULL;
	uint8_t digest[32];
	char value[48];
	int r;

	if (!ch->token || !*ch->token) {
		msg(job, "the CA's dns-01 challenge for %s has no token", job->authz.identifier.value);
		finish(job, -EPROTO);
		return;
	}
	if (asprintf(&keyauth, "%s.%s", ch->token, ca_get_thumbprint(job->ca)) < 0) {
		finish(job, -ENOMEM);
		return;
	}
	r = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const uint8_t *)keyauth,
		       strlen(keyauth), digest);
	if (r != 0 || b64url_encode_buf(digest, sizeof(digest), value, sizeof(value)) < 0) {
		finish(job, -EIO);
		return;
	}
	struct dns01_params p = {
		.hook = job->cfg->dns01_hook,
		.identifier = job->authz.identifier.value,
		.value = value,
		.hook_timeout_ms = job->cfg->dns01_hook_timeout_ms,
		.propagation_timeout_ms = job->cfg->dns01_propagation_timeout_ms,
	};
	job->phase = PHASE_DNS01_SET;
	r = dns01_set(job->d, &p, on_dns01_ready, job, &job->dns01);
	if (r < 0) {
		msg(job, "starting the dns-01 hook: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- finalize ---- */

static void on_finalized(const struct acme_reply *rep, void *userdata);

static void finalize_with_key(struct order_job *job)
{
	_cleanup_free_ uint8_t *der = NULL;
	_cleanup_free_ char *b64 = NULL, *payload = NULL;
	size_t der_len;
	int r;

	r = csr_create(job->cert_key, (const char *const *)job->cfg->names, job->cfg->n_names, &der,
		       &der_len);
	if (r == 0)
		r = b64url_encode(der, der_len, &b64);
	if (r == 0 && asprintf(&payload, "{\"csr\":\"%s\"}", b64) < 0)
		r = -ENOMEM;
	if (r < 0) {
		msg(job, "making the CSR: %s", strerror(-r));
		finish(job, r);
		return;
	}
	job->phase = PHASE_FINALIZE;
	r = acme_conn_post(ca_get_conn(job->ca), job->order.finalize, payload, false, on_finalized,
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
	r = store_pending_key_save(job->d->store, cert_name(job), k);
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

	if (!job->cert_key) {
		r = store_pending_key_load(job->d->store, cert_name(job), &job->cert_key);
		if (r < 0 && r != -ENOENT)
			log_warning("cert '%s': pending key unreadable (%s), making a new one",
				    cert_name(job), strerror(-r));
	}
	if (job->cert_key) {
		finalize_with_key(job);
		return;
	}
	r = keygen_start(job->d->loop, job->cfg->key_type, on_cert_key, job, &job->keygen);
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
	reset_poll(job);
	job->phase = PHASE_ORDER_VALID;
	if (job->order.status == ACME_STATUS_PROCESSING) {
		poll_later(job, rep->retry_after_sec, "the certificate");
		return;
	}
	after_order_object(job);
}

static void do_poll_order(struct order_job *job)
{
	int r = acme_conn_post(ca_get_conn(job->ca), job->order_url, NULL, false, on_order_poll, job,
			       &job->op);
	if (r < 0) {
		msg(job, "polling the order: %s", strerror(-r));
		finish(job, r);
	}
}

/* ---- download and install ---- */

static void install(struct order_job *job)
{
	const char *end_marker = "-----END CERTIFICATE-----";
	const char *end = strstr(job->chain, end_marker);
	_cleanup_(certcheck_result_done) struct certcheck_result check = { 0 };
	int r;

	if (!end) {
		msg(job, "the CA sent no certificate in PEM");
		finish(job, -EPROTO);
		return;
	}
	end += strlen(end_marker);
	if (*end == '\r')
		end++;
	if (*end == '\n')
		end++;
	size_t leaf_len = (size_t)(end - job->chain);
	if (!job->cert_key) {
		r = store_pending_key_load(job->d->store, cert_name(job), &job->cert_key);
		if (r < 0) {
			msg(job, "the order is valid, but its key is gone (%s); a new order is needed",
			    strerror(-r));
			free(job->order_url);
			job->order_url = NULL;
			if (job->on_order_url)
				job->on_order_url(job, NULL, job->userdata);
			fail_transient(job, -ENOKEY);
			return;
		}
	}
	/* What the CA sent must be fit to serve before `current` moves: a CA with a wrong
	 * clock or profile, or a wrong certificate, must not replace a good one. */
	r = certcheck_chain(job->chain, job->chain_len, (const char *const *)job->cfg->names,
			    job->cfg->n_names, job->cert_key, daemon_now(job->d), &check);
	if (r < 0) {
		msg(job, "checking the certificate: %s", strerror(-r));
		finish(job, r);
		return;
	}
	if (check.verdict != CERTCHECK_OK) {
		msg(job, "the CA issued a certificate we will not install (%s): %s",
		    certcheck_verdict_to_string(check.verdict), check.reason);
		job->result.rejected = true;
		finish(job, -EPROTO);
		return;
	}
	r = store_cert_install(job->d->store, cert_name(job), job->cert_key, job->chain, leaf_len,
			       job->chain + leaf_len, job->chain_len - leaf_len,
			       &job->result.version);
	if (r == -EINVAL) {
		msg(job, "the certificate does not match the key we sent a CSR for; not installed");
		finish(job, r);
		return;
	}
	if (r < 0) {
		msg(job, "installing the certificate: %s", strerror(-r));
		finish(job, r);
		return;
	}
	(void)store_pending_key_clear(job->d->store, cert_name(job));
	msg(job, "certificate installed as version %u", job->result.version);
	finish(job, 0);
}

static bool chain_matches_preference(const struct order_job *job, const char *pem, size_t len)
{
	_cleanup_free_ char *cn = NULL;

	if (!job->cfg->preferred_chain)
		return true;
	return x509_chain_top_issuer_cn(pem, len, &cn) == 0 &&
	       streq(cn, job->cfg->preferred_chain);
}

static void on_download(const struct acme_reply *rep, void *userdata);

static void fetch(struct order_job *job, const char *url)
{
	int r = acme_conn_post(ca_get_conn(job->ca), url, NULL, false, on_download, job, &job->op);
	if (r < 0) {
		msg(job, "downloading the certificate: %s", strerror(-r));
		finish(job, r);
	}
}

static void on_download(const struct acme_reply *rep, void *userdata)
{
	struct order_job *job = userdata;
	bool alternate = job->phase == PHASE_ALTERNATE;

	job->op = NULL;
	if (rep->error < 0 || rep->status != 200 || rep->body_len == 0) {
		if (alternate) {
			log_warning("cert '%s': alternate chain %s unavailable, ignoring",
				    cert_name(job), rep->url);
		} else {
			fail_reply(job, rep, "downloading the certificate");
			return;
		}
	} else if (!alternate) {
		job->chain = strndup(rep->body, rep->body_len);
		job->chain_len = rep->body_len;
		if (!job->chain) {
			finish(job, -ENOMEM);
			return;
		}
		for (size_t i = 0; i < rep->n_link_alternate; i++) {
			char **a = realloc(job->alternates, (job->n_alternates + 1) * sizeof(*a));
			if (!a || !(a[job->n_alternates] = strdup(rep->link_alternate[i]))) {
				if (a)
					job->alternates = a;
				finish(job, -ENOMEM);
				return;
			}
			job->alternates = a;
			job->n_alternates++;
		}
		if (chain_matches_preference(job, job->chain, job->chain_len)) {
			install(job);
			return;
		}
	} else if (chain_matches_preference(job, rep->body, rep->body_len)) {
		char *c = strndup(rep->body, rep->body_len);
		if (!c) {
			finish(job, -ENOMEM);
			return;
		}
		free(job->chain);
		job->chain = c;
		job->chain_len = rep->body_len;
		log_info("cert '%s': using the alternate chain to '%s'", cert_name(job),
			 job->cfg->preferred_chain);
		install(job);
		return;
	}
	if (job->alt_index < job->n_alternates) {
		job->phase = PHASE_ALTERNATE;
		fetch(job, job->alternates[job->alt_index++]);
		return;
	}
	log_warning("cert '%s': no chain leads to preferred_chain '%s', using the default chain",
		    cert_name(job), job->cfg->preferred_chain);
	install(job);
}

/* ---- driver ---- */

static void on_ca_ready(struct ca *ca, int r, void *userdata)
{
	struct order_job *job = userdata;

	if (r < 0) {
		msg(job, "%s", ca_last_error(ca));
		job->result.transient = r != -EACCES && r != -EINVAL;
		finish(job, r);
		return;
	}
	job->phase = job->order_url ? PHASE_FETCH_ORDER : PHASE_NEW_ORDER;
	step(job);
}

static void step(struct order_job *job)
{
	int r;

	if (job->cancelled || job->phase == PHASE_DONE)
		return;
	switch (job->phase) {
	case PHASE_PREPARE:
		r = ca_prepare(job->ca, on_ca_ready, job);
		if (r < 0) {
			msg(job, "preparing CA '%s': %s", ca_get_name(job->ca), strerror(-r));
			finish(job, r);
		}
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
	case PHASE_AUTHZ_POLL:
		if (job->phase == PHASE_AUTHZ)
			do_fetch_authz(job);
		else {
			r = acme_conn_post(ca_get_conn(job->ca), job->authz_url, NULL, false, on_authz,
					   job, &job->op);
			if (r < 0) {
				msg(job, "polling an authorization: %s", strerror(-r));
				finish(job, r);
			}
		}
		break;
	case PHASE_ORDER_READY:
	case PHASE_ORDER_VALID:
		do_poll_order(job);
		break;
	case PHASE_KEYGEN:
		do_keygen(job);
		break;
	case PHASE_DOWNLOAD:
		if (!job->order.certificate) {
			msg(job, "the order is valid but names no certificate URL");
			finish(job, -EPROTO);
			return;
		}
		fetch(job, job->order.certificate);
		break;
	default:
		break;
	}
}

int order_start(struct daemon *d, const struct order_params *p, struct order_job **ret)
{
	struct order_job *job = calloc(1, sizeof(*job));
	int r;

	if (!job)
		return -ENOMEM;
	job->d = d;
	job->ca = p->ca;
	job->cfg = p->cert;
	job->on_order_url = p->on_order_url;
	job->on_order_intent = p->on_order_intent;
	job->find_orphan = p->find_orphan;
	job->new_order_held = p->new_order_held;
	job->done = p->done;
	job->userdata = p->userdata;
	job->result.retry_after = -1;
	if ((p->replaces && !(job->replaces = strdup(p->replaces))) ||
	    (p->resume_url && !(job->order_url = strdup(p->resume_url)))) {
		free(job->replaces);
		free(job);
		return -ENOMEM;
	}
	r = uv_timer_init(d->loop, &job->timer);
	if (r < 0) {
		free(job->replaces);
		free(job->order_url);
		free(job);
		return r;
	}
	job->timer.data = job;
	job->phase = PHASE_PREPARE;
	r = ca_prepare(job->ca, on_ca_ready, job);
	if (r < 0) {
		job->cancelled = true;
		job_release(job);
		return r;
	}
	*ret = job;
	return 0;
}

void order_cancel(struct order_job *job)
{
	if (!job || job->cancelled)
		return;
	job->cancelled = true;
	ca_cancel_wait(job->ca, on_ca_ready, job);
	/* With a pre-check in flight, on_precheck() frees the job: dnscheck
	 * answers every request, CANCELLED at the latest from dnscheck_free(). */
	job_release(job);
}

