/* daemon/store.h: everything persistd keeps, behind one interface.
 *
 * State (state.json's document) and certificates (each cert's versions, the
 * current one, the key of an order in flight) go through struct store_ops,
 * so that a shared store (fleet mode) can stand where the files are today.
 * The files backend (daemon/store_files) is the one there is:
 *
 *   accounts/<ca>/account.key   (0600) the ACME account key: the primary secret
 *   accounts/<ca>/account.json  account URL, contact, CA directory, created
 *   certs/<name>/archive/<N>/   privkey.pem (0600), cert.pem, chain.pem, fullchain.pem,
 *                               domains (the dNSNames, one line, space-separated)
 *   certs/<name>/current        symlink to archive/<N>, swapped atomically
 *   certs/<name>/pending.key    (0600) the key of an order in flight (its CSR)
 *   state.json                  daemon state (store_state_*), a snapshot
 *   state.journal               (0600) certs' entries changed since it (store_journal_*,
 *                               daemon/statejournal)
 *   lock                        one writer per state_dir (store_lock)
 *
 * Account keys are not behind the interface: they never leave the host (the
 * signer process reads and writes them, daemon/signer_proc), whatever the
 * backend. Neither is store_cert_path(): deploy hooks and services read the
 * current version from the local state_dir, whatever the backend.
 *
 * Promises of every backend: a save or an install is durable when it returns
 * (files: temp file, fsync, rename, fsync of the directory); secrets are
 * never readable by others, not even briefly; the current version moves
 * only after the new key, certificate and chain are all stored and the key
 * is verified to match the certificate. A crash at any instant leaves the
 * previous complete set or the new one. store_lock() excludes every other
 * writer of the same store until the process ends, even by SIGKILL.
 * Errors: -errno, -EINVAL for names that are not safe path components or for
 * a key that does not match its certificate, -EBUSY from store_lock() when
 * another writer holds it.
 * Blocking I/O on small local files, called from the loop like any other
 * local disk write (the daemon never waits on the network here). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/key.h"
#include "common/macro.h"

struct store;

/* What a backend implements; impl is the backend's own state. Each member
 * has the contract of the store_* function of the same name below. */
struct store_ops {
	const char *name;
	void (*free)(void *impl);
	int (*lock)(void *impl, const char *mode, const char *control_socket, char *why,
		    size_t why_size);
	int (*state_load)(void *impl, char **ret_json, size_t *ret_len);
	int (*state_save)(void *impl, const char *json, size_t len);
	int (*pending_key_load)(void *impl, const char *cert, struct key **ret);
	int (*pending_key_save)(void *impl, const char *cert, const struct key *k);
	int (*pending_key_clear)(void *impl, const char *cert);
	int (*cert_install)(void *impl, const char *cert, const struct key *k,
			    const char *leaf_pem, size_t leaf_len, const char *chain_pem,
			    size_t chain_len, unsigned *ret_version);
	int (*cert_load_current)(void *impl, const char *cert, char **ret_pem, size_t *ret_len);
	int (*cert_load_current_key)(void *impl, const char *cert, struct key **ret);
	int (*cert_current_version)(void *impl, const char *cert, unsigned *ret);
	int (*cert_list)(void *impl, char ***ret_names, size_t *ret_n);
	int (*cert_prune)(void *impl, const char *cert, unsigned keep, unsigned also_keep,
			  unsigned *ret_pruned);
	/* Optional (NULL: every state write is a whole state_save): the journal
	 * of daemon/statejournal beside state.json. */
	int (*journal_load)(void *impl, char **ret, size_t *ret_len);
	int (*journal_reset)(void *impl, const char *data, size_t len);
	int (*journal_append)(void *impl, const char *data, size_t len);
};

/* The files backend under state_dir (defined in daemon/store_files). */
int store_open(const char *state_dir, struct store **ret);
/* Any backend: takes impl (freed with ops->free by store_free, or on error
 * by the caller); state_dir is the host's local directory (deployed copies). */
int store_open_with(const char *state_dir, const struct store_ops *ops, void *impl,
		    struct store **ret);
void store_free(struct store *s);
const char *store_backend_name(const struct store *s);
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
/* Deletes everything stored locally for a cert that is no longer configured
 * (persistctl remove --purge): <state_dir>/certs/<cert>, every version and key,
 * without following symbolic links out of it. -ENOENT when there is nothing;
 * -EINVAL for an unsafe name. XXX: in fleet mode the shared store keeps its
 * copies; only this host's files go. */
int store_cert_purge(struct store *s, const char *cert);
/* The version current points to, or -ENOENT. */
int store_cert_current_version(struct store *s, const char *cert, unsigned *ret);

/* archive_keep: keeps the `keep` newest versions (0: all), the current one and
 * also_keep (0: none; a version a deploy hook runs on), and removes the
 * others, each one's private key first (daemon/archive). Without a readable
 * current version nothing is removed. *ret_pruned (may be NULL) counts the
 * versions removed. A failure leaves the current version untouched;
 * -EOPNOTSUPP from a backend that has no cert_prune. */
int store_cert_prune(struct store *s, const char *cert, unsigned keep, unsigned also_keep,
		     unsigned *ret_pruned);
/* The archive versions of the host's local copy, ascending (daemon/archive). */
int store_cert_versions(struct store *s, const char *cert, unsigned **ret, size_t *ret_n);
/* The leaf (cert.pem) of one archive version of the host's local copy. */
int store_cert_load_version(struct store *s, const char *cert, unsigned version, char **ret_pem,
			    size_t *ret_len);

/* One writer per store, for as long as this process lives: the daemon,
 * --oneshot and --revoke take it before they read state. mode ("daemon",
 * "oneshot", "revoke") and control_socket (may be NULL) tell a second
 * writer who holds it; its -EBUSY comes with why saying so. */
int store_lock(struct store *s, const char *mode, const char *control_socket, char *why,
	       size_t why_size);

/* The certs that have anything stored, sorted by name (free with
 * store_names_free). */
int store_cert_list(struct store *s, char ***ret_names, size_t *ret_n);
void store_names_free(char **names, size_t n);

/* state.json, bounded by STATE_MAX_BYTES. -ENOENT on first start. */
int store_state_load(struct store *s, char **ret_json, size_t *ret_len);
int store_state_save(struct store *s, const char *json, size_t len);

/* state.journal (daemon/statejournal), bounded by STATE_MAX_BYTES: load
 * (-ENOENT when absent), reset (replaced whole, atomically, like
 * state.json) and append (durable when it returns: written and
 * fdatasync()ed; a crash in between leaves at most a torn last line).
 * -EOPNOTSUPP from a backend without a journal. */
int store_journal_load(struct store *s, char **ret, size_t *ret_len);
int store_journal_reset(struct store *s, const char *data, size_t len);
int store_journal_append(struct store *s, const char *data, size_t len);
