/* ctl/checkfmt.c: see checkfmt.h. */
#include "ctl/checkfmt.h"

#include <inttypes.h>
#include <stdio.h>

#include "common/caa.h"
#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"

/* An expired record (time_expiry_level's LEVEL_ERROR) is CRITICAL to a
 * monitoring system: persistctl reports no ERROR. */
static enum level expiry_to_level(enum level e)
{
	switch (e) {
	case LEVEL_OK:
		return LEVEL_OK;
	case LEVEL_WARNING:
		return LEVEL_WARNING;
	default:
		return LEVEL_CRITICAL;
	}
}

enum level checkfmt_level(const struct dnscheck_result *r, const struct check_args *a)
{
	enum level l = LEVEL_OK;

	if (r->error == DNSCHECK_ERR_BOGUS)
		l = LEVEL_CRITICAL; /* a validating CA fails for sure */
	else if (r->error != DNSCHECK_OK)
		l = LEVEL_UNKNOWN;
	else if (r->verdict.status != RECORD_VALID)
		l = LEVEL_CRITICAL;
	else if (r->verdict.has_persist_until)
		l = expiry_to_level(time_expiry_level(r->verdict.persist_until, a->now, a->warn_ms,
						      a->critical_ms));
	if (r->caa.checked) {
		if (r->caa.error != DNSCHECK_OK)
			l = level_merge(l, LEVEL_UNKNOWN);
		else if (!caa_outcome_permits(r->caa.verdict.outcome))
			l = level_merge(l, LEVEL_CRITICAL);
	}
	if (r->auth_checked) {
		if (r->auth_error != DNSCHECK_OK)
			l = level_merge(l, LEVEL_UNKNOWN);
		if (r->auth_disagree)
			l = level_merge(l, LEVEL_CRITICAL);
		for (size_t i = 0; i < r->n_servers; i++)
			if (r->servers[i].error != DNSCHECK_OK)
				l = level_merge(l, LEVEL_WARNING);
			else if (r->servers[i].status != RECORD_VALID && r->error == DNSCHECK_OK &&
				 r->verdict.status == RECORD_VALID)
				l = level_merge(l, LEVEL_CRITICAL);
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

void checkfmt_json(struct json_writer *w, const struct dnscheck_result *r,
		   const struct check_args *a, enum level level)
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
	json_kv_string(w, "level", level_to_lower_string(level));
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
			       time_expiry_to_string(time_expiry_level(dv->persist_until, a->now,
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

void checkfmt_text(FILE *f, const struct dnscheck_result *r, const struct check_args *a,
		   enum level level, bool color)
{
	const struct dnscheck_txt *rec = result_record(r);
	const struct record_verdict *dv = r->error == DNSCHECK_ERR_BOGUS ? &r->unvalidated : &r->verdict;

	fprintf(f, "%s  %s%s%s (%s)\n", r->name, output_color_start(level, color),
		dnscheck_result_status(r), output_color_end(color), level_to_lower_string(level));
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
		enum level e = time_expiry_level(dv->persist_until, a->now, a->warn_ms,
							a->critical_ms);
		time_format_iso(dv->persist_until, date, sizeof(date));
		fprintf(f, "    persistUntil  %s, %" PRId64 " days left (%s%s%s)\n", date,
			time_days_left(dv->persist_until, a->now),
			output_color_start(expiry_to_level(e), color && e != LEVEL_OK),
			time_expiry_to_string(e), output_color_end(color && e != LEVEL_OK));
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
				output_color_start(LEVEL_CRITICAL, color), output_color_end(color),
				r->zone ? r->zone : "the zone");
	}
}
