#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/fleet_schema.h"
#include "daemon/fleet_sql.h"

void fleet_sql_row_done(struct fleet_row *row)
{
	free(row->serial);
	free(row->leaf_pem);
	free(row->chain_pem);
	if (row->key_sealed)
		memset(row->key_sealed, 0, row->key_sealed_len);
	free(row->key_sealed);
	free(row->order_url);
	free(row->order_host);
	free(row->pending_sealed);
	free(row->updated_by);
	fleet_sql_renewal_done(&row->renewal);
	*row = (struct fleet_row){ 0 };
}

void fleet_sql_renewal_done(struct fleet_renewal *ren)
{
	free(ren->last_error);
	free(ren->attempt_by);
	free(ren->order_times);
	*ren = (struct fleet_renewal){ 0 };
}

void fleet_sql_why(PGconn *conn, char *why, size_t size)
{
	str_printf(why, size, "%s", conn ? PQerrorMessage(conn) : "not connected");
	why[strcspn(why, "\n")] = '\0';
	if (!why[0])
		str_printf(why, size, "the database connection failed");
}

bool fleet_sql_conn_bad(PGconn *conn)
{
	return !conn || PQstatus(conn) != CONNECTION_OK;
}

int fleet_sql_exec(PGconn *conn, const char *sql, int n, const char *const *vals,
		   const int *lens, const int *fmts, ExecStatusType want, PGresult **ret,
		   char *why, size_t why_size)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, vals, lens, fmts, 0);

	if (PQresultStatus(res) != want) {
		fleet_sql_why(conn, why, why_size);
		PQclear(res);
		return fleet_sql_conn_bad(conn) ? -ENOTCONN : -EIO;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
}

static char *dup_value(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

static void get_bytea(PGresult *res, int col, uint8_t **ret, size_t *ret_len)
{
	size_t n = 0;

	if (PQgetisnull(res, 0, col))
		return;
	unsigned char *bin = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, col), &n);
	if (bin && n <= KEY_MAX_BYTES + 64) {
		*ret = malloc(n ? n : 1);
		if (*ret) {
			memcpy(*ret, bin, n);
			*ret_len = n;
		}
	}
	if (bin) {
		memset(bin, 0, n);
		PQfreemem(bin);
	}
}

#define ROW_COLUMNS                                                                        \
	"version, serial, not_after, leaf_pem, chain_pem, key_sealed, order_url, order_host, " \
	"updated_by, order_intent, pending_key_sealed, failures, attempt_at, retry_at, "      \
	"ca_retry_until, left(last_error, " STRINGIFY(FLEET_MAX_ERROR_BYTES) "), attempt_by, " \
	"array_to_string(order_times[greatest(1, cardinality(order_times) - "                  \
	STRINGIFY(FLEET_MAX_ORDER_TIMES) " + 1):], ',')"

