/* daemon/fleet_db.h: the fleet's PostgreSQL connection, owned by one worker thread.
 *
 * libpq blocks; the loop must not. So one thread owns the PGconn and runs the jobs the
 * loop queues, one at a time, in order; each finished job comes back to the loop through
 * a uv_async and its callback runs there, exactly once, unless the loop cancelled the job
 * first (then never). The thread also: connects and reconnects with backoff (0.5 s doubling
 * to 30 s), creating or migrating the schema on each connect (daemon/fleet_schema); LISTENs
 * on the persistd_certs channel and hands each notification up; lists every stored cert
 * (name and serial) right after each connect and every poll interval, which covers lost
 * notifications; and keeps this host's row in persistd_hosts fresh (a heartbeat).
 * While the database is unreachable every job fails at once with -ENOTCONN: the fleet
 * fails closed (no lock, no order), it never waits for the network.
 *
 * Advisory locks are session locks on the thread's connection: a host that dies, or
 * whose connection breaks, loses them with it. Each connection has a generation number;
 * a lock is only good while the generation it was taken in is the current one.
 * Bounds: a row's PEM texts are at most CERT_MAX_BYTES, its sealed key KEY_MAX_BYTES plus
 * the seal; a list is at most FLEET_DB_MAX_CERTS rows; larger is refused (-E2BIG). */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/fleet_sql.h"

#define FLEET_DB_MAX_CERTS 1000000
#define FLEET_DB_VIEW_MAX_CERTS 10000        /* status lists at most this many certs */
#define FLEET_DB_VIEW_MAX_BYTES (16 * 1024 * 1024)

/* What the thread reports besides jobs. */
enum fleet_db_event_type {
	FLEET_DB_CONNECTED,    /* gen is the new connection's */
	FLEET_DB_DISCONNECTED, /* why says why; retry_ms until the next attempt */
	FLEET_DB_CHANGED,      /* names[i] now has serials[i] stored (a notification or a list) */
	FLEET_DB_VIEW,         /* view_json: the fleet as status shows it (with each list) */
	_FLEET_DB_EVENT_MAX,
};

struct fleet_db_event {
	enum fleet_db_event_type type;
	uint64_t gen;
	uint64_t retry_ms;
	bool full_list;        /* CHANGED: every stored cert, not just some */
	char why[256];
	char *view_json;       /* owned by the event: {"hosts":[...],"issuing":[...],"certs":[...]} */
	char **names;          /* owned by the event */
	char **serials;
	int64_t *not_afters;
	size_t n;
	struct fleet_db_event *next;
};

typedef void (*fleet_db_event_fn)(const struct fleet_db_event *ev, void *userdata);

struct fleet_db_options {
	const char *uri;       /* libpq connection URI */
	const char *host;      /* this host's name in the fleet */
	const char *role;      /* "issuer" or "follower" */
	uint64_t poll_ms;      /* full list every poll_ms */
	fleet_db_event_fn on_event;
	void *userdata;
};

struct fleet_db;

/* Starts the thread (which connects on its own). */
int fleet_db_new(uv_loop_t *loop, const struct fleet_db_options *o, struct fleet_db **ret);
/* Stops the thread (waits for the query in progress, at most libpq's timeouts), drops
 * queued jobs without calling them, and closes the async handle: run the loop afterwards
 * so it can free. NULL is a no-op. */
void fleet_db_free(struct fleet_db *db);

/* A new job of op on cert; fill its inputs, then fleet_db_submit(). NULL: out of memory. */
struct fleet_db_job *fleet_db_job_new(enum fleet_db_op op, const char *cert);
/* Queues job (the database owns it from now on); cb (may be NULL) gets it from the loop. */
void fleet_db_submit(struct fleet_db *db, struct fleet_db_job *job, fleet_db_job_fn cb,
		     void *userdata);
/* Its callback will not come; the job is freed once the thread is done with it. */
void fleet_db_cancel(struct fleet_db_job *job);

/* The current connection's generation (0: none yet), as last reported to the loop. */
uint64_t fleet_db_gen(const struct fleet_db *db);
bool fleet_db_connected(const struct fleet_db *db);
