#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/certbase.h"
#include "daemon/certlevel.h"
#include "daemon/daemon.h"

#define REMIND_EVERY_SEC SEC_PER_DAY

/* Spreads checks and renewals, no secret: getrandom() bytes drawn a block at
 * a time, so a start at 100k certs makes a few hundred calls, not 100k. */
static uint64_t random_u64(void)
{
	static uint64_t pool[64];
	static size_t left;
	uint64_t v;

	if (left == 0) {
		if (getrandom(pool, sizeof(pool), GRND_NONBLOCK) != (ssize_t)sizeof(pool))
			return (uint64_t)uv_hrtime() * 6364136223846793005ULL +
			       1442695040888963407ULL;
		left = ELEMENTSOF(pool);
	}
	v = pool[--left];
	return v;
}

/* A random instant in [a, b]. */
int64_t certbase_random_between(int64_t a, int64_t b)
{
	if (b <= a)
		return a;
	return a + (int64_t)(random_u64() % (uint64_t)(b - a + 1));
}

struct state_cert *cert_state(const struct cert *c)
{
	struct cert *mc = (struct cert *)c;

	if (!mc->st)
		mc->st = state_get_cert(c->d->state, c->cfg->name, true);
	return mc->st;
}

struct state_name *certbase_name_state(const struct cert_name *n)
{
	struct state_cert *st = cert_state(n->cert);
	return st ? state_cert_get_name(st, n->name, true) : NULL;
}

/* The name's cert is gone but its check's callback will come (dnscheck
 * promises one per request, CANCELLED at the latest from dnscheck_free()):
 * the callback frees the name. */
void certbase_name_orphan(struct cert_name *n)
{
	n->cert = NULL;
}

void certbase_name_request_free(struct cert_name_request *rq)
{
	if (!rq)
		return;
	free(rq->expected);
	for (size_t i = 0; i < rq->n_issuers; i++)
		free(rq->issuers[i]);
	free(rq->issuers);
	free(rq);
}

void certbase_name_free(struct cert_name *n)
{
	certbase_name_request_free(n->request);
	free(n);
}

void certbase_emit(struct cert *c, const struct alert *a)
{
	_cleanup_free_ char *json = NULL;
	size_t len;

	alert_write(a);
	if (alert_to_json(a, &json, &len) == 0)
		daemon_notify_event(c->d, json, len);
}

/* A new cert's grace for publishing its records runs from when it was first seen. */
static void update_grace(struct cert *c, int64_t now)
{
	struct state_cert *st = cert_state(c);

	if (!st)
		return;
	if (!st->first_seen) {
		st->first_seen = now;
		daemon_state_cert_changed(c->d, st);
	}
	const struct config_cert_opts *o = config_cert_opts(c->cfg);
	uint64_t grace_ms = o->has_record_grace ? o->record_grace_ms
						: c->d->config->daemon.record_grace_ms;
	st->record_grace_until = st->has_cert ? 0 : st->first_seen + (int64_t)(grace_ms / 1000);
}

/* The plain reason is not kept: certlevel_name_reason() says it again. */
static void set_name_reason(struct state_name *n, const char *why)
{
	(void)state_set_shared(&n->level_reason, certlevel_name_reason_is_plain(n, why) ? NULL : why);
}

void certbase_name_level_quiet(struct cert *c, struct state_name *n, int64_t now)
{
	char why[CERTLEVEL_REASON_MAX];
	bool unverifiable;

	update_grace(c, now);
	n->level = certlevel_name(&c->d->config->daemon, cert_state(c), n, now, why, sizeof(why),
				  &unverifiable);
	set_name_reason(n, why);
}

