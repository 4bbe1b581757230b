/* daemon/fleetmigrate.h: persistd --store-migrate, moving a single host's files into the
 * fleet's database (persistctl store migrate runs it).
 *
 * Owns: one run, synchronous, with no loop and no signer: it takes the state directory's
 * lock (so the daemon must be stopped, as for --oneshot), loads the fleet key, connects to
 * the database of `store =` (creating or migrating its tables), and stores every
 * configured cert's current local version, its private key sealed with the fleet key
 * (daemon/fleetcopy), under that cert's advisory lock. Idempotent: a version the database
 * already has is left alone, an older stored one is replaced (as the daemon's outbox does).
 * All or nothing on conflicts: it first reads every row, and when any holds a newer or
 * another version of the same expiry, or is being ordered by an issuer (its lock is held),
 * it writes nothing, says which, and returns 1. Prints one line per cert on stdout, errors
 * on stderr. Returns the process's exit code: 0 done (or nothing to do), 1 otherwise. */
#pragma once

struct config;

int fleetmigrate_run(const struct config *c);
