#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/statejournal.h"

int64_t daemon_now(const struct daemon *d)
{
	return (int64_t)time(NULL) + d->time_offset;
}

int64_t daemon_clock(void *userdata)
{
	return daemon_now(userdata);
}

int daemon_state_save(struct daemon *d)
{
	int r;

	/* --probe runs beside a daemon without the state lock: what it learns
	 * about the CA is not worth a second writer. */
	if (!d->state || !d->store || d->read_only)
		return 0;
	r = statejournal_save(d->journal, d->state, d->store, d->state_full);
	if (r < 0)
		return log_errno(LOG_ERR, r, "writing %s/state.json: %m", store_get_dir(d->store));
	d->state_dirty = false;
	d->state_full = false;
	if (d->state_timer_init)
		(void)uv_timer_stop(&d->state_timer);
	return 0;
}

static void on_state_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!d->state_dirty)
		return;
	/* A callback of its own: nobody holds an entry's orders part now. */
	if (d->state)
		state_trim_dirty(d->state);
	(void)daemon_state_save(d);
}

static void state_timer_arm(struct daemon *d);

void daemon_state_changed(struct daemon *d)
{
	d->state_full = true;
	state_timer_arm(d);
}

void daemon_state_cert_changed(struct daemon *d, struct state_cert *st)
{
	if (!st || !d->state || state_mark_dirty(d->state, st) < 0)
		d->state_full = true;
	state_timer_arm(d);
}

int daemon_state_save_cert(struct daemon *d, struct state_cert *st)
{
	if (!st || !d->state || state_mark_dirty(d->state, st) < 0)
		d->state_full = true;
	return daemon_state_save(d);
}

static void state_timer_arm(struct daemon *d)
{
	if (d->state_dirty)
		return;
	d->state_dirty = true;
	if (!d->state_timer_init) {
		if (uv_timer_init(d->loop, &d->state_timer) < 0)
			return;
		d->state_timer.data = d;
		d->state_timer_init = true;
	}
	/* Coalesce: thousands of check results make one write. The loop's clock
	 * is refreshed first: armed while the certs load, before the loop runs,
	 * the timer would count from when the loop was made, fire on the loop's
	 * first turn and hold the first control answer behind a whole snapshot
	 * (1.3 s at 100k certs). */
	uv_update_time(d->loop);
	(void)uv_timer_start(&d->state_timer, on_state_timer, 1000, 0);
}

void daemon_notify_event(struct daemon *d, const char *json, size_t len)
{
	if (d->control)
		control_notify(d->control, "event", json, len);
}

void daemon_job_finished(struct daemon *d, bool ok)
{
	if (d->jobs_running > 0)
		d->jobs_running--;
	if (ok)
		d->oneshot_done++;
	else
		d->oneshot_failed++;
}
