/* daemon/certrevoke.h: what a cert does after its certificate was revoked
 * (persistctl revoke, the control method "revoke").
 *
 * The revocation is recorded in the cert's state (revoked_serial, revoked_at,
 * revoked_reason in state.json), so that status shows it until the
 * certificate in use is another one: the cert is ERROR while it serves the
 * revoked certificate (daemon/certlevel), and due for renewal at once
 * (daemon/certdue), which the issuance circuit breaker and the CA's
 * Retry-After still hold like any other renewal. Part of daemon/cert: it
 * reaches into struct cert (daemon/certbase) and calls only downward. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cert;

/* The certificate with this serial was revoked at `at` (reason: an RFC 5280
 * reason name, or NULL). Only when it is still the one in use: its level
 * goes to ERROR (with an alert), and with replace the renewal is scheduled
 * for now (or when the breaker allows). */
void certrevoke_note(struct cert *c, const char *serial, const char *reason, int64_t at,
		     bool replace);
