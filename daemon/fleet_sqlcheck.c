/* daemon/fleet_sqlcheck.c: the fleet's record-check statements. See fleet_sqlcheck.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "daemon/fleet_sqlcheck.h"

void fleet_check_done(struct fleet_check *c)
{
	free(c->name);
	free(c->cert);
	free(c->status);
	free(c->reason);
	free(c->dnssec);
	free(c->by);
	free(c->level);
	free(c->alerted_level);
	*c = (struct fleet_check){ 0 };
}

void fleet_facts_done(struct fleet_facts *f)
{
	free(f->ca);
	free(f->directory);
	free(f->account_url);
	free(f->uri_mode);
	free(f->hash_prefix);
	free(f->issuers);
	*f = (struct fleet_facts){ 0 };
}

void fleet_sqlcheck_done(struct fleet_checks *c)
{
	for (size_t i = 0; i < c->n; i++)
		fleet_check_done(&c->items[i]);
	free(c->items);
	for (size_t i = 0; i < c->n_facts; i++)
		fleet_facts_done(&c->facts[i]);
	free(c->facts);
	for (size_t i = 0; i < c->n_alive; i++)
		free(c->alive[i]);
	free(c->alive);
	*c = (struct fleet_checks){ 0 };
}

static char *value(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	size_t len = strnlen(PQgetvalue(res, row, col), 1000);
	return strndup(PQgetvalue(res, row, col), len);
}

static int put_check(PGconn *conn, const char *host, struct fleet_db_job *job)
{
	const struct fleet_check *c = job->checks.n ? &job->checks.items[0] : NULL;
	char at[24], alerted_at[24];

	if (!c || !c->name || !c->cert)
		return -EINVAL;
	str_printf(at, sizeof(at), "%" PRId64, c->checked_at);
	str_printf(alerted_at, sizeof(alerted_at), "%" PRId64, c->alerted_at);
	const char *params[] = { c->name,  c->cert,  c->status,		c->reason, c->dnssec,
				 at,	   host,     c->level,		c->alerted_level,
				 alerted_at };
	/* An older result never overwrites a newer one (two hosts that both checked). */
	return fleet_sql_exec(conn,
			   "INSERT INTO persistd_checks AS k (name, cert, status, reason, dnssec, "
			   "checked_at, checked_by, level, alerted_level, alerted_at) VALUES "
			   "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO UPDATE "
			   "SET cert = $2, status = $3, reason = $4, dnssec = $5, checked_at = $6, "
			   "checked_by = $7, level = $8, alerted_level = $9, alerted_at = $10, "
			   "seq = nextval('persistd_checks_seq') WHERE k.checked_at <= $6::bigint",
			   10, params, NULL, NULL, PGRES_COMMAND_OK, NULL, job->why,
			   sizeof(job->why));
}

static int put_facts(PGconn *conn, const char *host, struct fleet_db_job *job)
{
	const struct fleet_facts *f = job->checks.n_facts ? &job->checks.facts[0] : NULL;

	if (!f || !f->ca || !f->directory || !f->account_url || !f->issuers)
		return -EINVAL;
	const char *params[] = { f->ca,	      f->directory, f->account_url, f->uri_mode,
				 f->hash_prefix, f->issuers,   host };
	return fleet_sql_exec(conn,
			   "INSERT INTO persistd_ca_facts AS f (ca, directory, account_url, "
			   "uri_mode, hash_prefix, issuers, updated_by) VALUES ($1, $2, $3, $4, $5, "
			   "$6, $7) ON CONFLICT (ca) DO UPDATE SET directory = $2, account_url = $3, "
			   "uri_mode = $4, hash_prefix = $5, issuers = $6, updated_by = $7, "
			   "updated_at = now() WHERE (f.directory, f.account_url, f.uri_mode, "
			   "f.hash_prefix, f.issuers) IS DISTINCT FROM ($2, $3, $4, $5, $6)",
			   7, params, NULL, NULL, PGRES_COMMAND_OK, NULL, job->why,
			   sizeof(job->why));
}

