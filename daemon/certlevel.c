#include <inttypes.h>
#include <stdlib.h>

#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/certlevel.h"

#define UNVERIFIABLE_AFTER 4          /* DNS errors in a row before we say so */

bool certlevel_waiting(const struct state_cert *st, int64_t now)
{
	return st && !st->has_cert && st->record_grace_until > now;
}

bool certlevel_waiting_record(const struct state_cert *st, int64_t now)
{
	return certlevel_waiting(st, now) && st->failures && st->records_hint;
}

bool certlevel_name_waiting(const struct state_cert *st, const struct state_name *n, int64_t now)
{
	return certlevel_waiting(st, now) && n->checked && !n->dns_error &&
	       (!n->status || !streq(n->status, "VALID"));
}

static void name_plain_reason(const struct state_name *n, char *buf, size_t size)
{
	_cleanup_free_ char *owner = NULL;

	(void)record_owner_name(n->name, &owner, NULL);
	str_printf(buf, size, "record %s is valid", owner ? owner : n->name);
}

static void cert_plain_reason(const struct state_cert *st, char *buf, size_t size)
{
	char date[40];

	time_format_iso(st->not_after, date, sizeof(date));
	str_printf(buf, size, "certificate valid until %s", date);
}

const char *certlevel_name_reason(const struct state_name *n, char *buf, size_t size)
{
	if (n->level_reason || !n->checked)
		return n->level_reason;
	name_plain_reason(n, buf, size);
	return buf;
}

const char *certlevel_cert_reason(const struct state_cert *st, char *buf, size_t size)
{
	if (st->level_reason || !st->has_cert)
		return st->level_reason;
	cert_plain_reason(st, buf, size);
	return buf;
}

bool certlevel_name_reason_is_plain(const struct state_name *n, const char *why)
{
	char plain[CERTLEVEL_REASON_MAX];

	if (!n->checked)
		return false;
	name_plain_reason(n, plain, sizeof(plain));
	return streq(plain, why);
}

bool certlevel_cert_reason_is_plain(const struct state_cert *st, const char *why)
{
	char plain[CERTLEVEL_REASON_MAX];

	if (!st->has_cert)
		return false;
	cert_plain_reason(st, plain, sizeof(plain));
	return streq(plain, why);
}

enum alert_kind certlevel_name_kind(enum level l, bool unverifiable)
{
	switch (l) {
	case LEVEL_ERROR:
		return ALERT_RECORD_ERROR;
	case LEVEL_CRITICAL:
		return ALERT_RECORD_CRITICAL;
	case LEVEL_WARNING:
		return unverifiable ? ALERT_RECORD_UNVERIFIABLE : ALERT_RECORD_WARNING;
	default:
		return ALERT_RECORD_OK;
	}
}

/* The level of one name from what we last saw and the clock. */
enum level certlevel_name(const struct config_daemon *dc, const struct state_cert *st,
			  const struct state_name *n, int64_t now, char *why, size_t size,
			  bool *ret_unverifiable)
{
	_cleanup_free_ char *owner = NULL;
	enum level level = LEVEL_OK;
	char until[40];

	*ret_unverifiable = false;
	(void)record_owner_name(n->name, &owner, NULL);
	name_plain_reason(n, why, size);
	if (!n->checked) {
		str_printf(why, size, "not checked yet");
		return LEVEL_OK;
	}
	if (n->dns_error) {
		/* A lookup that failed says nothing about the record: keep what we knew,
		 * and only say "cannot tell" once it has gone on for a while. */
		level = n->level;
		if (n->dns_failures >= UNVERIFIABLE_AFTER && level < LEVEL_WARNING) {
			level = LEVEL_WARNING;
			*ret_unverifiable = true;
			str_printf(why, size,
				   "cannot verify %s: %s (%u checks in a row); the record may be fine",
				   owner ? owner : n->name, n->reason ? n->reason : "DNS error",
				   n->dns_failures);
		} else if (n->level_reason) {
			str_printf(why, size, "%s", n->level_reason);
		}
		if (!n->has_until)
			return level;
	} else if (certlevel_name_waiting(st, n, now)) {
		/* A new cert's record not published yet is expected, for a while. */
		time_format_iso(st->record_grace_until, until, sizeof(until));
		str_printf(why, size, CERTLEVEL_WAITING ": %s is %s: %s (WARNING until %s, "
							"then ERROR)",
			   owner ? owner : n->name, n->status ? n->status : "?",
			   n->reason ? n->reason : "", until);
		return LEVEL_WARNING;
	} else if (!n->status || !streq(n->status, "VALID")) {
		str_printf(why, size, "record %s is %s: %s", owner ? owner : n->name,
			   n->status ? n->status : "?", n->reason ? n->reason : "");
		return LEVEL_ERROR;
	} else if (n->caa) {
		str_printf(why, size, "CAA forbids issuance: %s", n->caa);
		return LEVEL_ERROR;
	}
	if (!n->has_until)
		return level;

	time_format_iso(n->persist_until, until, sizeof(until));
	int64_t days = time_days_left(n->persist_until, now);
	switch (time_expiry_level(n->persist_until, now, dc->warn_before_ms,
				  dc->critical_before_ms)) {
	case LEVEL_ERROR:
		str_printf(why, size, "record %s expired: persistUntil %s has passed",
			   owner ? owner : n->name, until);
		return LEVEL_ERROR;
	case LEVEL_CRITICAL:
		str_printf(why, size,
			   "record %s expires in %" PRId64 " days (persistUntil %s): publish a new "
			   "record with a later persistUntil now",
			   owner ? owner : n->name, days, until);
		return MAX(level, LEVEL_CRITICAL);
	case LEVEL_WARNING:
		str_printf(why, size,
			   "record %s expires in %" PRId64 " days (persistUntil %s): publish a new "
			   "record with a later persistUntil before then",
			   owner ? owner : n->name, days, until);
		return MAX(level, LEVEL_WARNING);
	default:
		break;
	}
	/* The record must outlive the next renewal, or that renewal fails. */
	if (st && st->next_renewal > 0 && n->persist_until < st->next_renewal) {
		char next[40];
		time_format_iso(st->next_renewal, next, sizeof(next));
		str_printf(why, size,
			   "record %s stops working (persistUntil %s) before the next renewal (%s): "
			   "publish a new record with a later persistUntil",
			   owner ? owner : n->name, until, next);
		return MAX(level, LEVEL_WARNING);
	}
	return level;
}

