/* daemon/certrecheck.h: the read-only re-checks of a cert's _validation-persist records.
 *
 * Each name is checked (common/dnscheck, with CAA) on recheck_interval, jittered by up
 * to a tenth so thousands of names do not fire together; a transient DNS failure is
 * retried sooner, doubling from 5 min, never later than the interval, and never
 * reported as a missing record. A check needs the CA's account (the record names it):
 * the first one waits for ca_prepare(), once for all the cert's names. Each result
 * updates the name's state and level (daemon/certbase) and is sent to `persistctl
 * watch`. Internal to daemon/cert. */
#pragma once

#include <stdint.h>

#include "daemon/certbase.h"
#include "daemon/fleet_sql.h"

/* cert_check() (daemon/cert.h): re-checks every name now; cb (may be NULL) once none is
 * in flight or waiting any more. */
int certrecheck_start(struct cert *c, cert_done_fn cb, void *userdata);
/* Sets up the name's re-check timer (not yet scheduled). */
void certrecheck_init_name(struct cert_name *n);
/* The next check of n at `at`, also kept in the state. */
void certrecheck_schedule(struct cert_name *n, int64_t at);
/* Answers the check waiters if nothing is in flight any more. */
void certrecheck_done_waiters(struct cert *c);
/* Stops the timers and the wait for the CA; checks in flight still call back. */
void certrecheck_stop(struct cert *c);

/* Fleet mode (daemon/fleetcheck's handlers, userdata the struct daemon): another host's
 * newer result for a name is taken as this host's, with its alert state and no alert of
 * its own; a follower takes the issuers' account facts, so it can check. */
void certrecheck_on_fleet_result(const struct fleet_check *k, void *userdata);
void certrecheck_on_fleet_facts(const struct fleet_facts *f, void *userdata);
