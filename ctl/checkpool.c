/* ctl/checkpool.c: see checkpool.h. The one ctl/ module with uv loops: it
 * owns the loops it hands to common/dnscheck, runs them until every name is
 * answered, and closes them (uv_loop_close() must succeed). */
#include "ctl/checkpool.h"

/* macro.h before uv.h (via dnscheck.h): see common/getdns_uv.h. */
#include "common/macro.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dnscheck.h"
#include "common/json.h"
#include "common/strutil.h"
#include "ctl/checkfmt.h"
#include "ctl/output.h"

#define CHECK_WAKE_BATCH 256

struct check_slot {
	char *out;                    /* owned: the formatted result, until printed */
	size_t out_len;
	atomic_bool done;             /* set (release) by a worker once out is written */
};

struct check_run;

/* One thread with its own loop, getdns context(s) and dnscheck; it checks
 * names index, index + stride, ... and formats each result into its slot. */
struct check_worker {
	struct check_run *run;        /* borrowed */
	pthread_t thread;
	bool started;
	uv_loop_t loop;
	bool loop_ready;
	struct dnscheck *dc;          /* owned */
	struct json_writer *jw;       /* owned */
	size_t index, stride;
	size_t n_mine, n_done;        /* this worker's names */
	size_t n_submitted;
	size_t woken_at;              /* n_done at the last wake-up of the printer */
	uint64_t woken_ms;
	int submit_error;             /* -errno of a failed dnscheck_submit */
};

struct check_slot_ref {
	struct check_worker *w;       /* borrowed */
	size_t i;
};

struct check_run {
	const struct check_args *a;   /* borrowed */
	const char *const *names;     /* borrowed */
	struct check_slot *slots;     /* owned */
	struct check_slot_ref *refs;  /* owned: the userdata of each name */
	size_t n_names;
	atomic_size_t n_done;
	atomic_size_t count[_LEVEL_MAX];
	atomic_bool oom;
	size_t next_print;            /* main thread only */
	struct check_worker *workers; /* owned */
	size_t n_workers;
	bool color;
	bool stdout_tty;
	/* the main thread's loop: wake-ups from workers, the progress line */
	uv_loop_t loop;
	uv_async_t wake;              /* wake.data == this */
	uv_timer_t progress_timer;    /* progress_timer.data == this */
	bool progress_timer_on;
	uv_loop_t *progress_loop;     /* borrowed: the loop that owns progress_timer */
	bool inline_mode;             /* one worker, run on the main thread */
	bool closing;
	struct output_progress progress;
};

/* Main thread: prints every finished result that is next in input order. */
static void flush_ready(struct check_run *run)
{
	bool any = false;

	while (run->next_print < run->n_names &&
	       atomic_load_explicit(&run->slots[run->next_print].done, memory_order_acquire)) {
		struct check_slot *s = &run->slots[run->next_print];
		if (!any)
			output_progress_clear(&run->progress);
		any = true;
		if (run->a->json)
			fputs(run->next_print == 0 ? "\n" : ",\n", stdout);
		if (s->out)
			fwrite(s->out, 1, s->out_len, stdout);
		free(s->out);
		s->out = NULL;
		run->next_print++;
	}
	/* Interactive: show each result at once. Otherwise let stdio batch the
	 * writes (one write(2) per result costs more than the lookup). */
	if (any && run->stdout_tty)
		fflush(stdout);
}

static void progress(struct check_run *run, bool force)
{
	output_progress_update(&run->progress, uv_now(run->progress_loop), force,
			       "checked %zu/%zu names: %zu ok, %zu warning, %zu critical, %zu unknown",
			       atomic_load(&run->n_done), run->n_names,
			       atomic_load(&run->count[LEVEL_OK]),
			       atomic_load(&run->count[LEVEL_WARNING]),
			       atomic_load(&run->count[LEVEL_CRITICAL]),
			       atomic_load(&run->count[LEVEL_UNKNOWN]));
}

