/* ctl/check.c: see check.h. The one ctl/ file with a uv loop: it owns the
 * loop it hands to common/dnscheck, runs it until every name is answered,
 * and closes it (uv_loop_close() must succeed). */
#include "ctl/check.h"

/* macro.h before uv.h (via dnscheck.h): see common/getdns_uv.h. */
#include "common/macro.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/caa.h"
#include "common/dnscheck.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "common/record.h"
#include "common/timeutil.h"
#include "ctl/output.h"

#define EXIT_CHECK_USAGE 3 /* UNKNOWN: monitoring plugins say so for bad arguments too */
#define DEFAULT_WARN_MS (30 * 86400 * MS_PER_SEC)
#define DEFAULT_CRITICAL_MS (7 * 86400 * MS_PER_SEC)
#define CHECK_MAX_THREADS 16
#define CHECK_WAKE_BATCH 256

static const char check_help[] =
	"Usage: persistctl check --direct NAME... --issuer ISSUER --account-uri URI [OPTIONS]\n"
	"\n"
	"Looks up _validation-persist.NAME the way a CA will, without a daemon or a\n"
	"config file, and says whether the CA would accept it.\n"
	"\n"
	"  --issuer ISSUER          the CA's issuer domain name (repeatable)\n"
	"  --account-uri URI        the accounturi the CA expects in the record\n"
	"  --caa-account-uri URL    the account URL for CAA accounturi (default: --account-uri)\n"
	"  --wildcard               the names need wildcard coverage (as \"*.NAME\" does)\n"
	"  --file FILE              more names, one per line ('-' for stdin, '#' comments)\n"
	"  --resolver ADDR[@PORT]   ask this resolver (repeatable; default: /etc/resolv.conf)\n"
	"  --trust-anchor FILE      DNSSEC trust anchors (default: " DNSCHECK_ROOT_ANCHOR ";\n"
	"                           'none' skips validation)\n"
	"  --authoritative          also ask every authoritative server of the zone\n"
	"  --auth-port PORT         port of the authoritative servers (default 53)\n"
	"  --no-caa                 skip the CAA pre-flight\n"
	"  --now UNIX|DATE          evaluate as of this time (default: now)\n"
	"  --warn DURATION          warn when persistUntil is this close (default 30d)\n"
	"  --critical DURATION      critical when it is this close (default 7d)\n"
	"  --timeout DURATION       per DNS query; a timeout is retried once (default 5s)\n"
	"  --max-inflight N         DNS queries at once (default 256)\n"
	"  --threads N              checking threads (default: one per CPU, up to 4,\n"
	"                           for 2000 names or more)\n"
	"  --json                   print a JSON array\n"
	"\n"
	"Exit: 0 all VALID, 1 warning, 2 critical or failing, 3 cannot tell.\n";

struct check_args {
	const char *issuers[RECORD_MAX_ISSUERS];
	char *issuers_owned[RECORD_MAX_ISSUERS]; /* owned: normalized copies */
	size_t n_issuers;
	const char *account_uri;
	const char *caa_account_uri;
	bool wildcard;
	const char *resolvers[DNSCHECK_MAX_RESOLVERS];
	size_t n_resolvers;
	const char *trust_anchor;
	bool authoritative;
	uint16_t auth_port;
	bool caa;
	bool json;
	int64_t now;
	uint64_t warn_ms, critical_ms, timeout_ms;
	unsigned max_inflight;
	size_t threads;
	const char *file;
};

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
	atomic_size_t count[_OUTPUT_LEVEL_MAX];
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

_printf_(1, 2) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("persistctl check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EXIT_CHECK_USAGE;
}

/* ---- per-name level and output ---- */

static enum output_level expiry_to_level(enum expiry_level e)
{
	switch (e) {
	case EXPIRY_OK:
		return OUTPUT_OK;
	case EXPIRY_WARNING:
		return OUTPUT_WARNING;
	default:
		return OUTPUT_CRITICAL;
	}
}

static enum output_level result_level(const struct dnscheck_result *r, const struct check_args *a)
{
	enum output_level l = OUTPUT_OK;

