#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "ctl/certshow.h"
#include "ctl/jsonpass.h"
#include "ctl/nagios.h"
#include "ctl/output.h"
#include "ctl/remote.h"
#include "ctl/remotecall.h"
#include "ctl/rpc.h"
#include "ctl/statusargs.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

static void fmt_int(yajl_val v, const char *key, char *buf, size_t size)
{
	int64_t n;

	if (json_get_int(v, key, &n))
		str_printf(buf, size, "%" PRId64, n);
	else
		str_printf(buf, size, "-");
}

static void fmt_date(yajl_val v, const char *key, char *buf, size_t size)
{
	int64_t t;

	if (json_get_int(v, key, &t) && t > 0)
		time_format_iso(t, buf, size);
	else
		str_printf(buf, size, "-");
}

/* ---- status ---- */

static void policy_cell(yajl_val n, char *buf, size_t size)
{
	bool present = false, needed = false;

	(void)json_get_bool(n, "policy_wildcard", &present);
	(void)json_get_bool(n, "wildcard_needed", &needed);
	str_printf(buf, size, "%s%s", present ? "present" : "absent",
		   needed ? (present ? ", needed" : ", NEEDED") : "");
}

static enum level add_cert_rows(struct output_table *t, yajl_val c, bool with_names)
{
	enum level worst = LEVEL_OK;
	char until[40], days[24], next[40];
	yajl_val names = json_get_array(c, "names");
	const char *cert_level = str_or(c, "cert_level", "OK");
	bool has_cert = false;

	(void)json_get_bool(c, "has_cert", &has_cert);
	fmt_date(c, "not_after", until, sizeof(until));
	fmt_int(c, "days_left", days, sizeof(days));
	fmt_date(c, "next_renewal", next, sizeof(next));
	bool renewing = false, revoked = false;
	(void)json_get_bool(c, "renewing", &renewing);
	(void)json_get_bool(c, "revoked", &revoked);
	const char *cells[] = {
		str_or(c, "name", "?"), "(certificate)", cert_level,
		revoked ? "REVOKED"
		: has_cert ? "ISSUED"
		: renewing ? "RENEWING"
		: streq(str_or(c, "state", ""), "waiting-for-record") ? "WAITING-FOR-RECORD"
								       : "NONE",
		until, days, "-",
		renewing ? "now" : next, str_or(c, "last_error", "-"),
	};
	worst = level_merge(worst, output_daemon_level(cert_level));
	(void)output_table_add(t, cells, output_daemon_level(cert_level));
	worst = level_merge(worst, certshow_add_served_row(t, c));
	for (size_t i = 0; with_names && names && i < names->u.array.len; i++) {
		yajl_val n = names->u.array.values[i];
		char pol[40];
		const char *lvl = str_or(n, "level", "OK");
		fmt_date(n, "persist_until", until, sizeof(until));
		fmt_int(n, "days_left", days, sizeof(days));
		policy_cell(n, pol, sizeof(pol));
		const char *status = str_or(n, "status", "?");
		const char *row[] = {
			str_or(c, "name", "?"), str_or(n, "name", "?"), lvl, status, until, days, pol,
			"", streq(lvl, "OK") ? "-" : str_or(n, "level_reason", "-"),
		};
		worst = level_merge(worst, output_daemon_level(lvl));
		(void)output_table_add(t, row, output_daemon_level(lvl));
	}
	return worst;
}

/* Fleet mode: the database's view of every host, as of view_at. WARNING without the
 * database: this host can serve but not renew. */
static enum level print_fleet(yajl_val fleet)
{
	bool connected = false;
	yajl_val view = json_get_object(fleet, "view");
	yajl_val hosts = view ? json_get_array(view, "hosts") : NULL;
	yajl_val issuing = view ? json_get_array(view, "issuing") : NULL;
	yajl_val fcerts = view ? json_get_array(view, "certs") : NULL;

