#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/dnscheck.h"
#include "common/strutil.h"
#include "daemon/acme/dns01.h"
#include "daemon/acme/pollwait.h"
#include "daemon/hook.h"
#include "daemon/log.h"

enum dns01_phase {
	DNS01_SETTING,
	DNS01_WAITING,
	DNS01_READY,
	DNS01_CLEANING,
};

struct dns01_job {
	uv_loop_t *loop;            /* borrowed */
	struct dnscheck *dns;       /* borrowed */
	char *hook;                 /* owned */
	char *owner;                /* owned: _acme-challenge.<identifier> */
	char *value;                /* owned */
	uint64_t hook_timeout_ms;
	uint64_t propagation_timeout_ms;
	enum dns01_phase phase;
	dns01_fn ready;             /* NULL once called */
	void *ready_ud;
	dns01_fn cleaned;
	void *cleaned_ud;
	struct hook_run *run;       /* in flight, or NULL */
	bool lookup_pending;        /* a dnscheck callback will come */
	bool cleanup_requested;
	uv_timer_t timer;           /* timer.data == this */
	struct pollwait poll;       /* the wait for the record */
	bool freeing;
};

static void on_timer_closed(uv_handle_t *h)
{
	struct dns01_job *j = h->data;

	free(j->hook);
	free(j->owner);
	free(j->value);
	free(j);
}

static void maybe_free(struct dns01_job *j)
{
	if (j->freeing || j->run || j->lookup_pending || j->phase != DNS01_CLEANING)
		return;
	j->freeing = true;
	uv_close((uv_handle_t *)&j->timer, on_timer_closed);
}

static void report_ready(struct dns01_job *j, int r, const char *message)
{
	dns01_fn cb = j->ready;

	j->ready = NULL;
	if (cb)
		cb(j, r, message, j->ready_ud);
}

static void on_clean_done(int r, const char *message, const char *err_tail, void *userdata)
{
	struct dns01_job *j = userdata;

	(void)err_tail; /* already in the log, line by line */
	j->run = NULL;
	if (r == -ECANCELED)
		log_warning("dns-01: clean hook for %s: %s; the TXT record %s \"%s\" may be left "
			    "behind: remove it by hand",
			    j->owner, message, j->owner, j->value);
	else if (r < 0)
		log_warning("dns-01: clean hook for %s: %s", j->owner, message);
	if (j->cleaned)
		j->cleaned(j, r, message, j->cleaned_ud);
	maybe_free(j);
}

static void run_clean(struct dns01_job *j)
{
	const char *argv[] = { j->hook, "clean", j->owner, j->value, NULL };
	char prefix[300];
	int r;

	str_printf(prefix, sizeof(prefix), "dns-01 hook clean %s", j->owner);
	r = hook_run(j->loop, argv, NULL, j->hook_timeout_ms, prefix, on_clean_done, j, &j->run);
	if (r == -ESHUTDOWN) {
		/* Stopping: no new children, so the daemon exits in bounded time. */
		log_warning("dns-01: the daemon is stopping, so the clean hook did not run: the TXT "
			    "record %s \"%s\" may be left behind (the next renewal's clean hook for "
			    "this name, or you, can remove it)",
			    j->owner, j->value);
		if (j->cleaned)
			j->cleaned(j, r, "the daemon is stopping", j->cleaned_ud);
		maybe_free(j);
	} else if (r < 0) {
		log_warning("dns-01: cannot run the clean hook %s: %s", j->hook, strerror(-r));
		if (j->cleaned)
			j->cleaned(j, r, "cannot run the clean hook", j->cleaned_ud);
		maybe_free(j);
	}
}

static void lookup(struct dns01_job *j);

static void on_poll_timer(uv_timer_t *t)
{
	lookup(t->data);
}

static bool has_value(const struct dnscheck_txt *rrs, size_t n, const char *value)
{
	size_t len = strlen(value);

	for (size_t i = 0; i < n; i++)
		if (rrs[i].len == len && memcmp(rrs[i].text, value, len) == 0)
			return true;
	return false;
}

