/* daemon/acme/account.h: the ACME account (RFC 8555 section 7.3) on the wire,
 * and what an order needs to know about it.
 *
 * Operations: checking a saved account (POST-as-GET: it must still be
 * valid), looking a key up (onlyReturnExisting), creating an account (the
 * newAccount payload with contact, terms and external account binding),
 * the key change of a rollover (the inner JWS comes from the signer) and
 * deactivation. Each runs on the CA's transport, which signs (through the
 * signer process) as the caller set it up: with the JWK for lookup and
 * creation, with the account URL as kid otherwise. This module keeps no
 * state and knows nothing of the CA module, the daemon or state.json: the
 * CA module (daemon/ca) decides what to do, keeps the account facts and
 * answers its waiters. An operation's struct is the caller's (embedded,
 * no allocation here), so that an operation cancelled with the transport
 * (acme_conn_free) leaves nothing behind; one callback per started
 * operation, from the loop, unless cancelled.
 *
 * The view: a read-only copy of the account facts the CA module fills in, so
 * that the order engine never reaches into the CA module or the daemon.
 *
 * The view is plain data, borrowed for as long as the caller says (an order
 * borrows it for its whole run). acme_account_expected_uri() is the one
 * place that turns it into the accounturi a dns-persist-01 record must
 * carry: in url mode the challenge's own accounturi (draft -01) or else the
 * account URL; in hashed mode (draft -02) the hash of the account under the
 * CA's accountHashPrefix. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "common/record.h"

struct acme_conn;
struct acme_op;
struct acme_account_op;

/* r: 0 or -errno; url: the account URL (lookup and create; NULL from a lookup
 * that found no account); message: what went wrong, for humans, or NULL. */
typedef void (*acme_account_fn)(struct acme_account_op *op, int r, const char *url,
				const char *message);

struct acme_account_op {
	acme_account_fn cb;
	void *userdata;           /* the caller's */
	struct acme_op *op;       /* in flight, or NULL */
	bool created;             /* create: the CA answered 201 (a new account) */
	char message[400];
};

/* The account at url must be "valid": -EACCES (with why) when the CA says
 * otherwise, -EPROTO when its answer is malformed. */
int acme_account_check(struct acme_account_op *op, struct acme_conn *conn, const char *url);
/* Does the CA know the transport's key? url NULL and r 0 when it does not. */
int acme_account_lookup(struct acme_account_op *op, struct acme_conn *conn,
			const char *new_account_url);
/* newAccount with payload (acme_account_new_payload()). */
int acme_account_create(struct acme_account_op *op, struct acme_conn *conn,
			const char *new_account_url, const char *payload);
/* The key change of a rollover: inner is the new key's JWS over {account, oldKey}. */
int acme_account_key_change(struct acme_account_op *op, struct acme_conn *conn,
			    const char *key_change_url, const char *inner);
int acme_account_deactivate(struct acme_account_op *op, struct acme_conn *conn, const char *url);
void acme_account_op_cancel(struct acme_account_op *op); /* no callback comes */

/* Key rollover (RFC 8555 section 7.3.5): the signer process makes a new key
 * of the account's type and stages it (account.key.next) with the inner JWS,
 * only then is the CA told (keyChange), and only after the CA took it does
 * the signer move it over the old key (commit), whose public half `adopt`
 * takes. Any failure before the CA took it aborts the staged key; a failed
 * commit keeps account.key.next, since it is the CA's key now, and says so. */
struct signer;
struct acme_rollover;
typedef void (*acme_rollover_fn)(struct acme_rollover *ro, int r, const char *message);
/* Takes the public key from the signer's commit answer; < 0: unusable. */
typedef int (*acme_rollover_adopt_fn)(yajl_val reply, void *userdata);

struct acme_rollover {
	struct acme_account_op op;
	struct signer *signer;        /* borrowed */
	struct acme_conn *conn;       /* borrowed */
	const char *ca_name;          /* borrowed: the signer's name of the CA */
	const char *key_change_url;   /* borrowed */
	acme_rollover_fn cb;
	acme_rollover_adopt_fn adopt;
	void *userdata;               /* the caller's */
	uint64_t signer_id;           /* the signer request in flight, when signer_busy */
	bool signer_busy;
	bool staged;                  /* account.key.next exists: commit or abort it */
	char message[800];
};

/* ro's borrowed fields, cb, adopt and userdata are set by the caller first. */
int acme_rollover_start(struct acme_rollover *ro, const char *account_url);
/* No callback comes; a staged key is aborted. */
void acme_rollover_cancel(struct acme_rollover *ro);

/* The newAccount payload: terms agreed, contacts, and the external account
 * binding over jwk when eab_kid is set, with the base64url HMAC key read from
 * eab_hmac_file (a regular file of at most 4 KiB). Errors say why in `why`. */
int acme_account_new_payload(char *const *contacts, size_t n_contacts, const char *eab_kid,
			     const char *eab_hmac_file, const char *new_account_url,
			     const char *jwk, char **ret, char *why, size_t why_size);

/* account.json, the account's facts for humans and tools (the signer writes it). */
int acme_account_info_json(const char *url, const char *directory, const char *key_type,
			   const char *thumbprint, int64_t created, char *const *contacts,
			   size_t n_contacts, char **ret);

struct acme_account_view {
	const char *url;                 /* the account URL; NULL while there is none */
	const char *thumbprint;          /* RFC 7638 thumbprint of the account key, or NULL */
	enum record_uri_mode uri_mode;   /* what the CA expects in records */
	const char *hash_prefix;         /* accountHashPrefix for hashed mode, or NULL */
	bool hash_any_domain;            /* hash "*" rather than the name */
	/* Issuer names fixed before any challenge is seen (the config's override, else
	 * the directory's issuerDomainNames); n_issuers 0 when neither gives any, and
	 * then a challenge's own list counts. */
	const char *const *issuers;
	size_t n_issuers;
	/* The directory's caaIdentities: the last resort for the issuer to name. */
	const char *const *caa_identities;
	size_t n_caa_identities;
};

/* The exact accounturi the CA expects in the record for `name` (a DNS name;
 * "*." is not part of it). challenge_uri, when the challenge carried one,
 * wins in url mode. -EINVAL when the view lacks what the mode needs. */
int acme_account_expected_uri(const struct acme_account_view *a, const char *name,
			      const char *challenge_uri, char **ret);

/* A deep copy, so that a run does not depend on the CA keeping its strings (a
 * rollover replaces the thumbprint, a reload the config's issuer names). */
int acme_account_view_copy(const struct acme_account_view *src, struct acme_account_view *ret);
void acme_account_view_done(struct acme_account_view *a); /* frees a copy's strings */
