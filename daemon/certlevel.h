/* daemon/certlevel.h: the alert-level policy of one certificate and its names.
 *
 * Pure: no I/O, no logging, no clock (callers pass `now`), no state of its own. Given
 * what was last seen (the state entries) and the config, it says how bad things are
 * (enum level) and why, in one line for the operator, in a buffer the caller sizes;
 * the cert's line quotes its last error whole, so the caller sizes by it.
 *  - a name: OK until its record is found wrong (ERROR), its persistUntil nears
 *    (WARNING, then CRITICAL within critical_before) or passed (ERROR), or it ends
 *    before the next renewal (WARNING). A failed lookup keeps the level known before
 *    and becomes WARNING ("unverifiable") after several in a row.
 *  - the cert: ERROR when expired, when the CA's certificate was refused, or without
 *    a certificate after a failed renewal; WARNING when renewals fail or its deploy
 *    hook failed; CRITICAL when renewals fail with little time left.
 *  - waiting for the record: a new cert (no certificate yet) within record_grace of
 *    when it was first seen (st->record_grace_until) is WARNING, not ERROR, while its
 *    records are missing or wrong (its names) and while its renewals are refused for
 *    them (the cert); after the grace both are ERROR as above.
 * daemon/certbase turns these into alerts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/level.h"
#include "daemon/alert.h"
#include "daemon/state.h"

/* A buffer that holds any plain reason (below): a name of up to 253 bytes and more. */
#define CERTLEVEL_REASON_MAX 512

/* How a waiting name's reason begins. */
#define CERTLEVEL_WAITING "waiting for the record"

/* A new cert inside its record_grace (see above); st may be NULL. */
bool certlevel_waiting(const struct state_cert *st, int64_t now);
/* ... whose renewals are refused for its records: status "waiting-for-record". */
bool certlevel_waiting_record(const struct state_cert *st, int64_t now);
/* ... and this name's record is what it waits for (alert ALERT_RECORD_WAITING). */
bool certlevel_name_waiting(const struct state_cert *st, const struct state_name *n, int64_t now);

/* The reason of a name whose record is plainly valid, "record <owner> is valid", and of
 * a cert at its plain OK, "certificate valid until <not_after>". certbase keeps no copy of
 * either (the slot stays NULL): 100k names would each hold a string of their own, and both
 * follow from what the state entry holds. Readers ask these for the reason to show: the
 * stored one, else the plain one (NULL when there is none yet). */
const char *certlevel_name_reason(const struct state_name *n, char *buf, size_t size);
const char *certlevel_cert_reason(const struct state_cert *st, char *buf, size_t size);
/* Whether why is that plain reason, which is then not stored. */
bool certlevel_name_reason_is_plain(const struct state_name *n, const char *why);
bool certlevel_cert_reason_is_plain(const struct state_cert *st, const char *why);

/* The alert a name's level is reported as. */
enum alert_kind certlevel_name_kind(enum level l, bool unverifiable);

/* st (may be NULL) is the name's cert, for its next renewal. */
enum level certlevel_name(const struct config_daemon *dc, const struct state_cert *st,
			  const struct state_name *n, int64_t now, char *why, size_t size,
			  bool *ret_unverifiable);

enum level certlevel_cert(const struct config_daemon *dc, const struct config_cert *cfg,
			  const struct state_cert *st, int64_t now, char *why, size_t size);
