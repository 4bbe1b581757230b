/* daemon/method_lifecycle.h: the control methods of a certificate's life
 * cycle after it was configured (docs/control-api.md): "revoke" (the current
 * certificate, through the daemon, recorded in the state and replaced while
 * the cert is still configured), "renew.all" (every cert at once, one
 * answer with each outcome), "certs.purge" (the stored files of a cert that
 * is no longer configured) and "config.path" (where the daemon's
 * configuration is, so persistctl add/remove edit the right certs.d/).
 *
 * Handlers of struct control_method (daemon/control.h) with the struct
 * daemon as userdata; daemon/methods lists them. revoke, renew.all and
 * certs.purge change state: they need an admin peer. Errors are JSON-RPC
 * errors with a one-line message: JRPC_INVALID_PARAMS for bad params,
 * JRPC_NOT_FOUND for an unknown cert (or nothing stored), JRPC_FAILED when
 * the operation ran and failed. */
#pragma once

#include <yajl/yajl_tree.h>

struct control_call;

void method_lifecycle_revoke(struct control_call *call, yajl_val params, void *userdata);
void method_lifecycle_renew_all(struct control_call *call, yajl_val params, void *userdata);
void method_lifecycle_purge(struct control_call *call, yajl_val params, void *userdata);
void method_lifecycle_config_path(struct control_call *call, yajl_val params, void *userdata);
