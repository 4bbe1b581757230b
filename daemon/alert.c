#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "common/json.h"
#include "common/timeutil.h"
#include "daemon/alert.h"
#include "daemon/log.h"

static const struct {
	const char *name;
	const char *id;
} kinds[] = {
	[ALERT_RECORD_OK] = { "record-ok", "e2af223a25ed4343b64329637bfa4f05" },
	[ALERT_RECORD_WARNING] = { "record-warning", "ebf9273003b34d988258547cd4899ecc" },
	[ALERT_RECORD_CRITICAL] = { "record-critical", "d84cf540e9d248bd924f16fee1c0d06e" },
	[ALERT_RECORD_ERROR] = { "record-error", "8832d2e86aab4b0ab0f3aa1f2adf9a36" },
	[ALERT_RECORD_UNVERIFIABLE] = { "record-unverifiable", "ed6ba5df4b1f448abb9c7c0d368a4444" },
	[ALERT_CERT_RENEWED] = { "cert-renewed", "f2583665d3994c15b716b674889a7781" },
	[ALERT_CERT_RENEWAL_FAILED] = { "cert-renewal-failed", "2c99618d66454636a0fbc15dd61c8443" },
	[ALERT_CERT_EXPIRING] = { "cert-expiring", "028857565f2d41019e058ca11300d005" },
	[ALERT_CERT_EXPIRED] = { "cert-expired", "8a5791f6d96447a785c49957ed6ea1d6" },
	[ALERT_CERT_OK] = { "cert-ok", "029e5a2adade429d96c80aab477161c7" },
	[ALERT_CERT_DEPLOY_FAILED] = { "deploy-failed", "a21ed218e67d48eead6f44b2a7b2d75d" },
	[ALERT_CERT_REJECTED] = { "cert-rejected", "9626b9ff32294da09cb5ba40d1b8657a" },
	[ALERT_CERT_ORDER_LIMIT] = { "cert-order-limit", "871c0dfaf20c44f7b94c1fc0ed8188db" },
	[ALERT_CERT_SERVED_STALE] = { "served-stale", "c05e87d5aa0343f4ad7d964bfe465357" },
	[ALERT_CERT_REVOKED] = { "cert-revoked", "ab3abde832174157974c16c3a34d2971" },
	[ALERT_RECORD_WAITING] = { "record-waiting", "4382b60eaf724d559f4a0c2c7a01d27e" },
};
_Static_assert(ELEMENTSOF(kinds) == _ALERT_KIND_MAX, "alert kinds");

const char *alert_kind_message_id(enum alert_kind k)
{
	return (unsigned)k < _ALERT_KIND_MAX ? kinds[k].id : "";
}

const char *alert_kind_to_string(enum alert_kind k)
{
	return (unsigned)k < _ALERT_KIND_MAX ? kinds[k].name : "unknown";
}

int alert_level_priority(enum level l)
{
	switch (l) {
	case LEVEL_WARNING:
		return LOG_WARNING;
	case LEVEL_CRITICAL:
		return LOG_CRIT;
	case LEVEL_ERROR:
		return LOG_ERR;
	default:
		return LOG_NOTICE;
	}
}

struct alert_fields {
	char until[40];
	char days[32];
};

static void fields_of(const struct alert *a, struct alert_fields *f)
{
	f->until[0] = f->days[0] = '\0';
	if (a->has_until) {
		time_format_iso(a->until, f->until, sizeof(f->until));
		snprintf(f->days, sizeof(f->days), "%" PRId64, time_days_left(a->until, a->now));
	}
}

void alert_write(const struct alert *a)
{
	struct alert_fields f;
	int prio = alert_level_priority(a->level);
	/* Successes are not alarms: a renewal or recovery is info. */
	if (a->kind == ALERT_CERT_RENEWED || a->kind == ALERT_RECORD_OK || a->kind == ALERT_CERT_OK)
		prio = LOG_INFO;

	fields_of(a, &f);
	if (log_to_journal()) {
		int r = sd_journal_send("MESSAGE=%s", a->message, "MESSAGE_ID=%s",
					alert_kind_message_id(a->kind), "PRIORITY=%d", prio,
					"SYSLOG_IDENTIFIER=persistd", "PERSISTD_CERT=%s", a->cert,
					"PERSISTD_FQDN=%s", a->fqdn ? a->fqdn : "",
					"PERSISTD_OWNER=%s", a->owner ? a->owner : "",
					"PERSISTD_STATUS=%s", a->status ? a->status : "",
					"PERSISTD_LEVEL=%s", level_to_string(a->level),
					"PERSISTD_UNTIL=%s", f.until, "PERSISTD_DAYS_LEFT=%s", f.days,
					"PERSISTD_REASON=%s", a->reason ? a->reason : "",
					"PERSISTD_ALERT=%s", alert_kind_to_string(a->kind),
					"PERSISTD_REMINDER=%d", a->reminder ? 1 : 0, NULL);
		if (r >= 0)
			return;
	}
	fprintf(stderr,
		"persistd[%d]: ALERT %s %s cert=%s fqdn=%s status=%s until=%s days_left=%s "
		"message_id=%s%s: %s\n",
		(int)getpid(), level_to_string(a->level), alert_kind_to_string(a->kind),
		a->cert, a->fqdn ? a->fqdn : "-", a->status ? a->status : "-",
		f.until[0] ? f.until : "-", f.days[0] ? f.days : "-",
		alert_kind_message_id(a->kind), a->reminder ? " (reminder)" : "", a->message);
	fflush(stderr);
}

int alert_to_json(const struct alert *a, char **ret, size_t *ret_len)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	struct alert_fields f;

	if (!w)
		return -ENOMEM;
	fields_of(a, &f);
	json_begin_object(w);
	json_kv_string(w, "type", "alert");
	json_kv_string(w, "kind", alert_kind_to_string(a->kind));
	json_kv_string(w, "message_id", alert_kind_message_id(a->kind));
	json_kv_string(w, "level", level_to_string(a->level));
	json_kv_string(w, "cert", a->cert);
	json_kv_string(w, "fqdn", a->fqdn);
	json_kv_string(w, "owner", a->owner);
	json_kv_string(w, "status", a->status);
	json_key(w, "persist_until");
	if (a->has_until)
		json_int(w, a->until);
	else
		json_null(w);
	json_kv_string(w, "until", a->has_until ? f.until : NULL);
	json_key(w, "days_left");
	if (a->has_until)
		json_int(w, time_days_left(a->until, a->now));
	else
		json_null(w);
	json_kv_string(w, "message", a->message);
	json_kv_string(w, "reason", a->reason);
	json_kv_bool(w, "reminder", a->reminder);
	json_kv_int(w, "time", a->now);
	json_end_object(w);
	return json_writer_take(w, ret, ret_len);
}