	if (r->error == DNSCHECK_ERR_BOGUS)
		l = OUTPUT_CRITICAL; /* a validating CA fails for sure */
	else if (r->error != DNSCHECK_OK)
		l = OUTPUT_UNKNOWN;
	else if (r->verdict.status != RECORD_VALID)
		l = OUTPUT_CRITICAL;
	else if (r->verdict.has_persist_until)
		l = expiry_to_level(time_expiry_level(r->verdict.persist_until, a->now, a->warn_ms,
						      a->critical_ms));
	if (r->caa.checked) {
		if (r->caa.error != DNSCHECK_OK)
			l = output_level_merge(l, OUTPUT_UNKNOWN);
		else if (!caa_outcome_permits(r->caa.verdict.outcome))
			l = output_level_merge(l, OUTPUT_CRITICAL);
	}
	if (r->auth_checked) {
		if (r->auth_error != DNSCHECK_OK)
			l = output_level_merge(l, OUTPUT_UNKNOWN);
		if (r->auth_disagree)
			l = output_level_merge(l, OUTPUT_CRITICAL);
		for (size_t i = 0; i < r->n_servers; i++)
			if (r->servers[i].error != DNSCHECK_OK)
				l = output_level_merge(l, OUTPUT_WARNING);
			else if (r->servers[i].status != RECORD_VALID && r->error == DNSCHECK_OK &&
				 r->verdict.status == RECORD_VALID)
				l = output_level_merge(l, OUTPUT_CRITICAL);
	}
	return l;
}

static const char *result_reason(const struct dnscheck_result *r)
{
	return r->error != DNSCHECK_OK ? r->error_reason : r->verdict.reason;
}

/* The deciding record, if any. */
static const struct dnscheck_txt *result_record(const struct dnscheck_result *r)
{
	const struct record_verdict *v = r->error == DNSCHECK_ERR_BOGUS ? &r->unvalidated : &r->verdict;

	if ((r->error != DNSCHECK_OK && r->error != DNSCHECK_ERR_BOGUS) || v->match < 0 ||
	    (size_t)v->match >= r->n_rrs)
		return NULL;
	return &r->rrs[v->match];
}

static void caa_summary(const struct dnscheck_caa *c, char *buf, size_t size)
{
	if (!c->checked)
		str_printf(buf, size, "not checked");
	else if (c->error != DNSCHECK_OK)
		str_printf(buf, size, "DNS_ERROR: CAA lookup at %s failed (%s)",
			   c->error_name ? c->error_name : "?", dnscheck_error_to_string(c->error));
	else if (c->owner)
		str_printf(buf, size, "%s: %s (CAA at %s)", caa_outcome_to_string(c->verdict.outcome),
			   c->verdict.reason, c->owner);
	else
		str_printf(buf, size, "%s: %s", caa_outcome_to_string(c->verdict.outcome),
			   c->verdict.reason);
}

