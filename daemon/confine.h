/* daemon/confine.h: process confinement with Landlock and seccomp.
 *
 * Landlock confines the calling thread and whatever it later creates (threads, children,
 * hooks), so every function here must run before the process has any other thread.
 *
 * confine_loop_away_from() keeps the loop process (and every hook it spawns) out of one
 * directory, the account-key directory K, while leaving the rest of the file system as it
 * was. Landlock only allows (a right granted on a directory covers everything beneath), so
 * the rule set is built from K's surroundings: every entry beside the path from / to K gets
 * every right; the directories on that path (/, ..., K's parent, and so K itself) get only
 * the rights that never reveal a file's content: list, create, remove, write (no read, no
 * execute, no truncate). So nothing confined can read or run a file under K; it can still see
 * file names there, and an entry created later directly in one of K's ancestors is
 * write-only to it. Entries that resolve to K or to one of its ancestors are skipped.
 *
 * confine_to_dir() (the signer) allows everything beneath one directory and nothing else;
 * confine_signer_seccomp() loads the signer's system-call allow-list (anything else kills
 * the process).
 *
 * Errors: -EOPNOTSUPP when the kernel has no Landlock (or it is disabled): the caller warns
 * and goes on; -errno otherwise. */
#pragma once

/* The Landlock ABI version the kernel offers, or -EOPNOTSUPP. */
int confine_landlock_abi(void);

int confine_loop_away_from(const char *key_dir);
int confine_to_dir(const char *dir);

/* PR_SET_NO_NEW_PRIVS, then the filter. */
int confine_signer_seccomp(void);
