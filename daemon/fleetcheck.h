/* daemon/fleetcheck.h: record re-checks shared by the fleet (docs/fleet.md).
 *
 * Owns what this host knows of the fleet's checks: every name's latest result (whoever
 * checked it), the CAs' account facts the issuers stored, and the hosts alive, read from
 * the database (FLEET_DB_CHECKS_GET, only the rows written since the last read) every
 * FLEETCHECK_POLL_MS; and the writes of this host's results and facts. It decides who
 * checks a name: the live host at index hash(name) mod n_alive among the live hosts
 * ordered by name, recomputed at each read, so hosts that come or go move names; any host
 * checks a name that nobody checked within max_age (its owner died). It never calls the
 * cert module: other hosts' results and the facts go to the handlers main.c sets.
 * Runs on the loop; every database call goes through daemon/fleet_db. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/fleet_db.h"

#define FLEETCHECK_POLL_MS 10000

enum fleetcheck_who {
	FLEETCHECK_MINE,    /* check it now */
	FLEETCHECK_THEIRS,  /* another live host checks it (a fresh result, or its owner) */
	FLEETCHECK_UNKNOWN, /* no read of the database yet: ask again soon */
};

struct fleetcheck_handlers {
	/* Another host's result, newer than any seen before for that name. */
	void (*result)(const struct fleet_check *k, void *userdata);
	/* A CA's facts as stored (each read). */
	void (*facts)(const struct fleet_facts *f, void *userdata);
	void *userdata;
};

struct fleetcheck;

int fleetcheck_new(uv_loop_t *loop, struct fleet_db *db, const char *host,
		   struct fleetcheck **ret);
/* Closes the timer (run the loop afterwards). NULL is a no-op. */
void fleetcheck_free(struct fleetcheck *fc);
void fleetcheck_set_handlers(struct fleetcheck *fc, const struct fleetcheck_handlers *h);

enum fleetcheck_who fleetcheck_who(struct fleetcheck *fc, const char *name, int64_t now,
				   int64_t max_age);
/* Stores this host's result (copied); counts it in checks_made. */
void fleetcheck_put(struct fleetcheck *fc, const struct fleet_check *k);
/* Stores a CA's facts (copied) unless the database already holds the same. */
void fleetcheck_put_facts(struct fleetcheck *fc, const struct fleet_facts *f);
uint64_t fleetcheck_checks_made(const struct fleetcheck *fc);
/* The live hosts and this host's index among them (-1: not among them). */
size_t fleetcheck_alive(const struct fleetcheck *fc, int *ret_index);
