/* daemon/certdry.h: `persistctl renew NAME --dry-run`: every step that proves a renewal
 * of the cert would succeed, stopping before finalize.
 *
 * Steps, each reported ok or failed with a message, in this order: the CA's directory,
 * the account, the read-only record check of every name as the CA will check it
 * (daemon/precheck; when the CA's issuer names are not certain yet, it is the order
 * engine's own check before it responds to a challenge), the new order, the offered
 * challenge and its issuer names, validation (every authorization valid, the order
 * ready). The first failure ends the run. Nothing is installed and no key is made or
 * saved; the cert's renewal state (last_renewal, failures, the saved order) is left
 * alone. What it does cost is counted: the order it creates at the CA counts towards
 * max_orders_per_hour, and the run refuses to start while the breaker or the CA's
 * Retry-After holds renewals. The authorizations it validated stay valid at the CA (as
 * with certbot --dry-run on staging), so the next real order may find them valid.
 * dns-01 certs run their hook as a renewal would (present, then clean up).
 *
 * Part of daemon/cert (it reads and counts in the cert's state through certbase and
 * certdue); daemon/cert cancels it when the cert stops or its config changes (a
 * cancelled run still answers, with -ECANCELED). One run per cert at a time. The
 * callback comes exactly once, from the loop, never from certdry_start(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cert;
struct certdry;

/* ok: every step succeeded. json: {"cert", "dry_run": true, "ok", "steps": [{"step",
 * "ok", "message"}], "order", "records_to_publish"}, borrowed for the callback;
 * NULL only when out of memory (ok is then false). */
typedef void (*certdry_fn)(bool ok, const char *json, size_t len, void *userdata);

/* -EBUSY: a renewal or another dry run of the cert is running; -ESHUTDOWN; -ENOMEM. */
int certdry_start(struct cert *c, certdry_fn cb, void *userdata);
/* Ends the cert's run, if any, answering it with -ECANCELED. */
void certdry_cancel(struct cert *c);
