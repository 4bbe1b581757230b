/* common/dnscheck_job.c: see dnscheck_job.h. */
#include "common/dnscheck_job.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnscheck_auth.h"
#include "common/dnscheck_caa.h"
#include "common/dnscheck_lookup.h"
#include "common/dnscheck_pure.h"
#include "common/dnscheck_txt.h"
#include "common/record.h"
#include "common/strutil.h"

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void dnscheck_job_free(struct dc_job *j)
{
	if (!j)
		return;
	dnscheck_lookup_free(j->txt);
	for (size_t i = 0; i < j->res.n_servers; i++) {
		struct dnscheck_server *s = &j->res.servers[i];
		free(s->ns);
		free(s->address);
		dnscheck_txt_free(s->rrs, s->n_rrs);
		if (j->server_lookups)
			dnscheck_lookup_free(j->server_lookups[i]);
	}
	free(j->res.servers);
	free(j->server_lookups);
	for (size_t i = 0; i < j->n_nsw; i++)
		free(j->nsw[i].ns);
	free(j->nsw);
	dnscheck_txt_free(j->res.rrs, j->res.n_rrs);
	strv_free(j->res.cnames, j->res.n_cnames);
	free(j->res.caa.error_name);
	free(j->res.caa.owner);
	strv_free(j->res.caa.records, j->res.caa.n_records);
	free(j->caa_name);
	free(j->auth_name);
	free(j->name);
	free(j->base);
	free(j->owner);
	free(j->zone);
	free(j);
}

static void on_dispatch(uv_idle_t *h);

static void job_part_done(struct dc_job *j)
{
	struct dnscheck *dc = j->dc;

	assert(j->parts > 0);
	if (--j->parts > 0)
		return;
	list_del(&j->link);
	dc->n_active--;
	list_add_tail(&dc->done, &j->link);
	dc->n_done++;
	if (!dc->dispatching) {
		(void)uv_idle_start(&dc->dispatch, on_dispatch);
		dc->dispatching = true;
	}
	dnscheck_job_admit(dc);
}

static void job_start(struct dnscheck *dc, struct dc_pending *p)
{
	struct dc_job *j = calloc(1, sizeof(*j));
	bool wildcard;

	if (!j)
		goto oom;
	j->dc = dc;
	j->part_done = job_part_done;
	j->cb = p->cb;
	j->raw_cb = p->raw_cb;
	j->userdata = p->userdata;
	j->rq = p->rq;
	j->name = strdup(p->name);
	if (!j->name)
		goto oom;
	if (!j->cb) {
		/* Raw: the name is the owner (already normalised). */
		wildcard = false;
		j->base = strdup(p->name);
		j->owner = strdup(p->name);
		if (!j->base || !j->owner)
			goto oom;
	} else if (record_base_name(p->name, &j->base, &wildcard) < 0 ||
		   record_owner_name(p->name, &j->owner, &wildcard) < 0)
		goto oom;
	j->rq.name = j->name;
	j->rq.wildcard = j->rq.wildcard || wildcard;
	j->res.name = j->name;
	j->res.base = j->base;
	j->res.owner = j->owner;
	j->res.wildcard = j->rq.wildcard;
	list_init(&j->caa_wait.link);
	list_init(&j->auth_wait.link);
	list_add_tail(&dc->active, &j->link);
	dc->n_active++;

	/* Three parts; each ends with j->part_done. Hold one extra count
	 * while starting them, so none can complete the job half-started. */
	j->parts = 1;
	dnscheck_txt_start(j);
	if (j->rq.caa)
		dnscheck_caa_start(j);
	if (j->rq.authoritative)
		dnscheck_auth_start(j);
	free(p);
	job_part_done(j);
	return;

oom:
	/* Deliver a failed result rather than dropping the name. */
	if (j) {
		j->res.name = j->name ? j->name : "";
		j->res.base = j->base ? j->base : "";
		j->res.owner = j->owner ? j->owner : "";
		j->res.error = DNSCHECK_ERR_INTERNAL;
		str_printf(j->res.error_reason, sizeof(j->res.error_reason), "out of memory");
		list_add_tail(&dc->active, &j->link);
		dc->n_active++;
		j->parts = 1;
		free(p);
		job_part_done(j);
		return;
	}
	/* Not even a job: put the name back; the next completion retries. */
	list_add_tail(&dc->queued, &p->link);
	dc->n_queued++;
}

void dnscheck_job_admit(struct dnscheck *dc)
{
	while (!dc->freeing && dc->n_active < dc->max_inflight && !list_empty(&dc->queued)) {
		struct dc_pending *p = container_of(list_pop(&dc->queued), struct dc_pending, link);
		dc->n_queued--;
		size_t before = dc->n_queued;
		job_start(dc, p);
		if (dc->n_queued > before)
			break; /* out of memory: try again later */
	}
}

/* Hands a job's result to its caller: the evaluated check, or for a raw
 * lookup just what is at the name. */
static void job_deliver(struct dc_job *j)
{
	if (j->cb)
		j->cb(&j->res, j->userdata);
	else {
		const struct dnscheck_result *r = &j->res;
		struct dnscheck_txt_result t = {
			.owner = r->owner,
			.error = r->error,
			.error_reason = r->error_reason,
			.rrs = r->rrs,
			.n_rrs = r->n_rrs,
			.cnames = r->cnames,
			.n_cnames = r->n_cnames,
			.auth_checked = r->auth_checked,
			.auth_error = r->auth_error,
			.auth_reason = r->auth_reason,
			.zone = r->zone,
			.servers = r->servers,
			.n_servers = r->n_servers,
			.auth_disagree = r->auth_disagree,
		};
		j->raw_cb(&t, j->userdata);
	}
}

static void on_dispatch(uv_idle_t *h)
{
	struct dnscheck *dc = h->data;

	(void)uv_idle_stop(h);
	dc->dispatching = false;
	while (!dc->freeing && !list_empty(&dc->done)) {
		struct dc_job *j = container_of(list_pop(&dc->done), struct dc_job, link);
		dc->n_done--;
		job_deliver(j);
		dnscheck_job_free(j);
	}
	dnscheck_lookup_pump(dc);
}

void dnscheck_job_cancel_deliver(struct dc_job *j)
{
	j->res.error = DNSCHECK_ERR_CANCELLED;
	str_printf(j->res.error_reason, sizeof(j->res.error_reason), "%s",
		   dnscheck_pure_error_text(DNSCHECK_ERR_CANCELLED));
	job_deliver(j);
}