static void on_lookup(const struct dnscheck_txt_result *res, void *userdata)
{
	struct dns01_job *j = userdata;
	char why[400] = "";
	bool seen;

	j->lookup_pending = false;
	if (j->phase == DNS01_CLEANING) {
		maybe_free(j);
		return;
	}
	if (res->auth_checked && res->auth_error == DNSCHECK_OK && res->n_servers > 0) {
		size_t ok = 0;
		for (size_t i = 0; i < res->n_servers; i++)
			if (res->servers[i].error == DNSCHECK_OK &&
			    has_value(res->servers[i].rrs, res->servers[i].n_rrs, j->value))
				ok++;
		seen = ok == res->n_servers;
		str_printf(why, sizeof(why), "%zu of %zu authoritative servers answer the value", ok,
			   res->n_servers);
	} else {
		/* No NS set to ask (pebble-challtestsrv, split horizons): the resolver. */
		seen = res->error == DNSCHECK_OK && has_value(res->rrs, res->n_rrs, j->value);
		str_printf(why, sizeof(why), "the resolver %s the value",
			   seen ? "answers" : "does not answer");
	}
	if (seen) {
		log_info("dns-01: %s is visible (%s)", j->owner, why);
		j->phase = DNS01_READY;
		report_ready(j, 0, why);
		return;
	}
	uint64_t ms;
	if (pollwait_next_in(&j->poll, DNS01_POLL_FIRST_MS, DNS01_POLL_CAP_MS,
			     j->propagation_timeout_ms, -1, &ms) < 0) {
		char msg[500];
		str_printf(msg, sizeof(msg), "the value at %s did not propagate within %" PRIu64 " s (%s)",
			   j->owner, j->propagation_timeout_ms / 1000, why);
		report_ready(j, -ETIMEDOUT, msg);
		return;
	}
	(void)uv_timer_start(&j->timer, on_poll_timer, ms, 0);
}

static void lookup(struct dns01_job *j)
{
	struct dnscheck_txt_request rq = { .owner = j->owner, .authoritative = true };
	int r;

	r = dnscheck_lookup_txt(j->dns, &rq, on_lookup, j);
	if (r < 0) {
		report_ready(j, r, "cannot query DNS for the value");
		return;
	}
	j->lookup_pending = true;
}

static void on_set_done(int r, const char *message, const char *err_tail, void *userdata)
{
	struct dns01_job *j = userdata;
	char msg[400];

	(void)err_tail;
	j->run = NULL;
	if (j->phase == DNS01_CLEANING) {
		run_clean(j);
		return;
	}
	if (r < 0) {
		str_printf(msg, sizeof(msg), "the hook '%s set %s' %s", j->hook, j->owner, message);
		report_ready(j, r, msg);
		return;
	}
	j->phase = DNS01_WAITING;
	lookup(j);
}

int dns01_set(uv_loop_t *loop, struct dnscheck *dns, const struct dns01_params *p,
	      dns01_fn ready, void *userdata, struct dns01_job **ret)
{
	struct dns01_job *j = calloc(1, sizeof(*j));
	char prefix[300];
	int r;

	if (!j)
		return -ENOMEM;
	j->loop = loop;
	j->dns = dns;
	j->ready = ready;
	j->ready_ud = userdata;
	j->hook_timeout_ms = p->hook_timeout_ms;
	j->propagation_timeout_ms = p->propagation_timeout_ms;
	if (!(j->hook = strdup(p->hook)) || asprintf(&j->owner, "_acme-challenge.%s", p->identifier) < 0 ||
	    !(j->value = strdup(p->value))) {
		free(j->hook);
		free(j->value);
		free(j);
		return -ENOMEM;
	}
	r = uv_timer_init(loop, &j->timer);
	if (r < 0) {
		free(j->hook);
		free(j->owner);
		free(j->value);
		free(j);
		return r;
	}
	j->timer.data = j;
	const char *argv[] = { j->hook, "set", j->owner, j->value, NULL };
	str_printf(prefix, sizeof(prefix), "dns-01 hook set %s", j->owner);
	r = hook_run(loop, argv, NULL, j->hook_timeout_ms, prefix, on_set_done, j, &j->run);
	if (r < 0) {
		j->phase = DNS01_CLEANING;
		maybe_free(j);
		return r;
	}
	*ret = j;
	return 0;
}

void dns01_clean(struct dns01_job *j, dns01_fn done, void *userdata)
{
	bool was_setting = j->phase == DNS01_SETTING;

	j->ready = NULL;
	j->cleaned = done;
	j->cleaned_ud = userdata;
	j->phase = DNS01_CLEANING;
	(void)uv_timer_stop(&j->timer);
	/* A set hook still running cleans up when it ends (on_set_done). */
	if (was_setting && j->run)
		return;
	run_clean(j);
}
