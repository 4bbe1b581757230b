/* ctl/dryrun.h: `persistctl renew NAME --dry-run` (docs/man/persistctl.1): asks the
 * daemon's renew.dry_run and prints each step with ok or FAILED and its message
 * (--json: the result object). Exit 0 only when every step succeeded, 1 when one
 * failed (the last step printed is the one that failed), otherwise as every remote
 * command (ctl/remotecall.h). */
#pragma once

#include "ctl/remotecall.h"

int ctl_renew_dry_run(const struct remote_options *o, const char *name);
/* `persistctl renew --all --dry-run`: the same for every configured cert, one after
 * another, each under its name (--json: {"results": [...], "ok": ...}); exit 0 only
 * when every cert's dry run succeeded. */
int ctl_renew_all_dry_run(const struct remote_options *o);