static void write_json(struct json_writer *w, const struct dnscheck_result *r,
		       const struct check_args *a, enum output_level level)
{
	const struct record_verdict *v = &r->verdict;
	const struct dnscheck_txt *rec = result_record(r);
	bool data_ok = r->error == DNSCHECK_OK || r->error == DNSCHECK_ERR_BOGUS;
	const struct record_verdict *dv = r->error == DNSCHECK_ERR_BOGUS ? &r->unvalidated : v;

	json_begin_object(w);
	json_kv_string(w, "name", r->name);
	json_kv_string(w, "owner", r->owner);
	json_kv_bool(w, "wildcard", r->wildcard);
	json_kv_string(w, "status", dnscheck_result_status(r));
	json_kv_string(w, "level", output_level_to_string(level));
	json_kv_string(w, "reason", result_reason(r));
	json_kv_string(w, "dns_error", r->error != DNSCHECK_OK ? dnscheck_error_to_string(r->error)
							    : NULL);
	json_key(w, "records");
	json_begin_array(w);
	for (size_t i = 0; i < r->n_rrs; i++)
		output_json_bytes(w, r->rrs[i].text, r->rrs[i].len);
	json_end_array(w);
	json_key(w, "record");
	if (rec)
		output_json_bytes(w, rec->text, rec->len);
	else
		json_null(w);
	json_key(w, "cnames");
	json_begin_array(w);
	for (size_t i = 0; i < r->n_cnames; i++)
		json_string(w, r->cnames[i]);
	json_end_array(w);

	json_key(w, "policy_wildcard");
	if (rec)
		json_bool(w, dv->policy_wildcard);
	else
		json_null(w);
	json_kv_bool(w, "wildcard_needed", r->wildcard);

	if (data_ok && rec && dv->has_persist_until) {
		char date[40];
		time_format_iso(dv->persist_until, date, sizeof(date));
		json_kv_int(w, "persist_until", dv->persist_until);
		json_kv_string(w, "persist_until_date", date);
		json_kv_int(w, "days_left", time_days_left(dv->persist_until, a->now));
		json_kv_string(w, "expiry",
			       expiry_level_to_string(time_expiry_level(dv->persist_until, a->now,
									a->warn_ms, a->critical_ms)));
	} else {
		json_key(w, "persist_until");
		json_null(w);
		json_key(w, "persist_until_date");
		json_null(w);
		json_key(w, "days_left");
		json_null(w);
		json_key(w, "expiry");
		json_null(w);
	}
	json_kv_string(w, "dnssec", dnscheck_dnssec_to_string(r->dnssec));
	if (r->error == DNSCHECK_ERR_BOGUS)
		json_kv_string(w, "unvalidated_status", record_status_to_string(r->unvalidated.status));

	json_key(w, "caa");
	if (!r->caa.checked)
		json_null(w);
	else {
		const struct dnscheck_caa *c = &r->caa;
		char summary[512];

		caa_summary(c, summary, sizeof(summary));
		json_begin_object(w);
		if (c->error != DNSCHECK_OK) {
			json_kv_string(w, "verdict", "DNS_ERROR");
			json_key(w, "permits");
			json_null(w);
			json_kv_string(w, "dns_error", dnscheck_error_to_string(c->error));
		} else {
			json_kv_string(w, "verdict", caa_outcome_to_string(c->verdict.outcome));
			json_kv_bool(w, "permits", caa_outcome_permits(c->verdict.outcome));
			json_kv_bool(w, "issuewild", c->verdict.issuewild);
		}
		json_kv_string(w, "owner", c->owner);
		json_key(w, "records");
		json_begin_array(w);
		for (size_t i = 0; i < c->n_records; i++)
			json_string(w, c->records[i]);
		json_end_array(w);
		json_kv_string(w, "reason", c->error != DNSCHECK_OK ? summary : c->verdict.reason);
		json_end_object(w);
	}

	json_key(w, "authoritative");
	if (!r->auth_checked)
		json_null(w);
	else {
		json_begin_object(w);
		json_kv_string(w, "zone", r->zone);
		json_kv_string(w, "error", r->auth_error != DNSCHECK_OK
						   ? dnscheck_error_to_string(r->auth_error)
						   : NULL);
		json_kv_string(w, "reason", r->auth_error != DNSCHECK_OK ? r->auth_reason : NULL);
		json_kv_bool(w, "consistent", !r->auth_disagree);
		json_key(w, "servers");
		json_begin_array(w);
		for (size_t i = 0; i < r->n_servers; i++) {
			const struct dnscheck_server *s = &r->servers[i];
			json_begin_object(w);
			json_kv_string(w, "ns", s->ns);
			json_kv_string(w, "address", s->address);
			json_kv_string(w, "status", s->error != DNSCHECK_OK
							    ? "DNS_ERROR"
							    : record_status_to_string(s->status));
			json_kv_string(w, "dns_error", s->error != DNSCHECK_OK
							       ? dnscheck_error_to_string(s->error)
							       : NULL);
			json_kv_string(w, "reason", s->reason);
			json_key(w, "records");
			json_begin_array(w);
			for (size_t k = 0; k < s->n_rrs; k++)
				output_json_bytes(w, s->rrs[k].text, s->rrs[k].len);
			json_end_array(w);
			json_end_object(w);
		}
		json_end_array(w);
		json_end_object(w);
	}
	json_end_object(w);
}

