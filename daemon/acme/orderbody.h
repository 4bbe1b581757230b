/* daemon/acme/orderbody.h: what an order (daemon/acme/order) sends to the CA and how it
 * judges an order object it gets back, apart from the state machine that sends them.
 *
 * Owns: the newOrder payload (the cert's names, the profile when the CA lists profiles,
 * ARI `replaces` when the CA offers renewalInfo), the finalize payload (a CSR for the
 * cert's names and key, base64url) and the test of whether a saved order can still lead
 * to the cert's certificate.
 *
 * No loop, no network, no state: each call works only on what it is given. Errors are
 * -ENOMEM (and whatever common/csr reports for the CSR). A configured profile that the
 * CA does not list is left out with a warning in the log, as before the split. */
#pragma once

#include "common/config.h"
#include "common/key.h"
#include "daemon/acme/msg.h"

/* The JSON body of newOrder, in *ret (owned by the caller on success). profile and
 * replaces may be NULL. */
int orderbody_new_order(const struct config_cert *cfg, const struct acme_directory *dir,
			const char *profile, const char *replaces, char **ret);

/* The JSON body of finalize for a CSR of the cert's names signed by key, in *ret (owned
 * by the caller on success). */
int orderbody_finalize(const struct config_cert *cfg, const struct key *key, char **ret);

/* Why the saved order o can no longer lead to the cert's certificate (it failed or
 * expired, or it is for other names), or NULL when it can. */
const char *orderbody_order_unusable(const struct acme_order *o,
				     const struct config_cert *cfg);
