/* daemon/cafacts.h: what a CA told us about dns-persist-01, and what we
 * remember of it in state.json for when the CA is away.
 *
 * The facts: the issuer names to put into records and to accept (the
 * config's override, else the directory's issuerDomainNames, else what an
 * authorization's challenge listed (remembered), else caaIdentities), the
 * accounturi mode (the config's choice, else hashed when the directory has
 * meta.accountHashPrefix (draft -02), else url), and whether the CA offers
 * the challenge at all (-1 unknown, 0 no, 1 yes: learned from
 * authorizations; draft -02 CAs announce it with issuerDomainNames).
 *
 * Pure functions of a CA's config, its directory (NULL while never fetched)
 * and its state entry (NULL when none): the CA module (daemon/ca) owns all
 * three and marks state.json dirty when a function here says it changed
 * something. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/record.h"
#include "daemon/acme/account.h"
#include "daemon/acme/msg.h"
#include "daemon/state.h"

/* The directory's accountHashPrefix, or the one remembered from last time. */
const char *cafacts_hash_prefix(const struct acme_directory *dir, const struct state_ca *st);
enum record_uri_mode cafacts_uri_mode(const struct config_ca *cfg, const struct acme_directory *dir,
				      const struct state_ca *st);
/* Borrowed; *n is 0 when nothing is known yet. */
const char *const *cafacts_issuers(const struct config_ca *cfg, const struct acme_directory *dir,
				   const struct state_ca *st, size_t *n);
int cafacts_offers_persist(const struct acme_directory *dir, const struct state_ca *st);

/* The learning functions return 1 when st changed, 0 when not, or -ENOMEM. */
int cafacts_learn_offers_persist(struct state_ca *st, bool offers);
/* Replaces the issuer names remembered (if they differ). */
int cafacts_remember_issuers(struct state_ca *st, char *const *names, size_t n);
/* After a directory fetch at `now`: its hash prefix, the mode, its issuer names. */
int cafacts_remember_directory(const struct config_ca *cfg, const struct acme_directory *dir,
			       struct state_ca *st, int64_t now);

/* Fleet mode, a follower: the hash prefix and issuer names the issuers stored
 * (daemon/fleetcheck). */
int cafacts_adopt_fleet(struct state_ca *st, const char *hash_prefix, char *const *issuers,
			size_t n_issuers);

/* The order engine's view of the account (strings borrowed from the arguments). */
void cafacts_account_view(const struct config_ca *cfg, const struct acme_directory *dir,
			  const struct state_ca *st, const char *account_url,
			  const char *thumbprint, struct acme_account_view *view);
