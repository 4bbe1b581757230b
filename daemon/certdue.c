#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/certdue.h"
#include "daemon/daemon.h"
#include "daemon/fleet.h"
#include "daemon/fleetrenew.h"
#include "daemon/log.h"

#define ORDER_WINDOW_SEC 3600

static unsigned max_orders(const struct cert *c)
{
	const struct config_cert_opts *o = config_cert_opts(c->cfg);
	return o->max_orders_per_hour ? o->max_orders_per_hour
				      : c->d->config->daemon.max_orders_per_hour;
}

/* When the breaker lets the next new order go: now, or when enough of the orders of the
 * last hour have aged out. Forgets orders older than the window. An order time in the
 * future (our clock went back) counts as now, so a clock jump neither frees nor blocks
 * the breaker for longer than an hour. */
int64_t certdue_orders_allowed_at(const struct cert *c, struct state_cert *st, int64_t now)
{
	struct state_cert_orders *or = st->orders; /* NULL: no orders to count */
	unsigned max = max_orders(c);
	size_t o = 0;
	int64_t at = now;

	if (or) {
		for (size_t i = 0; i < or->n_order_times; i++) {
			int64_t t = MIN(or->order_times[i], now);
			if (t > now - ORDER_WINDOW_SEC)
				or->order_times[o++] = t;
		}
		or->n_order_times = o;
		if (o >= max)
			at = or->order_times[o - max] + ORDER_WINDOW_SEC;
	}
	/* A hold that outlasts the counted orders (one that could not be counted),
	 * never longer than a window from now, as for the counted ones. */
	return MAX(at, MIN(st->orders_held_until, now + ORDER_WINDOW_SEC));
}

void certdue_record_order(struct state_cert *st, int64_t now)
{
	struct state_cert_orders *or = state_cert_orders_mut(st);
	int64_t *a = NULL;

	if (or && or->n_order_times == STATE_MAX_ORDER_TIMES) {
		memmove(or->order_times, or->order_times + 1,
			(STATE_MAX_ORDER_TIMES - 1) * sizeof(or->order_times[0]));
		or->n_order_times--;
	}
	if (or)
		a = realloc(or->order_times, (or->n_order_times + 1) * sizeof(*a));
	if (!a) {
		/* Out of memory: this order cannot be counted, so hold new ones for a
		 * whole window rather than let the breaker fail open. */
		st->orders_held_until = MAX(st->orders_held_until, now + ORDER_WINDOW_SEC);
		return;
	}
	or->order_times = a;
	or->order_times[or->n_order_times++] = now;
}

/* The breaker holds a new order until `until`: said once per hold, as its own alert. */
void certdue_note_order_limit(struct cert *c, struct state_cert *st, int64_t until, int64_t now)
{
	char when[40], message[400];

	if (st->orders_held_until == until)
		return;
	st->orders_held_until = until;
	time_format_iso(until, when, sizeof(when));
	str_printf(message, sizeof(message),
		   "%s: %zu new orders in the last hour reach max_orders_per_hour = %u; no new "
		   "order before %s",
		   c->cfg->name, state_cert_orders(st)->n_order_times, max_orders(c), when);
	log_error("cert '%s': issuance paused: %s", c->cfg->name, message);
	struct alert a = {
		.kind = ALERT_CERT_ORDER_LIMIT,
		.level = LEVEL_ERROR,
		.cert = c->cfg->name,
		.status = "ORDER_LIMIT",
		.has_until = true,
		.until = until,
		.now = now,
		.message = message,
		.reason = st->last_error,
	};
	certbase_emit(c, &a);
	daemon_state_cert_changed(c->d, cert_state(c));
}

/* Why no attempt may start before the returned instant, even when forced: the CA's
 * Retry-After, or the breaker when a new order would be needed. 0: nothing holds. */
int64_t certdue_held_until(const struct cert *c, struct state_cert *st, int64_t now, char *why,
			  size_t size)
{
	char when[40];

	if (st->ca_retry_until > now) {
		time_format_iso(st->ca_retry_until, when, sizeof(when));
		str_printf(why, size, "the CA asked us to wait (Retry-After): the next try is "
				      "allowed at %s",
			   when);
		return st->ca_retry_until;
	}
	const struct state_cert_orders *or = state_cert_orders(st);
	if (!or->order_url && !or->order_requested_at) { /* else: an order to continue */
		int64_t at = certdue_orders_allowed_at(c, st, now);
		if (at > now) {
			time_format_iso(at, when, sizeof(when));
			str_printf(why, size, "%zu new orders in the last hour reach "
					      "max_orders_per_hour = %u: the next try is allowed at %s",
				   or->n_order_times, max_orders(c), when);
			return at;
		}
	}
	return 0;
}

int64_t certdue_next_renewal(struct cert *c, int64_t now)
{
	struct state_cert *st = cert_state(c);
	int64_t due;

	if (!st || !st->has_cert || state_cert_orders(st)->order_url ||
	    state_cert_orders(st)->order_requested_at || state_cert_is_revoked(st))
		due = now; /* nothing (valid) to serve yet, or an order in flight to resume or find */
	else if (st->ari_start > 0 && st->ari_end >= st->ari_start) {
		/* RFC 9773 section 4.2: a random time inside the window, chosen once. */
		if (st->next_renewal >= st->ari_start && st->next_renewal <= st->ari_end)
			due = st->next_renewal;
		else if (st->ari_end <= now)
			due = now;
		else
			due = certbase_random_between(MAX(st->ari_start, now), st->ari_end);
	} else {
		int64_t lifetime = st->not_after - st->not_before + 1;
		due = st->not_before + lifetime * 2 / 3;
	}
	if (st && st->failures && st->retry_at > due)
		due = st->retry_at;
	if (st) {
		char why[200];
		int64_t held = certdue_held_until(c, st, now, why, sizeof(why));
		if (held > due)
			due = held;
	}
	return due;
}

bool certdue_fleet_hold(struct renewal *rn, const struct fleet_renewal *stored, bool resuming,
			char *why, size_t size, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);
	char when[40];

	(void)rn;
	if (!st || !stored)
		return false;
	bool theirs = fleetrenew_merge(st, stored, fleet_host_name(c->d->fleet));
	daemon_state_cert_changed(c->d, st);
	/* An order to continue is no new order: only the CA's Retry-After holds it. */
	if ((!resuming || st->ca_retry_until > now) && certdue_held_until(c, st, now, why, size) > 0)
		goto held;
	/* Forced, this host may try at once, as it may after its own failures. */
	if (!theirs || c->force_job || st->retry_at <= now)
		return false;
	time_format_iso(st->retry_at, when, sizeof(when));
	str_printf(why, size, "%s; the fleet's next try is at %s",
		   st->last_error ? st->last_error : "the last attempt failed", when);
held:
	log_info("cert '%s': not renewing here yet: %s", c->cfg->name, why);
	return true;
}
