#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#include "common/b64.h"
#include "common/dnscheck.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "daemon/acme/authz.h"
#include "daemon/acme/pollwait.h"
#include "daemon/acme/dns01.h"
#include "daemon/acme/transport.h"
#include "daemon/log.h"


enum authz_phase {
	PHASE_START,          /* waiting for the first turn of the loop */
	PHASE_AUTHZ,          /* fetching urls[authz_index] */
	PHASE_PRECHECK,       /* dns-persist-01: our own read-only check */
	PHASE_DNS01_SET,
	PHASE_RESPOND,        /* POST {} to the challenge */
	PHASE_AUTHZ_POLL,
	PHASE_DONE,
};

struct authz_run {
	struct order_env env;              /* its pointers borrowed */
	const struct config_cert *cfg;     /* borrowed */
	char **urls;                       /* owned */
	size_t n_urls;
	authz_challenge_fn on_challenge;
	authz_done_fn done;
	void *userdata;                    /* borrowed */

	enum authz_phase phase;
	size_t authz_index;
	struct acme_authz authz;           /* the authorization being worked on */
	char *authz_url;                   /* owned */
	char *challenge_url;               /* owned */
	struct dns01_job *dns01;           /* owned until dns01_clean */
	struct acme_op *op;                /* in flight, or NULL */
	bool dnscheck_pending;             /* a dnscheck callback will come */
	char *caa_uri;                     /* owned: dnscheck borrows it past a cancel */
	char *expected_uri;                /* owned: the accounturi the precheck wants; dnscheck
					    * borrows it until its callback */

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
	struct pollwait poll;
	bool cancelled;                    /* free once the last callback came */
	bool closing;
	struct authz_result result;
};

static void step(struct authz_run *run);

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

