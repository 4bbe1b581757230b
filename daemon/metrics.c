/* daemon/metrics.c: see metrics.h. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck.h"
#include "common/strutil.h"
#include "daemon/acme/transport.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/certserved.h"
#include "daemon/daemon.h"
#include "daemon/metrics.h"

#define METRICS_MAX_FAMILIES 64

struct metrics_writer {
	FILE *f;                 /* owned: open_memstream over buf */
	char *buf;               /* owned */
	size_t len;
	int error;               /* the first error, latched */
	char family[128];        /* the open family's name */
	char *seen[METRICS_MAX_FAMILIES]; /* owned: families opened so far */
	size_t n_seen;
};

static const char *const type_names[] = {
	[METRICS_GAUGE] = "gauge",
	[METRICS_COUNTER] = "counter",
};
static_assert(ELEMENTSOF(type_names) == _METRICS_TYPE_MAX, "type_names");

struct metrics_writer *metrics_writer_new(void)
{
	struct metrics_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = open_memstream(&w->buf, &w->len);
	if (!w->f) {
		free(w);
		return NULL;
	}
	return w;
}

void metrics_writer_free(struct metrics_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	free(w->buf);
	for (size_t i = 0; i < w->n_seen; i++)
		free(w->seen[i]);
	free(w);
}

static void writer_fail(struct metrics_writer *w, int r)
{
	if (!w->error)
		w->error = r;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && streq(s + n - k, suffix);
}

static bool valid_name(const char *s, bool colon_ok)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			     (colon_ok && *p == ':');
		if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
			return false;
	}
	return true;
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static void put_escaped(struct metrics_writer *w, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", w->f);
		else if (*s == '\n')
			fputs("\\n", w->f);
		else if (quote && *s == '"')
			fputs("\\\"", w->f);
		else
			fputc(*s, w->f);
	}
}

void metrics_family(struct metrics_writer *w, const char *name, enum metrics_type type,
		    const char *help)
{
	if (w->error)
		return;
	if (!valid_name(name, true) || strlen(name) >= sizeof(w->family) ||
	    (unsigned)type >= _METRICS_TYPE_MAX ||
	    (type == METRICS_COUNTER && !has_suffix(name, "_total")))
		return writer_fail(w, -EINVAL);
	for (size_t i = 0; i < w->n_seen; i++)
		if (streq(w->seen[i], name))
			return writer_fail(w, -EINVAL);
	if (w->n_seen == METRICS_MAX_FAMILIES)
		return writer_fail(w, -E2BIG);
	w->seen[w->n_seen] = strdup(name);
	if (!w->seen[w->n_seen])
		return writer_fail(w, -ENOMEM);
	w->n_seen++;
	str_printf(w->family, sizeof(w->family), "%s", name);
	fprintf(w->f, "# HELP %s ", name);
	put_escaped(w, help, false);
	fprintf(w->f, "\n# TYPE %s %s\n", name, type_names[type]);
}

void metrics_sample(struct metrics_writer *w, const char *const *labels, int64_t value)
{
	if (w->error)
		return;
	if (!w->family[0])
		return writer_fail(w, -EINVAL);
	for (size_t i = 0; labels && labels[i]; i += 2)
		if (!valid_name(labels[i], false) || str_has_prefix(labels[i], "__") ||
		    !labels[i + 1])
			return writer_fail(w, -EINVAL);
	fputs(w->family, w->f);
	if (labels && labels[0]) {
		fputc('{', w->f);
		for (size_t i = 0; labels[i]; i += 2) {
			fprintf(w->f, "%s%s=\"", i ? "," : "", labels[i]);
			put_escaped(w, labels[i + 1], true);
			fputc('"', w->f);
		}
		fputc('}', w->f);
	}
	fprintf(w->f, " %" PRId64 "\n", value);
}

int metrics_writer_take(struct metrics_writer *w, char **ret, size_t *ret_len)
{
	if (w->error)
		return w->error;
	if (fflush(w->f) != 0 || ferror(w->f))
		return -ENOMEM;
	fclose(w->f);
	w->f = NULL;
	*ret = w->buf;
	if (ret_len)
		*ret_len = w->len;
	w->buf = NULL;
	w->len = 0;
	/* The writer is spent; a later call latches an error instead of writing. */
	w->f = open_memstream(&w->buf, &w->len);
	if (!w->f)
		w->error = -ENOMEM;
	return 0;
}

/* ---- from the daemon ---- */

/* One pass over every cert per family, as the format wants a family's
 * samples together. */
