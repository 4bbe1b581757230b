/* daemon/precheck.h: the read-only record check of every name of a cert, as the CA
 * will check it, before an order exists.
 *
 * Used where an order would cost something if it failed: before a renewal of a
 * dns-persist-01 cert places a new order (daemon/cert), and as a step of
 * `persistctl renew --dry-run` (daemon/certdry). It needs to know what the CA will
 * accept: precheck_start() answers -ENODATA when the CA's issuer names are not
 * certain yet (neither the config's `issuer`, nor the directory's issuerDomainNames,
 * nor a challenge of that CA named them: caaIdentities are only a hint), or the
 * account is not known; the caller then goes ahead as before and lets the order
 * reveal them (the order engine still refuses before a challenge that would fail).
 *
 * Each name goes through common/dnscheck (with CAA) against those issuer names and the
 * account URI the CA expects. Everything the check needs is copied at the start, so
 * neither the cert's config nor the CA is borrowed afterwards. The callback comes
 * exactly once, from the loop, unless the check is cancelled; a cancelled check frees
 * itself when its last lookup answers. */
#pragma once

#include <stdbool.h>

#include "common/config.h"

struct daemon;
struct ca;
struct precheck;

struct precheck_result {
	bool passed;            /* every name VALID and CAA permits */
	bool dns_error;         /* some lookup failed: says nothing about the record */
	const char *message;    /* one line per name that is not VALID; never NULL */
	const char *records;    /* zone lines to publish for those names, or NULL */
};

typedef void (*precheck_fn)(const struct precheck_result *res, void *userdata);

/* True when the CA's issuer names are certain (see above) and its account known. */
bool precheck_possible(struct ca *ca);
/* -ENODATA: not possible (see above); -ENOMEM; other -errno from dnscheck. */
int precheck_start(struct daemon *d, struct ca *ca, const struct config_cert *cfg, precheck_fn cb,
		   void *userdata, struct precheck **ret);
void precheck_cancel(struct precheck *p); /* NULL is a no-op */