	printf("%s\n", str_or(fleet, "summary", "fleet"));
	for (size_t i = 0; hosts && i < hosts->u.array.len; i++) {
		yajl_val h = hosts->u.array.values[i];
		bool alive = false;
		size_t current = 0, behind = 0;
		const char *name = str_or(h, "name", "?");
		(void)json_get_bool(h, "alive", &alive);
		for (size_t k = 0; fcerts && k < fcerts->u.array.len; k++) {
			const char *st = json_get_string(
				json_get_object(fcerts->u.array.values[k], "hosts"), name);
			current += st && streq(st, "current");
			behind += !st || !streq(st, "current");
		}
		printf("  host %-20s %-8s %-5s %zu current, %zu behind or missing\n", name,
		       str_or(h, "role", "?"), alive ? "alive" : "gone", current, behind);
	}
	for (size_t i = 0; issuing && i < issuing->u.array.len; i++)
		printf("  issuing %s on %s\n", str_or(issuing->u.array.values[i], "cert", "?"),
		       str_or(issuing->u.array.values[i], "host", "?"));
	(void)json_get_bool(fleet, "database_connected", &connected);
	return connected ? LEVEL_OK : LEVEL_WARNING;
}

int ctl_status(const struct remote_options *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (streq(argv[i], "--nagios"))
			return nagios_status(o->socket);
	struct statusargs sa;
	char msg[200];
	if (statusargs_take(&argc, argv, &sa, msg, sizeof(msg)) < 0) {
		remotecall_error(o, EXIT_UNREACHABLE, 0, "%s", msg);
		return EXIT_UNREACHABLE;
	}
	REMOTECALL_PARSE("Usage: persistctl status [--json | --nagios] [--summary | --cert NAME |\n"
	      "                        --limit N --offset N]\n"
	      "One line per cert and per name: level, record status, persistUntil and days left,\n"
	      "policy=wildcard present/needed, next renewal, last error.\n"
	      "The text shows the first 100 certs (--limit N, --offset N: another page);\n"
	      "--json shows every cert unless asked for a page. --cert NAME: that cert only.\n"
	      "--summary: the counts, the worst certs and the next events, no table.\n"
	      "--nagios: one monitoring-plugin line with performance data (days left).\n"
	      "Exit status: 0 OK, 1 WARNING, 2 CRITICAL or ERROR, 3 daemon unreachable.\n",
	      0, 0);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	_cleanup_free_ char *params = NULL;
	if (statusargs_params(&sa, opt.json, &params) < 0)
		return EXIT_FAIL;
	/* --json prints the reply as it came, pretty: no tree of a 10 MB status. */
	struct jsonpass pass = { .out = stdout };
	int r = remotecall_call_pass(&opt, "status", params, REMOTECALL_TIMEOUT_MS,
				     opt.json ? &pass : NULL, &v, NULL);
	if (r)
		return r;
	if (pass.taken)
		return level_exit_code(output_daemon_level(pass.level[0] ? pass.level : NULL));
	enum level worst = output_daemon_level(json_get_string(v, "level"));
	if (opt.json) {
		remotecall_print_json(v);
		return level_exit_code(worst);
	}
	static const char *const headers[] = { "CERT",	  "NAME",	  "LEVEL",
					       "STATUS",  "UNTIL",	  "DAYS",
					       "WILDCARD", "NEXT RENEWAL", "LAST ERROR / REASON" };
	_cleanup_(output_table_freep) struct output_table *t =
		output_table_new(headers, ELEMENTSOF(headers));
	yajl_val certs = json_get_array(v, "cert_list");
	if (!t)
		return EXIT_FAIL;
	for (size_t i = 0; certs && i < certs->u.array.len; i++)
		worst = level_merge(worst, add_cert_rows(t, certs->u.array.values[i], true));
	printf("persistd %s: %s\n", str_or(v, "version", "?"), str_or(v, "summary", ""));
	yajl_val reload = json_get_object(v, "reload_error");
	if (reload) {
		char at[40], where[32] = "";
		int64_t line = 0;
		fmt_date(reload, "at", at, sizeof(at));
		if (json_get_int(reload, "line", &line) && line > 0)
			str_printf(where, sizeof(where), ":%" PRId64, line);
		printf("WARNING: reload failed at %s, still running the previous configuration:\n"
		       "  %s%s: %s\n",
		       at, str_or(reload, "file", "?"), where, str_or(reload, "message", "?"));
		worst = level_merge(worst, LEVEL_WARNING);
	}
	if (sa.summary)
		statusargs_print_summary(stdout, v);
	yajl_val fleet = json_get_object(v, "fleet");
	if (fleet)
		worst = level_merge(worst, print_fleet(fleet));
	if (certs && certs->u.array.len)
		output_table_print(t, stdout, opt.color);
	/* A new cert waiting for its records: what to publish, whole. */
	for (size_t i = 0; certs && i < certs->u.array.len; i++) {
		const char *recs = json_get_string(certs->u.array.values[i], "records_to_publish");
		if (recs)
			printf("%s: waiting for the record; publish:\n%s\n",
			       str_or(certs->u.array.values[i], "name", "?"), recs);
	}
	statusargs_print_page_note(stdout, v);
	return level_exit_code(worst);
}

