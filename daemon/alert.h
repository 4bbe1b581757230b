/* daemon/alert.h: alerts with stable MESSAGE_IDs, to the journal.
 *
 * One function writes an alert: to the journal with sd_journal_send when the
 * journal is there (MESSAGE_ID, PRIORITY matching the level, and the
 * PERSISTD_* fields below), else as one line on stderr with the same facts.
 * systemd/persistd.catalog explains every MESSAGE_ID and what to do; the IDs
 * never change once released.
 *
 * Fields: PERSISTD_CERT, PERSISTD_FQDN, PERSISTD_OWNER, PERSISTD_STATUS (the
 * record outcome or DNS_ERROR), PERSISTD_LEVEL, PERSISTD_UNTIL (ISO 8601, or
 * empty), PERSISTD_DAYS_LEFT (whole days to persistUntil or to the
 * certificate's expiry; empty when there is none), PERSISTD_REASON.
 * When to alert (level changes, daily reminders) is the caller's decision;
 * this module only writes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "daemon/state.h"

enum alert_kind {
	ALERT_RECORD_OK,          /* a name is OK again */
	ALERT_RECORD_WARNING,     /* persistUntil inside warn_before, or before the next renewal */
	ALERT_RECORD_CRITICAL,    /* persistUntil inside critical_before */
	ALERT_RECORD_ERROR,       /* expired, missing, mismatched, malformed, bogus */
	ALERT_RECORD_UNVERIFIABLE, /* DNS errors for a while: cannot tell */
	ALERT_CERT_RENEWED,       /* a new certificate is installed */
	ALERT_CERT_RENEWAL_FAILED, /* one renewal attempt failed */
	ALERT_CERT_EXPIRING,      /* renewals keep failing and expiry is near */
	ALERT_CERT_EXPIRED,       /* the certificate in use has expired */
	ALERT_CERT_OK,            /* a cert's renewals work again */
	ALERT_CERT_DEPLOY_FAILED, /* installed, but the deploy hook failed */
	ALERT_CERT_REJECTED,      /* the CA issued a certificate unfit to install */
	ALERT_CERT_ORDER_LIMIT,   /* the issuance circuit breaker stopped a new order */
	ALERT_CERT_SERVED_STALE,  /* check_served: the server still serves an old or expiring one */
	ALERT_CERT_REVOKED,       /* the certificate in use was revoked (persistctl revoke) */
	ALERT_RECORD_WAITING,     /* a new cert waits for its record, inside record_grace */
	_ALERT_KIND_MAX,
};

const char *alert_kind_message_id(enum alert_kind k);  /* 32 hex digits */
const char *alert_kind_to_string(enum alert_kind k);   /* "record-warning", ... */
int alert_level_priority(enum level l);                /* syslog priority */

struct alert {
	enum alert_kind kind;
	enum level level;
	const char *cert;       /* borrowed */
	const char *fqdn;       /* borrowed; NULL for cert alerts */
	const char *owner;      /* borrowed; _validation-persist.<base> */
	const char *status;     /* borrowed */
	bool has_until;
	int64_t until;          /* persistUntil, or the cert's notAfter */
	int64_t now;
	const char *message;    /* borrowed: the human sentence */
	const char *reason;     /* borrowed: the checker's reason, may be NULL */
	bool reminder;          /* a daily reminder, not a change */
};

/* Writes one alert. Never fails the caller: a journal error falls back to
 * stderr. */
void alert_write(const struct alert *a);

/* The alert as a JSON object for events.subscribe notifications. */
int alert_to_json(const struct alert *a, char **ret, size_t *ret_len);