typedef bool (*cert_value_fn)(const struct cert *c, const struct state_cert *st, int64_t *ret);
typedef bool (*name_value_fn)(const struct state_name *n, int64_t *ret);

static void cert_family(struct metrics_writer *w, const struct daemon *d, const char *name,
			const char *help, cert_value_fn fn)
{
	metrics_family(w, name, METRICS_GAUGE, help);
	for (size_t i = 0; i < d->n_certs; i++) {
		const struct cert *c = d->certs[i];
		int64_t v;
		if (!fn(c, cert_state(c), &v))
			continue;
		const char *labels[] = { "cert", cert_get_name(c), "ca",
					 cert_get_config(c)->ca_name, NULL };
		metrics_sample(w, labels, v);
	}
}

static const struct state_name *find_name(const struct cert *c, size_t k)
{
	struct state_cert *st = cert_state(c);
	return st ? state_cert_get_name(st, cert_get_config(c)->names[k], false) : NULL;
}

static void name_family(struct metrics_writer *w, const struct daemon *d, const char *name,
			const char *help, name_value_fn fn)
{
	metrics_family(w, name, METRICS_GAUGE, help);
	for (size_t i = 0; i < d->n_certs; i++) {
		const struct cert *c = d->certs[i];
		const struct config_cert *cfg = cert_get_config(c);
		for (size_t k = 0; k < cfg->n_names; k++) {
			const struct state_name *n = find_name(c, k);
			struct state_name empty = { .name = cfg->names[k] };
			int64_t v;
			if (!fn(n ? n : &empty, &v))
				continue;
			const char *labels[] = { "cert", cert_get_name(c), "name", cfg->names[k],
						 NULL };
			metrics_sample(w, labels, v);
		}
	}
}

static bool cert_level_value(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)st;
	*ret = cert_worst_level(c);
	return true;
}

static bool cert_not_after(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)c;
	*ret = st && st->has_cert ? st->not_after : 0;
	return *ret > 0;
}

static bool cert_not_before(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)c;
	*ret = st && st->has_cert ? st->not_before : 0;
	return *ret > 0;
}

static bool cert_next_renewal(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)c;
	*ret = st ? st->next_renewal : 0;
	return *ret > 0;
}

static bool cert_last_renewal(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)c;
	*ret = st ? st->last_renewal : 0;
	return *ret > 0;
}

static bool cert_failures(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)c;
	*ret = st ? st->failures : 0;
	return true;
}

static bool cert_renewing(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	(void)st;
	*ret = cert_is_renewing(c);
	return true;
}

static bool name_level_value(const struct state_name *n, int64_t *ret)
{
	*ret = n->level;
	return true;
}

static bool name_until(const struct state_name *n, int64_t *ret)
{
	*ret = n->has_until ? n->persist_until : 0;
	return n->has_until;
}

static bool name_checked_at(const struct state_name *n, int64_t *ret)
{
	*ret = n->checked ? n->checked_at : 0;
	return *ret > 0;
}

static bool name_next_check(const struct state_name *n, int64_t *ret)
{
	*ret = n->next_check;
	return *ret > 0;
}

static bool name_dns_failures(const struct state_name *n, int64_t *ret)
{
	*ret = n->dns_failures;
	return true;
}

static bool cert_served_matches(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	bool matches;
	int64_t at;

	(void)st;
	if (!certserved_last(c, &matches, &at))
		return false;
	*ret = matches;
	return true;
}

static bool cert_served_checked(const struct cert *c, const struct state_cert *st, int64_t *ret)
{
	bool matches;

	(void)st;
	return certserved_last(c, &matches, ret);
}