static void write_text(FILE *f, const struct dnscheck_result *r, const struct check_args *a,
		       enum output_level level, bool color)
{
	const struct dnscheck_txt *rec = result_record(r);
	const struct record_verdict *dv = r->error == DNSCHECK_ERR_BOGUS ? &r->unvalidated : &r->verdict;

	fprintf(f, "%s  %s%s%s (%s)\n", r->name, output_color_start(level, color),
		dnscheck_result_status(r), output_color_end(color), output_level_to_string(level));
	fprintf(f, "    reason        %s\n", result_reason(r));
	for (size_t i = 0; i < r->n_cnames; i++)
		fprintf(f, "    cname         -> %s\n", r->cnames[i]);
	if (rec) {
		fputs("    record        \"", f);
		output_escaped(f, rec->text, rec->len);
		fputs("\"\n", f);
	}
	for (size_t i = 0; i < r->n_rrs && (!rec || r->n_rrs > 1); i++) {
		if (i == 8) {
			fprintf(f, "    ...           %zu more\n", r->n_rrs - i);
			break;
		}
		fprintf(f, "    %-13s \"", i == 0 ? (rec ? "all records" : "records") : "");
		output_escaped(f, r->rrs[i].text, r->rrs[i].len);
		fputs("\"\n", f);
	}
	if (rec)
		fprintf(f, "    wildcard      policy=wildcard %s; %s\n",
			dv->policy_wildcard ? "present" : "absent",
			r->wildcard ? "needed (wildcard name)" : "not needed");
	else if (r->wildcard)
		fprintf(f, "    wildcard      needed: the record must carry policy=wildcard\n");
	if (rec && dv->has_persist_until) {
		char date[40];
		enum expiry_level e = time_expiry_level(dv->persist_until, a->now, a->warn_ms,
							a->critical_ms);
		time_format_iso(dv->persist_until, date, sizeof(date));
		fprintf(f, "    persistUntil  %s, %" PRId64 " days left (%s%s%s)\n", date,
			time_days_left(dv->persist_until, a->now),
			output_color_start(expiry_to_level(e), color && e != EXPIRY_OK),
			expiry_level_to_string(e), output_color_end(color && e != EXPIRY_OK));
	} else if (rec)
		fprintf(f, "    persistUntil  none (the record does not expire)\n");
	if (r->error == DNSCHECK_OK || r->error == DNSCHECK_ERR_BOGUS)
		fprintf(f, "    dnssec        %s\n", dnscheck_dnssec_to_string(r->dnssec));
	if (r->caa.checked) {
		char summary[512];
		caa_summary(&r->caa, summary, sizeof(summary));
		fprintf(f, "    caa           %s\n", summary);
	}
	if (r->auth_checked) {
		if (r->auth_error != DNSCHECK_OK)
			fprintf(f, "    servers       %s\n", r->auth_reason);
		for (size_t i = 0; i < r->n_servers; i++) {
			const struct dnscheck_server *s = &r->servers[i];
			fprintf(f, "    %-13s %s (%s): %s: %s\n", i == 0 ? "servers" : "", s->ns,
				s->address,
				s->error != DNSCHECK_OK ? "DNS_ERROR" : record_status_to_string(s->status),
				s->reason);
		}
		if (r->auth_disagree)
			fprintf(f, "    %sservers disagree%s: the record is not the same on every "
				"authoritative server of %s\n",
				output_color_start(OUTPUT_CRITICAL, color), output_color_end(color),
				r->zone ? r->zone : "the zone");
	}
}

