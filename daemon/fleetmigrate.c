/* daemon/fleetmigrate.c: persistd --store-migrate. See fleetmigrate.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "common/fleetkey.h"
#include "common/strutil.h"
#include "daemon/fleet.h"
#include "daemon/fleetconfig.h"
#include "daemon/fleet_schema.h"
#include "daemon/fleetcopy.h"
#include "daemon/fleetmigrate.h"
#include "daemon/store.h"

enum plan { PLAN_NONE, PLAN_SAME, PLAN_STORE, PLAN_CONFLICT };

static void job_free(struct fleet_db_job *job)
{
	if (!job)
		return;
	fleet_sql_row_done(&job->row);
	free(job->cert);
	free(job);
}

/* One statement's job on conn, synchronously; why gets the reason of a failure. */
static int run(PGconn *conn, const char *host, enum fleet_db_op op, const char *cert,
	       struct fleet_db_job **ret, char *why, size_t why_size)
{
	struct fleet_db_job *job = fleet_db_job_new(op, cert);
	int r;

	if (!job)
		return -ENOMEM;
	job->gen = 1;
	r = fleet_sql_run_job(conn, host, 1, job);
	if (r < 0) {
		str_printf(why, why_size, "%s", job->why);
		job_free(job);
		return r;
	}
	if (ret)
		*ret = job;
	else
		job_free(job);
	return 0;
}

/* What to do with cert: compares the local version with the stored row (read under the
 * cert's lock when locked). */
static enum plan plan_cert(const struct fleetcopy *fc, PGconn *conn, const char *host,
			   const char *name, char *why, size_t why_size)
{
	_cleanup_free_ char *serial = NULL;
	struct fleet_db_job *job = NULL;
	int64_t not_after = 0;

	if (!fleetcopy_local_version(fc, name, &serial, &not_after)) {
		str_printf(why, why_size, "no local certificate, nothing to store");
		return PLAN_NONE;
	}
	if (run(conn, host, FLEET_DB_LOCK_READ, name, &job, why, why_size) < 0)
		return PLAN_CONFLICT;
	bool locked = job->locked;
	const struct fleet_row *row = &job->row;
	enum plan p;
	if (!locked) {
		str_printf(why, why_size, "an issuer holds its lock (an order in flight); stop the "
					  "fleet's issuers or try again later");
		p = PLAN_CONFLICT;
	} else if (row->serial && streq(row->serial, serial)) {
		str_printf(why, why_size, "already in the database (serial %s)", serial);
		p = PLAN_SAME;
	} else if (!row->serial || !row->serial[0] || row->not_after < not_after) {
		str_printf(why, why_size, "%s", row->serial ? "replaces an older stored version"
							    : "not in the database yet");
		p = PLAN_STORE;
	} else {
		str_printf(why, why_size, "the database holds %s version (serial %s, stored by "
					  "%s) than this host's (serial %s)",
			   row->not_after > not_after ? "a newer" : "another", row->serial,
			   row->updated_by ? row->updated_by : "?", serial);
		p = PLAN_CONFLICT;
	}
	job_free(job);
	if (locked) {
		char ignored[256];
		(void)run(conn, host, FLEET_DB_UNLOCK, name, NULL, ignored, sizeof(ignored));
	}
	return p;
}

static int store_cert(const struct fleetcopy *fc, PGconn *conn, const char *host,
		      const char *name, char *why, size_t why_size)
{
	struct fleet_db_job *job = NULL, *mark = NULL;
	int r;

	r = fleetcopy_upload_job(fc, name, false, NULL, &job);
	if (r < 0) {
		str_printf(why, why_size, "reading the local version: %s", strerror(-r));
		return r;
	}
	r = fleet_sql_run_job(conn, host, 1, job);
	if (r < 0)
		str_printf(why, why_size, "%s", job->why);
	else if (!job->stored) {
		str_printf(why, why_size, "the database got another version meanwhile");
		r = -EEXIST;
	} else {
		str_printf(why, why_size, "stored (serial %s)", job->row.serial);
		mark = fleet_db_job_new(FLEET_DB_INSTALLED, name);
		if (mark && (mark->row.serial = strdup(job->row.serial)))
			(void)fleet_sql_run_job(conn, host, 1, mark); /* only the hosts view */
	}
	job_free(mark);
	job_free(job);
	return r;
}

