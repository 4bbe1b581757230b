/* daemon/fleetsync.h: what the daemon does when the fleet has a newer version of a cert.
 *
 * daemon/fleet finds out (a notification, or the periodic list) and calls this handler;
 * it starts the cert's renewal marked sync-only, so the renewal installs the stored
 * version (after the checks) and never orders, and the cert then records state, alerts
 * and runs its deploy hook exactly as after any renewal. A cert already renewing is left
 * alone: its own claim reads the stored row. Kept apart from daemon/fleet so that the
 * fleet, which renewals call, never calls back into the cert module. */
#pragma once

struct fleet;

/* A fleet_sync_fn; userdata is the struct daemon. */
void fleetsync_on_newer(struct fleet *f, const char *cert, void *userdata);
