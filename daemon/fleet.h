/* daemon/fleet.h: fleet mode on the loop's side (docs/fleet.md).
 *
 * The host's own files store (daemon/store_files) stays where the daemon reads, installs
 * and serves from; this module mirrors it to and from the fleet's PostgreSQL database
 * (daemon/fleet_db, which owns the connection on a thread of its own) without ever
 * blocking the loop. Owns: the fleet key (in memory only), this host's role, and the
 * claims renewals make.
 *
 * A renewal (daemon/renewal) first makes a claim. On an issuer the claim takes the cert's
 * advisory lock, then reads the stored row under it: a newer version stored by another
 * issuer is installed here instead of ordering (FLEET_CLAIM_INSTALLED); an order another
 * issuer left in flight is resumed (fleet_claim_resume_url, with its key); else the
 * renewal orders (FLEET_CLAIM_ORDER), reporting its order URL (fleet_claim_order_url),
 * and ends with fleet_claim_finish(), which uploads the new version (its private key
 * sealed with the fleet key) and drops the lock. While the lock is held elsewhere, or
 * there is no database, the claim waits (no new order without the lock: fail closed,
 * never a duplicate; the local copies keep being served) and tries again on news of the
 * cert, when the database is back, and every FLEET_LOCK_RETRY_MS for a lock (its holder
 * may have died, which sends no notification). A follower never orders: its claim waits
 * for a newer stored version. A claim marked sync-only (fleet_mark_sync_only) installs a
 * newer stored version or ends at once with FLEET_CLAIM_NOTHING.
 * What is installed from the database passes the checks a single host makes on what the
 * CA sends (common/certcheck: names, validity, key matches certificate) and goes in
 * through store_cert_install(), atomically, so deploy hooks run as for any renewal.
 * Notifications and the periodic list tell the sync handler (fleet_set_sync_handler)
 * which certs have a newer stored version; on an issuer, a local version newer than the
 * stored one (an upload that the database missed) is uploaded then: the local store is
 * the outbox, and it survives restarts.
 * Callbacks: from the loop, never from inside the call that started the work, exactly
 * once unless cancelled. Errors: -errno. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

struct daemon;
struct fleet;
struct fleet_claim;
struct fleet_db;
struct fleet_renewal;
struct json_writer;
struct key;


/* Loads the key and starts the database thread; d->config must be fleet mode. */
int fleet_new(struct daemon *d, struct fleet **ret);
/* Run the loop afterwards (fleet_db closes a handle). NULL is a no-op. */
void fleet_free(struct fleet *f);
DEFINE_FREEP(struct fleet, fleet_free)

bool fleet_is_follower(const struct fleet *f);
/* The shared record re-checks (daemon/fleetcheck), borrowed. */
struct fleetcheck *fleet_get_checks(const struct fleet *f);
/* The database (daemon/fleet_db) and this host's name in it, borrowed. */
struct fleet_db *fleet_get_db(const struct fleet *f);
const char *fleet_host_name(const struct fleet *f);
/* Without the database a host serves but cannot renew: status says WARNING. */
bool fleet_database_connected(const struct fleet *f);

/* Called with a cert that has a newer version stored than this host serves. */
typedef void (*fleet_sync_fn)(struct fleet *f, const char *cert, void *userdata);
void fleet_set_sync_handler(struct fleet *f, fleet_sync_fn fn, void *userdata);
/* The next claim on cert installs what is stored or nothing: it never orders. */
int fleet_mark_sync_only(struct fleet *f, const char *cert);
void fleet_unmark_sync_only(struct fleet *f, const char *cert);

enum fleet_claim_outcome {
	FLEET_CLAIM_ORDER,     /* the lock is ours: order (resume_url may name an order) */
	FLEET_CLAIM_INSTALLED, /* a newer stored version is installed here; version set */
	FLEET_CLAIM_NOTHING,   /* sync-only: nothing newer is stored, or no database */
	FLEET_CLAIM_FAILED,    /* the stored version failed the checks, or out of memory */
	_FLEET_CLAIM_OUTCOME_MAX,
};

typedef void (*fleet_claim_fn)(struct fleet_claim *cl, enum fleet_claim_outcome outcome,
			       unsigned version, const char *message, void *userdata);

int fleet_claim_start(struct fleet *f, const struct config_cert *cfg, fleet_claim_fn cb,
		      void *userdata, struct fleet_claim **ret);
/* FLEET_CLAIM_ORDER: the stored order in flight to resume (borrowed), or NULL; whether
 * one was announced but its URL never stored (look for it: find_orphan). */
const char *fleet_claim_resume_url(const struct fleet_claim *cl);
bool fleet_claim_find_orphan(const struct fleet_claim *cl);
/* FLEET_CLAIM_ORDER: the cert's stored renewal state as read under the lock (the latest
 * attempt on any issuer, daemon/fleetrenew), or NULL when nothing is stored. */
const struct fleet_renewal *fleet_claim_renewal(const struct fleet_claim *cl);
/* Was the claim marked sync-only (it never orders)? */
bool fleet_claim_sync_only(const struct fleet_claim *cl);
/* May newOrder go out? Only while the lock's connection lives. */
bool fleet_claim_may_order(const struct fleet_claim *cl);
/* Records the order in flight (url NULL: intent only, or none when !intent). */
void fleet_claim_order_url(struct fleet_claim *cl, const char *url, bool intent);
/* A new order's CSR key (also in the local store) and its intent, stored (sealed) before
 * newOrder goes out: cb comes once the database has both on the lock's connection (0),
 * or could not (< 0, message says why). An issuer killed once the order is out leaves
 * the next one what it needs to find and finish it: never a second certificate. */
typedef void (*fleet_announce_fn)(struct fleet_claim *cl, int r, const char *message,
				  void *userdata);
int fleet_claim_announce(struct fleet_claim *cl, const struct key *k, fleet_announce_fn cb,
			 void *userdata);
/* The order's CSR key is in the local store now: store it (sealed) with the order. */
void fleet_claim_key_saved(struct fleet_claim *cl);
/* Ends the claim: installed says a new version is in the local store (uploaded, then the
 * lock dropped). Also for a claim whose callback has not come yet (cancels it). NULL is
 * a no-op. */
void fleet_claim_finish(struct fleet_claim *cl, bool installed);

/* The fleet's part of `status`: database reachable (or since when not), role, host. */
void fleet_status_json(const struct fleet *f, struct json_writer *w);
/* One line for status and the journal. */
void fleet_status_line(const struct fleet *f, char *buf, size_t size);
