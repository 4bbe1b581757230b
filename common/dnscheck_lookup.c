/* common/dnscheck_lookup.c: see dnscheck_lookup.h.
 *
 * A lookup attempts each question until one gets a usable reply (a lost or
 * failed attempt is asked again of the next resolver within the question's
 * budget, see lookup_retry()), plus more questions when the answer ends at
 * a CNAME whose target data is not in it. */
#include "common/dnscheck_lookup.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck_pure.h"
#include "common/dnscheck_rr.h"
#include "common/dnscheck_stub.h"
#include "common/dnscheck_unbound.h"
#include "common/dnswire.h"
#include "common/strutil.h"

#define WHY_MAX_BYTES 240 /* what each resolver did, for the error reason */

/* One attempt. Waits on dc->waiting, then is in flight on dc->inflight
 * with a timer for the attempt; it is freed when both getdns has called
 * back and the timer has closed (refs). */
struct dc_query {
	struct list_link link;          /* on dc->waiting or dc->inflight */
	struct dc_lookup *l;          /* borrowed */
	struct dc_ctx *ctx;           /* borrowed */
	uv_timer_t timer;             /* timer.data == this; initialised when sent */
	getdns_transaction_t tid;
	int ub_id;                    /* through libunbound (ub): its async id */
	bool ub;
	bool via_stub;                /* through our own transport: */
	struct dc_stub *stub;         /* in flight; NULL once it ended */
	int stub_error;               /* it could not be sent: told by the timer */
	unsigned refs;                /* getdns' callback to come, the timer open */
	bool timer_open;
	bool answered;                /* getdns called back */
	bool timed_out;               /* the timer fired: the CANCEL is ours */
};

/* ---- lookups ---- */

void dnscheck_lookup_free(struct dc_lookup *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_rrs; i++)
		free(l->rrs[i].data);
	free(l->rrs);
	for (size_t i = 0; i < l->n_chain; i++)
		free(l->chain[i]);
	free(l->chain);
	free(l->soa_owner);
	free(l->why);
	free(l->wire);
	free(l);
}

struct dc_lookup *dnscheck_lookup_new(struct dnscheck *dc, struct dc_ctx *auth,
				      uint16_t qtype, const char *name, bool dnssec)
{
	size_t n = strlen(name);
	struct dc_lookup *l = calloc(1, sizeof(*l) + n + 1);

	if (!l)
		return NULL;
	l->dc = dc;
	l->auth = auth;
	l->qtype = qtype;
	l->dnssec = dnssec && dc->ext_dnssec;
	memcpy(l->qname, name, n + 1);
	l->cur = l->qname;
	list_init(&l->fifo);
	list_init(&l->waiters);
	return l;
}

/* A validating lookup of the resolvers, with the libunbound backend on:
 * one attempt per question (libunbound retransmits and fails over). */
static bool lookup_via_ub(const struct dc_lookup *l)
{
	return l->dc->ub && l->dnssec && !l->auth;
}

/* An attempt that nobody here validates goes through our own transport:
 * getdns would only build a dict nothing reads. */
static bool query_via_stub(const struct dc_lookup *l, const struct dc_ctx *ctx)
{
	return ctx->has_addr && (ctx->require_aa || !l->dnssec || l->dc->trust_ad);
}

/* Queues the next attempt at l's current question. A retry goes to the
 * head of the queue: its budget is already running. */
static int lookup_query(struct dc_lookup *l, bool retry)
{
	struct dnscheck *dc = l->dc;
	struct dc_query *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->l = l;
	q->ctx = l->auth ? l->auth : lookup_via_ub(l) ? dnscheck_unbound_ctx(dc) : dc->res[l->res];
	if (retry)
		list_add_tail(dc->waiting.next, &q->link);
	else
		list_add_tail(&dc->waiting, &q->link);
	return 0;
}

/* The lookup is over: its owner takes it (a job part, or the cache). */
static void lookup_finish(struct dc_lookup *l)
{
	l->done(l);
}

static void lookup_fail(struct dc_lookup *l, enum dnscheck_error e)
{
	l->error = e;
	l->kind = DNSCHECK_REPLY_ERROR;
	lookup_finish(l);
}

