#include <errno.h>
#include <string.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/strutil.h"
#include "daemon/cert.h"
#include "daemon/certdry.h"
#include "daemon/daemon.h"
#include "daemon/methods_dryrun.h"

static void on_dry_done(bool ok, const char *json, size_t len, void *userdata)
{
	struct control_call *call = userdata;

	(void)ok;
	if (!json)
		control_call_error(call, JRPC_INTERNAL_ERROR, "out of memory", NULL);
	else
		control_call_reply(call, json, len);
}

void methods_dryrun(struct control_call *call, yajl_val params, void *userdata)
{
	struct daemon *d = userdata;
	const char *name = params && YAJL_IS_OBJECT(params) ? json_get_string(params, "name") : NULL;
	char msg[300];
	int r;

	if (!name) {
		control_call_error(call, JRPC_INVALID_PARAMS, "expected params {\"name\": CERT}", NULL);
		return;
	}
	struct cert *c = daemon_find_cert(d, name);
	if (!c) {
		str_printf(msg, sizeof(msg), "no cert named '%s' in the configuration", name);
		control_call_error(call, JRPC_NOT_FOUND, msg, NULL);
		return;
	}
	r = certdry_start(c, on_dry_done, call);
	if (r == -EBUSY) {
		str_printf(msg, sizeof(msg), "cert '%s': a renewal or dry run is running; try again "
					     "when it has ended", name);
		control_call_error(call, JRPC_BUSY, msg, NULL);
	} else if (r < 0) {
		str_printf(msg, sizeof(msg), "cannot start a dry run: %s",
			   r == -ESHUTDOWN ? "the daemon is stopping" : strerror(-r));
		control_call_error(call, JRPC_FAILED, msg, NULL);
	}
}
