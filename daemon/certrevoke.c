/* daemon/certrevoke.c: see certrevoke.h. */
#include "common/strutil.h"
#include "daemon/certbase.h"
#include "daemon/certdue.h"
#include "daemon/certrevoke.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/sched.h"
#include "daemon/state.h"

void certrevoke_note(struct cert *c, const char *serial, const char *reason, int64_t at,
		     bool replace)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st || !state_cert_serial_is(st, serial))
		return; /* a new certificate came meanwhile: nothing to replace */
	struct state_cert_orders *o = state_cert_orders_mut(st);
	if (!o || state_set_str(&o->revoked_serial, serial) < 0 ||
	    state_set_str(&o->revoked_reason, reason) < 0)
		log_error("cert '%s': out of memory recording the revocation", c->cfg->name);
	if (o)
		o->revoked_at = at;
	daemon_state_cert_changed(c->d, st);
	(void)certbase_cert_update_level(c, now);
	if (!replace || c->d->oneshot)
		return;
	/* The same as the cert's own scheduling: due now, unless held. */
	int64_t due = certdue_next_renewal(c, now);
	st->next_renewal = due;
	log_info("cert '%s': certificate %s revoked; replacing it%s", c->cfg->name, serial,
		 due > now ? " once renewals are no longer held" : " now");
	(void)sched_at(c->d->sched, &c->renew_item, due);
}
