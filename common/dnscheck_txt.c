/* common/dnscheck_txt.c: see dnscheck_txt.h. */
#include "common/dnscheck_txt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck_lookup.h"
#include "common/dnscheck_pure.h"
#include "common/dnscheck_sigs.h"
#include "common/strutil.h"

void dnscheck_txt_free(struct dnscheck_txt *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].text);
	free(t);
}

void dnscheck_txt_from_blobs(struct dc_blob *b, size_t n, struct dnscheck_txt **ret,
			     size_t *ret_n)
{
	struct dnscheck_txt *t = n ? calloc(n, sizeof(*t)) : NULL;

	if (n && !t) {
		*ret = NULL;
		*ret_n = 0;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].text = TAKE_PTR(b[i].data);
		t[i].len = b[i].len;
	}
	*ret = t;
	*ret_n = n;
}

int dnscheck_txt_evaluate(const struct dc_job *j, const struct dnscheck_txt *rrs, size_t n,
			  struct record_verdict *ret)
{
	struct record_rr *v = calloc(n ? n : 1, sizeof(*v));
	struct record_query q = {
		.issuers = j->rq.issuers,
		.n_issuers = j->rq.n_issuers,
		.account_uri = j->rq.account_uri,
		.wildcard = j->rq.wildcard,
		.now = j->rq.now,
	};

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct record_rr){ rrs[i].text, rrs[i].len };
	int r = record_evaluate(v, n, &q, ret);
	free(v);
	return r;
}

/* The TXT part. */
static void on_txt_done(struct dc_lookup *l)
{
	struct dc_job *j = l->owner;
	struct dnscheck_result *res = &j->res;

	j->txt = NULL;
	res->dnssec = l->dnssec ? l->dnssec_status : DNSCHECK_DNSSEC_UNCHECKED;
	if (l->error == DNSCHECK_OK)
		dnscheck_sigs_learn(j->dc, j->owner, res->dnssec);
	res->cnames = TAKE_PTR(l->chain);
	res->n_cnames = l->n_chain;
	l->n_chain = 0;
	dnscheck_txt_from_blobs(l->rrs, l->n_rrs, &res->rrs, &res->n_rrs);
	free(l->rrs);
	l->rrs = NULL;
	l->n_rrs = 0;
	res->error = l->error;

	const char *asked = l->cur;
	if (res->error == DNSCHECK_ERR_BOGUS) {
		struct record_verdict u;
		/* l->why: the validator's own reason (libunbound's why_bogus). */
		if (dnscheck_txt_evaluate(j, res->rrs, res->n_rrs, &u) == 0) {
			res->unvalidated = u;
			str_printf(res->error_reason, sizeof(res->error_reason),
				   "DNSSEC validation of %s TXT failed (bogus); unvalidated, the data says %s%s%s",
				   asked, record_status_to_string(u.status), l->why ? "; " : "",
				   l->why ? l->why : "");
		} else
			str_printf(res->error_reason, sizeof(res->error_reason),
				   "DNSSEC validation of %s TXT failed (bogus)%s%s", asked,
				   l->why ? "; " : "", l->why ? l->why : "");
	} else if (res->error != DNSCHECK_OK) {
		str_printf(res->error_reason, sizeof(res->error_reason),
			   "lookup of %s TXT failed: %s%s%s%s", asked,
			   dnscheck_pure_error_text(res->error),
			   l->why ? " (" : "", l->why ? l->why : "", l->why ? ")" : "");
	} else if (!j->cb) {
		/* A raw lookup: nothing to dnscheck_txt_evaluate. */
	} else if (dnscheck_txt_evaluate(j, res->rrs, res->n_rrs, &res->verdict) < 0) {
		res->error = DNSCHECK_ERR_INTERNAL;
		str_printf(res->error_reason, sizeof(res->error_reason),
			   "evaluating the records at %s failed", asked);
	} else if (res->verdict.status == RECORD_NO_RECORD) {
		size_t n = strlen(res->verdict.reason);
		str_printf(res->verdict.reason + n, sizeof(res->verdict.reason) - n, " (%s at %s)",
			   l->kind == DNSCHECK_REPLY_NXDOMAIN ? "NXDOMAIN" : "NODATA", asked);
	}
	dnscheck_lookup_free(l);
	j->part_done(j);
}

/* The TXT lookup that the validator judges (or, for a raw lookup or with
 * validation off, nobody). The part is counted already. */
static void txt_lookup_start(struct dc_job *j)
{
	struct dc_lookup *l = dnscheck_lookup_new(j->dc, NULL, GETDNS_RRTYPE_TXT, j->owner,
						  j->cb != NULL);

	if (!l || dnscheck_lookup_start(l) < 0) {
		dnscheck_lookup_free(l);
		j->res.error = DNSCHECK_ERR_INTERNAL;
		str_printf(j->res.error_reason, sizeof(j->res.error_reason), "out of memory");
		j->part_done(j);
	} else {
		l->done = on_txt_done;
		l->owner = j;
		j->txt = l;
		if (l->dnssec && !j->dc->trust_ad)
			j->dc->stats.sigs_to_validator++;
	}
}

/* What common/dnscheck_sigs made of the answer: secure as it stands, or
 * the question goes to the validator after all. */
static void on_sigs_judged(struct dc_job *j, struct dc_lookup *l, enum dc_sigs s)
{
	if (s == DC_SIGS_SECURE) {
		l->dnssec = true;
		l->dnssec_seen = true;
		l->dnssec_status = DNSCHECK_DNSSEC_SECURE;
		on_txt_done(l);
		return;
	}
	j->txt = NULL;
	dnscheck_lookup_free(l);
	txt_lookup_start(j);
}

static void on_keys_ready(struct dc_waiter *w, struct dc_lookup *keys)
{
	struct dc_job *j = container_of(w, struct dc_job, keys_wait);

	(void)keys;
	j->keys_waiting = false;
	on_sigs_judged(j, j->txt, dnscheck_sigs_judge(j->dc, j->txt, w, false));
}

static void on_signed_txt_done(struct dc_lookup *l)
{
	struct dc_job *j = l->owner;
	enum dc_sigs s;

	if (l->error == DNSCHECK_ERR_TIMEOUT || l->error == DNSCHECK_ERR_NETWORK) {
		/* The resolvers did not answer in the whole budget: asking them
		 * again through the validator would only double the wait. */
		on_txt_done(l);
		return;
	}
	j->keys_wait.fn = on_keys_ready;
	s = dnscheck_sigs_judge(j->dc, l, &j->keys_wait, true);
	if (s == DC_SIGS_WAIT)
		j->keys_waiting = true;
	else
		on_sigs_judged(j, l, s);
}

void dnscheck_txt_start(struct dc_job *j)
{
	j->parts++;
	if (!j->cb || !dnscheck_sigs_wanted(j->dc) || j->rq.unsigned_before ||
	    !dnscheck_sigs_worth_trying(j->dc, j->owner)) {
		txt_lookup_start(j);
		return;
	}
	/* Asked like an unvalidated lookup, with DO: the signatures come
	 * back, and common/dnscheck_sigs checks them. */
	struct dc_lookup *l = dnscheck_lookup_new(j->dc, NULL, GETDNS_RRTYPE_TXT, j->owner, false);
	if (!l) {
		txt_lookup_start(j);
		return;
	}
	l->want_sigs = true;
	l->done = on_signed_txt_done;
	l->owner = j;
	j->txt = l;
	if (dnscheck_lookup_start(l) < 0) {
		j->txt = NULL;
		dnscheck_lookup_free(l);
		txt_lookup_start(j);
	}
}
