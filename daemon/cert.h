/* daemon/cert.h: one configured certificate at run time: when to renew it,
 * its record re-checks, and the alerts about both.
 *
 * Renewal: at a random point of the CA's ARI window when it gives one (RFC
 * 9773; the window is re-fetched as the CA's Retry-After asks), else at 2/3
 * of the certificate's lifetime (a 6-day certificate renews at day 4), at
 * once when there is no certificate yet. A failed renewal backs off
 * exponentially (5 min doubling, capped at 6 h), or as long as the CA's
 * Retry-After says; an order in flight is saved and resumed after a restart.
 * After each new certificate the deploy hook runs.
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
 * a day. */
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

/* Reads the current certificate from the store and schedules everything. */
int cert_start(struct cert *c);

const char *cert_get_name(const struct cert *c);
const struct config_cert *cert_get_config(const struct cert *c);
struct ca *cert_get_ca(const struct cert *c);
struct state_cert *cert_state(const struct cert *c);
bool cert_is_renewing(const struct cert *c);

/* The worst level among the cert and its names. */
enum alert_level cert_worst_level(const struct cert *c);

typedef void (*cert_done_fn)(struct cert *c, int r, const char *message, void *userdata);

/* Starts a renewal now: force renews even when not due (--force, persistctl
 * renew --force); without it a cert that is not due answers at once with
 * "not due". cb (may be NULL) gets the outcome. -EBUSY if one runs. */
int cert_renew(struct cert *c, bool force, cert_done_fn cb, void *userdata);

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

/* At teardown, after every DNS checker is freed: frees the names of freed
 * certs that waited for a check answer that will now never come. */
void cert_free_orphans(struct daemon *d);

/* Re-evaluates levels against the clock (after the test clock moved). */
void cert_reevaluate(struct cert *c);
