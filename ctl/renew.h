/* ctl/renew.h: `persistctl renew NAME [--force] [--dry-run]` and `renew --all [--force]
 * [--dry-run]` (docs/man/persistctl.1): asks the daemon's renew or renew.all and waits for
 * the outcome (a dry run: ctl/dryrun). Exit 0 when renewed (or, for --all, each cert
 * renewed or not due), 1 when one failed or its deploy hook did, 2 for a usage error,
 * otherwise as every remote command (ctl/remotecall.h). */
#pragma once

#include "ctl/remotecall.h"

int ctl_renew(const struct remote_options *o, int argc, char **argv);