/* A new question (the first, or a CNAME target): a fresh budget, the
 * first resolver first. */
static void lookup_new_question(struct dc_lookup *l)
{
	l->deadline_ms = 0;
	l->attempts = 0;
	l->res = 0;
	l->failed = 0;
	l->fail_error = DNSCHECK_OK;
	free(l->why);
	l->why = NULL;
}

int dnscheck_lookup_start(struct dc_lookup *l)
{
	lookup_new_question(l);
	return lookup_query(l, false);
}

/* Appends "; LABEL: ERROR[ DETAIL]" to l->why once, bounded: the reason
 * must stay readable. */
static void lookup_note(struct dc_lookup *l, const struct dc_ctx *ctx, enum dnscheck_error e,
			const char *detail)
{
	char item[WHY_MAX_BYTES + 1];
	size_t have = l->why ? strlen(l->why) : 0;

	str_printf(item, sizeof(item), "%s: %s%s%s", ctx->label, dnscheck_error_to_string(e),
		   detail ? " " : "", detail ? detail : "");
	if (have >= WHY_MAX_BYTES)
		return;
	/* Once per server and outcome: whole items only, "; "-separated. */
	size_t il = strlen(item);
	for (const char *p = l->why; p && *p;) {
		if (strncmp(p, item, il) == 0 && (p[il] == 0 || p[il] == ';'))
			return;
		p = strstr(p, "; ");
		p = p ? p + 2 : NULL;
	}
	if (!l->why) {
		l->why = calloc(1, WHY_MAX_BYTES + 1);
		if (!l->why)
			return;
	}
	str_printf(l->why + have, WHY_MAX_BYTES + 1 - have, "%s%s", have ? "; " : "", item);
}

/* The attempt on ctx failed with e. `final`: that server will not be asked
 * this question again. Asks the next server, or ends the lookup. */
static void lookup_retry(struct dc_lookup *l, const struct dc_ctx *ctx, enum dnscheck_error e,
			 bool final, const char *detail)
{
	struct dnscheck *dc = l->dc;
	unsigned n = l->auth || lookup_via_ub(l) ? 1 : (unsigned)dc->n_res;

	lookup_note(l, ctx, e, detail);
	if (final) {
		l->failed |= UINT32_C(1) << l->res;
		l->fail_error = e;
	}
	int next = dnscheck_next_resolver(l->res, n, l->failed);
	bool spent = l->deadline_ms && uv_now(dc->loop) >= l->deadline_ms;
	if (next < 0 || spent || l->attempts >= DNSCHECK_MAX_ATTEMPTS) {
		/* A server's own verdict says more than another one's silence. */
		lookup_fail(l, l->fail_error != DNSCHECK_OK ? l->fail_error : e);
		return;
	}
	l->res = (unsigned)next;
	if (lookup_query(l, true) < 0)
		lookup_fail(l, DNSCHECK_ERR_INTERNAL);
}

static void lookup_on_reply(struct dc_lookup *l, struct dc_ctx *ctx, const uint8_t *wire,
			    size_t wire_len, int given);

static void dnssec_merge(struct dc_lookup *l, enum dnscheck_dnssec d)
{
	static const int rank[] = {
		[DNSCHECK_DNSSEC_SECURE] = 0,
		[DNSCHECK_DNSSEC_UNCHECKED] = 1,
		[DNSCHECK_DNSSEC_INSECURE] = 2,
		[DNSCHECK_DNSSEC_BOGUS] = 3,
	};

	if (!l->dnssec_seen || rank[d] > rank[l->dnssec_status])
		l->dnssec_status = d;
	l->dnssec_seen = true;
}

static bool chain_has(const struct dc_lookup *l, const char *name)
{
	if (streq(l->qname, name))
		return true;
	for (size_t i = 0; i < l->n_chain; i++)
		if (streq(l->chain[i], name))
			return true;
	return false;
}

