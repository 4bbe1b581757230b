/* daemon/fsperm.h: start-up hygiene of the state directory.
 *
 * Owns the one pass over state_dir that runs before anything in it is used
 * (docs/security.md has the modes):
 *   - directories persistd owns (state_dir, accounts/, accounts/<ca>/,
 *     certs/, certs/<name>/, archive/, archive/<N>/) are made 0700 and
 *     account.json / state.json 0600 if they are looser, with a warning that
 *     names the path and the old and new mode;
 *   - key files (account.key, account.key.next, pending.key,
 *     archive/<N>/privkey.pem) that are only too readable are made 0600 the
 *     same way; one that is group- or world-writable, owned by another uid,
 *     a symbolic link or not a regular file is refused, not repaired:
 *     someone else may have put it there;
 *   - temporary files of common/fileio's atomic writes ("<file>.tmp.XXXXXX"
 *     for the daemon's own file names) and the "current.tmp" link that a
 *     crash left behind are removed and logged. Nothing else is touched.
 * Modes are changed with fchmod() on an fd opened with O_NOFOLLOW, so a link
 * is never followed to change something outside the tree.
 * Returns 0, or -EPERM after logging every refused path (the daemon must not
 * start), or -errno if state_dir cannot be opened. Blocking file-system
 * work, called once at start before the loop runs. */
#pragma once

#include <stdbool.h>

int fsperm_tidy(const char *state_dir);

/* fsperm_tidy() on a thread of its own, so that a cold start reads its certificates
 * meanwhile: at 100k certs the walk over 300k directories is 40% of the start.
 * The thread touches the file system and the log, nothing else, with every
 * signal blocked. fsperm_tidy_wait() first takes its share of the walk: the
 * directories under certs/ that the thread has not reached yet, on the calling
 * thread (which must still be able to reach certs/, not its keys' directory);
 * then it joins the thread and returns what fsperm_tidy() would have returned.
 * It is called exactly once, before any key file is read, any hook runs or
 * the loop runs, since until then a refused path may still be in use.
 * fsperm_tidy_start() returns 0 or -errno (nothing started). */
struct fsperm_job;
int fsperm_tidy_start(const char *state_dir, struct fsperm_job **ret);
int fsperm_tidy_wait(struct fsperm_job *job);

/* Whether name is "<file>.tmp.XXXXXX" (six letters or digits, as mkostemp
 * makes them) for one of the daemon's own file names: the exact pattern
 * fsperm_tidy() removes. */
bool fsperm_is_temp_name(const char *name);
