#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/fleet.h"
#include "daemon/fleet_db.h"
#include "daemon/fleetrenew.h"
#include "daemon/log.h"

static int cmp_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The union of st's and ren's order times as multisets (each time as often as the side
 * that has it more often): a host's own orders come back in what it stored, and are
 * counted once, while two orders within one second stay two. */
static void merge_order_times(struct state_cert *st, const struct fleet_renewal *ren)
{
	size_t na = state_cert_orders(st)->n_order_times, nb = ren->n_order_times, n = 0;
	if (!nb)
		return;
	struct state_cert_orders *or = state_cert_orders_mut(st);
	if (!or)
		return; /* the local count still holds this host */
	int64_t *a = malloc((na + 1) * sizeof(*a)), *b = malloc(nb * sizeof(*b));
	int64_t *all = malloc((na + nb) * sizeof(*all));
	if (a && b && all) {
		if (na)
			memcpy(a, or->order_times, na * sizeof(*a));
		memcpy(b, ren->order_times, nb * sizeof(*b));
		qsort(a, na, sizeof(*a), cmp_time);
		qsort(b, nb, sizeof(*b), cmp_time);
		size_t i = 0, k = 0;
		while (i < na || k < nb) {
			if (k == nb || (i < na && a[i] < b[k]))
				all[n++] = a[i++];
			else if (i == na || b[k] < a[i])
				all[n++] = b[k++];
			else {
				all[n++] = a[i++];
				k++;
			}
		}
		size_t skip = n > STATE_MAX_ORDER_TIMES ? n - STATE_MAX_ORDER_TIMES : 0;
		memmove(all, all + skip, (n - skip) * sizeof(*all));
		free(or->order_times);
		or->order_times = TAKE_PTR(all);
		or->n_order_times = n - skip;
	} /* else: the local count still holds this host */
	free(a);
	free(b);
	free(all);
}

bool fleetrenew_merge(struct state_cert *st, const struct fleet_renewal *ren, const char *self)
{
	bool waits = false;

	merge_order_times(st, ren);
	st->ca_retry_until = MAX(st->ca_retry_until, ren->ca_retry_until);
	if (ren->attempt_at <= st->last_attempt)
		return false;
	/* A later attempt elsewhere: its outcome is the cert's (a success resets). */
	waits = ren->failures && ren->retry_at > st->retry_at;
	st->last_attempt = ren->attempt_at;
	st->failures = ren->failures;
	st->retry_at = ren->failures ? ren->retry_at : 0;
	if (!ren->failures) {
		(void)state_set_str(&st->last_error, NULL);
		return false;
	}
	char *msg = NULL;
	bool other = ren->attempt_by && (!self || !streq(ren->attempt_by, self));
	if (asprintf(&msg, "%s%s%s%s", other ? "issuer '" : "", other ? ren->attempt_by : "",
		     other ? "': " : "", ren->last_error ? ren->last_error : "failed") >= 0) {
		(void)state_set_str(&st->last_error, msg);
		free(msg);
	}
	return waits;
}

static void on_put(struct fleet_db_job *job, void *userdata)
{
	(void)userdata;
	if (job->error < 0)
		log_debug("fleet: cert '%s': storing the renewal state: %s", job->cert, job->why);
}

void fleetrenew_put(struct fleet *f, const char *cert, const struct state_cert *st)
{
	if (!f || fleet_is_follower(f) || !st)
		return;
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_RENEWAL_PUT, cert);
	if (!job)
		return;
	struct fleet_renewal *ren = &job->row.renewal;
	ren->failures = st->failures;
	ren->attempt_at = st->last_attempt;
	ren->retry_at = st->retry_at;
	ren->ca_retry_until = st->ca_retry_until;
	ren->last_error = st->last_error ? strdup(st->last_error) : NULL;
	const struct state_cert_orders *or = state_cert_orders(st);
	if (or->n_order_times &&
	    (ren->order_times = malloc(or->n_order_times * sizeof(*ren->order_times)))) {
		memcpy(ren->order_times, or->order_times,
		       or->n_order_times * sizeof(*ren->order_times));
		ren->n_order_times = or->n_order_times;
	}
	fleet_db_submit(fleet_get_db(f), job, on_put, NULL);
}
