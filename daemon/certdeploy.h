/* daemon/certdeploy.h: a cert's deploy hook, one run per cert at a time.
 *
 * After each new certificate the hook runs (daemon/hook, with the PERSISTD_* and
 * certbot's RENEWED_* variables); certificates that arrive during a run coalesce into
 * one more run for the newest. The renewal's callers are answered when the deploy of
 * their certificate has ended. A failed deploy (non-zero exit, signal, timeout, or one
 * that cannot start) sets deploy_failed in the state, puts the hook's stderr tail in
 * last_error and makes the cert WARNING (alert deploy-failed) until a deploy succeeds.
 * deploy_pending stays set in the state while a deploy is owed, so a start runs it.
 * Internal to daemon/cert. */
#pragma once

#include "daemon/certbase.h"

/* A new certificate is in place (or a failed deploy is to be retried): the hook runs
 * now, or once more after the run in flight; the renewal's callers wait for it. */
void certdeploy_request(struct cert *c, const char *renew_message);
/* A new version is installed: older ones beyond archive_keep are pruned (never the
 * current one nor one a deploy runs on; a failure is a warning), then as
 * certdeploy_request(). */
void certdeploy_installed(struct cert *c, const char *renew_message);
/* After a start or a reload: a deploy that is owed or failed runs again. */
void certdeploy_resume(struct cert *c, const char *why);
/* Abandons the run in flight (it runs again at the next start); its waiters are told. */
void certdeploy_stop(struct cert *c);