/* ---- the run ---- */

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
			       atomic_load(&run->count[OUTPUT_OK]),
			       atomic_load(&run->count[OUTPUT_WARNING]),
			       atomic_load(&run->count[OUTPUT_CRITICAL]),
			       atomic_load(&run->count[OUTPUT_UNKNOWN]));
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
	enum output_level level = result_level(r, run->a);

	if (run->a->json) {
		const char *doc;
		size_t len;

		json_writer_reset(w->jw);
		write_json(w->jw, r, run->a, level);
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
			write_text(m, r, run->a, level, run->color);
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

static int read_names_file(const char *path, char **ret_text, size_t *ret_len)
{
	if (!streq(path, "-"))
		return file_read_bounded(path, NAMES_FILE_MAX_BYTES, ret_text, ret_len);

	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= NAMES_FILE_MAX_BYTES) {
				free(buf);
				return -E2BIG;
			}
			cap = MIN(cap * 2, (size_t)NAMES_FILE_MAX_BYTES);
			char *n = realloc(buf, cap + 1);
			if (!n) {
				free(buf);
				return -ENOMEM;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, stdin);
		if (got == 0)
			break;
		len += got;
	}
	if (ferror(stdin)) {
		free(buf);
		return -EIO;
	}
	buf[len] = 0;
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

/* Splits the file into names in place: one per line, '#' starts a comment,
 * surrounding whitespace ignored. */
