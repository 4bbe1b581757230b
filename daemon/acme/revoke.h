/* daemon/acme/revoke.h: revoking the current certificate of a cert
 * (RFC 8555 section 7.6), signed by the ACME account (kid) or by the
 * certificate's own private key (jwk), with an optional CRL reason code.
 * One callback from the loop with 0 or -errno and a message. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>

struct daemon;
struct ca;

typedef void (*revoke_fn)(int r, const char *message, void *userdata);

/* reason: an RFC 5280 CRLReason (0..10 without 7), or -1 to send none. */
int revoke_current(struct daemon *d, struct ca *ca, const char *cert, int reason,
		   bool with_cert_key, revoke_fn cb, void *userdata);

/* "unspecified", "keyCompromise", "superseded", ... -> code; -EINVAL. */
int revoke_reason_from_string(const char *s);
