/* daemon/fleet_schema.h: the fleet's tables in PostgreSQL, created and migrated by persistd.
 *
 * persistd_schema_version holds the version; each migration is one step from version N-1
 * to N, run in one transaction that first takes a transaction-level advisory lock
 * (pg_advisory_xact_lock on a constant), so several hosts starting at once migrate once,
 * one after another, and each sees the result of the first. Idempotent: a database at the
 * current version is left as it is; a database newer than this persistd is refused
 * (-EPROTO), since an old host must not write rows it does not understand.
 * Runs on the fleet_db worker thread with its connection (blocking, never on the loop).
 * Errors: -EIO with why set to the server's message, -EPROTO a newer schema. */
#pragma once

#include <stddef.h>

#include <libpq-fe.h>

#define FLEET_SCHEMA_VERSION 3

/* The two int4 keys of every persistd advisory lock: the class, then hashtext(cert). */
#define FLEET_LOCK_CLASS 1885696627 /* "pers" */
#define FLEET_LOCK_MIGRATE 1        /* the class's key for migrations */

int fleet_schema_migrate(PGconn *conn, char *why, size_t why_size);