void metrics_collect(const struct daemon *d, struct metrics_writer *w)
{
	const char *build[] = { "version", PERSISTD_VERSION, NULL };

	metrics_family(w, "persistd_build_info", METRICS_GAUGE,
		       "Always 1; the version label says which persistd answers.");
	metrics_sample(w, build, 1);
	metrics_family(w, "persistd_time_seconds", METRICS_GAUGE,
		       "The daemon's clock (Unix seconds) when it wrote this page.");
	metrics_sample(w, NULL, daemon_now(d));
	metrics_family(w, "persistd_jobs_running", METRICS_GAUGE, "Renewal orders in flight.");
	metrics_sample(w, NULL, d->jobs_running);

	cert_family(w, d, "persistd_cert_level",
		    "Worst alert level of the cert and its names: 0 OK, 1 WARNING, 2 CRITICAL, "
		    "3 ERROR.",
		    cert_level_value);
	cert_family(w, d, "persistd_cert_not_after_seconds",
		    "notAfter of the installed certificate (Unix seconds); absent without one.",
		    cert_not_after);
	cert_family(w, d, "persistd_cert_not_before_seconds",
		    "notBefore of the installed certificate (Unix seconds).", cert_not_before);
	cert_family(w, d, "persistd_cert_next_renewal_seconds",
		    "When the next renewal is due (Unix seconds).", cert_next_renewal);
	cert_family(w, d, "persistd_cert_last_renewal_seconds",
		    "When the certificate was last issued (Unix seconds).", cert_last_renewal);
	cert_family(w, d, "persistd_cert_renewal_failures",
		    "Consecutive failed renewal attempts (0 after a success).", cert_failures);
	cert_family(w, d, "persistd_cert_renewing", "1 while an order is in flight.",
		    cert_renewing);
	cert_family(w, d, "persistd_cert_served_matches",
		    "check_served: 1 when the server serves the current certificate, 0 when it "
		    "serves another or none could be read; absent without check_served.",
		    cert_served_matches);
	cert_family(w, d, "persistd_cert_served_check_timestamp_seconds",
		    "check_served: when the server was last probed (Unix seconds).",
		    cert_served_checked);

	name_family(w, d, "persistd_name_level",
		    "Alert level of the name's record: 0 OK, 1 WARNING, 2 CRITICAL, 3 ERROR.",
		    name_level_value);
	name_family(w, d, "persistd_name_persist_until_seconds",
		    "persistUntil of the _validation-persist record (Unix seconds); absent when "
		    "the record has none.",
		    name_until);
	name_family(w, d, "persistd_name_last_check_seconds",
		    "When the record was last checked (Unix seconds).", name_checked_at);
	name_family(w, d, "persistd_name_next_check_seconds",
		    "When the record is checked next (Unix seconds).", name_next_check);
	name_family(w, d, "persistd_name_dns_failures",
		    "Consecutive checks that got no usable DNS answer.", name_dns_failures);

	metrics_family(w, "persistd_name_check_status", METRICS_GAUGE,
		       "Always 1; the status label is the outcome of the last record check "
		       "(VALID, NO_RECORD, WRONG_ACCOUNT, ..., DNS_ERROR, UNCHECKED).");
	for (size_t i = 0; i < d->n_certs; i++) {
		const struct cert *c = d->certs[i];
		const struct config_cert *cfg = cert_get_config(c);
		for (size_t k = 0; k < cfg->n_names; k++) {
			const struct state_name *n = find_name(c, k);
			const char *status = n && n->checked && n->status ? n->status : "UNCHECKED";
			const char *labels[] = { "cert", cert_get_name(c), "name", cfg->names[k],
						 "status", status, NULL };
			metrics_sample(w, labels, 1);
		}
	}

	if (d->dns) {
		struct dnscheck_stats st;
		dnscheck_get_stats(d->dns, &st);
		metrics_family(w, "persistd_dns_queries_total", METRICS_COUNTER,
			       "DNS queries the record checker has sent since it was made (at start, "
			       "or by a reload that changed its settings).");
		metrics_sample(w, NULL, (int64_t)st.queries);
		metrics_family(w, "persistd_dnssec_answers_total", METRICS_COUNTER,
			       "Validated TXT answers since the checker was made, by who judged "
			       "them: checked (its RRSIG verified here against the zone's validated "
			       "keys), remembered (the same signature verified in an earlier round), "
			       "validator (getdns or libunbound, for everything else).");
		static const char *const how[] = { "checked", "remembered", "validator" };
		const uint64_t n[] = { st.sigs_secure - st.sigs_memo_hits, st.sigs_memo_hits,
				       st.sigs_to_validator };
		for (size_t i = 0; i < ELEMENTSOF(how); i++) {
			const char *labels[] = { "how", how[i], NULL };
			metrics_sample(w, labels, (int64_t)n[i]);
		}
	}

	static const char *const ca_families[2][2] = {
		{ "persistd_ca_requests_total",
		  "HTTP requests to the CA since start, retries included." },
		{ "persistd_ca_request_errors_total",
		  "HTTP requests to the CA since start that got no answer or an HTTP status of "
		  "400 or more (badNonce included)." },
	};
	for (size_t f = 0; f < 2; f++) {
		metrics_family(w, ca_families[f][0], METRICS_COUNTER, ca_families[f][1]);
		for (size_t i = 0; i < d->n_cas; i++) {
			uint64_t requests, errors;
			acme_conn_get_counts(ca_get_conn(d->cas[i]), &requests, &errors);
			const char *labels[] = { "ca", ca_get_name(d->cas[i]), NULL };
			metrics_sample(w, labels, (int64_t)(f == 0 ? requests : errors));
		}
	}
}
