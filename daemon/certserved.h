/* daemon/certserved.h: check_served, whether a cert's server serves what we installed.
 *
 * A cert with `check_served = HOST:PORT` is probed (daemon/served: one TLS handshake,
 * SNI check_served_sni or the first name) once check_served_grace has passed after each
 * deploy (the hook's end, or the install without a hook), daily (jittered by up to an
 * hour) and within seconds of a start or reload (spread over up to 10 minutes when there
 * are thousands of certs, about 10 probes a second). The served leaf is compared, DER for
 * DER, with the current version's leaf:
 *  - the same: OK, matches;
 *  - an older version of this cert (found in the local archive), or a certificate that
 *    expires within warn_before: stale. Within check_served_grace of the last deploy it
 *    is only noted (the server may still be reloading), after it the alert served-stale:
 *    WARNING, ERROR when the served certificate has expired or expires within
 *    critical_before. The level counts in the cert's worst level (status, exit code).
 *  - another certificate, neither ours nor expiring: OK, noted as not matching (a load
 *    balancer with its own certificate is no emergency);
 *  - no handshake (refused, timeout, no TLS 1.2, a name that does not resolve): OK with
 *    the error shown; whether the server is up is other monitoring's question.
 * A change of level is an alert at once; a level that stays non-OK is one a day (each
 * daily probe). Results live in memory only: a start probes again within seconds.
 * Calls go one way: certdeploy -> certserved -> certbase, served. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/level.h"

struct cert;
struct json_writer;

/* After a start or a reload: probes soon when the cert has check_served, forgets
 * everything when it no longer has. */
void certserved_start(struct cert *c);
/* A deploy ended (or a certificate was installed without a hook): probe after the grace. */
void certserved_deployed(struct cert *c);
/* Cancels the probe in flight and frees the cert's check_served state. */
void certserved_stop(struct cert *c);

/* LEVEL_OK without check_served or before the first probe. */
enum level certserved_level(const struct cert *c);

/* For /metrics: false when the cert has no check_served or no probe has ended yet. */
bool certserved_last(const struct cert *c, bool *ret_matches, int64_t *ret_checked_at);

/* "served": null without check_served, else an object with the last outcome. */
void certserved_write_json(struct json_writer *w, const struct cert *c);