int ctl_list(const struct remote_options *o, int argc, char **argv)
{
	REMOTECALL_PARSE("Usage: persistctl list [--json]\n", 0, 0);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int r = remotecall_call(&opt, "certs.list", NULL, REMOTECALL_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	if (opt.json)
		return remotecall_print_json(v);
	static const char *const headers[] = { "CERT",	  "CA",	   "CHALLENGE",	   "LEVEL",
					       "EXPIRES", "DAYS", "NEXT RENEWAL", "NAMES" };
	_cleanup_(output_table_freep) struct output_table *t =
		output_table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return EXIT_FAIL;
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
		yajl_val c = v->u.array.values[i];
		yajl_val names = json_get_array(c, "names");
		char until[40], days[24], next[40], list[512] = "";
		fmt_date(c, "not_after", until, sizeof(until));
		fmt_int(c, "days_left", days, sizeof(days));
		fmt_date(c, "next_renewal", next, sizeof(next));
		for (size_t k = 0; names && k < names->u.array.len; k++)
			str_printf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				   k ? ", " : "", str_or(names->u.array.values[k], "name", "?"));
		const char *cells[] = { str_or(c, "name", "?"), str_or(c, "ca", "?"),
					str_or(c, "challenge", "?"), str_or(c, "level", "?"),
					until, days, next, list };
		(void)output_table_add(t, cells, output_daemon_level(str_or(c, "level", "OK")));
	}
	output_table_print(t, stdout, opt.color);
	return 0;
}