_printf_(2, 3) static void msg(struct authz_run *run, const char *fmt, ...)
{
	va_list ap;

	free(run->message);
	run->message = NULL;
	va_start(ap, fmt);
	vappend(&run->message, fmt, ap);
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

static void on_timer_closed(uv_handle_t *h)
{
	struct authz_run *run = h->data;

	acme_authz_done(&run->authz);
	for (size_t i = 0; i < run->n_urls; i++)
		free(run->urls[i]);
	free(run->urls);
	free(run->authz_url);
	free(run->challenge_url);
	free(run->expected_uri);
	free(run->caa_uri);
	free(run->refusals);
	free(run->message);
	free(run->records);
	for (size_t i = 0; i < run->n_answers; i++) {
		free(run->answers[i].authz_url);
		free(run->answers[i].challenge_url);
	}
	free(run->answers);
	free(run);
}

/* Frees the run once nothing can call back into it any more. */
static void release(struct authz_run *run)
{
	if (run->closing || run->dnscheck_pending)
		return;
	run->closing = true;
	acme_op_cancel(run->op);
	run->op = NULL;
	if (run->dns01) {
		dns01_clean(run->dns01, NULL, NULL);
		run->dns01 = NULL;
	}
	uv_close((uv_handle_t *)&run->timer, on_timer_closed);
}

static void finish(struct authz_run *run, int error)
{
	run->phase = PHASE_DONE;
	run->result.error = error;
	run->result.message = run->message;
	run->result.records = run->records;
	if (run->dns01) {
		/* Always clean up after dns-01, success or not. */
		dns01_clean(run->dns01, NULL, NULL);
		run->dns01 = NULL;
	}
	if (!run->cancelled)
		run->done(run, &run->result, run->userdata);
	release(run);
}

static void fail_transient(struct authz_run *run, int error)
{
	run->result.transient = true;
	finish(run, error);
}

/* A reply that is not what we asked for: describe it and end the run. */
static void fail_reply(struct authz_run *run, const struct acme_reply *rep, const char *what)
{
	char why[600];

	acme_reply_describe(rep, why, sizeof(why));
	msg(run, "%s failed: %s", what, why);
	run->result.retry_after = rep->retry_after_sec;
	if (acme_reply_try_later(rep))
		fail_transient(run, rep->error < 0 ? rep->error : -EAGAIN);
	else
		finish(run, -EPROTO);
}

static void on_timer(uv_timer_t *t)
{
	step(t->data);
}

/* Waits, then runs step() again (daemon/acme/pollwait says how long), or
 * gives up once the wait in all would be too long. */
static void poll_later(struct authz_run *run, int64_t retry_after, const char *what)
{
	uint64_t ms;

	if (pollwait_next(&run->poll, retry_after, &ms) < 0) {
		msg(run, "gave up waiting for %s after %" PRIu64 " s", what,
		    run->poll.waited_ms / 1000);
		fail_transient(run, -ETIMEDOUT);
		return;
	}
	(void)uv_timer_start(&run->timer, on_timer, ms, 0);
}

/* ---- authorizations ---- */

static void on_authz(const struct acme_reply *rep, void *userdata);
static void respond_next(struct authz_run *run);

static int answer_add(struct authz_run *run, bool respond)
{
	struct answer *t = realloc(run->answers, (run->n_answers + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	run->answers = t;
	t[run->n_answers] = (struct answer){ strdup(run->authz_url), strdup(run->challenge_url), respond };
	if (!t[run->n_answers].authz_url || !t[run->n_answers].challenge_url) {
		free(t[run->n_answers].authz_url);
		free(t[run->n_answers].challenge_url);
		return -ENOMEM;
	}
	run->n_answers++;
	return 0;
}

/* First pass done with this authorization: on to the next. */
static void next_authz(struct authz_run *run)
{
	run->authz_index++;
	run->phase = PHASE_AUTHZ;
	step(run);
}

static void do_fetch_authz(struct authz_run *run)
{
	int r;

	if (run->authz_index >= run->n_urls) {
		if (run->refusing) {
			msg(run, "%s%s%s", run->refusals ? run->refusals : "",
			    run->records ? "\nPublish (once), then renew again:\n" : "",
			    run->records ? run->records : "");
			run->result.refused = true;
			finish(run, -EACCES);
			return;
		}
		if (run->answer_index < run->n_answers) {
			respond_next(run);
			return;
		}
		finish(run, 0);
		return;
	}
	(void)set_str(&run->authz_url, run->urls[run->authz_index]);
	r = acme_conn_post(run->env.conn, run->authz_url, NULL, false, on_authz, run,
			   &run->op);
	if (r < 0) {
		msg(run, "fetching an authorization: %s", strerror(-r));
		finish(run, r);
	}
}

static const char *authz_name(const struct authz_run *run, char *buf, size_t size)
{
	str_printf(buf, size, "%s%s", run->authz.wildcard ? "*." : "", run->authz.identifier.value);
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

static void start_persist(struct authz_run *run);
static void start_dns01(struct authz_run *run);

static void work_on_authz(struct authz_run *run)
{
	char name[DNS_NAME_MAX_BYTES + 8], types[200];
	const struct acme_authz *a = &run->authz;

	switch (a->status) {
	case ACME_STATUS_VALID:
		/* Just-in-time validation, or an authorization the CA reused. */
		log_info("cert '%s': %s is already authorized", run->cfg->name,
			 authz_name(run, name, sizeof(name)));
		next_authz(run);
		return;
	case ACME_STATUS_PENDING:
		break;
	default: {
		const struct acme_challenge *used = NULL;
		for (size_t i = 0; i < a->n_challenges && !used; i++)
			if (a->challenges[i].error)
				used = &a->challenges[i];
		_cleanup_free_ char *p = used ? acme_problem_format(used->error) : NULL;
		msg(run, "the authorization for %s is %s%s%s", authz_name(run, name, sizeof(name)),
		    acme_status_to_string(a->status), p ? ": " : "", p ? p : "");
		finish(run, -EACCES);
		return;
	}
	}

	const char *want = run->cfg->challenge == CHALLENGE_DNS_PERSIST_01 ? "dns-persist-01"
									   : "dns-01";
	const struct acme_challenge *ch = acme_authz_get_challenge(a, want);
	if (!ch) {
		offered_types(a, types, sizeof(types));
		if (run->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
			if (run->on_challenge)
				run->on_challenge(NULL, run->userdata);
			msg(run,
			    "the CA does not offer dns-persist-01 for %s (it offers: %s). Use a CA "
			    "that supports dns-persist-01, or challenge = dns-01 for this cert",
			    authz_name(run, name, sizeof(name)), types);
		} else {
			msg(run, "the CA does not offer dns-01 for %s (it offers: %s)",
			    authz_name(run, name, sizeof(name)), types);
		}
		finish(run, -EOPNOTSUPP);
		return;
	}
	(void)set_str(&run->challenge_url, ch->url);
	if (ch->status == ACME_STATUS_PROCESSING) {
		/* Answered before a restart: just wait for the outcome. */
		if (run->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
			if (answer_add(run, false) < 0) {
				finish(run, -ENOMEM);
				return;
			}
			next_authz(run);
			return;
		}
		run->phase = PHASE_AUTHZ_POLL;
		pollwait_reset(&run->poll);
		poll_later(run, -1, "the CA's validation");
		return;
	}
	if (run->cfg->challenge == CHALLENGE_DNS_PERSIST_01)
		start_persist(run);
	else
		start_dns01(run);
}

static void on_authz(const struct acme_reply *rep, void *userdata)
{
	struct authz_run *run = userdata;
	struct acme_authz a;
	char err[200];

	run->op = NULL;
	if (rep->error < 0 || rep->status != 200) {
		fail_reply(run, rep, "fetching an authorization");
		return;
	}
	if (!rep->json || acme_authz_parse(rep->json, &a, err, sizeof(err)) < 0) {
		msg(run, "the CA sent a malformed authorization (%s): %s", rep->url,
		    rep->json ? err : "not JSON");
		finish(run, -EPROTO);
		return;
	}
	acme_authz_done(&run->authz);
	run->authz = a;
	if (run->phase == PHASE_AUTHZ_POLL) {
		if (a.status == ACME_STATUS_PENDING) {
			poll_later(run, rep->retry_after_sec, "the CA's validation");
			return;
		}
		if (a.status == ACME_STATUS_VALID && run->dns01) {
			dns01_clean(run->dns01, NULL, NULL);
			run->dns01 = NULL;
		}
		if (a.status == ACME_STATUS_VALID) {
			char name[DNS_NAME_MAX_BYTES + 8];
			log_notice("cert '%s': %s validated by the CA", run->cfg->name,
				   authz_name(run, name, sizeof(name)));
			if (run->cfg->challenge == CHALLENGE_DNS_PERSIST_01) {
				run->answer_index++;
				respond_next(run);
				return;
			}
		}
	}
	work_on_authz(run);
}

/* ---- dns-persist-01: our read-only check, then the CA's ---- */

static bool cert_has_wildcard_for(const struct authz_run *run, const char *base)
{
	for (size_t i = 0; i < run->cfg->n_names; i++)
		if (str_has_prefix(run->cfg->names[i], "*.") && streq(run->cfg->names[i] + 2, base))
			return true;
	return false;
}

/* The record to publish, as a zone-file line, into run->records. */
static void describe_record_to_publish(struct authz_run *run, const char *issuer,
				       const char *account_uri)
{
	const char *base = run->authz.identifier.value;
	_cleanup_free_ char *owner = NULL, *value = NULL, *line = NULL;
	struct record_spec spec = {
		.issuer = issuer,
		.account_uri = account_uri,
		/* One record serves base and *.base: it needs the policy if either asks. */
		.wildcard = run->authz.wildcard || cert_has_wildcard_for(run, base),
		.has_persist_until = run->cfg->has_persist_until,
		.persist_until = run->cfg->persist_until,
	};

	if (record_owner_name(base, &owner, NULL) < 0 || record_generate(&spec, &value) < 0 ||
	    record_zone_line(owner, value, strlen(value), 3600, &line) < 0)
		return;
	/* x and *.x share one record: name it once. */
	if (run->records && strstr(run->records, line))
		return;
	append(&run->records, "%s%s", run->records ? "\n" : "", line);
}

static void respond_to_challenge(struct authz_run *run);

_printf_(2, 3) static void refuse(struct authz_run *run, const char *fmt, ...)
{
	va_list ap;

	append(&run->refusals, "%s", run->refusing ? "; " : "refusing to ask the CA to validate: ");
	run->refusing = true;
	va_start(ap, fmt);
	vappend(&run->refusals, fmt, ap);
	va_end(ap);
}

/* The issuer a record should name: the fixed names (config, directory), else what the
 * challenge listed, else the directory's caaIdentities, as daemon/ca ranks them. */
static const char *issuer_to_name(const struct authz_run *run, const struct acme_challenge *ch)
{
	const struct acme_account_view *a = run->env.account;

	if (a->n_issuers)
		return a->issuers[0];
	if (ch && ch->n_issuer_domain_names)
		return ch->issuer_domain_names[0];
	if (a->n_caa_identities)
		return a->caa_identities[0];
	return NULL;
}

static void on_precheck(const struct dnscheck_result *res, void *userdata)
{
	struct authz_run *run = userdata;
	char name[DNS_NAME_MAX_BYTES + 8];
	_cleanup_free_ char *expected = NULL;

	run->dnscheck_pending = false;
	/* A cancelled run's environment may be gone (a reload removed its CA): touch
	 * nothing. */
	if (run->cancelled) {
		/* Perhaps from inside dnscheck_free() at shutdown. */
		release(run);
		return;
	}
	authz_name(run, name, sizeof(name));
	if (res->error != DNSCHECK_OK) {
		msg(run,
		    "cannot verify %s before asking the CA: %s (%s). Not triggering validation "
		    "until the record can be checked",
		    res->owner, dnscheck_error_to_string(res->error), res->error_reason);
		fail_transient(run, -EAGAIN);
		return;
	}
	if (res->caa.checked && res->caa.error == DNSCHECK_OK &&
	    !caa_outcome_permits(res->caa.verdict.outcome)) {
		refuse(run, "%s: CAA at %s forbids it: %s", name,
		       res->caa.owner ? res->caa.owner : "?", res->caa.verdict.reason);
		next_authz(run);
		return;
	}
	if (res->verdict.status == RECORD_VALID) {
		log_info("cert '%s': %s: %s (DNSSEC %s)", run->cfg->name, res->owner,
			 res->verdict.reason, dnscheck_dnssec_to_string(res->dnssec));
		if (answer_add(run, true) < 0) {
			finish(run, -ENOMEM);
			return;
		}
		next_authz(run);
		return;
	}
	const struct acme_challenge *ch = acme_authz_get_challenge(&run->authz, "dns-persist-01");
	const char *issuer = issuer_to_name(run, ch);
	if (acme_account_expected_uri(run->env.account, run->authz.identifier.value,
				      ch ? ch->accounturi : NULL, &expected) == 0 && issuer)
		describe_record_to_publish(run, issuer, expected);
	refuse(run, "%s: the record at %s would fail: %s: %s", name, res->owner,
	       record_status_to_string(res->verdict.status), res->verdict.reason);
	next_authz(run);
}

/* Draft -02 section 3.1: the challenge's list must contain the directory's,
 * and sit inside caaIdentities when that is given. */
static bool issuers_consistent(const struct authz_run *run, const struct acme_challenge *ch,
			       char *why, size_t size)
{
	const struct acme_directory *dir = acme_conn_get_directory(run->env.conn);

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

static void start_persist(struct authz_run *run)
{
	const struct acme_challenge *ch = acme_authz_get_challenge(&run->authz, "dns-persist-01");
	char name[DNS_NAME_MAX_BYTES + 8], why[300];
	_cleanup_free_ char *expected = NULL;
	int r;

	authz_name(run, name, sizeof(name));
	if (!issuers_consistent(run, ch, why, sizeof(why))) {
		msg(run, "the CA's dns-persist-01 challenge for %s is malformed: %s", name, why);
		finish(run, -EPROTO);
		return;
	}
	if (run->on_challenge)
		run->on_challenge(ch, run->userdata);
	r = acme_account_expected_uri(run->env.account, run->authz.identifier.value,
				      ch->accounturi, &expected);
	if (r == 0)
		r = set_str(&run->caa_uri, run->env.account->url);
	if (r < 0) {
		msg(run, "computing the accounturi for %s: %s", name, strerror(-r));
		finish(run, r);
		return;
	}
	struct dnscheck_request rq = {
		.name = name,
		.issuers = (const char *const *)ch->issuer_domain_names,
		.n_issuers = ch->n_issuer_domain_names,
		.account_uri = expected,
		.caa_account_uri = run->caa_uri,
		.wildcard = run->authz.wildcard,
		.now = run->env.now(run->env.now_userdata),
		.caa = true,
	};
	run->phase = PHASE_PRECHECK;
	free(run->expected_uri);
	run->expected_uri = TAKE_PTR(expected);
	rq.account_uri = run->expected_uri;
	r = dnscheck_submit(run->env.dns, &rq, on_precheck, run);
	if (r < 0) {
		msg(run, "checking the record of %s: %s", name, strerror(-r));
		fail_transient(run, r);
		return;
	}
	run->dnscheck_pending = true;
}

static void on_challenge_posted(const struct acme_reply *rep, void *userdata)
{
	struct authz_run *run = userdata;

	run->op = NULL;
	if (rep->error < 0 || rep->status != 200) {
		fail_reply(run, rep, "answering the challenge");
		return;
	}
	run->phase = PHASE_AUTHZ_POLL;
	pollwait_reset(&run->poll);
	poll_later(run, rep->retry_after_sec, "the CA's validation");
}

static void respond_to_challenge(struct authz_run *run)
{
	int r;

	run->phase = PHASE_RESPOND;
	r = acme_conn_post(run->env.conn, run->challenge_url, "{}", false,
			   on_challenge_posted, run, &run->op);
	if (r < 0) {
		msg(run, "answering the challenge: %s", strerror(-r));
		finish(run, r);
	}
}

/* Second pass of dns-persist-01: every check passed; now the CA validates. */
static void respond_next(struct authz_run *run)
{
	if (run->answer_index >= run->n_answers) {
		finish(run, 0);
		return;
	}
	const struct answer *t = &run->answers[run->answer_index];
	(void)set_str(&run->authz_url, t->authz_url);
	(void)set_str(&run->challenge_url, t->challenge_url);
	if (t->respond) {
		log_info("cert '%s': asking the CA to validate %s", run->cfg->name, t->authz_url);
		respond_to_challenge(run);
		return;
	}
	run->phase = PHASE_AUTHZ_POLL;
	pollwait_reset(&run->poll);
	poll_later(run, -1, "the CA's validation");
}

/* ---- dns-01 ---- */

static void on_dns01_ready(struct dns01_job *dj, int r, const char *message, void *userdata)
{
	struct authz_run *run = userdata;

	(void)dj;
	if (r < 0) {
		msg(run, "dns-01 for %s: %s", run->authz.identifier.value, message);
		fail_transient(run, r);
		return;
	}
	respond_to_challenge(run);
}

static void start_dns01(struct authz_run *run)
{
	const struct acme_challenge *ch = acme_authz_get_challenge(&run->authz, "dns-01");
	_cleanup_free_ char *keyauth = NULL;
	uint8_t digest[32];
	char value[48];
	int r;

	if (!ch->token || !*ch->token) {
		msg(run, "the CA's dns-01 challenge for %s has no token", run->authz.identifier.value);
		finish(run, -EPROTO);
		return;
	}
	if (run->on_challenge)
		run->on_challenge(ch, run->userdata);
	if (!run->env.account->thumbprint) {
		msg(run, "no account key thumbprint for the dns-01 key authorization");
		finish(run, -EINVAL);
		return;
	}
	if (asprintf(&keyauth, "%s.%s", ch->token, run->env.account->thumbprint) < 0) {
		finish(run, -ENOMEM);
		return;
	}
	r = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const uint8_t *)keyauth,
		       strlen(keyauth), digest);
	if (r != 0 || b64url_encode_buf(digest, sizeof(digest), value, sizeof(value)) < 0) {
		finish(run, -EIO);
		return;
	}
	struct dns01_params p = {
		.hook = config_cert_opts(run->cfg)->dns01_hook,
		.identifier = run->authz.identifier.value,
		.value = value,
		.hook_timeout_ms = config_cert_opts(run->cfg)->dns01_hook_timeout_ms,
		.propagation_timeout_ms = config_cert_opts(run->cfg)->dns01_propagation_timeout_ms,
	};
	run->phase = PHASE_DNS01_SET;
	r = dns01_set(run->env.loop, run->env.dns, &p, on_dns01_ready, run, &run->dns01);
	if (r < 0) {
		msg(run, "starting the dns-01 hook: %s", strerror(-r));
		finish(run, r);
	}
}

/* ---- driver ---- */

static void step(struct authz_run *run)
{
	int r;

	if (run->cancelled || run->phase == PHASE_DONE)
		return;
	switch (run->phase) {
	case PHASE_START:
		run->phase = PHASE_AUTHZ;
		do_fetch_authz(run);
		break;
	case PHASE_AUTHZ:
		do_fetch_authz(run);
		break;
	case PHASE_AUTHZ_POLL:
		r = acme_conn_post(run->env.conn, run->authz_url, NULL, false, on_authz, run,
				   &run->op);
		if (r < 0) {
			msg(run, "polling an authorization: %s", strerror(-r));
			finish(run, r);
		}
		break;
	default:
		break;
	}
}

int authz_start(const struct order_env *env, const struct authz_params *p,
		struct authz_run **ret)
{
	struct authz_run *run = calloc(1, sizeof(*run));
	int r;

	if (!run)
		return -ENOMEM;
	run->env = *env;
	run->cfg = p->cert;
	run->on_challenge = p->on_challenge;
	run->done = p->done;
	run->userdata = p->userdata;
	run->result.retry_after = -1;
	run->urls = calloc(p->n_urls + 1, sizeof(char *));
	if (!run->urls) {
		free(run);
		return -ENOMEM;
	}
	for (; run->n_urls < p->n_urls; run->n_urls++)
		if (!(run->urls[run->n_urls] = strdup(p->urls[run->n_urls])))
			goto fail;
	r = uv_timer_init(env->loop, &run->timer);
	if (r < 0)
		goto fail_r;
	run->timer.data = run;
	run->phase = PHASE_START;
	/* The first step on the next turn of the loop: no callback from inside this call. */
	r = uv_timer_start(&run->timer, on_timer, 0, 0);
	if (r < 0) {
		run->cancelled = true;
		release(run);
		return r;
	}
	*ret = run;
	return 0;
fail:
	r = -ENOMEM;
fail_r:
	for (size_t i = 0; i < run->n_urls; i++)
		free(run->urls[i]);
	free(run->urls);
	free(run);
	return r;
}

void authz_cancel(struct authz_run *run)
{
	if (!run || run->cancelled)
		return;
	run->cancelled = true;
	/* With a pre-check in flight, on_precheck() frees the run: dnscheck
	 * answers every request, CANCELLED at the latest from dnscheck_free(). */
	release(run);
}