static void on_closed_noop(uv_handle_t *h)
{
	(void)h;
}

static void on_progress_tick(uv_timer_t *t)
{
	progress(t->data, false);
}

static void progress_done(struct check_run *run)
{
	if (!run->progress_timer_on)
		return;
	run->progress_timer_on = false;
	output_progress_clear(&run->progress);
	uv_close((uv_handle_t *)&run->progress_timer, on_closed_noop);
}

static void on_wake(uv_async_t *h)
{
	struct check_run *run = h->data;

	flush_ready(run);
	if (run->closing || atomic_load(&run->n_done) < run->n_names)
		return;
	run->closing = true;
	progress_done(run);
	uv_close((uv_handle_t *)&run->wake, on_closed_noop);
}

/* Worker thread: one result. */
static void on_check_result(const struct dnscheck_result *r, void *userdata)
{
	struct check_slot_ref *ref = userdata;
	struct check_worker *w = ref->w;
	struct check_run *run = w->run;
	struct check_slot *s = &run->slots[ref->i];
	enum level level = checkfmt_level(r, run->a);

	if (run->a->json) {
		const char *doc;
		size_t len;

		json_writer_reset(w->jw);
		checkfmt_json(w->jw, r, run->a, level);
		if (json_writer_finish(w->jw, &doc, &len) < 0 || !(s->out = malloc(len))) {
			atomic_store(&run->oom, true);
		} else {
			memcpy(s->out, doc, len);
			s->out_len = len;
		}
	} else {
		FILE *m = open_memstream(&s->out, &s->out_len);
		if (!m)
			atomic_store(&run->oom, true);
		else {
			checkfmt_text(m, r, run->a, level, run->color);
			if (fclose(m) != 0)
				atomic_store(&run->oom, true);
		}
	}
	w->n_done++;
	atomic_fetch_add(&run->count[level], 1);
	atomic_store_explicit(&s->done, true, memory_order_release);
	atomic_fetch_add(&run->n_done, 1);
	if (run->inline_mode) {
		flush_ready(run);
		if (atomic_load(&run->n_done) == run->n_names)
			progress_done(run);
		return;
	}
	/* Wake the printer in batches: a wake-up per result costs a syscall
	 * and a context switch each. The last result always wakes it. */
	uint64_t now = uv_now(&w->loop);
	if (w->n_done == w->n_submitted || w->n_done - w->woken_at >= CHECK_WAKE_BATCH ||
	    now - w->woken_ms >= OUTPUT_PROGRESS_MS || run->stdout_tty) {
		w->woken_at = w->n_done;
		w->woken_ms = now;
		(void)uv_async_send(&run->wake);
	}
}

static void *worker_main(void *arg)
{
	struct check_worker *w = arg;
	struct check_run *run = w->run;
	const struct check_args *a = run->a;

	for (size_t i = w->index; i < run->n_names; i += w->stride) {
		struct dnscheck_request rq = {
			.name = run->names[i],
			.issuers = a->issuers,
			.n_issuers = a->n_issuers,
			.account_uri = a->account_uri,
			.caa_account_uri = a->caa_account_uri,
			.wildcard = a->wildcard,
			.now = a->now,
			.caa = a->caa,
			.authoritative = a->authoritative,
		};
		run->refs[i] = (struct check_slot_ref){ w, i };
		int r = dnscheck_submit(w->dc, &rq, on_check_result, &run->refs[i]);
		if (r < 0) {
			/* Names were validated before; this is a limit or memory.
			 * Their slots stay empty; the run ends as UNKNOWN. */
			w->submit_error = r;
			atomic_store(&run->oom, true);
			for (size_t k = i; k < run->n_names; k += w->stride) {
				atomic_store_explicit(&run->slots[k].done, true, memory_order_release);
				atomic_fetch_add(&run->n_done, 1);
			}
			if (!run->inline_mode)
				(void)uv_async_send(&run->wake);
			break;
		}
		w->n_submitted++;
	}
	while (w->n_done < w->n_submitted && uv_run(&w->loop, UV_RUN_ONCE) != 0)
		;
	if (run->inline_mode)
		progress_done(run); /* its timer is on this loop */
	dnscheck_free(w->dc);
	w->dc = NULL;
	(void)uv_run(&w->loop, UV_RUN_DEFAULT);
	return NULL;
}