int ctl_show(const struct remote_options *o, int argc, char **argv)
{
	REMOTECALL_PARSE("Usage: persistctl show NAME [--json]\n", 1, 1);
	_cleanup_free_ char *params = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	if (json_object_1("name", argv[optind], &params) < 0)
		return EXIT_FAIL;
	int r = remotecall_call(&opt, "certs.get", params, REMOTECALL_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	if (opt.json)
		return remotecall_print_json(v);
	char a[40], b[40], c[40], d[40], e[40], version[24];
	fmt_int(v, "version", version, sizeof(version));
	fmt_date(v, "not_before", a, sizeof(a));
	fmt_date(v, "not_after", b, sizeof(b));
	fmt_date(v, "next_renewal", c, sizeof(c));
	fmt_date(v, "ari_window_start", d, sizeof(d));
	fmt_date(v, "ari_window_end", e, sizeof(e));
	printf("cert %s (CA %s, %s, key %s)\n", str_or(v, "name", "?"), str_or(v, "ca", "?"),
	       str_or(v, "challenge", "?"), str_or(v, "key_type", "?"));
	printf("  level         %s: %s\n", str_or(v, "cert_level", "?"),
	       str_or(v, "cert_level_reason", ""));
	printf("  valid         %s .. %s\n", a, b);
	printf("  issuer        %s (serial %s, version %s)\n", str_or(v, "issuer", "-"),
	       str_or(v, "serial", "-"), version);
	printf("  next renewal  %s%s\n", c, json_get_string(v, "ari_window_start_iso") ? "" : "");
	if (strcmp(d, "-"))
		printf("  ARI window    %s .. %s\n", d, e);
	if (json_get_string(v, "ca_retry_until_iso"))
		printf("  held until    %s (the CA's Retry-After; even --force waits)\n",
		       json_get_string(v, "ca_retry_until_iso"));
	if (json_get_string(v, "orders_held_until_iso"))
		printf("  held until    %s (max_orders_per_hour reached; even --force waits)\n",
		       json_get_string(v, "orders_held_until_iso"));
	certshow_print(v);
	printf("  last error    %s\n", str_or(v, "last_error", "-"));
	if (json_get_string(v, "order_url"))
		printf("  order         %s (in flight)\n", json_get_string(v, "order_url"));
	if (json_get_string(v, "records_to_publish"))
		printf("  publish       %s\n", json_get_string(v, "records_to_publish"));
	yajl_val names = json_get_array(v, "names");
	for (size_t i = 0; names && i < names->u.array.len; i++) {
		yajl_val n = names->u.array.values[i];
		char until[40], days[24], pol[40];
		fmt_date(n, "persist_until", until, sizeof(until));
		fmt_int(n, "days_left", days, sizeof(days));
		policy_cell(n, pol, sizeof(pol));
		printf("  name %s\n    owner       %s\n    level       %s: %s\n", str_or(n, "name", "?"),
		       str_or(n, "owner", "?"), str_or(n, "level", "?"), str_or(n, "level_reason", ""));
		printf("    status      %s: %s\n", str_or(n, "status", "?"), str_or(n, "reason", ""));
		printf("    record      %s\n", str_or(n, "record", "-"));
		printf("    persistUntil %s (%s days left); policy=wildcard %s; DNSSEC %s\n", until, days,
		       pol, str_or(n, "dnssec", "-"));
	}
	return 0;
}

/* ---- records ---- */

int ctl_record_remote(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl record [NAME] [--format text|zone|json|tf]\n"
		"The _validation-persist records to publish for a cert (or every cert), from the\n"
		"daemon's account and CA. Offline: persistctl record generate|lint.\n";
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct remote_options opt = *o;
	const char *format = "text";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (c == 'F')
			format = optarg;
		else if (c == 'j')
			format = "json";
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || !(streq(format, "text") || streq(format, "zone") ||
				   streq(format, "json") || streq(format, "tf"))) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	_cleanup_free_ char *params = NULL;
	if (optind < argc && json_object_1("name", argv[optind], &params) < 0)
		return EXIT_FAIL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int r = remotecall_call(&opt, "records.generate", params, REMOTECALL_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	if (streq(format, "json"))
		return remotecall_print_json(v);
	if (streq(format, "tf"))
		printf("# _validation-persist TXT records (owner name => value), published once.\n"
		       "# Feed them to your DNS provider's TXT resource, e.g. with for_each.\n"
		       "locals {\n  validation_persist_records = {\n");
	const char *last_owner = "";
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
		yajl_val rec = v->u.array.values[i];
		const char *owner = str_or(rec, "owner", "?");
		const char *value = json_get_string(rec, "value");
		bool needed = false;
		(void)json_get_bool(rec, "wildcard_needed", &needed);
		/* *.x and x share one record: print it once. */
		if (streq(owner, last_owner))
			continue;
		last_owner = owner;
		if (!value) {
			fprintf(stderr, "persistctl: %s: no record yet (the CA's issuer name or the "
					"account is not known)\n",
				str_or(rec, "name", "?"));
			continue;
		}
		if (streq(format, "zone")) {
			printf("%s\n", str_or(rec, "zone", ""));
		} else if (streq(format, "tf")) {
			printf("    \"%s\" = \"", owner);
			output_escaped(stdout, value, strlen(value));
			printf("\"\n");
		} else {
			printf("%s%s (cert %s)\n  Owner:  %s.\n  Type:   TXT\n  Value:  %s\n  Zone:   %s\n"
			       "  policy=wildcard %s; accounturi %s\n",
			       i ? "\n" : "", str_or(rec, "name", "?"), str_or(rec, "cert", "?"), owner,
			       value, str_or(rec, "zone", ""),
			       needed ? "included: a wildcard name needs it"
				      : "not included: no wildcard name",
			       str_or(rec, "account_uri_mode", "?"));
		}
	}
	if (streq(format, "tf"))
		printf("  }\n}\n");
	return 0;
}