static int64_t get_int(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

/* The renewal columns from col on; the order times arrive as "T1,T2,...", at most
 * FLEET_MAX_ORDER_TIMES of them (the query cuts the array). */
static int read_renewal(PGresult *res, int col, struct fleet_renewal *ren)
{
	int64_t failures = get_int(res, col);

	ren->failures = (unsigned)MIN(MAX(failures, (int64_t)0), (int64_t)UINT16_MAX);
	ren->attempt_at = get_int(res, col + 1);
	ren->retry_at = get_int(res, col + 2);
	ren->ca_retry_until = get_int(res, col + 3);
	ren->last_error = dup_value(res, col + 4);
	ren->attempt_by = dup_value(res, col + 5);
	const char *p = PQgetisnull(res, 0, col + 6) ? "" : PQgetvalue(res, 0, col + 6);
	if (!*p)
		return 0;
	ren->order_times = calloc(FLEET_MAX_ORDER_TIMES, sizeof(*ren->order_times));
	if (!ren->order_times)
		return -ENOMEM;
	while (*p && ren->n_order_times < FLEET_MAX_ORDER_TIMES) {
		char *end;
		errno = 0;
		long long t = strtoll(p, &end, 10);
		if (errno || end == p || (*end && *end != ','))
			return -EBADMSG;
		ren->order_times[ren->n_order_times++] = t;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int read_row(PGconn *conn, struct fleet_db_job *job, bool lock)
{
	char lock_class[16];
	const char *params[] = { job->cert, lock_class };
	PGresult *res = NULL;
	int r;

	/* The lock and the row in one statement: one round trip, one transaction. */
	str_printf(lock_class, sizeof(lock_class), "%d", FLEET_LOCK_CLASS);
	r = fleet_sql_exec(conn,
			lock ? "SELECT pg_try_advisory_lock($2::int4, hashtext($1)), " ROW_COLUMNS
			       " FROM (SELECT 1) AS one LEFT JOIN persistd_certs ON name = $1"
			     : "SELECT $2::int4 IS NULL, " ROW_COLUMNS
			       " FROM (SELECT 1) AS one LEFT JOIN persistd_certs ON name = $1",
			2, params, NULL, NULL, PGRES_TUPLES_OK, &res, job->why, sizeof(job->why));
	if (r < 0)
		return r;
	fleet_sql_row_done(&job->row);
	if (PQntuples(res) != 1) {
		PQclear(res);
		str_printf(job->why, sizeof(job->why), "reading the row: no answer");
		return -EIO;
	}
	job->locked = lock && streq(PQgetvalue(res, 0, 0), "t");
	if (!PQgetisnull(res, 0, 1)) {
		struct fleet_row *row = &job->row;
		row->exists = true;
		row->version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		row->not_after = PQgetisnull(res, 0, 3) ? 0 : strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		if ((size_t)PQgetlength(res, 0, 4) > CERT_MAX_BYTES ||
		    (size_t)PQgetlength(res, 0, 5) > CERT_MAX_BYTES) {
			str_printf(job->why, sizeof(job->why), "the stored chain is over %d bytes",
				   CERT_MAX_BYTES);
			PQclear(res);
			return -E2BIG;
		}
		row->serial = dup_value(res, 2);
		row->leaf_pem = dup_value(res, 4);
		row->chain_pem = dup_value(res, 5);
		row->order_url = dup_value(res, 7);
		row->order_host = dup_value(res, 8);
		row->updated_by = dup_value(res, 9);
		row->order_intent = streq(PQgetvalue(res, 0, 10), "t");
		get_bytea(res, 6, &row->key_sealed, &row->key_sealed_len);
		get_bytea(res, 11, &row->pending_sealed, &row->pending_sealed_len);
		r = read_renewal(res, 12, &row->renewal);
		if (r < 0) {
			PQclear(res);
			str_printf(job->why, sizeof(job->why), "reading the renewal state: %s",
				   strerror(-r));
			return r;
		}
	}
	PQclear(res);
	return 0;
}

int fleet_sql_run_job(PGconn *conn, const char *host, uint64_t gen, struct fleet_db_job *job)
{
	char lock_class[16];
	PGresult *res = NULL;
	int r;

	str_printf(lock_class, sizeof(lock_class), "%d", FLEET_LOCK_CLASS);
	job->gen = job->op == FLEET_DB_UNLOCK ? job->gen : gen;
	switch (job->op) {
	case FLEET_DB_LOCK_READ:
		return read_row(conn, job, true);
	case FLEET_DB_READ:
		return read_row(conn, job, false);
	case FLEET_DB_UNLOCK: {
		if (job->gen != gen)
			return 0; /* that session, and its lock, are gone */
		const char *params[] = { lock_class, job->cert };
		return fleet_sql_exec(conn, "SELECT pg_advisory_unlock($1::int4, hashtext($2))", 2,
				   params, NULL, NULL, PGRES_TUPLES_OK, NULL, job->why,
				   sizeof(job->why));
	}
	case FLEET_DB_ORDER_URL: {
		const struct fleet_row *row = &job->row;
		bool any = row->order_url || row->order_intent;
		const char *params[] = { job->cert, row->order_url, any ? host : NULL,
					 row->order_intent ? "t" : "f",
					 (const char *)row->pending_sealed };
		int lens[] = { 0, 0, 0, 0, (int)row->pending_sealed_len };
		int fmts[] = { 0, 0, 0, 0, 1 };
		return fleet_sql_exec(conn,
				   "INSERT INTO persistd_certs (name, order_url, order_host, "
				   "order_intent, pending_key_sealed) VALUES ($1, $2, $3, $4, $5) "
				   "ON CONFLICT (name) DO UPDATE SET order_url = $2, order_host = $3, "
				   "order_intent = $4, pending_key_sealed = $5, updated_at = now()",
				   5, params, lens, fmts, PGRES_COMMAND_OK, NULL, job->why,
				   sizeof(job->why));
	}
	case FLEET_DB_RENEWAL_PUT: {
		const struct fleet_renewal *ren = &job->row.renewal;
		char failures[24], attempt_at[24], retry_at[24], ca_retry[24];
		char times[FLEET_MAX_ORDER_TIMES * 22 + 3];
		size_t used = 0;
		str_printf(failures, sizeof(failures), "%u", ren->failures);
		str_printf(attempt_at, sizeof(attempt_at), "%" PRId64, ren->attempt_at);
		str_printf(retry_at, sizeof(retry_at), "%" PRId64, ren->retry_at);
		str_printf(ca_retry, sizeof(ca_retry), "%" PRId64, ren->ca_retry_until);
		times[used++] = '{';
		for (size_t i = 0; i < MIN(ren->n_order_times, (size_t)FLEET_MAX_ORDER_TIMES); i++)
			used += (size_t)snprintf(times + used, sizeof(times) - used, "%s%" PRId64,
						 i ? "," : "", ren->order_times[i]);
		str_printf(times + used, sizeof(times) - used, "}");
		const char *params[] = { job->cert, failures, attempt_at, retry_at,
					 ca_retry,  ren->last_error, host, times };
		/* The newest attempt wins: a host that reports late never undoes a later one. The
		 * order times never lose an order: a host that only installed what another
		 * stored has fewer of them (an issuer that orders read them all first). */
		return fleet_sql_exec(conn,
				   "INSERT INTO persistd_certs AS c (name, failures, attempt_at, "
				   "retry_at, ca_retry_until, last_error, attempt_by, order_times) "
				   "VALUES ($1, $2, $3, $4, $5, left($6, " STRINGIFY(
					   FLEET_MAX_ERROR_BYTES) "), $7, $8::bigint[]) "
				   "ON CONFLICT (name) DO UPDATE SET failures = $2, attempt_at = $3, "
				   "retry_at = $4, ca_retry_until = $5, last_error = left($6, "
				   STRINGIFY(FLEET_MAX_ERROR_BYTES) "), attempt_by = $7, "
				   "order_times = CASE WHEN (coalesce(($8::bigint[])[cardinality("
				   "$8::bigint[])], 0), cardinality($8::bigint[])) >= (coalesce("
				   "c.order_times[cardinality(c.order_times)], 0), cardinality("
				   "c.order_times)) THEN $8::bigint[] ELSE c.order_times END, "
				   "updated_at = now() "
				   "WHERE c.attempt_at <= $3::bigint",
				   8, params, NULL, NULL, PGRES_COMMAND_OK, NULL, job->why,
				   sizeof(job->why));
	}
	case FLEET_DB_INSTALLED: {
		const char *params[] = { job->cert, host, job->row.serial };
		return fleet_sql_exec(conn,
				   "INSERT INTO persistd_cert_hosts (cert, host, serial) VALUES "
				   "($1, $2, $3) ON CONFLICT (cert, host) DO UPDATE SET "
				   "serial = $3, installed_at = now()",
				   3, params, NULL, NULL, PGRES_COMMAND_OK, NULL, job->why,
				   sizeof(job->why));
	}
	case FLEET_DB_UPLOAD: {
		char not_after[24];
		str_printf(not_after, sizeof(not_after), "%" PRId64, job->row.not_after);
		const char *params[] = { job->cert,	     job->row.serial,
					 not_after,	     job->row.leaf_pem,
					 job->row.chain_pem, (const char *)job->row.key_sealed,
					 host,	     job->locked ? "t" : "f",
					 job->replaces[0] ? job->replaces : NULL };
		int lens[] = { 0, 0, 0, 0, 0, (int)job->row.key_sealed_len, 0, 0, 0 };
		int fmts[] = { 0, 0, 0, 0, 0, 1, 0, 0, 0 };
		/* Newer wins: a host that comes back with an old copy never overwrites. The
		 * notification goes out with the commit, to every host at once. */
		r = fleet_sql_exec(conn,
				"WITH up AS (INSERT INTO persistd_certs AS c (name, version, serial, "
				"not_after, leaf_pem, chain_pem, key_sealed, updated_by, order_url, "
				"order_host) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, NULL, NULL) "
				"ON CONFLICT (name) DO UPDATE SET version = c.version + 1, "
				"serial = $2, not_after = $3, leaf_pem = $4, chain_pem = $5, "
				"key_sealed = $6, updated_by = $7, order_url = NULL, "
				"order_host = NULL, order_intent = false, pending_key_sealed = NULL, "
				"updated_at = now() "
				"WHERE c.serial IS NULL OR (c.serial <> $2 AND (c.not_after < $3::bigint "
				"OR (($8::boolean OR c.serial = $9) AND c.not_after = $3::bigint))) "
				"RETURNING name) "
				"SELECT pg_notify('" FLEET_SQL_CHANNEL "', $2 || ' ' || $3 || ' ' || $1) FROM up",
				9, params, lens, fmts, PGRES_TUPLES_OK, &res, job->why,
				sizeof(job->why));
		if (r < 0)
			return r;
		job->stored = PQntuples(res) == 1;
		PQclear(res);
		return 0;
	}
	case FLEET_DB_CHECK_PUT: /* daemon/fleet_sqlcheck's */
	case FLEET_DB_CHECKS_GET:
	case FLEET_DB_FACTS_PUT:
	case _FLEET_DB_OP_MAX:
		break;
	}
	return -EINVAL;
}

