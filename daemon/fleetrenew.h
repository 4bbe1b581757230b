/* daemon/fleetrenew.h: a cert's renewal state, shared by a fleet's issuers.
 *
 * Part of fleet mode (daemon/fleet, docs/fleet.md). Each issuer keeps its renewal state in
 * its own state (daemon/state), as a single host does; the database holds the state of
 * the cert's latest attempt on any issuer (fleet_sql's struct fleet_renewal). Under the
 * cert's lock, before ordering, an issuer merges the stored state into its own
 * (fleetrenew_merge), so that another issuer's backoff, the CA's Retry-After and the
 * newOrders of the last hour hold it as they hold the host that saw them: N issuers make
 * no more attempts and orders than one. After each attempt it stores its own
 * (fleetrenew_put). Without this, each issuer would back off and count orders alone.
 * fleetrenew_merge is pure; fleetrenew_put queues a write on daemon/fleet_db and logs
 * when it fails. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/fleet_sql.h"
#include "daemon/state.h"

struct fleet;

/* Merges ren into st: the order times (union, ascending, the newest STATE_MAX_ORDER_TIMES),
 * the CA's Retry-After (the later one) and, when ren's attempt came after st's last one,
 * its failures, backoff and error (prefixed "issuer 'HOST': " when HOST is not self).
 * True when that took another attempt's backoff: st now waits until a later retry_at. */
bool fleetrenew_merge(struct state_cert *st, const struct fleet_renewal *ren, const char *self);

/* Stores st's renewal state for cert as of its last attempt, unless the stored one is
 * newer. A no-op without fleet mode or on a follower. */
void fleetrenew_put(struct fleet *f, const char *cert, const struct state_cert *st);
