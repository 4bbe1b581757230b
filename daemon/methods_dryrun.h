/* daemon/methods_dryrun.h: the control API's renew.dry_run method
 * (docs/control-api.md): params {"name": CERT}; the answer, once every step has
 * run or one failed, is daemon/certdry's result object, whether the run
 * succeeded ("ok": true) or not ("ok": false, the failed step last). A cert that
 * does not exist, a renewal or dry run already running, or a daemon that is
 * stopping get a JSON-RPC error instead. Mutating: it places an order at the CA. */
#pragma once

#include <yajl/yajl_tree.h>

#include "daemon/control.h"

void methods_dryrun(struct control_call *call, yajl_val params, void *userdata);
