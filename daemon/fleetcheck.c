/* daemon/fleetcheck.c: record re-checks shared by the fleet. See fleetcheck.h. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strmap.h"
#include "common/strutil.h"
#include "daemon/fleet_sqlcheck.h"
#include "daemon/fleetcheck.h"
#include "daemon/log.h"

struct seen {
	char *name;          /* owned; the map's key */
	int64_t checked_at;  /* the latest result's, whoever made it */
};
_Static_assert(offsetof(struct seen, name) == 0, "common/strmap: key first");

struct fleetcheck {
	struct fleet_db *db;           /* borrowed */
	char *host;                    /* owned */
	uv_timer_t *timer;             /* owned; freed when closed */
	struct fleetcheck_handlers h;
	struct strmap map;             /* name -> struct seen */
	struct seen **seen;            /* owned */
	size_t n_seen, cap_seen;
	char **alive;                  /* owned: the last read's */
	size_t n_alive;
	int my_index;
	int64_t since_seq;
	int64_t viewed_since;          /* 0: no read yet; else the first read's time */
	bool reading;
	struct fleet_facts *facts;     /* owned: the last read's */
	size_t n_facts;
	uint64_t checks_made;
};

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: the same on every host and build */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static struct seen *seen_get(struct fleetcheck *fc, const char *name, bool add)
{
	struct seen *s = strmap_get(&fc->map, name);

	if (s || !add)
		return s;
	if (fc->n_seen == fc->cap_seen) {
		size_t cap = fc->cap_seen ? fc->cap_seen * 2 : 64;
		struct seen **a = realloc(fc->seen, cap * sizeof(*a));
		if (!a)
			return NULL;
		fc->seen = a;
		fc->cap_seen = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name)) || strmap_add(&fc->map, s) < 0) {
		if (s)
			free(s->name);
		free(s);
		return NULL;
	}
	fc->seen[fc->n_seen++] = s;
	return s;
}

static void take_alive(struct fleetcheck *fc, struct fleet_checks *k)
{
	for (size_t i = 0; i < fc->n_alive; i++)
		free(fc->alive[i]);
	free(fc->alive);
	fc->alive = k->alive;
	fc->n_alive = k->n_alive;
	k->alive = NULL;
	k->n_alive = 0;
	fc->my_index = -1;
	for (size_t i = 0; i < fc->n_alive; i++)
		if (streq(fc->alive[i], fc->host))
			fc->my_index = (int)i;
}

static void take_facts(struct fleetcheck *fc, struct fleet_checks *k)
{
	for (size_t i = 0; i < fc->n_facts; i++)
		fleet_facts_done(&fc->facts[i]);
	free(fc->facts);
	fc->facts = k->facts;
	fc->n_facts = k->n_facts;
	k->facts = NULL;
	k->n_facts = 0;
}

static void on_timer(uv_timer_t *t);

static void on_read(struct fleet_db_job *job, void *userdata)
{
	struct fleetcheck *fc = userdata;
	struct fleet_checks *k = &job->checks;

	fc->reading = false;
	if (job->error < 0) {
		log_debug("fleet: reading the checks: %s", job->why);
		return;
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct fleet_check *c = &k->items[i];
		if (!c->name || !c->cert || !c->by)
			continue;
		struct seen *s = seen_get(fc, c->name, true);
		if (s && c->checked_at > s->checked_at)
			s->checked_at = c->checked_at;
		if (!streq(c->by, fc->host) && fc->h.result)
			fc->h.result(c, fc->h.userdata);
	}
	fc->since_seq = k->max_seq;
	take_alive(fc, k);
	take_facts(fc, k);
	for (size_t i = 0; i < fc->n_facts && fc->h.facts; i++)
		fc->h.facts(&fc->facts[i], fc->h.userdata);
	if (!fc->viewed_since)
		fc->viewed_since = (int64_t)time(NULL);
	/* A full page: read on at once. */
	if (k->n == FLEET_SQLCHECK_MAX_ROWS)
		uv_timer_start(fc->timer, on_timer, 0, FLEETCHECK_POLL_MS);
}

static void on_timer(uv_timer_t *t)
{
	struct fleetcheck *fc = t->data;

	if (fc->reading)
		return;
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_CHECKS_GET, "-");
	if (!job)
		return;
	job->checks.since_seq = fc->since_seq;
	fc->reading = true;
	fleet_db_submit(fc->db, job, on_read, fc);
}

int fleetcheck_new(uv_loop_t *loop, struct fleet_db *db, const char *host,
		   struct fleetcheck **ret)
{
	struct fleetcheck *fc = calloc(1, sizeof(*fc));

	if (!fc)
		return -ENOMEM;
	fc->db = db;
	fc->my_index = -1;
	fc->host = strdup(host);
	fc->timer = calloc(1, sizeof(*fc->timer));
	if (!fc->host || !fc->timer) {
		free(fc->host);
		free(fc->timer);
		free(fc);
		return -ENOMEM;
	}
	uv_timer_init(loop, fc->timer);
	fc->timer->data = fc;
	uv_timer_start(fc->timer, on_timer, 0, FLEETCHECK_POLL_MS);
	*ret = fc;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h);
}