enum level certlevel_cert(const struct config_daemon *dc, const struct config_cert *cfg,
			  const struct state_cert *st, int64_t now, char *why, size_t size)
{
	char date[40];

	if (!st->has_cert) {
		if (certlevel_waiting_record(st, now)) {
			time_format_iso(st->record_grace_until, date, sizeof(date));
			str_printf(why, size, "waiting for the record (WARNING until %s, then ERROR); "
					      "publish:\n%s",
				   date, st->records_hint);
			return LEVEL_WARNING;
		}
		if (st->failures) {
			str_printf(why, size, "no certificate yet: %s",
				   st->last_error ? st->last_error : "renewal failed");
			return LEVEL_ERROR;
		}
		str_printf(why, size, "no certificate yet");
		return LEVEL_OK;
	}
	time_format_iso(st->not_after, date, sizeof(date));
	if (now > st->not_after) {
		str_printf(why, size, "the certificate expired at %s%s%s", date,
			   st->last_error ? ": " : "", st->last_error ? st->last_error : "");
		return LEVEL_ERROR;
	}
	if (state_cert_is_revoked(st)) {
		const struct state_cert_orders *o = state_cert_orders(st);
		char when[40], serial[STATE_SERIAL_HEX_MAX];
		time_format_iso(o->revoked_at, when, sizeof(when));
		str_printf(why, size, "the certificate in use (serial %s) was revoked at %s%s%s%s; "
				      "a replacement is due now%s%s",
			   state_cert_serial_hex(st, serial), when, o->revoked_reason ? " (" : "",
			   o->revoked_reason ? o->revoked_reason : "", o->revoked_reason ? ")" : "",
			   st->last_error ? ": " : "", st->last_error ? st->last_error : "");
		return LEVEL_ERROR;
	}
	if (st->failures == 0 && st->deploy_failed && config_cert_opts(cfg)->deploy_hook) {
		str_printf(why, size, "certificate valid until %s is installed, but its deploy hook "
				      "failed: %s",
			   date, st->last_error ? st->last_error : "");
		return LEVEL_WARNING;
	}
	if (st->failures == 0) {
		cert_plain_reason(st, why, size);
		return LEVEL_OK;
	}
	if (st->cert_rejected) {
		str_printf(why, size, "the CA issued a certificate that was not installed (the one in "
				      "use is valid until %s): %s",
			   date, st->last_error ? st->last_error : "");
		return LEVEL_ERROR;
	}
	int64_t lifetime = st->not_after - st->not_before + 1;
	int64_t left = st->not_after - now;
	/* Failing while little time is left: within critical_before, or the last
	 * sixth of the lifetime for short-lived certificates. */
	if (left <= (int64_t)(dc->critical_before_ms / 1000) || left <= lifetime / 6) {
		str_printf(why, size,
			   "renewal keeps failing (%u attempts) and the certificate expires %s: %s",
			   st->failures, date, st->last_error ? st->last_error : "");
		return LEVEL_CRITICAL;
	}
	str_printf(why, size, "renewal failed (%u attempts; certificate valid until %s): %s",
		   st->failures, date, st->last_error ? st->last_error : "");
	return LEVEL_WARNING;
}