static int split_names(char *text, size_t len, const char ***names, size_t *n, size_t *cap,
		       const char *path)
{
	size_t line = 0;
	char *p = text, *end = text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		line++;
		*e = 0;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = 0;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		char *q = p + strlen(p);
		while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			*--q = 0;
		if (*p) {
			if (strpbrk(p, " \t"))
				return usage_error("%s:%zu: one name per line, got '%s'", path, line, p);
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 1024;
				const char **v = realloc(*names, nc * sizeof(*v));
				if (!v)
					return usage_error("out of memory");
				*names = v;
				*cap = nc;
			}
			(*names)[(*n)++] = p;
		}
		p = e + 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct check_args *a, const char ***names,
		      size_t *n_names, size_t *cap)
{
	enum {
		OPT_DIRECT = 0x100,
		OPT_ISSUER,
		OPT_ACCOUNT_URI,
		OPT_CAA_ACCOUNT_URI,
		OPT_WILDCARD,
		OPT_RESOLVER,
		OPT_TRUST_ANCHOR,
		OPT_AUTHORITATIVE,
		OPT_AUTH_PORT,
		OPT_NO_CAA,
		OPT_NOW,
		OPT_JSON,
		OPT_FILE,
		OPT_WARN,
		OPT_CRITICAL,
		OPT_TIMEOUT,
		OPT_MAX_INFLIGHT,
		OPT_THREADS,
	};
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "issuer", required_argument, NULL, OPT_ISSUER },
		{ "account-uri", required_argument, NULL, OPT_ACCOUNT_URI },
		{ "caa-account-uri", required_argument, NULL, OPT_CAA_ACCOUNT_URI },
		{ "wildcard", no_argument, NULL, OPT_WILDCARD },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "authoritative", no_argument, NULL, OPT_AUTHORITATIVE },
		{ "auth-port", required_argument, NULL, OPT_AUTH_PORT },
		{ "no-caa", no_argument, NULL, OPT_NO_CAA },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ "critical", required_argument, NULL, OPT_CRITICAL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{}
	};
	bool direct = false, have_now = false;
	int c;

	a->caa = true;
	a->warn_ms = DEFAULT_WARN_MS;
	a->critical_ms = DEFAULT_CRITICAL_MS;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'h':
			fputs(check_help, stdout);
			return -1;
		case OPT_DIRECT:
			direct = true;
			break;
		case OPT_ISSUER: {
			if (a->n_issuers == RECORD_MAX_ISSUERS)
				return usage_error("at most %d --issuer", RECORD_MAX_ISSUERS);
			char *s = strdup(optarg);
			if (!s)
				return usage_error("out of memory");
			a->issuers_owned[a->n_issuers] = s;
			for (char *p = s; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			size_t l = strlen(s);
			if (l > 0 && s[l - 1] == '.')
				s[l - 1] = 0;
			if (!record_issuer_is_valid(s))
				return usage_error("--issuer '%s': not a domain name", optarg);
			a->issuers[a->n_issuers++] = s;
			break;
		}
		case OPT_ACCOUNT_URI:
			a->account_uri = optarg;
			break;
		case OPT_CAA_ACCOUNT_URI:
			a->caa_account_uri = optarg;
			break;
		case OPT_WILDCARD:
			a->wildcard = true;
			break;
		case OPT_RESOLVER: {
			struct dnscheck_addr addr;
			if (a->n_resolvers == DNSCHECK_MAX_RESOLVERS)
				return usage_error("at most %d --resolver", DNSCHECK_MAX_RESOLVERS);
			if (dnscheck_parse_addr(optarg, 53, &addr) < 0)
				return usage_error("--resolver '%s': expected ADDR or ADDR@PORT", optarg);
			a->resolvers[a->n_resolvers++] = optarg;
			break;
		}
		case OPT_TRUST_ANCHOR:
			a->trust_anchor = optarg;
			break;
		case OPT_AUTHORITATIVE:
			a->authoritative = true;
			break;
		case OPT_AUTH_PORT: {
			char *end;
			errno = 0;
			unsigned long p = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || p == 0 || p > 65535)
				return usage_error("--auth-port '%s': expected a port number", optarg);
			a->auth_port = (uint16_t)p;
			break;
		}
		case OPT_NO_CAA:
			a->caa = false;
			break;
		case OPT_NOW:
			if (time_parse_date(optarg, &a->now) < 0)
				return usage_error("--now '%s': expected Unix seconds or a date", optarg);
			have_now = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_FILE:
			a->file = optarg;
			break;
		case OPT_WARN:
		case OPT_CRITICAL:
		case OPT_TIMEOUT: {
			uint64_t ms;
			const char *what = c == OPT_WARN ? "--warn" : c == OPT_CRITICAL ? "--critical"
											   : "--timeout";
			if (time_parse_duration_ms(optarg, &ms) < 0)
				return usage_error("%s '%s': expected a duration such as 30d, 6h, 500ms",
						   what, optarg);
			if (c == OPT_WARN)
				a->warn_ms = ms;
			else if (c == OPT_CRITICAL)
				a->critical_ms = ms;
			else {
				if (ms == 0 || ms > DNSCHECK_MAX_TIMEOUT_MS)
					return usage_error("--timeout '%s': between 1ms and %ds", optarg,
							   DNSCHECK_MAX_TIMEOUT_MS / 1000);
				a->timeout_ms = ms;
			}
			break;
		}
		case OPT_MAX_INFLIGHT: {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || n == 0 || n > DNSCHECK_MAX_INFLIGHT)
				return usage_error("--max-inflight '%s': between 1 and %d", optarg,
						   DNSCHECK_MAX_INFLIGHT);
			a->max_inflight = (unsigned)n;
			break;
		}
		case OPT_THREADS: {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || n == 0 || n > CHECK_MAX_THREADS)
				return usage_error("--threads '%s': between 1 and %d", optarg,
						   CHECK_MAX_THREADS);
			a->threads = n;
			break;
		}
		case '?':
		default:
			if (optopt && optopt < 0x100)
				return usage_error("unknown option '-%c' (see --help)", optopt);
			if (optopt)
				return usage_error("option '%s' needs a value", argv[optind - 1]);
			return usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (!direct)
		return usage_error("only --direct is available: it asks DNS without the daemon");
	if (a->n_issuers == 0)
		return usage_error("--issuer ISSUER is required");
	if (!a->account_uri || !*a->account_uri)
		return usage_error("--account-uri URI is required");
	if (a->critical_ms > a->warn_ms)
		return usage_error("--critical must not be longer than --warn");
	if (!have_now)
		a->now = (int64_t)time(NULL);
	for (int i = optind; i < argc; i++) {
		if (*n_names == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			const char **v = realloc(*names, nc * sizeof(*v));
			if (!v)
				return usage_error("out of memory");
			*names = v;
			*cap = nc;
		}
		(*names)[(*n_names)++] = argv[i];
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int ctl_check_direct(int argc, char **argv)
{
	struct check_args a = { 0 };
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ char *file_text = NULL;
	size_t n_names = 0, cap = 0;
	int r, ret = EXIT_CHECK_USAGE;

	r = parse_args(argc, argv, &a, &names, &n_names, &cap);
	if (r < 0)
		ret = 0; /* --help */
	if (r != 0)
		goto out_args;
	if (a.file) {
		size_t len;
		r = read_names_file(a.file, &file_text, &len);
		if (r < 0) {
			usage_error("--file '%s': %s", a.file,
				    r == -E2BIG ? "too large" : strerror(-r));
			goto out_args;
		}
		if (split_names(file_text, len, &names, &n_names, &cap, a.file) != 0)
			goto out_args;
	}
	if (n_names == 0) {
		usage_error("no names to check (give NAME... or --file FILE)");
		goto out_args;
	}
	for (size_t i = 0; i < n_names; i++) {
		_cleanup_free_ char *owner = NULL;
		bool w;
		if (record_owner_name(names[i], &owner, &w) < 0 || strlen(owner) > DNS_NAME_MAX_BYTES) {
			usage_error("'%s' is not a DNS name", names[i]);
			goto out_args;
		}
	}

	raise_nofile();
	struct check_run run = { .a = &a, .names = names, .n_names = n_names };
	struct dnscheck_options o = {
		.resolvers = a.resolvers,
		.n_resolvers = a.n_resolvers,
		.trust_anchor_file = a.trust_anchor && !streq(a.trust_anchor, "none") ? a.trust_anchor
										 : NULL,
		.no_dnssec = a.trust_anchor && streq(a.trust_anchor, "none"),
		.timeout_ms = a.timeout_ms,
		.auth_port = a.auth_port,
	};

	run.n_workers = a.threads ? MIN(a.threads, n_names) : default_threads(n_names);
	unsigned window = a.max_inflight ? a.max_inflight : DNSCHECK_DEFAULT_INFLIGHT;
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
		if (a.json && !(w->jw = json_writer_new(false))) {
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
	run.color = !a.json && output_use_color(stdout);
	run.stdout_tty = isatty(STDOUT_FILENO);
	output_progress_init(&run.progress, a.file ? stderr : NULL);
	if (run.progress.f) {
		(void)uv_timer_init(run.progress_loop, &run.progress_timer);
		run.progress_timer.data = &run;
		(void)uv_timer_start(&run.progress_timer, on_progress_tick, OUTPUT_PROGRESS_MS,
				     OUTPUT_PROGRESS_MS);
		run.progress_timer_on = true;
	}

	if (a.json)
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
	if (a.json)
		fputs(n_names ? "\n]\n" : "]\n", stdout);
	else if (n_names > 1)
		printf("\n%zu names: %zu ok, %zu warning, %zu critical, %zu unknown\n",
		       atomic_load(&run.n_done), atomic_load(&run.count[OUTPUT_OK]),
		       atomic_load(&run.count[OUTPUT_WARNING]),
		       atomic_load(&run.count[OUTPUT_CRITICAL]),
		       atomic_load(&run.count[OUTPUT_UNKNOWN]));
	fflush(stdout);

	enum output_level worst = OUTPUT_OK;
	for (int l = 0; l < _OUTPUT_LEVEL_MAX; l++)
		if (atomic_load(&run.count[l]) > 0)
			worst = output_level_merge(worst, (enum output_level)l);
	for (size_t k = 0; k < run.n_workers; k++)
		if (run.workers[k].submit_error < 0)
			fprintf(stderr, "persistctl check: queueing names failed: %s\n",
				strerror(-run.workers[k].submit_error));
	if (atomic_load(&run.oom)) {
		fputs("persistctl check: some results could not be produced\n", stderr);
		ret = EXIT_CHECK_USAGE;
	} else
		ret = output_level_exit_code(worst);

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

out_args:
	for (size_t i = 0; i < RECORD_MAX_ISSUERS; i++)
		free(a.issuers_owned[i]);
	return ret;
}
