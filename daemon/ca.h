/* daemon/ca.h: one configured ACME CA at run time.
 *
 * Owns the CA's configuration, its transport (directory, nonces), the public
 * half of its account key and its account URL, and what the CA told us
 * about dns-persist-01 (daemon/cafacts computes and remembers those facts:
 * issuer names, the accounturi mode, whether the CA offers the challenge).
 * The account on the wire (check, lookup, newAccount, keyChange,
 * deactivation) is daemon/acme/account's; this module decides when, keeps
 * the results in state and answers the callers waiting for them.
 *
 * ca_prepare() makes the CA ready for orders: fetches the directory, has the
 * signer process (daemon/signer.h) load or create the account key, and finds
 * or creates the account (newAccount with contact, terms and external account
 * binding when configured). This process holds only the key's public half
 * (JWK, thumbprint, type); every POST is signed by the signer. The signer
 * writes the key 0600 before it is ever used, and account.json after the CA
 * gave the account its URL. Several callers may
 * wait on one preparation; each gets exactly one callback, from the loop.
 * Errors reach the callback as -errno with ca_last_error() saying why.
 *
 * Orders never reach in here: ca_get_account_view() gives the order engine
 * (daemon/acme/order, through daemon/renewal) a read-only view of the
 * account. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <uv.h>

#include "common/config.h"
#include "common/key.h"
#include "common/record.h"
#include "daemon/acme/account.h"
#include "daemon/acme/msg.h"
#include "daemon/acme/transport.h"

struct daemon;
struct ca;

typedef void (*ca_ready_fn)(struct ca *ca, int r, void *userdata);

int ca_new(struct daemon *d, const struct config_ca *cfg, struct ca **ret);
void ca_free(struct ca *ca);
DEFINE_FREEP(struct ca, ca_free)

/* After a reload: the same CA (same name and directory) under a new config. */
void ca_set_config(struct ca *ca, const struct config_ca *cfg);

int ca_prepare(struct ca *ca, ca_ready_fn cb, void *userdata);
/* Without the network: the account key (if one exists) and the account URL
 * and CA facts remembered in state, so that records can be checked while the
 * CA is unreachable. 0 also when there is no account yet. */
int ca_load_local(struct ca *ca);
/* Forgets a waiter (its callback will not be called). */
void ca_cancel_wait(struct ca *ca, ca_ready_fn cb, void *userdata);

bool ca_is_ready(const struct ca *ca);
const char *ca_last_error(const struct ca *ca);
const char *ca_get_name(const struct ca *ca);
/* The daemon's CA of that name, or NULL. */
struct ca *daemon_find_ca(const struct daemon *d, const char *name);
const struct config_ca *ca_get_config(const struct ca *ca);
struct acme_conn *ca_get_conn(const struct ca *ca);
const struct acme_directory *ca_get_directory(const struct ca *ca);
const char *ca_get_account_url(const struct ca *ca);
/* The account key's type name ("ec-p256", ...), or NULL while no key is known. The key itself
 * lives only in the signer process (daemon/signer.h). */
const char *ca_get_key_type(const struct ca *ca);
const char *ca_get_thumbprint(const struct ca *ca);

/* The accounturi mode: the config's choice, else the directory's. */
enum record_uri_mode ca_get_uri_mode(const struct ca *ca);
/* The issuer names to put into records and to accept: the config's
 * override, else the directory's issuerDomainNames, else what an
 * authorization's challenge listed (remembered in state), else
 * caaIdentities. Borrowed; *n is 0 when nothing is known yet. */
const char *const *ca_get_issuers(const struct ca *ca, size_t *n);
/* Remembers the issuer list a dns-persist-01 challenge gave (and that the CA
 * offers the method). */
int ca_learn_from_challenge(struct ca *ca, const struct acme_challenge *ch);
void ca_learn_offers_persist(struct ca *ca, bool offers);
/* -1 unknown, 0 no, 1 yes. */
int ca_offers_persist(const struct ca *ca);

/* Fleet mode, a follower (no account key): the account the issuers stored for this CA's
 * directory (daemon/fleetcheck), so that its records can be checked here too. Ignored for
 * another directory, and on a host that holds the account key. */
int ca_adopt_fleet_facts(struct ca *ca, const char *directory, const char *account_url,
			 const char *hash_prefix, char *const *issuers, size_t n_issuers);

/* The exact accounturi the CA expects in the record for `name` (a cert name;
 * "*." is stripped for the hash), in the CA's mode. challenge_uri, when the
 * challenge carried one (draft -01), wins in url mode. */
int ca_expected_account_uri(const struct ca *ca, const char *name, const char *challenge_uri,
			    char **ret);

/* The account as the order engine sees it (daemon/acme/account.h); its strings are
 * borrowed from the CA and its state, valid until the CA changes them (a reload, a
 * rollover, a new account). */
void ca_get_account_view(const struct ca *ca, struct acme_account_view *view);

typedef void (*ca_done_fn)(struct ca *ca, int r, const char *message, void *userdata);

/* Fetches the directory (cached after the first time) for ca.probe: cb
 * comes once, from the loop, with 0 when ca_get_directory() has it, else
 * -errno and what went wrong; with -ECANCELED when the CA is freed first (a
 * reload removed it). */
int ca_fetch_directory(struct ca *ca, ca_done_fn cb, void *userdata);

/* Key rollover (RFC 8555 section 7.3.5): the signer makes a new key of the
 * configured type and stages it (account.key.next), the CA is told, and only
 * then does the signer move it over the old one. The account URL does not
 * change. */
int ca_rollover(struct ca *ca, ca_done_fn cb, void *userdata);

/* Account deactivation (RFC 8555 section 7.3.6): the emergency stop after a
 * key compromise. Irreversible; the CA then refuses the account, and every
 * record naming it stops authorizing anything. */
int ca_deactivate(struct ca *ca, ca_done_fn cb, void *userdata);