static PGconn *connect_db(const char *uri, char *why, size_t why_size)
{
	const char *keys[] = { "dbname", "application_name", "connect_timeout", NULL };
	const char *vals[] = { uri, "persistd-store-migrate", "10", NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);

	if (fleet_sql_conn_bad(conn)) {
		fleet_sql_why(conn, why, why_size);
		PQfinish(conn);
		return NULL;
	}
	if (fleet_schema_migrate(conn, why, why_size) < 0) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int fleetmigrate_run(const struct config *c)
{
	const struct config_daemon *dc = &c->daemon;
	_cleanup_(store_freep) struct store *st = NULL;
	uint8_t key[FLEETKEY_BYTES];
	char path[4200], why[1024], host[256];
	struct fleetcopy fc = { 0 };
	PGconn *conn = NULL;
	enum plan *plans = NULL;
	int r, code = 1;
	size_t n_store = 0, n_same = 0, n_none = 0, n_conflict = 0;

	if (!dc->store_uri) {
		fprintf(stderr, "persistd: --store-migrate needs store = postgresql://... in the "
				"configuration\n");
		return 1;
	}
	r = store_open(dc->state_dir, &st);
	if (r < 0) {
		fprintf(stderr, "persistd: opening %s: %s\n", dc->state_dir, strerror(-r));
		return 1;
	}
	r = store_lock(st, "store-migrate", NULL, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "persistd: %s\n", why);
		return 1;
	}
	if (fleet_key_path(c, path, sizeof(path)) < 0 ||
	    fleetkey_load(path, key, why, sizeof(why)) < 0) {
		fprintf(stderr, "persistd: fleet key: %s\n", why);
		return 1;
	}
	if (dc->fleet_host)
		str_printf(host, sizeof(host), "%s", dc->fleet_host);
	else if (gethostname(host, sizeof(host)) < 0)
		str_printf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	fc = (struct fleetcopy){ .store = st, .db = NULL, .key = key };
	conn = connect_db(dc->store_uri, why, sizeof(why));
	if (!conn) {
		fprintf(stderr, "persistd: the database: %s\n", why);
		goto out;
	}
	plans = calloc(c->n_certs ? c->n_certs : 1, sizeof(*plans));
	if (!plans)
		goto out;
	/* Every row first: a conflict anywhere writes nothing anywhere. */
	for (size_t i = 0; i < c->n_certs; i++) {
		const char *name = c->certs[i]->name;
		plans[i] = plan_cert(&fc, conn, host, name, why, sizeof(why));
		n_same += plans[i] == PLAN_SAME;
		if (plans[i] == PLAN_CONFLICT) {
			fprintf(stderr, "persistd: %s: REFUSED: %s\n", name, why);
			n_conflict++;
		}
	}
	if (n_conflict) {
		fprintf(stderr, "persistd: nothing stored: %zu cert%s conflict%s with the database; "
				"the fleet's version wins (stop here, or remove the row if this "
				"host's copy must win)\n",
			n_conflict, n_conflict == 1 ? "" : "s", n_conflict == 1 ? "s" : "");
		goto out;
	}
	code = 0;
	for (size_t i = 0; i < c->n_certs; i++) {
		const char *name = c->certs[i]->name;
		if (plans[i] != PLAN_STORE) {
			n_none += plans[i] == PLAN_NONE;
			printf("%s: %s\n", name,
			       plans[i] == PLAN_SAME ? "already in the database" : "no local "
										  "certificate");
			continue;
		}
		if (store_cert(&fc, conn, host, name, why, sizeof(why)) < 0) {
			fprintf(stderr, "persistd: %s: FAILED: %s\n", name, why);
			code = 1;
			continue;
		}
		printf("%s: %s\n", name, why);
		n_store++;
	}
	printf("persistd: %zu stored, %zu already in the database, %zu without a local "
	       "certificate\n",
	       n_store, n_same, n_none);
out:
	fflush(stdout);
	free(plans);
	if (conn)
		PQfinish(conn);
	mbedtls_platform_zeroize(key, sizeof(key));
	return code;
}
