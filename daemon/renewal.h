/* daemon/renewal.h: one renewal of a cert, the daemon's side of an order.
 *
 * The order engine (daemon/acme/order) is a lower tier that knows nothing of
 * the daemon; this module connects the two. It has the CA module prepare the
 * CA (directory, account), builds the order's environment from the daemon
 * (loop, the CA's transport, the DNS checker, the daemon's clock, a copy of
 * the account view), records what the order reports on the way (issuer
 * names and whether the CA offers dns-persist-01 go to the CA module; the new
 * key is saved 0600 as the cert's pending key by daemon/store before the CA
 * sees a CSR), and installs the checked chain and key the order hands up
 * (daemon/store, atomically; the pending key is cleared after). The cert
 * module (daemon/cert) then records state and alerts.
 *
 * The same for revocation: the current certificate and key come from the
 * store, the CA is prepared, and daemon/acme/revoke sends it.
 *
 * No new order before the read-only check of every name passes
 * (daemon/precheck), wherever the CA's issuer names are known: a failing
 * check ends the renewal with `gated` (and `refused`, with the records to
 * publish, unless DNS itself failed) and no order at the CA. An order to
 * resume or find, and a dry run (which checks on its own, daemon/certdry),
 * skip it.
 *
 * Exactly one done callback per started renewal, from the loop, unless it
 * is cancelled, after which none comes. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>

#include "common/config.h"
#include "daemon/acme/order.h"
#include "daemon/acme/revoke.h"

struct daemon;
struct ca;
struct renewal;

typedef void (*renewal_done_fn)(struct renewal *rn, const struct order_result *res,
				void *userdata);
typedef void (*renewal_url_fn)(struct renewal *rn, const char *url, void *userdata);
/* See order_intent_fn (order.h): newOrder is about to go out (sent), or it is settled
 * without an order URL (!sent). < 0 keeps newOrder from going out. */
typedef int (*renewal_intent_fn)(struct renewal *rn, bool sent, void *userdata);
/* See order_challenge_fn (order.h); after the CA module has learned from it. */
typedef void (*renewal_challenge_fn)(struct renewal *rn, const struct acme_challenge *ch,
				     void *userdata);

struct fleet_renewal;
/* Fleet mode, with the cert's lock: the renewal state the issuers stored (NULL: none),
 * before any order; resuming says an order in flight is continued, not a new one made.
 * True holds the renewal: it ends at once as limited (no attempt), message in why. */
typedef bool (*renewal_fleet_fn)(struct renewal *rn, const struct fleet_renewal *stored,
				 bool resuming, char *why, size_t why_size, void *userdata);

struct renewal_params {
	struct ca *ca;                    /* borrowed */
	const struct config_cert *cert;   /* borrowed for the renewal's lifetime */
	const char *replaces;             /* ARI cert id of the cert being renewed, or NULL */
	const char *resume_url;           /* a saved order to continue, or NULL */
	bool new_order_held;              /* the issuance circuit breaker (see order.h) */
	bool dry_run;                     /* stop before finalize (order.h); nothing is
					   * loaded, saved or installed */
	renewal_url_fn on_order_url;      /* may be NULL; url NULL: forget the saved one */
	bool find_orphan;                 /* an earlier newOrder's answer never came (order.h) */
	renewal_intent_fn on_order_intent; /* may be NULL */
	renewal_challenge_fn on_challenge; /* may be NULL */
	renewal_fleet_fn on_fleet_state;  /* may be NULL */
	renewal_done_fn done;             /* res->version is the installed archive version */
	void *userdata;
};

int renewal_start(struct daemon *d, const struct renewal_params *p, struct renewal **ret);
void renewal_cancel(struct renewal *rn); /* NULL is a no-op */

/* Revokes the current certificate of `cert` (see revoke.h); -ENOENT when it
 * has none. */
int renewal_revoke(struct daemon *d, struct ca *ca, const char *cert, int reason,
		   bool with_cert_key, revoke_fn cb, void *userdata);
