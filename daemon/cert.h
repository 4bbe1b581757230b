/* daemon/cert.h: one configured certificate at run time: when to renew it,
 * its record re-checks, and the alerts about both.
 *
 * Renewal: at a random point of the CA's ARI window when it gives one (RFC
 * 9773; the window is re-fetched as the CA's Retry-After asks), else at 2/3
 * of the certificate's lifetime (a 6-day certificate renews at day 4), at
 * once when there is no certificate yet. A failed renewal backs off
 * exponentially (5 min doubling, capped at 6 h), or as long as the CA's
 * Retry-After says, which even a forced renewal honours. The issuance circuit
 * breaker allows at most max_orders_per_hour new orders per cert in any hour
 * (remembered in state.json across restarts); reaching it is an alert of its
 * own and the next attempt waits for the window to free. An order in flight
 * is saved and resumed after a restart. A certificate the CA issued but
 * common/certcheck refused is never installed: the cert goes to ERROR with a
 * cert-rejected alert and backs off.
 * A new order waits until the read-only check of every name passes, where the
 * CA's issuer names are known (daemon/renewal, daemon/precheck): until then the
 * attempt fails without an order and is retried at recheck_interval, or as soon
 * as a re-check finds every record valid (a new cert). A new cert is WARNING
 * ("waiting for the record", alert record-waiting), not ERROR, for record_grace
 * from when it was first seen (daemon/certlevel). `persistctl renew --dry-run`
 * runs in daemon/certdry.
 * After each new certificate the deploy hook runs, one run per cert at a
 * time: certificates that arrive during a run coalesce into one more run for
 * the newest. Renewal callers are answered when that deploy has ended. A
 * failed deploy (non-zero exit, signal, timeout) sets deploy_failed in the
 * state, puts the hook's stderr tail in last_error and makes the cert
 * WARNING (alert deploy-failed) until a deploy succeeds; a reload or a
 * start runs a failed deploy, or one the daemon stopped during, again.
 *
 * Records: each name's _validation-persist record is checked read-only on
 * recheck_interval (jittered by up to a tenth, so thousands of names do not
 * fire together), again right before each renewal, and on request. A
 * transient DNS failure is retried sooner and never reported as a missing
 * record.
 *
 * Alerts (daemon/alert): each name has a level (OK, WARNING, CRITICAL,
 * ERROR) from its last check, its persistUntil and the next renewal; the
 * cert has one from its expiry and failing renewals. A change of level is
 * written to the journal at once; a level that stays non-OK is reminded once
 * a day.
 *
 * The pieces, each calling only downward: daemon/cert.c (the renewal flow, ARI
 * and the life cycle) -> certrecheck (record checks), certdue (when due, the
 * breaker, Retry-After), certdeploy (the deploy hook) -> certbase (the shared
 * record, level alerts, waiters) -> certlevel (the pure level policy). */
#pragma once

#include "common/macro.h"

#include <stdbool.h>

#include "common/config.h"
#include "daemon/state.h"

struct daemon;
struct ca;
struct cert;

int cert_new(struct daemon *d, const struct config_cert *cfg, struct ca *ca, struct cert **ret);
void cert_free(struct cert *c);
DEFINE_FREEP(struct cert, cert_free)

/* A reload in two steps, so that a failure leaves the cert as it was:
 * cert_stage_config() makes (and may fail to make) everything the new
 * section needs without changing the cert; cert_unstage_config() drops it
 * again. cert_set_config() then applies the section (staging it first if
 * that was not done) and fails only when staging fails: the same cert under
 * its new section, names may change, an order in flight is restarted. */
int cert_stage_config(struct cert *c, const struct config_cert *cfg);
void cert_unstage_config(struct cert *c);
int cert_set_config(struct cert *c, const struct config_cert *cfg, struct ca *ca);

/* Schedules everything from what cert_load() (daemon/certload) read: the renewal, ARI, the
 * record checks, a deploy hook that did not finish. */
int cert_schedule(struct cert *c);
/* cert_load(), then cert_schedule(). */
int cert_start(struct cert *c);

const char *cert_get_name(const struct cert *c);
/* The daemon's cert of that name, or NULL. */
struct cert *daemon_find_cert(const struct daemon *d, const char *name);
const struct config_cert *cert_get_config(const struct cert *c);
struct ca *cert_get_ca(const struct cert *c);
struct state_cert *cert_state(const struct cert *c);
bool cert_is_renewing(const struct cert *c);

/* The worst level among the cert and its names. */
enum level cert_worst_level(const struct cert *c);

typedef void (*cert_done_fn)(struct cert *c, int r, const char *message, void *userdata);

/* Starts a renewal now: force renews even when not due (--force, persistctl
 * renew --force); without it a cert that is not due answers at once with
 * "not due". cb (may be NULL) gets the outcome. -EBUSY if one runs. */
int cert_renew(struct cert *c, bool force, cert_done_fn cb, void *userdata);

/* Is a renewal attempt held, even a forced one? The CA's Retry-After has not passed, or a
 * new order would exceed max_orders_per_hour (the issuance circuit breaker). Then true,
 * and why (one line naming the UTC time of the next allowed try) in why when it is not
 * NULL. cert_renew() and cert_renew_if_due() answer -EAGAIN while this holds. */
bool cert_renew_held(const struct cert *c, char *why, size_t size);

/* For --oneshot: like cert_renew(), but first asks the CA for its renewal
 * window (ARI) so cron runs follow it too. cb always comes, with r == 1 and
 * "not due" when the cert is not due. */
int cert_renew_if_due(struct cert *c, bool force, cert_done_fn cb, void *userdata);

/* Re-checks every name now; cb (may be NULL) once all are done. */
int cert_check(struct cert *c, cert_done_fn cb, void *userdata);

/* Forget a pending callback (its client went away). */
void cert_forget_callback(struct cert *c, void *userdata);

/* Is the cert due for renewal at `now`? */
bool cert_is_due(const struct cert *c, int64_t now);

/* Stops timers and parks an order in flight (its URL stays in state). */
void cert_stop(struct cert *c);

/* Re-evaluates levels against the clock (after the test clock moved). */
void cert_reevaluate(struct cert *c);
