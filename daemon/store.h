/* daemon/store.h: everything persistd keeps on disk, under state_dir.
 *
 *   accounts/<ca>/account.key   (0600) the ACME account key: the primary secret
 *   accounts/<ca>/account.json  account URL, contact, CA directory, created
 *   certs/<name>/archive/<N>/   privkey.pem (0600), cert.pem, chain.pem, fullchain.pem
 *   certs/<name>/current        symlink to archive/<N>, swapped atomically
 *   certs/<name>/pending.key    (0600) the key of an order in flight (its CSR)
 *   state.json                  daemon state (store_state_*)
 *
 * Promises: every file is written to a temp file in its directory, fsynced,
 * renamed, and the directory fsynced; secrets are 0600 from their first
 * byte; `current` moves only after the new key, certificate and chain are
 * all on disk and the key is verified to match the certificate. A crash at
 * any instant leaves the previous complete set or the new one.
 * Errors: -errno from the file system, -EINVAL for names that are not safe
 * path components or for a key that does not match its certificate.
 * Blocking file I/O: small files, called from the loop like any other local
 * disk write (the daemon never waits on the network here). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/key.h"
#include "common/macro.h"

struct store;

int store_open(const char *state_dir, struct store **ret);
void store_free(struct store *s);
DEFINE_FREEP(struct store, store_free)
const char *store_get_dir(const struct store *s);

/* A name used as a path component: [A-Za-z0-9._-], not "." or "..". */
bool store_name_is_safe(const char *name);

/* Account key and the JSON that describes the account. -ENOENT if none. */
int store_account_load_key(struct store *s, const char *ca, struct key **ret);
int store_account_save_key(struct store *s, const char *ca, const struct key *k);
int store_account_load_info(struct store *s, const char *ca, char **ret_json, size_t *ret_len);
int store_account_save_info(struct store *s, const char *ca, const char *json, size_t len);
int store_account_key_path(struct store *s, const char *ca, char **ret);
/* Key rollover: the new key is saved as account.key.next before the CA is
 * asked, promoted over account.key once the CA accepted it, or dropped. */
int store_account_save_next_key(struct store *s, const char *ca, const struct key *k);
int store_account_promote_next_key(struct store *s, const char *ca);
int store_account_drop_next_key(struct store *s, const char *ca);

/* The key an in-flight order's CSR was made with, kept until the order ends,
 * so a restarted daemon can finish the order with the same key. */
int store_pending_key_load(struct store *s, const char *cert, struct key **ret);
int store_pending_key_save(struct store *s, const char *cert, const struct key *k);
int store_pending_key_clear(struct store *s, const char *cert);

/* Installs a new version: key + leaf + chain (PEM, the issuer certificates
 * after the leaf) into archive/<N+1>, then points current at it. On success
 * *ret_version is N+1. -EINVAL if the key does not match the leaf. */
int store_cert_install(struct store *s, const char *cert, const struct key *k,
		       const char *leaf_pem, size_t leaf_len, const char *chain_pem,
		       size_t chain_len, unsigned *ret_version);

/* The current version's fullchain.pem (leaf first). -ENOENT if none yet. */
int store_cert_load_current(struct store *s, const char *cert, char **ret_pem, size_t *ret_len);
/* The current version's privkey.pem as a key. */
int store_cert_load_current_key(struct store *s, const char *cert, struct key **ret);
/* Absolute path of a file of the current version ("fullchain.pem", ...). */
int store_cert_path(struct store *s, const char *cert, const char *file, char **ret);
/* The version current points to, or -ENOENT. */
int store_cert_current_version(struct store *s, const char *cert, unsigned *ret);

/* state.json, bounded by STATE_MAX_BYTES. -ENOENT on first start. */
int store_state_load(struct store *s, char **ret_json, size_t *ret_len);
int store_state_save(struct store *s, const char *json, size_t len);