void certbase_name_update_level(struct cert *c, struct state_name *n, int64_t now)
{
	char why[CERTLEVEL_REASON_MAX];
	bool unverifiable;
	update_grace(c, now);
	enum level level = certlevel_name(&c->d->config->daemon, cert_state(c), n, now, why,
					   sizeof(why), &unverifiable);
	_cleanup_free_ char *owner = NULL;
	bool waiting = level == LEVEL_WARNING && certlevel_name_waiting(cert_state(c), n, now);
	/* Waiting for the record and, say, a published record near its persistUntil are
	 * both WARNING, but the second is news: a change of either is alerted. */
	bool was_waiting = n->level_reason && str_has_prefix(n->level_reason, CERTLEVEL_WAITING);
	bool changed = level != n->alerted_level || waiting != was_waiting;
	bool remind = !changed && level != LEVEL_OK && now - n->alerted_at >= REMIND_EVERY_SEC;

	n->level = level;
	set_name_reason(n, why);
	if (!changed && !remind)
		return;
	(void)record_owner_name(n->name, &owner, NULL);
	char message[700];
	if (level == LEVEL_OK)
		str_printf(message, sizeof(message), "%s: %s: OK again (%s)", c->cfg->name, n->name,
			   why);
	else
		str_printf(message, sizeof(message), "%s: %s: %s", c->cfg->name, n->name, why);
	struct alert a = {
		.kind = waiting ? ALERT_RECORD_WAITING : certlevel_name_kind(level, unverifiable),
		.level = level,
		.cert = c->cfg->name,
		.fqdn = n->name,
		.owner = owner,
		.status = n->status,
		.has_until = n->has_until,
		.until = n->persist_until,
		.now = now,
		.message = message,
		.reason = n->reason,
		.reminder = remind,
	};
	/* The first check of a healthy name is no news. */
	if (changed || remind)
		if (!(level == LEVEL_OK && n->alerted_at == 0))
			certbase_emit(c, &a);
	n->alerted_level = level;
	n->alerted_at = now;
	daemon_state_cert_changed(c->d, cert_state(c));
}

/* True when it wrote an alert. */
bool certbase_cert_update_level(struct cert *c, int64_t now)
{
	struct state_cert *st = cert_state(c);

	if (!st)
		return false;
	update_grace(c, now);
	/* The reason quotes the last error whole: it may carry every record to publish. */
	size_t why_size = 600 + (st->last_error ? strlen(st->last_error) : 0) +
			  (st->records_hint ? strlen(st->records_hint) : 0);
	_cleanup_free_ char *why = malloc(why_size), *message = malloc(why_size + 300);
	if (!why || !message)
		return false;
	enum level level = certlevel_cert(&c->d->config->daemon, c->cfg, st, now, why, why_size);
	bool changed = level != st->alerted_level;
	bool remind = !changed && level != LEVEL_OK && now - st->alerted_at >= REMIND_EVERY_SEC;

	st->level = level;
	(void)state_set_str(&st->level_reason,
			    certlevel_cert_reason_is_plain(st, why) ? NULL : why);
	if (!changed && !remind)
		return false;
	static const enum alert_kind kinds[] = {
		[LEVEL_OK] = ALERT_CERT_OK,
		[LEVEL_WARNING] = ALERT_CERT_RENEWAL_FAILED,
		[LEVEL_CRITICAL] = ALERT_CERT_EXPIRING,
		[LEVEL_ERROR] = ALERT_CERT_EXPIRED,
	};
	str_printf(message, why_size + 300, "%s: %s", c->cfg->name, why);
	bool expired = st->has_cert && now > st->not_after;
	struct alert a = {
		.kind = level == LEVEL_ERROR && !expired && state_cert_is_revoked(st) ? ALERT_CERT_REVOKED
			: level == LEVEL_WARNING && certlevel_waiting_record(st, now) ? ALERT_RECORD_WAITING
			: level == LEVEL_ERROR && !expired && st->cert_rejected ? ALERT_CERT_REJECTED
			: level == LEVEL_ERROR && !expired ? ALERT_CERT_RENEWAL_FAILED
			: level == LEVEL_WARNING && st->failures == 0 && st->deploy_failed
				? ALERT_CERT_DEPLOY_FAILED
				: kinds[level],
		.level = level,
		.cert = c->cfg->name,
		.status = st->has_cert ? (now > st->not_after ? "EXPIRED" : "VALID") : "NONE",
		.has_until = st->has_cert,
		.until = st->not_after,
		.now = now,
		.message = message,
		.reason = st->last_error,
		.reminder = remind,
	};
	bool emitted = !(level == LEVEL_OK && st->alerted_at == 0);
	if (emitted)
		certbase_emit(c, &a);
	st->alerted_level = level;
	st->alerted_at = now;
	daemon_state_cert_changed(c->d, cert_state(c));
	return emitted;
}

