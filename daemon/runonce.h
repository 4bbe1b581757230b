/* daemon/runonce.h: the modes of persistd that run once and exit: --oneshot (renew what
 * is due, or everything with --force), --revoke (revoke a cert's current certificate)
 * and --probe (what a CA's directory offers, and whether it does dns-persist-01).
 *
 * Owns: the run of the loop for that one job and the lines it prints for the operator
 * (results on stdout, errors on stderr). The caller (main.c) sets the daemon up before,
 * with the state directory's lock held where the mode writes state, and tears it down
 * after; these functions only start the work, run the loop until it is done, and return
 * the process's exit code: 0 success, 1 failure, 2 (usage) for an unknown --reason. */
#pragma once

#include <stdbool.h>

struct daemon;

/* Every configured cert (or only d->only_cert), renewed if due or d->force; saves the
 * state and prints a summary line. 1 when one failed or its deploy hook failed. */
int runonce_oneshot(struct daemon *d);
/* reason: a CRLReason name, or NULL to send none; with_key signs with the
 * certificate's own key instead of the account's. */
int runonce_revoke(struct daemon *d, const char *name, const char *reason, bool with_key);
/* Reads the directory of [ca name] and prints what it offers. 1 when the CA is known not
 * to offer dns-persist-01. */
int runonce_probe(struct daemon *d, const char *name);
