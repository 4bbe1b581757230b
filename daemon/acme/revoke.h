/* daemon/acme/revoke.h: revoking a certificate (RFC 8555 section 7.6),
 * signed by the ACME account (kid) or by the certificate's own private key
 * (jwk), with an optional CRL reason code. Lower tier: it is given the CA's
 * transport (directory fetched) and the certificate; finding them (the
 * store, the CA module) is daemon/renewal's. One callback from the loop with
 * 0 or -errno and a message. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>

#include "common/key.h"

struct acme_conn;

typedef void (*revoke_fn)(int r, const char *message, void *userdata);

/* The revokeCert payload for the leaf of a PEM chain. reason: an RFC 5280
 * CRLReason (0..10 without 7), or -1 to send none. */
int revoke_payload(const char *pem, size_t len, int reason, char **ret);

/* Sends it: signed with cert_key (owned from here on, even on error) when not
 * NULL, else by the account. -EOPNOTSUPP when the directory has no revokeCert;
 * on error no callback comes. */
int revoke_send(struct acme_conn *conn, const char *payload, struct key *cert_key, revoke_fn cb,
		void *userdata);

/* "unspecified", "keyCompromise", "superseded", ... -> code; -EINVAL. */
int revoke_reason_from_string(const char *s);
/* The reverse: the name of an RFC 5280 reason code, NULL for none (7, or out of range). */
const char *revoke_reason_to_string(int code);