void fleetcheck_free(struct fleetcheck *fc)
{
	if (!fc)
		return;
	uv_close((uv_handle_t *)fc->timer, on_timer_closed);
	for (size_t i = 0; i < fc->n_seen; i++) {
		free(fc->seen[i]->name);
		free(fc->seen[i]);
	}
	free(fc->seen);
	strmap_done(&fc->map);
	struct fleet_checks rest = { .alive = fc->alive, .n_alive = fc->n_alive,
				     .facts = fc->facts, .n_facts = fc->n_facts };
	fleet_sqlcheck_done(&rest);
	free(fc->host);
	free(fc);
}

void fleetcheck_set_handlers(struct fleetcheck *fc, const struct fleetcheck_handlers *h)
{
	fc->h = *h;
}

enum fleetcheck_who fleetcheck_who(struct fleetcheck *fc, const char *name, int64_t now,
				   int64_t max_age)
{
	if (!fc->viewed_since)
		return FLEETCHECK_UNKNOWN;
	if (fc->n_alive && fc->my_index >= 0 &&
	    hash_name(name) % fc->n_alive == (uint64_t)fc->my_index)
		return FLEETCHECK_MINE;
	const struct seen *s = seen_get(fc, name, false);
	if (s && s->checked_at >= now - max_age)
		return FLEETCHECK_THEIRS;
	/* Never checked by anyone: its owner gets max_age from our first read to do it. */
	if (!s && fc->n_alive && now - fc->viewed_since < max_age)
		return FLEETCHECK_THEIRS;
	return FLEETCHECK_MINE;
}

static int dup_check(const struct fleet_check *k, struct fleet_check *c)
{
	*c = (struct fleet_check){ .checked_at = k->checked_at, .alerted_at = k->alerted_at };
	c->name = strdup(k->name);
	c->cert = strdup(k->cert);
	c->status = k->status ? strndup(k->status, 100) : NULL;
	c->reason = k->reason ? strndup(k->reason, 1000) : NULL;
	c->dnssec = k->dnssec ? strndup(k->dnssec, 100) : NULL;
	c->level = k->level ? strndup(k->level, 100) : NULL;
	c->alerted_level = k->alerted_level ? strndup(k->alerted_level, 100) : NULL;
	if (!c->name || !c->cert || (k->status && !c->status) || (k->reason && !c->reason) ||
	    (k->dnssec && !c->dnssec) || (k->level && !c->level) ||
	    (k->alerted_level && !c->alerted_level)) {
		fleet_check_done(c);
		return -ENOMEM;
	}
	return 0;
}

void fleetcheck_put(struct fleetcheck *fc, const struct fleet_check *k)
{
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_CHECK_PUT, k->name);

	fc->checks_made++;
	struct seen *s = seen_get(fc, k->name, true);
	if (s && k->checked_at > s->checked_at)
		s->checked_at = k->checked_at;
	if (!job)
		return;
	job->checks.items = calloc(1, sizeof(*job->checks.items));
	if (job->checks.items && dup_check(k, job->checks.items) == 0)
		job->checks.n = 1;
	/* A job without its item fails (-EINVAL) and is logged like any failed write. */
	fleet_db_submit(fc->db, job, NULL, NULL);
}

void fleetcheck_put_facts(struct fleetcheck *fc, const struct fleet_facts *f)
{
	for (size_t i = 0; i < fc->n_facts; i++) {
		const struct fleet_facts *g = &fc->facts[i];
		if (g->ca && streq(g->ca, f->ca) && same(g->directory, f->directory) &&
		    same(g->account_url, f->account_url) &&
		    same(g->uri_mode, f->uri_mode) &&
		    same(g->hash_prefix, f->hash_prefix) && same(g->issuers, f->issuers))
			return;
	}
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_FACTS_PUT, f->ca);
	if (!job)
		return;
	struct fleet_facts *c = job->checks.facts = calloc(1, sizeof(*c));
	if (c) {
		c->ca = strdup(f->ca);
		c->directory = f->directory ? strdup(f->directory) : NULL;
		c->account_url = f->account_url ? strdup(f->account_url) : NULL;
		c->uri_mode = f->uri_mode ? strdup(f->uri_mode) : NULL;
		c->hash_prefix = f->hash_prefix ? strdup(f->hash_prefix) : NULL;
		c->issuers = f->issuers ? strdup(f->issuers) : NULL;
		job->checks.n_facts = 1;
	}
	fleet_db_submit(fc->db, job, NULL, NULL);
}

uint64_t fleetcheck_checks_made(const struct fleetcheck *fc)
{
	return fc->checks_made;
}

size_t fleetcheck_alive(const struct fleetcheck *fc, int *ret_index)
{
	*ret_index = fc->my_index;
	return fc->n_alive;
}