static int chain_push(struct dc_lookup *l, const char *name)
{
	char **c = realloc(l->chain, (l->n_chain + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	l->chain = c;
	c[l->n_chain] = strdup(name);
	if (!c[l->n_chain])
		return -ENOMEM;
	l->cur = c[l->n_chain++];
	return 0;
}

/* Reads one getdns response into l; finishes l, asks the next CNAME hop,
 * or (a server that could not answer) asks the question elsewhere. */
static void lookup_on_response(struct dc_lookup *l, struct dc_ctx *ctx,
			       getdns_callback_type_t type, getdns_dict *resp)
{
	size_t n = 0;

	if (type == GETDNS_CALLBACK_ERROR) {
		/* getdns gave up on the server (e.g. it closed the TCP
		 * connection of a truncated answer's retry). */
		lookup_retry(l, ctx, DNSCHECK_ERR_NETWORK, true, NULL);
		return;
	}
	if (type != GETDNS_CALLBACK_COMPLETE && type != GETDNS_CALLBACK_TIMEOUT) {
		lookup_fail(l, DNSCHECK_ERR_INTERNAL);
		return;
	}
	getdns_list *full;
	getdns_bindata *wire = NULL;
	if (resp && getdns_dict_get_list(resp, "replies_full", &full) == GETDNS_RETURN_GOOD &&
	    getdns_list_get_length(full, &n) == GETDNS_RETURN_GOOD && n > 0)
		(void)getdns_list_get_bindata(full, 0, &wire);
	if (!wire) {
		lookup_retry(l, ctx, DNSCHECK_ERR_TIMEOUT, false, NULL);
		return;
	}
	int given = -1;
	uint32_t v;
	if (l->dnssec && !l->dc->trust_ad &&
	    getdns_dict_get_int(resp, "/replies_tree/0/dnssec_status", &v) == GETDNS_RETURN_GOOD)
		given = (int)dnscheck_rr_dnssec(v);
	lookup_on_reply(l, ctx, wire->data, wire->size, given);
}

/* The next answer RR of type t owned by name (presentation form): 1 with
 * *rr, 0 for none (the message was checked whole before). */
static int answer_find(const struct dnswire_msg *m, struct dnswire_iter *it, uint16_t t,
		       const char *name, struct dnswire_rr *rr)
{
	char owner[DNSCHECK_NAME_BUF];
	int r;

	while ((r = dnswire_rr_next(m, it, rr)) > 0) {
		if (rr->section != DNSWIRE_ANSWER)
			return 0;
		if (rr->type == t && dnscheck_rr_owner(rr, owner, sizeof(owner)) == 0 &&
		    streq(owner, name))
			return 1;
	}
	return r;
}

/* Reads one reply in wire form (getdns' replies_full, libunbound's answer
 * packet) into l. given: the DNSSEC status getdns or libunbound found; -1:
 * none (validation off, or the AD flag decides). */
static void lookup_on_reply(struct dc_lookup *l, struct dc_ctx *ctx, const uint8_t *wire,
			    size_t wire_len, int given)
{
	struct dnscheck_reply info = { .require_aa = ctx->require_aa, .answered = true };
	struct dnswire_msg m;
	struct dnswire_rr rr;
	struct dnswire_iter it;
	char owner[DNSCHECK_NAME_BUF];
	int r;

	/* Before anything of the reply is used: is it a readable reply to
	 * this question? A reply to another question (an NXDOMAIN for
	 * another name, say) must not turn into NO_RECORD, and another
	 * server may do better. */
	if (dnswire_parse(wire, wire_len, &m) < 0 || m.qdcount != 1 || !m.qr) {
		lookup_retry(l, ctx, DNSCHECK_ERR_MALFORMED, true, NULL);
		return;
	}
	if (!dnscheck_question_matches(m.qname, m.qname_len, m.qtype, m.qclass, l->cur, l->qtype)) {
		char got[DNSCHECK_NAME_BUF], what[DNSCHECK_NAME_BUF + 80];
		if (dnscheck_pure_dname_to_str(m.qname, m.qname_len, got, sizeof(got)) < 0)
			str_printf(got, sizeof(got), "?");
		str_printf(what, sizeof(what), "%s%s %s%s", got, *got ? "" : ".",
			   dnscheck_rr_type_name(m.qtype, owner, sizeof(owner)),
			   m.qclass == 1 ? "" : " not class IN");
		lookup_retry(l, ctx, DNSCHECK_ERR_QUESTION, true, what);
		return;
	}
	/* Every RR must be readable before any is used: a reply cut or
	 * corrupted anywhere is not half-believed. */
	memset(&it, 0, sizeof(it));
	while ((r = dnswire_rr_next(&m, &it, &rr)) > 0)
		;
	if (r < 0) {
		lookup_retry(l, ctx, DNSCHECK_ERR_MALFORMED, true, NULL);
		return;
	}
	if (l->want_sigs) {
		/* Kept for the caller's check of its signatures. */
		uint8_t *w = malloc(wire_len);
		if (!w) {
			lookup_fail(l, DNSCHECK_ERR_INTERNAL);
			return;
		}
		memcpy(w, wire, wire_len);
		free(l->wire);
		l->wire = w;
		l->wire_len = wire_len;
	}
	info.rcode = m.rcode;
	info.aa = m.aa;
	info.tc = m.tc;
	/* A server that cannot answer (SERVFAIL, REFUSED, ...): the next one. */
	if (info.tc || (info.rcode != 0 && info.rcode != 3)) {
		enum dnscheck_error e;
		(void)dnscheck_classify(&info, &e);
		lookup_retry(l, ctx, e, true, NULL);
		return;
	}
	if (given >= 0) {
		dnssec_merge(l, (enum dnscheck_dnssec)given);
		info.bogus = given == DNSCHECK_DNSSEC_BOGUS;
	} else if (l->dnssec && l->dc->trust_ad) {
		/* A validating resolver answers bogus data with SERVFAIL
		 * (handled above): what it does answer is secure or not. */
		dnssec_merge(l, m.ad ? DNSCHECK_DNSSEC_SECURE : DNSCHECK_DNSSEC_INSECURE);
	} else
		dnssec_merge(l, DNSCHECK_DNSSEC_UNCHECKED);

	/* Follow the CNAME chain inside this answer. */
	bool grew = false;
	while (l->qtype != GETDNS_RRTYPE_CNAME) {
		memset(&it, 0, sizeof(it));
		struct dc_blob target = { 0 };
		bool found = false;
		while (answer_find(&m, &it, GETDNS_RRTYPE_CNAME, l->cur, &rr) > 0)
			if (dnscheck_rr_blob(&m, &rr, GETDNS_RRTYPE_CNAME, &target) == 0) {
				found = true;
				break;
			}
		if (!found)
			break;
		if (l->hops >= DNSCHECK_MAX_CNAME_HOPS || chain_has(l, target.data)) {
			free(target.data);
			lookup_fail(l, DNSCHECK_ERR_CNAME);
			return;
		}
		l->hops++;
		r = chain_push(l, target.data);
		free(target.data);
		if (r < 0) {
			lookup_fail(l, DNSCHECK_ERR_INTERNAL);
			return;
		}
		grew = true;
	}

	/* The RRset at the end of the chain, then the authority section:
	 * SOA (negative answers) and NS (referrals). */
	memset(&it, 0, sizeof(it));
	while (dnswire_rr_next(&m, &it, &rr) > 0) {
		if (rr.section == DNSWIRE_ADDITIONAL)
			break;
		if (rr.section == DNSWIRE_AUTHORITY) {
			if (rr.type == GETDNS_RRTYPE_NS)
				info.has_ns = true;
			if (rr.type == GETDNS_RRTYPE_SOA &&
			    dnscheck_rr_owner(&rr, owner, sizeof(owner)) == 0) {
				info.has_soa = true;
				free(l->soa_owner);
				l->soa_owner = strdup(owner);
			}
			continue;
		}
		if (rr.type != l->qtype || dnscheck_rr_owner(&rr, owner, sizeof(owner)) < 0 ||
		    !streq(owner, l->cur))
			continue;
		size_t max = l->qtype == GETDNS_RRTYPE_CAA ? CAA_MAX_RRS : RECORD_MAX_RRS;
		if (l->n_rrs >= max) {
			lookup_fail(l, DNSCHECK_ERR_LIMIT);
			return;
		}
		struct dc_blob *nb = realloc(l->rrs, (l->n_rrs + 1) * sizeof(*nb));
		if (!nb) {
			lookup_fail(l, DNSCHECK_ERR_INTERNAL);
			return;
		}
		l->rrs = nb;
		int br = dnscheck_rr_blob(&m, &rr, l->qtype, &l->rrs[l->n_rrs]);
		if (br == -E2BIG) {
			lookup_fail(l, DNSCHECK_ERR_LIMIT);
			return;
		}
		if (br == -ENOMEM) {
			lookup_fail(l, DNSCHECK_ERR_INTERNAL);
			return;
		}
		if (br < 0)
			continue;
		l->n_rrs++;
	}
	info.has_data = l->n_rrs > 0;

	/* A CNAME to a name whose data is not in this answer (an authoritative
	 * server for another zone, or a minimal resolver): ask for the target,
	 * through the resolver, unless the answer proves NODATA for it. A
	 * validator may call such a partial answer bogus; the merged status
	 * keeps that, so the name still cannot come out VALID. */
	bool partial = info.rcode == 0 && !info.tc && !info.has_data && grew &&
		       !(l->soa_owner && dnscheck_pure_name_under(l->cur, l->soa_owner)) &&
		       !(info.require_aa && !info.aa);
	l->kind = dnscheck_classify(&info, &l->error);
	if (partial) {
		free(l->soa_owner);
		l->soa_owner = NULL;
		l->auth = NULL;
		lookup_new_question(l);
		if (lookup_query(l, false) < 0)
			lookup_fail(l, DNSCHECK_ERR_INTERNAL);
		return;
	}
	lookup_finish(l);
}

/* ---- the query window ---- */

static void on_query_answer(getdns_context *g, getdns_callback_type_t type, getdns_dict *resp,
			    void *userarg, getdns_transaction_t tid);
static void on_ub_answer(void *arg, int err, struct ub_result *res);
static void on_stub_answer(void *arg, const uint8_t *wire, size_t len, enum dnscheck_error e);

static void query_unref(struct dc_query *q)
{
	assert(q->refs > 0);
	if (--q->refs == 0)
		free(q);
}

static void on_query_timer_closed(uv_handle_t *h)
{
	query_unref(h->data);
}

static void query_close_timer(struct dc_query *q)
{
	if (!q->timer_open)
		return;
	q->timer_open = false;
	uv_close((uv_handle_t *)&q->timer, on_query_timer_closed);
}

static void on_attempt_timeout(uv_timer_t *t);

void dnscheck_lookup_pump(struct dnscheck *dc)
{
	if (dc->pumping || dc->freeing)
		return;
	dc->pumping = true;
	while (dc->n_inflight < dc->max_inflight && !list_empty(&dc->waiting) && !dc->freeing) {
		struct dc_query *q = container_of(list_pop(&dc->waiting), struct dc_query, link);
		struct dc_lookup *l = q->l;
		getdns_dict *ext = l->dnssec && !q->ctx->require_aa ? dc->ext_dnssec : NULL;
		uint64_t now = uv_now(dc->loop);

		if (!l->deadline_ms)
			l->deadline_ms = now + dc->timeout_ms;
		uint64_t ms = dnscheck_attempt_ms(dc->timeout_ms, l->attempts,
						  l->deadline_ms > now ? l->deadline_ms - now : 0);
		if (ms == 0) {
			/* The budget ran out while the retry waited for the window. */
			free(q);
			lookup_fail(l, l->fail_error != DNSCHECK_OK ? l->fail_error
								    : DNSCHECK_ERR_TIMEOUT);
			continue;
		}
		q->ub = lookup_via_ub(l);
		q->via_stub = !q->ub && query_via_stub(l, q->ctx);
		if (q->ub)
			/* One attempt: libunbound retransmits within it. */
			ms = l->deadline_ms > now ? l->deadline_ms - now : ms;
		l->attempts++;
		/* Alive until getdns called back and the timer closed. */
		q->refs = 2;
		(void)uv_timer_init(dc->loop, &q->timer);
		q->timer.data = q;
		q->timer_open = true;
		list_add_tail(&dc->inflight, &q->link);
		dc->n_inflight++;
		dc->stats.queries++;
		if (dc->n_inflight > dc->stats.peak_inflight)
			dc->stats.peak_inflight = dc->n_inflight;
		/* The callback may run before this returns; the timer's
		 * reference keeps q readable until the loop closes it. */
		bool sent;
		if (q->ub)
			sent = dnscheck_unbound_resolve(dc, l->cur, l->qtype, q, on_ub_answer,
							&q->ub_id) == 0;
		else if (q->via_stub) {
			bool dnssec_ok = ((l->dnssec && dc->trust_ad) || l->want_sigs) &&
					 !q->ctx->require_aa;
			int r = dnscheck_stub_send(dc, q->ctx, l->cur, l->qtype, dnssec_ok,
						   on_stub_answer, q, &q->stub);
			sent = r != -ENOMEM;
			if (r < 0 && sent) {
				/* A server the socket cannot reach (no route, no
				 * descriptor): a network error, from the loop. */
				q->stub_error = r;
				ms = 0;
			}
		} else
			sent = getdns_general(q->ctx->g, l->cur, l->qtype, ext, q, &q->tid,
					      on_query_answer) == GETDNS_RETURN_GOOD;
		if (!sent) {
			list_del(&q->link);
			dc->n_inflight--;
			query_close_timer(q);
			query_unref(q);
			lookup_fail(l, DNSCHECK_ERR_INTERNAL);
			continue;
		}
		if (!q->answered)
			(void)uv_timer_start(&q->timer, on_attempt_timeout, ms, 0);
	}
	dc->pumping = false;
}

/* The attempt is over (answered, or cancelled for good): out of the
 * window; q is freed once its timer has closed. */
static void query_settle(struct dc_query *q)
{
	struct dnscheck *dc = q->ctx->dc;

	assert(dc->n_inflight > 0);
	dc->n_inflight--;
	list_del(&q->link);
	q->answered = true;
	query_close_timer(q);
	query_unref(q);
}

/* libunbound's result: its answer packet is read as getdns' is. */
static void lookup_on_ub_result(struct dc_lookup *l, struct dc_ctx *ctx, struct ub_result *res)
{
	bool packet = res->answer_packet && res->answer_len > 0;
	enum dnscheck_dnssec d = dnscheck_unbound_dnssec(res->secure, res->bogus);
	enum dnscheck_error e = dnscheck_unbound_error(res->rcode, res->bogus, packet);

	bool bogus = d == DNSCHECK_DNSSEC_BOGUS;

	/* NOERROR or NXDOMAIN (also bogus ones: what the data says is kept
	 * next to the BOGUS error, as with getdns) is read from the packet;
	 * anything else is libunbound's verdict after every forwarder. The
	 * reason carries unbound's why_bogus. */
	if (packet && (res->rcode == 0 || res->rcode == 3)) {
		if (bogus)
			lookup_note(l, ctx, DNSCHECK_ERR_BOGUS, res->why_bogus);
		lookup_on_reply(l, ctx, res->answer_packet, (size_t)res->answer_len, (int)d);
	} else {
		if (bogus)
			dnssec_merge(l, d);
		lookup_retry(l, ctx, e, true, bogus ? res->why_bogus : NULL);
	}
}

/* The stub transport's callback: once per query not cancelled. */
static void on_stub_answer(void *arg, const uint8_t *wire, size_t len, enum dnscheck_error e)
{
	struct dc_query *q = arg;
	struct dc_ctx *ctx = q->ctx;
	struct dnscheck *dc = ctx->dc;
	struct dc_lookup *l = q->l;

	q->stub = NULL;
	query_settle(q);
	if (e != DNSCHECK_OK)
		lookup_retry(l, ctx, e, true, NULL);
	else
		lookup_on_reply(l, ctx, wire, len, -1);
	dnscheck_lookup_pump(dc);
}

/* libunbound's callback (from ub_process() on the loop): once per query
 * not cancelled. */
static void on_ub_answer(void *arg, int err, struct ub_result *res)
{
	struct dc_query *q = arg;
	struct dc_ctx *ctx = q->ctx;
	struct dnscheck *dc = ctx->dc;
	struct dc_lookup *l = q->l;

	dnscheck_unbound_release(dc);
	query_settle(q);
	if (!dc->freeing) {
		if (err)
			lookup_retry(l, ctx, DNSCHECK_ERR_NETWORK, true, ub_strerror(err));
		else
			lookup_on_ub_result(l, ctx, res);
	}
	ub_resolve_free(res);
	dnscheck_lookup_pump(dc);
}

/* getdns' callback: exactly once per query it accepted, with CANCEL when
 * we (or the context's destruction) cancelled it. */
static void on_query_answer(getdns_context *g, getdns_callback_type_t type, getdns_dict *resp,
			    void *userarg, getdns_transaction_t tid)
{
	struct dc_query *q = userarg;
	struct dc_ctx *ctx = q->ctx;
	struct dnscheck *dc = ctx->dc;
	struct dc_lookup *l = q->l;
	bool timed_out = q->timed_out;

	(void)g;
	(void)tid;
	query_settle(q);
	/* While freeing, the lookup may be gone already: touch nothing. */
	if (dc->freeing || (type == GETDNS_CALLBACK_CANCEL && !timed_out)) {
		getdns_dict_destroy(resp);
		return;
	}
	if (timed_out)
		lookup_retry(l, ctx, DNSCHECK_ERR_TIMEOUT, false, NULL);
	else
		lookup_on_response(l, ctx, type, resp);
	getdns_dict_destroy(resp);
	/* Not from inside our own cancel: getdns is tearing the request down. */
	if (!dc->cancelling)
		dnscheck_lookup_pump(dc);
}

/* The attempt had its time: cancel it (getdns calls back with CANCEL, and
 * on_query_answer asks again), then send what waits. */
static void on_attempt_timeout(uv_timer_t *t)
{
	struct dc_query *q = t->data;
	struct dnscheck *dc = q->ctx->dc;

	q->timed_out = true;
	if (q->via_stub) {
		enum dnscheck_error e = q->stub_error ? DNSCHECK_ERR_NETWORK : DNSCHECK_ERR_TIMEOUT;
		if (q->stub)
			dnscheck_stub_cancel(q->stub);
		q->stub = NULL;
		query_settle(q);
		lookup_retry(q->l, q->ctx, e, q->stub_error != 0,
			     q->stub_error ? uv_strerror(q->stub_error) : NULL);
		dnscheck_lookup_pump(dc);
		return;
	}
	if (q->ub) {
		/* No callback comes after ub_cancel(): the timeout is the answer. */
		dnscheck_unbound_cancel(dc, q->ub_id);
		dnscheck_unbound_release(dc);
		query_settle(q);
		lookup_retry(q->l, q->ctx, DNSCHECK_ERR_TIMEOUT, false, NULL);
		dnscheck_lookup_pump(dc);
		return;
	}
	dc->cancelling = true;
	getdns_return_t r = getdns_cancel_callback(q->ctx->g, q->tid);
	dc->cancelling = false;
	if (r != GETDNS_RETURN_GOOD && !q->answered)
		/* getdns does not know it: its own timeout (the whole
		 * budget) will still end it. */
		q->timed_out = false;
	dnscheck_lookup_pump(dc);
}

void dnscheck_lookup_drop_queries(struct dnscheck *dc)
{
	struct list_link *n;

	while ((n = list_pop(&dc->inflight))) {
		/* getdns did not call back (it should have, with CANCEL). */
		struct dc_query *q = container_of(n, struct dc_query, link);
		if (q->stub)
			dnscheck_stub_cancel(q->stub);
		q->stub = NULL;
		q->answered = true;
		query_close_timer(q);
		query_unref(q);
	}
	while ((n = list_pop(&dc->waiting)))
		free(container_of(n, struct dc_query, link));
}
