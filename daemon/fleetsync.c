#include <errno.h>
#include <string.h>

#include "daemon/cert.h"
#include "daemon/daemon.h"
#include "daemon/fleet.h"
#include "daemon/fleetsync.h"
#include "daemon/log.h"

void fleetsync_on_newer(struct fleet *f, const char *cert, void *userdata)
{
	struct daemon *d = userdata;
	struct cert *c = daemon_find_cert(d, cert);
	int r;

	if (!c || d->stopping || cert_is_renewing(c))
		return;
	r = fleet_mark_sync_only(f, cert);
	if (r < 0)
		return;
	r = cert_renew(c, true, NULL, NULL);
	if (r != 0) {
		fleet_unmark_sync_only(f, cert);
		if (r < 0)
			log_info("cert '%s': the fleet has a newer version, installing it waits: %s",
				 cert, strerror(-r));
	}
}
