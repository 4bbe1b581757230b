/* daemon/fleet_sql.h: the statements of the fleet's jobs, on a connection the caller owns.
 *
 * Runs on daemon/fleet_db's thread (blocking libpq, never on the loop). Each job is one
 * statement, so one round trip and one transaction: the lock and the row together, an
 * upload and its NOTIFY together. What each op does is said below; the bounds of a
 * row (CERT_MAX_BYTES per PEM text) are checked here.
 * Errors: -ENOTCONN the connection broke, -EIO the statement failed (why says the
 * server's reason, one line), -E2BIG a stored value over its bound, -EINVAL an unknown op. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define FLEET_SQL_CHANNEL "persistd_certs"

/* The jobs daemon/fleet_db queues for its thread, and their rows. */
enum fleet_db_op {
	FLEET_DB_LOCK_READ, /* pg_try_advisory_lock on the cert, then its row */
	FLEET_DB_READ,      /* the cert's row, no lock */
	FLEET_DB_ORDER_URL, /* records the cert's order in flight: row.order_url (NULL: none),
			     * row.order_intent, row.pending_sealed */
	FLEET_DB_UPLOAD,    /* stores a version unless the stored one is as new; NOTIFY */
	FLEET_DB_UNLOCK,    /* pg_advisory_unlock, if the lock's connection still lives */
	FLEET_DB_INSTALLED, /* this host now serves serial (persistd_cert_hosts) */
	FLEET_DB_RENEWAL_PUT, /* row.renewal: the cert's renewal state after an attempt here */
	/* From here on, daemon/fleet_sqlcheck's. */
	FLEET_DB_CHECK_PUT, /* checks.items[0]: this host's result for a name (fleet_sqlcheck) */
	FLEET_DB_CHECKS_GET, /* results written after checks.since_seq, the CAs' facts, and the
			      * live hosts (fleet_sqlcheck) */
	FLEET_DB_FACTS_PUT, /* checks.facts[0]: this issuer's account facts for a CA */
	_FLEET_DB_OP_MAX,
};

/* A cert's renewal state, shared by the issuers so that backoff, the CA's Retry-After and
 * max_orders_per_hour bind the fleet and not each host (daemon/fleetrenew). */
#define FLEET_MAX_ORDER_TIMES 100  /* STATE_MAX_ORDER_TIMES: the highest max_orders_per_hour */
#define FLEET_MAX_ERROR_BYTES 1000 /* last_error as stored; longer is cut */
struct fleet_renewal {
	unsigned failures;     /* consecutive, as of attempt_at */
	int64_t attempt_at;    /* the attempt this describes (host clock, Unix s); 0: none */
	int64_t retry_at;      /* backoff: not before this */
	int64_t ca_retry_until; /* the CA's Retry-After */
	char *last_error;      /* owned or NULL */
	char *attempt_by;      /* owned or NULL: the host that made the attempt */
	int64_t *order_times;  /* owned: when newOrders went out, ascending */
	size_t n_order_times;
};

/* One stored version of a cert. */
struct fleet_row {
	bool exists;
	int64_t version;       /* counts uploads of this cert, fleet-wide */
	char *serial;          /* owned or NULL: hex, as common/x509 writes it */
	int64_t not_after;
	char *leaf_pem;        /* owned or NULL */
	char *chain_pem;       /* owned or NULL */
	uint8_t *key_sealed;   /* owned or NULL: common/fleetkey's nonce || ciphertext || tag */
	size_t key_sealed_len;
	char *order_url;       /* owned or NULL: an order in flight */
	char *order_host;      /* owned or NULL: who placed it */
	bool order_intent;     /* newOrder went out (or was about to) and no URL came back yet */
	uint8_t *pending_sealed; /* owned or NULL: the order's CSR key, sealed */
	size_t pending_sealed_len;
	char *updated_by;      /* owned or NULL */
	struct fleet_renewal renewal; /* LOCK_READ, READ: as stored; RENEWAL_PUT: what to store */
};

void fleet_sql_row_done(struct fleet_row *row);
void fleet_sql_renewal_done(struct fleet_renewal *ren);

/* One name's latest record check, as stored (daemon/fleetcheck). */
struct fleet_check {
	char *name, *cert, *status, *reason, *dnssec, *by, *level, *alerted_level; /* owned */
	int64_t checked_at, alerted_at, seq;
};

/* What a record must hold for one CA's names: the account (daemon/cafacts). */
struct fleet_facts {
	char *ca, *directory, *account_url, *uri_mode, *hash_prefix; /* owned */
	char *issuers;                                               /* owned: one per line */
};

struct fleet_checks {
	struct fleet_check *items; /* owned */
	size_t n;
	struct fleet_facts *facts; /* owned */
	size_t n_facts;
	char **alive;              /* owned: the hosts seen in the last 30 s, by name */
	size_t n_alive;
	int64_t since_seq;         /* GET input: only results written after it */
	int64_t max_seq;           /* GET output */
};

struct fleet_db_job;
typedef void (*fleet_db_job_fn)(struct fleet_db_job *job, void *userdata);

struct fleet_db_job {
	enum fleet_db_op op;
	char *cert;            /* owned */
	struct fleet_row row;  /* UPLOAD: what to store; LOCK_READ, READ: what is stored */
	struct fleet_checks checks; /* CHECK_PUT, CHECKS_GET, FACTS_PUT */
	uint64_t gen;          /* UNLOCK: the lock's generation; results: the one it ran in */
	/* results, valid in the callback */
	int error;             /* 0, -ENOTCONN (no database), -EIO (query failed), -E2BIG */
	bool locked;           /* LOCK_READ: the lock is ours; UPLOAD (input): stored under the
				* cert's lock, so it wins a tie of notAfter too */
	char replaces[65];     /* UPLOAD (input): "" or a stored serial this version replaced
				* here, which it overwrites on a tie of notAfter too */
	bool stored;           /* UPLOAD: the row now holds this version */
	char why[256];         /* one line when error < 0 */
	/* private */
	fleet_db_job_fn cb;
	void *userdata;
	bool cancelled;
	struct fleet_db_job *next;
};


/* job->op on conn; host is this host's name, gen the connection's generation. */
int fleet_sql_run_job(PGconn *conn, const char *host, uint64_t gen, struct fleet_db_job *job);

/* One statement with parameters; *ret (may be NULL) gets the result to PQclear(). */
int fleet_sql_exec(PGconn *conn, const char *sql, int n, const char *const *vals,
		   const int *lens, const int *fmts, ExecStatusType want, PGresult **ret,
		   char *why, size_t why_size);
bool fleet_sql_conn_bad(PGconn *conn);
/* The connection's last error as one line. */
void fleet_sql_why(PGconn *conn, char *why, size_t size);