int ctl_check_remote(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl check [NAME | --all] [--json]\n"
		"       persistctl check --direct NAME... (offline; see --direct --help)\n"
		"Asks the daemon to check the records of a cert (or all) now.\n"
		"Exit status: 0 all OK, 1 a warning, 2 critical or failing, 3 cannot tell.\n";
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct remote_options opt = *o;
	bool all = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (c == 'a')
			all = true;
		else if (c == 'j')
			opt.json = true;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			remotecall_error(&opt, EXIT_UNREACHABLE, 0, "check: usage error");
			return EXIT_UNREACHABLE; /* UNKNOWN: the monitoring contract */
		}
	}
	if ((argc - optind == 1) == all || argc - optind > 1) {
		fputs(usage, stderr);
		remotecall_error(&opt, EXIT_UNREACHABLE, 0, "check: give one NAME or --all");
		return EXIT_UNREACHABLE;
	}
	_cleanup_free_ char *params = NULL;
	if (!all && json_object_1("name", argv[optind], &params) < 0)
		return EXIT_FAIL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int r = remotecall_call(&opt, "records.check", params, 5 * 60 * 1000, &v, NULL);
	if (r)
		return r;
	enum level worst = LEVEL_OK;
	static const char *const headers[] = { "CERT",	"NAME",	    "LEVEL",  "STATUS",
					       "UNTIL", "DAYS",	    "WILDCARD", "DNSSEC",
					       "REASON" };
	_cleanup_(output_table_freep) struct output_table *t =
		output_table_new(headers, ELEMENTSOF(headers));
	if (!t)
		return EXIT_FAIL;
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		yajl_val n = json_get_object(e, "record");
		const char *status = str_or(n, "status", "?");
		enum level l = output_daemon_level(str_or(n, "level", "OK"));
		if (streq(status, "DNS_ERROR"))
			l = level_merge(l, LEVEL_UNKNOWN);
		worst = level_merge(worst, l);
		char until[40], days[24], pol[40];
		fmt_date(n, "persist_until", until, sizeof(until));
		fmt_int(n, "days_left", days, sizeof(days));
		policy_cell(n, pol, sizeof(pol));
		const char *cells[] = { str_or(e, "cert", "?"), str_or(n, "name", "?"),
					str_or(n, "level", "?"), status, until, days, pol,
					str_or(n, "dnssec", "-"), str_or(n, "reason", "-") };
		(void)output_table_add(t, cells, l);
	}
	if (opt.json)
		remotecall_print_json(v);
	else
		output_table_print(t, stdout, opt.color);
	return level_exit_code(worst);
}

/* ---- renew, reload ---- */

