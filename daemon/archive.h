/* daemon/archive.h: the versions under one cert's archive/ directory, and
 * their pruning (archive_keep).
 *
 * A version is archive/<N>, N a decimal 1..999999 without a leading zero;
 * anything else in archive/ is neither listed nor touched. Pruning keeps the
 * `keep` highest versions (0: all of them) plus every version in `protect`
 * (the current one, one a deploy hook is running on), and removes the others
 * oldest first: privkey.pem is unlinked before anything else, as it is the
 * secret, then the version's other files, then its directory, then the
 * archive directory is fsynced. A version that cannot be removed whole is
 * left (its key gone when that much succeeded) and reported; the others are
 * still pruned.
 * Errors: -errno of the first failure, -ENOMEM. Blocking I/O on small local
 * directories, like daemon/store. */
#pragma once

#include <stddef.h>

/* The versions, ascending; *ret is owned by the caller (NULL when none). */
int archive_versions(const char *archive_dir, unsigned **ret, size_t *ret_n);

/* *ret_pruned (may be NULL): how many versions were removed whole. */
int archive_prune(const char *archive_dir, unsigned keep, const unsigned *protect,
		  size_t n_protect, unsigned *ret_pruned);
