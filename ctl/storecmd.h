/* ctl/storecmd.h: persistctl store migrate [--config FILE], offline.
 *
 * Moving a single host's files into the fleet's database needs libpq, the fleet key and
 * the state directory's lock, all of which persistd already has (daemon/fleetmigrate);
 * so this command runs `persistd --store-migrate -c FILE` (the persistd next to this
 * persistctl, else the one on PATH) and returns its exit code: 0 done, 1 refused or
 * failed, 2 usage. It needs no running daemon; it refuses to run beside one. */
#pragma once

#include "ctl/remotecall.h" /* struct remote_options */

int ctl_store(const struct remote_options *o, int argc, char **argv);
