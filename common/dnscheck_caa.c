/* common/dnscheck_caa.c: see dnscheck_caa.h. */
#include "common/dnscheck_caa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/caa.h"
#include "common/dnscheck_cache.h"
#include "common/strutil.h"

/* The CAA part: climb from the base name towards the root (RFC 8659
 * section 3), stopping at the first non-empty RRset. */
static bool caa_consider(struct dc_job *j, struct dc_lookup *e)
{
	struct dnscheck_caa *c = &j->res.caa;
	const char *const *issuers = j->rq.issuers;
	struct caa_query q = {
		.issuers = issuers,
		.n_issuers = j->rq.n_issuers,
		.account_uri = j->rq.caa_account_uri ? j->rq.caa_account_uri : j->rq.account_uri,
		.wildcard = j->rq.wildcard,
	};

	if (e->error != DNSCHECK_OK) {
		c->error = e->error;
		c->error_name = strdup(e->qname);
		return true;
	}
	if (e->n_rrs > 0) {
		struct caa_rr rrs[CAA_MAX_RRS];
		size_t n = 0;

		c->owner = strdup(e->qname);
		c->records = calloc(e->n_rrs, sizeof(char *));
		for (size_t i = 0; i < e->n_rrs && n < CAA_MAX_RRS; i++) {
			if (caa_rr_parse((const uint8_t *)e->rrs[i].data, e->rrs[i].len, &rrs[n]) < 0)
				continue;
			if (c->records) {
				char tag[256], val[600];
				size_t o = 0;
				str_printf(tag, sizeof(tag), "%.*s", (int)rrs[n].tag_len, rrs[n].tag);
				for (size_t k = 0; k < rrs[n].value_len && o + 5 < sizeof(val); k++) {
					unsigned char ch = (unsigned char)rrs[n].value[k];
					if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
						val[o++] = (char)ch;
					else
						o += (size_t)snprintf(val + o, sizeof(val) - o, "\\%03u", ch);
				}
				val[o] = 0;
				size_t need = strlen(tag) + o + 16;
				char *s = malloc(need);
				if (s) {
					str_printf(s, need, "%u %s \"%s\"", rrs[n].flags, tag, val);
					c->records[c->n_records++] = s;
				}
			}
			n++;
		}
		if (caa_evaluate(rrs, n, &q, &c->verdict) < 0)
			c->error = DNSCHECK_ERR_INTERNAL;
		return true;
	}
	const char *parent = dnscheck_parent(j->caa_name);
	if (!parent) {
		if (caa_evaluate(NULL, 0, &q, &c->verdict) < 0)
			c->error = DNSCHECK_ERR_INTERNAL;
		return true;
	}
	memmove(j->caa_name, parent, strlen(parent) + 1);
	return false;
}

static void caa_step(struct dc_job *j);

static void on_caa_ready(struct dc_waiter *w, struct dc_lookup *e)
{
	struct dc_job *j = container_of(w, struct dc_job, caa_wait);

	j->caa_waiting = false;
	if (caa_consider(j, e))
		j->part_done(j);
	else
		caa_step(j);
}

static void caa_step(struct dc_job *j)
{
	for (;;) {
		struct dc_lookup *e = dnscheck_cache_get(j->dc, GETDNS_RRTYPE_CAA, j->caa_name);
		if (!e) {
			j->res.caa.error = DNSCHECK_ERR_INTERNAL;
			j->res.caa.error_name = strdup(j->caa_name);
			j->part_done(j);
			return;
		}
		if (!e->complete) {
			j->caa_wait.fn = on_caa_ready;
			list_add_tail(&e->waiters, &j->caa_wait.link);
			j->caa_waiting = true;
			return;
		}
		if (caa_consider(j, e)) {
			j->part_done(j);
			return;
		}
	}
}

void dnscheck_caa_start(struct dc_job *j)
{
	j->res.caa.checked = true;
	j->caa_name = strdup(j->base);
	j->parts++;
	if (!j->caa_name) {
		j->res.caa.error = DNSCHECK_ERR_INTERNAL;
		j->part_done(j);
	} else
		caa_step(j);
}
