#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/fleet_schema.h"

/* migrations[i] takes the schema from version i to i + 1. Append only: a released step
 * never changes. */
static const char *const migrations[] = {
	/* 0 -> 1: certificates (the private key sealed with the fleet key), which host serves
	 * which version, and the hosts themselves. */
	"CREATE TABLE persistd_certs ("
	" name text PRIMARY KEY,"
	" version bigint NOT NULL DEFAULT 0,"
	" serial text,"
	" not_after bigint,"
	" leaf_pem text,"
	" chain_pem text,"
	" key_sealed bytea,"
	" order_url text,"
	" order_host text,"
	" order_intent boolean NOT NULL DEFAULT false,"
	" pending_key_sealed bytea,"
	" updated_by text,"
	" updated_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE persistd_cert_hosts ("
	" cert text NOT NULL,"
	" host text NOT NULL,"
	" serial text NOT NULL,"
	" installed_at timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (cert, host));"
	"CREATE TABLE persistd_hosts ("
	" name text PRIMARY KEY,"
	" role text NOT NULL,"
	" started_at timestamptz NOT NULL DEFAULT now(),"
	" last_seen timestamptz NOT NULL DEFAULT now());",
	/* 1 -> 2: record-check results and alert state per name, whoever checked (seq orders
	 * the writes, so hosts read only what changed), and each CA's account facts, so that
	 * any host, followers too, can compute what a record must hold. */
	"CREATE SEQUENCE persistd_checks_seq;"
	"CREATE TABLE persistd_checks ("
	" name text PRIMARY KEY,"
	" cert text NOT NULL,"
	" status text,"
	" reason text,"
	" dnssec text,"
	" checked_at bigint NOT NULL,"
	" checked_by text NOT NULL,"
	" level text,"
	" alerted_level text,"
	" alerted_at bigint NOT NULL DEFAULT 0,"
	" seq bigint NOT NULL DEFAULT nextval('persistd_checks_seq'));"
	"CREATE TABLE persistd_ca_facts ("
	" ca text PRIMARY KEY,"
	" directory text NOT NULL,"
	" account_url text NOT NULL,"
	" uri_mode text,"
	" hash_prefix text,"
	" issuers text NOT NULL,"
	" updated_by text NOT NULL,"
	" updated_at timestamptz NOT NULL DEFAULT now());",
	/* 2 -> 3: each cert's renewal state (daemon/fleetrenew), so that one issuer's backoff,
	 * the CA's Retry-After and max_orders_per_hour hold every issuer. */
	"ALTER TABLE persistd_certs"
	" ADD COLUMN failures integer NOT NULL DEFAULT 0,"
	" ADD COLUMN attempt_at bigint NOT NULL DEFAULT 0,"
	" ADD COLUMN retry_at bigint NOT NULL DEFAULT 0,"
	" ADD COLUMN ca_retry_until bigint NOT NULL DEFAULT 0,"
	" ADD COLUMN last_error text,"
	" ADD COLUMN attempt_by text,"
	" ADD COLUMN order_times bigint[] NOT NULL DEFAULT '{}';",
};

static_assert(ELEMENTSOF(migrations) == FLEET_SCHEMA_VERSION, "one step per version");

static int exec_ok(PGconn *conn, const char *sql, char *why, size_t why_size)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType s = PQresultStatus(res);
	int r = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		str_printf(why, why_size, "%s", PQerrorMessage(conn));
		/* libpq's messages end in a newline; the journal's lines do not. */
		why[strcspn(why, "\n")] = '\0';
		r = -EIO;
	}
	PQclear(res);
	return r;
}

static int current_version(PGconn *conn, long *ret, char *why, size_t why_size)
{
	PGresult *res = PQexec(conn, "SELECT coalesce(max(version), 0) FROM persistd_schema_version");
	int r = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		str_printf(why, why_size, "%s", PQerrorMessage(conn));
		why[strcspn(why, "\n")] = '\0';
		r = -EIO;
	} else
		*ret = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return r;
}

int fleet_schema_migrate(PGconn *conn, char *why, size_t why_size)
{
	char sql[200];
	long version = 0;
	int r;

	r = exec_ok(conn, "BEGIN", why, why_size);
	if (r < 0)
		return r;
	str_printf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d, %d)", FLEET_LOCK_CLASS,
		   FLEET_LOCK_MIGRATE);
	r = exec_ok(conn, sql, why, why_size);
	if (r == 0)
		r = exec_ok(conn,
			    "CREATE TABLE IF NOT EXISTS persistd_schema_version ("
			    " version integer PRIMARY KEY,"
			    " applied_at timestamptz NOT NULL DEFAULT now())",
			    why, why_size);
	if (r == 0)
		r = current_version(conn, &version, why, why_size);
	if (r == 0 && version > FLEET_SCHEMA_VERSION) {
		str_printf(why, why_size,
			   "the database's schema is version %ld, newer than this persistd's %d; "
			   "upgrade persistd",
			   version, FLEET_SCHEMA_VERSION);
		r = -EPROTO;
	}
	for (long v = version; r == 0 && v < FLEET_SCHEMA_VERSION; v++) {
		r = exec_ok(conn, migrations[v], why, why_size);
		str_printf(sql, sizeof(sql), "INSERT INTO persistd_schema_version (version) VALUES (%ld)",
			   v + 1);
		if (r == 0)
			r = exec_ok(conn, sql, why, why_size);
	}
	if (r == 0)
		return exec_ok(conn, "COMMIT", why, why_size);
	char ignored[8];
	(void)exec_ok(conn, "ROLLBACK", ignored, sizeof(ignored));
	return r;
}