static size_t default_threads(size_t n_names)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* A thread pays off only with enough names to keep it busy; the CAA
	 * and NS caches are per thread. */
	if (n_names < 2000 || cpus <= 1)
		return 1;
	return (size_t)MIN(cpus, 4L);
}

int checkpool_run(const struct check_args *a, const char *const *names, size_t n_names)
{
	int r, ret = EXIT_CHECK_USAGE;

	struct check_run run = { .a = a, .names = names, .n_names = n_names };
	struct dnscheck_options o = {
		.resolvers = a->resolvers,
		.n_resolvers = a->n_resolvers,
		.trust_anchor_file = a->trust_anchor && !streq(a->trust_anchor, "none") ? a->trust_anchor
										 : NULL,
		.no_dnssec = a->trust_anchor && streq(a->trust_anchor, "none"),
		.trust_ad = a->trust_ad,
		.trust_ad_remote = a->trust_ad_remote,
		.unbound = a->unbound,
		.timeout_ms = a->timeout_ms,
		.auth_port = a->auth_port,
	};

	run.n_workers = a->threads ? MIN(a->threads, n_names) : default_threads(n_names);
	unsigned window = a->max_inflight ? a->max_inflight : DNSCHECK_DEFAULT_INFLIGHT;
	o.max_inflight = (unsigned)MAX((size_t)1, (window + run.n_workers - 1) / run.n_workers);
	run.slots = calloc(n_names, sizeof(*run.slots));
	run.refs = calloc(n_names, sizeof(*run.refs));
	run.workers = calloc(run.n_workers, sizeof(*run.workers));
	if (!run.slots || !run.refs || !run.workers) {
		fputs("persistctl check: out of memory\n", stderr);
		goto out_run;
	}
	for (size_t i = 0; i < n_names; i++)
		atomic_init(&run.slots[i].done, false);

	/* Everything that can fail is set up here, before any thread runs. */
	for (size_t k = 0; k < run.n_workers; k++) {
		struct check_worker *w = &run.workers[k];
		*w = (struct check_worker){ .run = &run, .index = k, .stride = run.n_workers };
		if (a->json && !(w->jw = json_writer_new(false))) {
			fputs("persistctl check: out of memory\n", stderr);
			goto out_run;
		}
		if (uv_loop_init(&w->loop) < 0) {
			fputs("persistctl check: cannot create an event loop\n", stderr);
			goto out_run;
		}
		w->loop_ready = true;
		r = dnscheck_new(&w->loop, &o, &w->dc);
		if (r < 0) {
			if (r == -ENOENT || (o.trust_anchor_file && r == -EINVAL))
				fprintf(stderr, "persistctl check: trust anchor '%s': %s\n",
					o.trust_anchor_file ? o.trust_anchor_file : DNSCHECK_ROOT_ANCHOR,
					r == -ENOENT ? "no such file" : "no DNSKEY or DS records in it");
			else if (r == -EPERM)
				fputs("persistctl check: --dnssec trust-ad trusts the AD flag only from "
				      "resolvers on this host (127.0.0.0/8, ::1); name them with "
				      "--resolver, or say --dnssec trust-ad-remote if the path to "
				      "them is trusted\n", stderr);
			else
				fprintf(stderr, "persistctl check: setting up DNS failed: %s\n",
					strerror(-r));
			goto out_run;
		}
	}
	/* One worker runs on this thread and prints as it goes; several print
	 * from here, woken by them. */
	run.inline_mode = run.n_workers == 1;
	if (!run.inline_mode) {
		if (uv_loop_init(&run.loop) < 0) {
			fputs("persistctl check: cannot create an event loop\n", stderr);
			goto out_run;
		}
		(void)uv_async_init(&run.loop, &run.wake, on_wake);
		run.wake.data = &run;
	}
	run.progress_loop = run.inline_mode ? &run.workers[0].loop : &run.loop;
	run.color = !a->json && output_use_color(stdout);
	run.stdout_tty = isatty(STDOUT_FILENO);
	output_progress_init(&run.progress, a->file ? stderr : NULL);
	if (run.progress.f) {
		(void)uv_timer_init(run.progress_loop, &run.progress_timer);
		run.progress_timer.data = &run;
		(void)uv_timer_start(&run.progress_timer, on_progress_tick, OUTPUT_PROGRESS_MS,
				     OUTPUT_PROGRESS_MS);
		run.progress_timer_on = true;
	}

	if (a->json)
		fputs("[", stdout);
	for (size_t k = 0; k < run.n_workers; k++) {
		struct check_worker *w = &run.workers[k];
		size_t mine = n_names > k ? (n_names - k + run.n_workers - 1) / run.n_workers : 0;
		w->n_mine = mine;
		if (run.inline_mode || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			/* Run it here instead: slower, same results. */
			worker_main(w);
			continue;
		}
		w->started = true;
	}
	if (!run.inline_mode) {
		(void)uv_run(&run.loop, UV_RUN_DEFAULT);
		for (size_t k = 0; k < run.n_workers; k++)
			if (run.workers[k].started)
				(void)pthread_join(run.workers[k].thread, NULL);
		if (uv_loop_close(&run.loop) != 0)
			fputs("persistctl check: internal error: the event loop did not drain\n",
			      stderr);
	}

	flush_ready(&run);
	if (a->json)
		fputs(n_names ? "\n]\n" : "]\n", stdout);
	else if (n_names > 1)
		printf("\n%zu names: %zu ok, %zu warning, %zu critical, %zu unknown\n",
		       atomic_load(&run.n_done), atomic_load(&run.count[LEVEL_OK]),
		       atomic_load(&run.count[LEVEL_WARNING]),
		       atomic_load(&run.count[LEVEL_CRITICAL]),
		       atomic_load(&run.count[LEVEL_UNKNOWN]));
	fflush(stdout);

	enum level worst = LEVEL_OK;
	for (int l = 0; l < _LEVEL_MAX; l++)
		if (atomic_load(&run.count[l]) > 0)
			worst = level_merge(worst, (enum level)l);
	for (size_t k = 0; k < run.n_workers; k++)
		if (run.workers[k].submit_error < 0)
			fprintf(stderr, "persistctl check: queueing names failed: %s\n",
				strerror(-run.workers[k].submit_error));
	if (atomic_load(&run.oom)) {
		fputs("persistctl check: some results could not be produced\n", stderr);
		ret = EXIT_CHECK_USAGE;
	} else
		ret = level_exit_code(worst);

out_run:
	for (size_t k = 0; run.workers && k < run.n_workers; k++) {
		struct check_worker *w = &run.workers[k];
		if (w->dc) {
			/* Set up but never run (a later worker failed). */
			dnscheck_free(w->dc);
			(void)uv_run(&w->loop, UV_RUN_DEFAULT);
		}
		if (w->loop_ready && uv_loop_close(&w->loop) != 0)
			fputs("persistctl check: internal error: a worker loop did not drain\n", stderr);
		json_writer_free(w->jw);
	}
	for (size_t i = 0; run.slots && i < n_names; i++)
		free(run.slots[i].out);
	free(run.slots);
	free(run.refs);
	free(run.workers);
	return ret;
}