static int get_checks(PGconn *conn, struct fleet_db_job *job)
{
	struct fleet_checks *k = &job->checks;
	char since[24], limit[24];
	PGresult *res = NULL;
	int r;

	str_printf(since, sizeof(since), "%" PRId64, k->since_seq);
	str_printf(limit, sizeof(limit), "%d", FLEET_SQLCHECK_MAX_ROWS);
	const char *params[] = { since, limit };
	r = fleet_sql_exec(conn,
			"SELECT name, cert, status, reason, dnssec, checked_at, checked_by, level, "
			"alerted_level, alerted_at, seq FROM persistd_checks WHERE seq > $1::bigint "
			"ORDER BY seq LIMIT $2::int",
			2, params, NULL, NULL, PGRES_TUPLES_OK, &res, job->why, sizeof(job->why));
	if (r < 0)
		return r;
	size_t n = (size_t)PQntuples(res);
	k->max_seq = k->since_seq;
	k->items = calloc(n ? n : 1, sizeof(*k->items));
	if (!k->items) {
		PQclear(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct fleet_check *c = &k->items[k->n++];
		int row = (int)i;
		c->name = value(res, row, 0);
		c->cert = value(res, row, 1);
		c->status = value(res, row, 2);
		c->reason = value(res, row, 3);
		c->dnssec = value(res, row, 4);
		c->checked_at = strtoll(PQgetvalue(res, row, 5), NULL, 10);
		c->by = value(res, row, 6);
		c->level = value(res, row, 7);
		c->alerted_level = value(res, row, 8);
		c->alerted_at = strtoll(PQgetvalue(res, row, 9), NULL, 10);
		c->seq = strtoll(PQgetvalue(res, row, 10), NULL, 10);
		k->max_seq = MAX(k->max_seq, c->seq);
	}
	PQclear(res);
	r = fleet_sql_exec(conn,
			"SELECT ca, directory, account_url, uri_mode, hash_prefix, issuers FROM "
			"persistd_ca_facts ORDER BY ca LIMIT 1000",
			0, NULL, NULL, NULL, PGRES_TUPLES_OK, &res, job->why, sizeof(job->why));
	if (r < 0)
		return r;
	n = (size_t)PQntuples(res);
	k->facts = calloc(n ? n : 1, sizeof(*k->facts));
	if (!k->facts) {
		PQclear(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct fleet_facts *f = &k->facts[k->n_facts++];
		int row = (int)i;
		f->ca = value(res, row, 0);
		f->directory = value(res, row, 1);
		f->account_url = value(res, row, 2);
		f->uri_mode = value(res, row, 3);
		f->hash_prefix = value(res, row, 4);
		f->issuers = value(res, row, 5);
	}
	PQclear(res);
	char alive[24];
	str_printf(alive, sizeof(alive), "%d", FLEET_SQLCHECK_ALIVE_SEC);
	const char *aparams[] = { alive };
	r = fleet_sql_exec(conn,
			"SELECT name FROM persistd_hosts WHERE last_seen > now() - "
			"make_interval(secs => $1::int) ORDER BY name LIMIT 10000",
			1, aparams, NULL, NULL, PGRES_TUPLES_OK, &res, job->why, sizeof(job->why));
	if (r < 0)
		return r;
	n = (size_t)PQntuples(res);
	k->alive = calloc(n ? n : 1, sizeof(char *));
	if (!k->alive) {
		PQclear(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if ((k->alive[k->n_alive] = value(res, (int)i, 0)))
			k->n_alive++;
	PQclear(res);
	return 0;
}

int fleet_sqlcheck_run(PGconn *conn, const char *host, struct fleet_db_job *job)
{
	switch (job->op) {
	case FLEET_DB_CHECK_PUT:
		return put_check(conn, host, job);
	case FLEET_DB_CHECKS_GET:
		return get_checks(conn, job);
	case FLEET_DB_FACTS_PUT:
		return put_facts(conn, host, job);
	default:
		return -EINVAL;
	}
}