int ctl_reload(const struct remote_options *o, int argc, char **argv)
{
	REMOTECALL_PARSE("Usage: persistctl reload\n"
	      "Re-reads the configuration; a bad one is refused and the old one kept.\n",
	      0, 0);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int r = remotecall_call(&opt, "reload", NULL, REMOTECALL_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	if (opt.json)
		return remotecall_print_json(v);
	printf("%s\n", str_or(v, "message", "reloaded"));
	return 0;
}

/* ---- account, probe ---- */

static void print_account(yajl_val a)
{
	yajl_val issuers = json_get_array(a, "issuers");
	bool offers = false;
	printf("CA %s\n  directory     %s\n  account       %s\n  key           %s (%s)\n"
	       "  thumbprint    %s\n  accounturi    %s form\n",
	       str_or(a, "ca", "?"), str_or(a, "directory", "?"),
	       str_or(a, "account_url", "(none yet: made at the first renewal or record)"),
	       str_or(a, "key_path", "?"), str_or(a, "key_type", "no key yet"),
	       str_or(a, "thumbprint", "-"), str_or(a, "account_uri_mode", "?"));
	printf("  issuers       ");
	for (size_t i = 0; issuers && i < issuers->u.array.len; i++)
		printf("%s%s", i ? ", " : "", YAJL_GET_STRING(issuers->u.array.values[i]));
	if (!issuers || !issuers->u.array.len)
		printf("(not known yet)");
	printf("\n  dns-persist-01 %s\n",
	       json_get_bool(a, "offers_dns_persist_01", &offers) ? (offers ? "offered" : "NOT offered")
								  : "not known yet");
}

int ctl_account(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl account show [CA] [--json]\n"
		"       persistctl account rollover [CA] --yes [--json]   (irreversible: the old\n"
		"                                          key stops working at the CA)\n"
		"       persistctl account deactivate CA --yes [--json]   (irreversible: after a key\n"
		"                                          compromise)\n";
	bool yes = remotecall_take_yes(&argc, argv);
	bool deactivate = argc >= 2 && streq(argv[1], "deactivate");
	bool rollover = argc >= 2 && streq(argv[1], "rollover");
	if (argc < 2 || (!streq(argv[1], "show") && !rollover && !deactivate)) {
		if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
			fputs(usage, stdout);
			return 0;
		}
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	struct remote_options opt;
	int p = remotecall_parse_simple(o, argc - 1, argv + 1, usage, &opt, deactivate ? 1 : 0, 1);
	if (p == -1)
		return 0;
	if (p < 0)
		return -p;
	if (rollover && (p = remotecall_confirm(&opt, "account rollover", yes)))
		return p;
	if (deactivate && (p = remotecall_confirm(&opt, "account deactivate", yes)))
		return p;
	const char *ca = optind < argc - 1 ? argv[optind + 1] : NULL;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	_cleanup_free_ char *params = NULL;
	if (!w)
		return EXIT_FAIL;
	if (ca || deactivate) {
		json_begin_object(w);
		json_kv_string(w, "ca", ca);
		if (deactivate)
			json_kv_bool(w, "confirm", true);
		json_end_object(w);
		if (json_writer_take(w, &params, NULL) < 0)
			return EXIT_FAIL;
	}
	const char *method = deactivate ? "account.deactivate"
			     : rollover ? "account.rollover"
					: "account.show";
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int r = remotecall_call(&opt, method, params,
				deactivate || rollover ? 5 * 60 * 1000 : REMOTECALL_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	if (opt.json)
		return remotecall_print_json(v);
	if (deactivate) {
		printf("%s\n", str_or(v, "message", "deactivated"));
		return 0;
	}
	if (rollover) {
		printf("%s\n\n", str_or(v, "message", "rolled over"));
		print_account(json_get_object(v, "account"));
		return 0;
	}
	for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++)
		print_account(v->u.array.values[i]);
	return 0;
}

int ctl_probe(const struct remote_options *o, int argc, char **argv)
{
	REMOTECALL_PARSE("Usage: persistctl probe CA [--json]\n"
	      "What the CA's directory says, and whether it offers dns-persist-01.\n",
	      1, 1);
	_cleanup_free_ char *params = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	if (json_object_1("ca", argv[optind], &params) < 0)
		return EXIT_FAIL;
	int r = remotecall_call(&opt, "ca.probe", params, REMOTECALL_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	if (opt.json)
		return remotecall_print_json(v);
	yajl_val idn = json_get_array(v, "issuer_domain_names");
	yajl_val caa = json_get_array(v, "caa_identities");
	yajl_val profiles = json_get_object(v, "profiles");
	bool b = false;
	printf("CA %s\n  directory                 %s\n", str_or(v, "ca", "?"),
	       str_or(v, "directory", "?"));
	printf("  issuerDomainNames         ");
	for (size_t i = 0; idn && i < idn->u.array.len; i++)
		printf("%s%s", i ? ", " : "", YAJL_GET_STRING(idn->u.array.values[i]));
	printf("%s\n  caaIdentities             ", idn && idn->u.array.len ? "" : "(none)");
	for (size_t i = 0; caa && i < caa->u.array.len; i++)
		printf("%s%s", i ? ", " : "", YAJL_GET_STRING(caa->u.array.values[i]));
	printf("%s\n  accountHashPrefix         %s\n", caa && caa->u.array.len ? "" : "(none)",
	       str_or(v, "account_hash_prefix", "(none)"));
	printf("  accounturi form           %s\n  profiles                  ",
	       str_or(v, "account_uri_mode", "?"));
	for (size_t i = 0; profiles && i < profiles->u.object.len; i++)
		printf("%s%s", i ? ", " : "", profiles->u.object.keys[i]);
	printf("%s\n", profiles && profiles->u.object.len ? "" : "(none)");
	(void)json_get_bool(v, "external_account_required", &b);
	printf("  external account binding  %s\n", b ? "required" : "not required");
	b = false;
	(void)json_get_bool(v, "renewal_info", &b);
	printf("  renewal info (ARI)        %s\n", b ? "yes" : "no");
	printf("\ndns-persist-01: %s\n", str_or(v, "verdict", "?"));
	bool offered = false;
	return json_get_bool(v, "dns_persist_01", &offered) && !offered ? EXIT_FAIL : 0;
}

/* ---- watch ---- */

static volatile sig_atomic_t watch_stop;

static void on_watch_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

int ctl_watch(const struct remote_options *o, int argc, char **argv)
{
	REMOTECALL_PARSE("Usage: persistctl watch [--json]\n"
	      "Follows alerts, renewals and record checks as they happen (Ctrl-C ends).\n",
	      0, 0);
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	struct rpc_error err = { 0 };
	yajl_val res = NULL;
	int r;

	if (remotecall_connect(&opt, REMOTECALL_TIMEOUT_MS, &c) < 0)
		return EXIT_UNREACHABLE;
	r = rpc_call(c, "events.subscribe", NULL, &res, &err);
	if (r != 0) {
		remotecall_error(&opt, EXIT_UNREACHABLE, r == 1 ? err.code : 0,
				 "events.subscribe: %s", r == 1 ? err.message : strerror(-r));
		rpc_error_done(&err);
		return EXIT_UNREACHABLE;
	}
	yajl_tree_free(res);
	struct sigaction sa = { .sa_handler = on_watch_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!opt.json)
		fprintf(stderr, "persistctl: watching %s (Ctrl-C to stop)\n", opt.socket);
	while (!watch_stop) {
		_cleanup_free_ char *method = NULL;
		_cleanup_(yajl_tree_freep) yajl_val params = NULL;
		r = rpc_next_notification(c, -1, &method, &params);
		if (r == -EINTR || watch_stop)
			break;
		if (r < 0) {
			remotecall_error(&opt, EXIT_UNREACHABLE, 0,
					 "the daemon closed the connection: %s", strerror(-r));
			return EXIT_UNREACHABLE;
		}
		if (r == 0 || !params)
			continue;
		if (opt.json) {
			/* One object a line, as jq and log shippers read a stream. */
			remotecall_print_json_as(params, false);
			fflush(stdout);
			continue;
		}
		int64_t t = 0;
		char when[40] = "";
		if (json_get_int(params, "time", &t))
			time_format_iso(t, when, sizeof(when));
		const char *type = str_or(params, "type", "?");
		if (streq(type, "alert"))
			printf("%s ALERT %-8s %s\n", when, str_or(params, "level", "?"),
			       str_or(params, "message", ""));
		else if (streq(type, "renewal"))
			printf("%s RENEWAL %s %s\n", when, str_or(params, "cert", "?"),
			       str_or(params, "message", ""));
		else if (streq(type, "check"))
			printf("%s CHECK   %s %s %s %s\n", when, str_or(params, "cert", "?"),
			       str_or(params, "fqdn", "?"), str_or(params, "status", "?"),
			       str_or(params, "level", "?"));
		else
			remotecall_print_json(params);
		fflush(stdout);
	}
	return 0;
}