/* Declared in daemon/cert.h; here, since it only re-runs the level policy. */
void cert_reevaluate(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return;
	for (size_t i = 0; i < st->n_names; i++)
		certbase_name_update_level(c, &st->names[i], now);
	certbase_cert_update_level(c, now);
}

struct cert_pending *certbase_pending(struct cert *c)
{
	if (!c->pending)
		c->pending = calloc(1, sizeof(*c->pending));
	return c->pending;
}

void certbase_pending_trim(struct cert *c)
{
	struct cert_pending *p = c->pending;

	if (!p || p->due_waiter.cb || p->staged_cfg || p->staged)
		return;
	for (size_t l = 0; l < _CERT_WAIT_MAX; l++)
		if (p->lists[l].n || p->lists[l].items)
			return;
	free(p);
	c->pending = NULL;
}

void certbase_pending_free(struct cert *c)
{
	struct cert_pending *p = c->pending;

	if (!p)
		return;
	for (size_t l = 0; l < _CERT_WAIT_MAX; l++) {
		for (size_t i = 0; i < p->lists[l].n; i++)
			free(p->lists[l].items[i].message);
		free(p->lists[l].items);
	}
	free(p->staged);
	free(p);
	c->pending = NULL;
}

size_t certbase_n_waiters(const struct cert *c, enum cert_wait l)
{
	return c->pending ? c->pending->lists[l].n : 0;
}

int certbase_add_waiter(struct cert *c, enum cert_wait l, cert_done_fn cb, void *userdata,
			char *message)
{
	struct cert_pending *p = certbase_pending(c);
	if (!p)
		return -ENOMEM;
	struct cert_waiters *list = &p->lists[l];
	struct cert_waiter *w = realloc(list->items, (list->n + 1) * sizeof(*w));
	if (!w) {
		certbase_pending_trim(c);
		return -ENOMEM;
	}
	list->items = w;
	w[list->n++] = (struct cert_waiter){ cb, userdata, message };
	return 0;
}

void certbase_drop_last_waiter(struct cert *c, enum cert_wait l)
{
	/* Gone already if what it was for answered the list before failing. */
	if (!c->pending || c->pending->lists[l].n == 0)
		return;
	struct cert_waiters *list = &c->pending->lists[l];

	free(list->items[--list->n].message);
	if (list->n == 0) {
		free(list->items);
		list->items = NULL;
		certbase_pending_trim(c);
	}
}

struct cert_waiters certbase_take_waiters(struct cert *c, enum cert_wait l)
{
	struct cert_waiters taken = { 0 };

	if (c->pending) {
		taken = c->pending->lists[l];
		c->pending->lists[l] = (struct cert_waiters){ 0 };
		certbase_pending_trim(c);
	}
	return taken;
}

void certbase_later_waiters_move_up(struct cert *c)
{
	if (!c->pending)
		return;
	c->pending->lists[CERT_WAIT_DEPLOY] = c->pending->lists[CERT_WAIT_LATER];
	c->pending->lists[CERT_WAIT_LATER] = (struct cert_waiters){ 0 };
}

int certbase_set_due_waiter(struct cert *c, cert_done_fn cb, void *userdata)
{
	if (c->pending && c->pending->due_waiter.cb)
		return -EBUSY;
	struct cert_pending *p = certbase_pending(c);
	if (!p)
		return -ENOMEM;
	p->due_waiter = (struct cert_waiter){ cb, userdata, NULL };
	return 0;
}

struct cert_waiter certbase_take_due_waiter(struct cert *c)
{
	struct cert_waiter w = { 0 };

	if (c->pending) {
		w = c->pending->due_waiter;
		c->pending->due_waiter = (struct cert_waiter){ 0 };
		certbase_pending_trim(c);
	}
	return w;
}

void certbase_call_renew_waiters(struct cert *c, int r, const char *message)
{
	struct cert_waiters w = certbase_take_waiters(c, CERT_WAIT_RENEW);

	for (size_t i = 0; i < w.n; i++)
		w.items[i].cb(c, r, message, w.items[i].userdata);
	free(w.items);
}

void certbase_call_waiters(struct cert *c, struct cert_waiter *w, size_t n, int r,
			   const char *message)
{
	for (size_t i = 0; i < n; i++) {
		w[i].cb(c, r, w[i].message && r >= 0 ? w[i].message : message, w[i].userdata);
		free(w[i].message);
	}
	free(w);
}
