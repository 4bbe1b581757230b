#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/json.h"
#include "common/key.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "ctl/output.h"
#include "ctl/record.h"

#define EXIT_USAGE 2

enum record_format {
	FORMAT_TEXT,
	FORMAT_VALUE,
	FORMAT_ZONE,
	FORMAT_JSON,
	FORMAT_TF,
};

/* Flags shared by generate and lint: who the record is for. */
struct record_args {
	const char *issuer;
	const char *account_uri;    /* url mode: the URI; hashed mode: the account URL */
	const char *hash_prefix;    /* set: hashed mode */
	const char *thumbprint;
	const char *account_key;
	bool any_domain;
	bool wildcard;
	bool has_persist_until;
	int64_t persist_until;
	char *thumbprint_owned;     /* owned: computed from account_key */
};

/* Set from the command line before parsing it: usage errors are then also a
 * JSON error object on stdout (output_json_error). */
static bool json_errors;

_printf_(1, 2) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = output_verror(json_errors, "persistctl", EXIT_USAGE, 0, fmt, ap);
	va_end(ap);
	return r;
}

static int resolve_thumbprint(struct record_args *a)
{
	_cleanup_(key_freep) struct key *k = NULL;
	int r;

	if (!a->hash_prefix) {
		if (a->thumbprint || a->account_key || a->any_domain)
			return usage_error("--key-thumbprint, --account-key and --any-domain are for "
					   "the hashed form: add --hash-prefix PREFIX");
		return 0;
	}
	if (!!a->thumbprint == !!a->account_key)
		return usage_error("hashed mode needs exactly one of --key-thumbprint THUMB or "
				   "--account-key FILE");
	if (a->thumbprint) {
		if (strlen(a->thumbprint) != 43 || strspn(a->thumbprint,
							  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
							  "klmnopqrstuvwxyz0123456789-_") != 43)
			return usage_error("--key-thumbprint '%s': expected the 43-character "
					   "base64url RFC 7638 SHA-256 thumbprint",
					   a->thumbprint);
		return 0;
	}
	r = key_load_file(a->account_key, &k);
	if (r < 0)
		return usage_error("--account-key '%s': %s", a->account_key,
				   r == -EINVAL ? "not a supported private key (PEM: EC P-256/P-384 "
						  "or RSA 2048+)"
						: strerror(-r));
	r = key_thumbprint(k, &a->thumbprint_owned);
	if (r < 0)
		return usage_error("computing the key thumbprint: %s", strerror(-r));
	a->thumbprint = a->thumbprint_owned;
	return 0;
}

/* The accounturi the CA expects for this base name. */
static int expected_account_uri(const struct record_args *a, const char *base, char **ret)
{
	if (!a->hash_prefix) {
		*ret = strdup(a->account_uri);
		return *ret ? 0 : -ENOMEM;
	}
	return record_hashed_account_uri(a->hash_prefix, a->any_domain ? "*" : base, a->thumbprint,
					 a->account_uri, ret);
}

/* The options generate and lint share: who the record is for. */
static bool record_args_option(struct record_args *a, int c, const char *arg)
{
	switch (c) {
	case 'a':
		a->account_uri = arg;
		return true;
	case 'w':
		a->wildcard = true;
		return true;
	case 'H':
		a->hash_prefix = arg;
		return true;
	case 'T':
		a->thumbprint = arg;
		return true;
	case 'K':
		a->account_key = arg;
		return true;
	case 'A':
		a->any_domain = true;
		return true;
	default:
		return false;
	}
}

static int parse_persist_until_arg(const char *s, struct record_args *a)
{
	if (time_parse_date(s, &a->persist_until) < 0)
		return usage_error("--persist-until '%s': expected a date (2027-06-01, "
				   "2027-06-01T12:00:00Z) or Unix seconds",
				   s);
	a->has_persist_until = true;
	return 0;
}

static int parse_now(const char *s, int64_t *now)
{
	if (time_parse_date(s, now) < 0)
		return usage_error("--now '%s': expected Unix seconds or a date", s);
	return 0;
}

/* Terraform has a TXT resource per provider; a map in locals feeds any of them. */
static void print_tf_entry(FILE *f, const char *owner, const char *value)
{
	fprintf(f, "    \"%s\" = \"", owner);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		/* "${" and "%{" start templates: doubling the sigil escapes them. */
		if ((*p == '$' || *p == '%') && p[1] == '{')
			fputc(*p, f);
		fputc(*p, f);
	}
	fputs("\"\n", f);
}

static const char generate_help[] =
	"Usage: persistctl record generate --issuer ISSUER --account-uri URI --fqdn NAME...\n"
	"                                  [--wildcard] [--persist-until DATE|UNIX]\n"
	"                                  [--format text|value|zone|json|tf]\n"
	"       hashed (draft -02) form: add --hash-prefix PREFIX and\n"
	"                                  --key-thumbprint THUMB | --account-key FILE\n"
	"                                  [--any-domain]; --account-uri is then the account URL\n"
	"\n"
	"Prints the _validation-persist TXT record to publish, once, for each name.\n"
	"A name like *.example.com implies policy=wildcard at example.com.\n"
	"  --issuer ISSUER        the CA's issuer domain name, as the CA lists it\n"
	"  --account-uri URI      the ACME account URL (or, hashed, the URL to hash)\n"
	"  --fqdn NAME            a certificate name; repeat for several\n"
	"  --wildcard             add policy=wildcard even for a plain name\n"
	"  --persist-until WHEN   the date the record stops authorizing the CA\n"
	"  --format FMT           text (default), value, zone, json or tf (Terraform)\n"
	"  --ttl SECONDS          TTL for the zone and Terraform output (default 3600)\n";

int ctl_record_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "issuer", required_argument, NULL, 'i' },
		{ "account-uri", required_argument, NULL, 'a' },
		{ "fqdn", required_argument, NULL, 'f' },
		{ "wildcard", no_argument, NULL, 'w' },
		{ "persist-until", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "ttl", required_argument, NULL, 't' },
		{ "hash-prefix", required_argument, NULL, 'H' },
		{ "key-thumbprint", required_argument, NULL, 'T' },
		{ "account-key", required_argument, NULL, 'K' },
		{ "any-domain", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct record_args a = { 0 };
	const char *fqdns[1024];
	size_t n_fqdns = 0;
	enum record_format format = FORMAT_TEXT;
	unsigned long ttl = 3600;
	int c, r, status = 0;

	json_errors = output_wants_json(argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (record_args_option(&a, c, optarg))
			continue;
		switch (c) {
		case 'i':
			a.issuer = optarg;
			break;
		case 'f':
			if (n_fqdns >= ELEMENTSOF(fqdns))
				return usage_error("too many --fqdn (at most %zu)", ELEMENTSOF(fqdns));
			fqdns[n_fqdns++] = optarg;
			break;
		case 'p':
			if ((r = parse_persist_until_arg(optarg, &a)))
				return r;
			break;
		case 'F':
			if (streq(optarg, "text"))
				format = FORMAT_TEXT;
			else if (streq(optarg, "value"))
				format = FORMAT_VALUE;
			else if (streq(optarg, "zone"))
				format = FORMAT_ZONE;
			else if (streq(optarg, "json"))
				format = FORMAT_JSON;
			else if (streq(optarg, "tf") || streq(optarg, "terraform"))
				format = FORMAT_TF;
			else
				return usage_error("--format '%s': expected text, value, zone, json or tf",
						   optarg);
			break;
		case 'j':
			format = FORMAT_JSON;
			break;
		case 't': {
			char *end;
			ttl = strtoul(optarg, &end, 10);
			if (!*optarg || *end || ttl > 2147483647UL)
				return usage_error("--ttl '%s': expected seconds", optarg);
			break;
		}
		case 'h':
			fputs(generate_help, stdout);
			return 0;
		default:
			fputs(generate_help, stderr);
			return usage_error("unknown option or missing value (see --help)");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (names go after --fqdn)", argv[optind]);
	if (!a.issuer || !a.account_uri || n_fqdns == 0) {
		fputs(generate_help, stderr);
		return usage_error("record generate needs --issuer, --account-uri and --fqdn");
	}
	if (!record_issuer_is_valid(a.issuer))
		return usage_error("--issuer '%s': expected the CA's issuer domain name, lowercase, "
				   "no trailing dot",
				   a.issuer);
	if ((r = resolve_thumbprint(&a))) {
		free(a.thumbprint_owned);
		return r;
	}

	_cleanup_(json_writer_freep) struct json_writer *w = NULL;
	if (format == FORMAT_JSON) {
		w = json_writer_new(true);
		if (!w)
			return usage_error("out of memory");
		if (n_fqdns > 1)
			json_begin_array(w);
	}

	if (format == FORMAT_TF)
		printf("# _validation-persist TXT records (owner name => value), published once.\n"
		       "# Feed them to your DNS provider's TXT resource, e.g. with for_each.\n"
		       "locals {\n  validation_persist_records = {\n");
	for (size_t i = 0; i < n_fqdns; i++) {
		_cleanup_free_ char *owner = NULL, *base = NULL, *uri = NULL, *value = NULL,
				    *zone = NULL;
		bool name_wildcard;

		r = record_owner_name(fqdns[i], &owner, &name_wildcard);
		if (r < 0) {
			status = usage_error("--fqdn '%s': %s", fqdns[i],
					     r == -E2BIG ? "too long for a _validation-persist owner "
							   "name"
							 : "not a DNS name (A-labels only, e.g. "
							   "www.example.com or *.example.com)");
			break;
		}
		r = record_base_name(fqdns[i], &base, NULL);
		if (r == 0)
			r = expected_account_uri(&a, base, &uri);
		if (r < 0) {
			status = usage_error("computing the accounturi for '%s': %s", fqdns[i],
					     strerror(-r));
			break;
		}
		/* One record serves x and *.x: it needs the policy if either asks for it,
		 * and is printed once. */
		bool base_wildcard = name_wildcard, seen = false;
		for (size_t k = 0; k < n_fqdns; k++) {
			_cleanup_free_ char *other = NULL;
			bool wild = false;
			if (record_base_name(fqdns[k], &other, &wild) < 0 || !streq(other, base))
				continue;
			base_wildcard = base_wildcard || wild;
			seen = seen || k < i;
		}
		if (seen)
			continue;
		struct record_spec spec = {
			.issuer = a.issuer,
			.account_uri = uri,
			.wildcard = a.wildcard || base_wildcard,
			.has_persist_until = a.has_persist_until,
			.persist_until = a.persist_until,
		};
		r = record_generate(&spec, &value);
		if (r == -EINVAL) {
			status = usage_error("--account-uri '%s': a URI in a record must be printable "
					     "ASCII without spaces or ';'",
					     uri);
			break;
		}
		if (r == 0)
			r = record_zone_line(owner, value, strlen(value), (uint32_t)ttl, &zone);
		if (r < 0) {
			status = usage_error("generating the record: %s", strerror(-r));
			break;
		}

		char until[40] = "";
		if (a.has_persist_until)
			time_format_iso(a.persist_until, until, sizeof(until));

		switch (format) {
		case FORMAT_VALUE:
			puts(value);
			break;
		case FORMAT_ZONE:
			puts(zone);
			break;
		case FORMAT_TF:
			print_tf_entry(stdout, owner, value);
			break;
		case FORMAT_JSON:
			json_begin_object(w);
			json_kv_string(w, "name", fqdns[i]);
			json_kv_string(w, "owner", owner);
			json_kv_string(w, "type", "TXT");
			json_kv_string(w, "value", value);
			json_kv_string(w, "zone", zone);
			json_kv_string(w, "issuer", a.issuer);
			json_kv_string(w, "account_uri", uri);
			json_kv_string(w, "account_uri_mode", a.hash_prefix ? "hashed" : "url");
			json_kv_bool(w, "wildcard_needed", base_wildcard);
			json_key(w, "policy");
			json_string(w, spec.wildcard ? "wildcard" : NULL);
			json_key(w, "persist_until");
			if (a.has_persist_until)
				json_int(w, a.persist_until);
			else
				json_null(w);
			json_end_object(w);
			break;
		case FORMAT_TEXT:
			if (i)
				putchar('\n');
			printf("Publish this TXT record once (the DNS admin's job; persistd never writes "
			       "DNS):\n\n");
			printf("  Owner:  %s.\n  Type:   TXT\n  Value:  %s\n\n", owner, value);
			printf("Zone file line:\n  %s\n\n", zone);
			if (base_wildcard)
				printf("  policy=wildcard  included: *.%s is a wildcard name. It authorizes "
				       "the CA for\n                   every name below %s too.\n",
				       base, base);
			else if (spec.wildcard)
				printf("  policy=wildcard  included (--wildcard): it authorizes the CA for "
				       "every name\n                   below %s too.\n",
				       base);
			else
				printf("  policy=wildcard  not included: %s is not a wildcard name.\n",
				       fqdns[i]);
			if (a.has_persist_until)
				printf("  persistUntil     %s: after it the record no longer authorizes "
				       "the CA;\n                   publish a new one before then.\n",
				       until);
			else
				printf("  persistUntil     none: the record never expires; consider "
				       "--persist-until.\n");
			if (a.hash_prefix)
				printf("  accounturi       hashed (draft -02) for %s, from the account URL "
				       "and key thumbprint.\n",
				       a.any_domain ? "any domain" : base);
			else
				printf("  accounturi       the account URL itself (drafts -00/-01).\n");
			break;
		}
	}

	if (format == FORMAT_TF && status == 0)
		printf("  }\n}\n");
	if (format == FORMAT_JSON && status == 0) {
		const char *out;
		size_t len;
		if (n_fqdns > 1)
			json_end_array(w);
		if (json_writer_finish(w, &out, &len) < 0) {
			status = usage_error("JSON output failed");
		} else {
			while (len > 0 && out[len - 1] == '\n')
				len--;
			printf("%.*s\n", (int)len, out);
		}
	}
	free(a.thumbprint_owned);
	return status;
}

static const char lint_help[] =
	"Usage: persistctl record lint --issuer ISSUER --account-uri EXPECTED [--fqdn NAME]\n"
	"                              [--wildcard] [--now UNIX|DATE] [--json] [VALUE...]\n"
	"       hashed (draft -02): add --hash-prefix PREFIX and --key-thumbprint THUMB |\n"
	"                           --account-key FILE [--any-domain]; --account-uri is then\n"
	"                           the account URL and EXPECTED is computed\n"
	"\n"
	"Evaluates the TXT records found at _validation-persist.<name> (each VALUE is one\n"
	"record, its strings already joined) the way the CA will, and says why. No VALUE\n"
	"is the empty RRset: NO_RECORD.\n"
	"Exit status: 0 VALID, 1 any other outcome, 2 usage error.\n"
	"  --issuer ISSUER     the CA's issuer domain name; repeat for several\n"
	"  --warn DURATION     warn when persistUntil is this close (default 30d)\n"
	"  --critical DURATION critical when this close (default 7d)\n";

struct lint_item {
	bool ours;
	bool parsed;
	struct record_error err;
	struct record_verdict verdict; /* of this record alone */
	char issuer[DNS_NAME_MAX_BYTES + 2];
};

static void print_caret(const char *value, size_t len, size_t offset)
{
	char line[RECORD_MAX_BYTES * 4 + 8];

	str_escape_line(line, sizeof(line), value, len, 200);
	printf("      %s\n      %*s^\n", line, (int)MIN(offset, (size_t)200), "");
}

int ctl_record_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "issuer", required_argument, NULL, 'i' },
		{ "account-uri", required_argument, NULL, 'a' },
		{ "fqdn", required_argument, NULL, 'f' },
		{ "wildcard", no_argument, NULL, 'w' },
		{ "now", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "warn", required_argument, NULL, 'W' },
		{ "critical", required_argument, NULL, 'C' },
		{ "hash-prefix", required_argument, NULL, 'H' },
		{ "key-thumbprint", required_argument, NULL, 'T' },
		{ "account-key", required_argument, NULL, 'K' },
		{ "any-domain", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct record_args a = { 0 };
	const char *issuers[RECORD_MAX_ISSUERS];
	size_t n_issuers = 0;
	const char *fqdn = NULL;
	int64_t now = (int64_t)time(NULL);
	uint64_t warn_ms = 30 * 86400 * MS_PER_SEC, crit_ms = 7 * 86400 * MS_PER_SEC;
	bool json = false;
	int c, r;

	json_errors = output_wants_json(argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (record_args_option(&a, c, optarg))
			continue;
		switch (c) {
		case 'i':
			if (n_issuers >= ELEMENTSOF(issuers))
				return usage_error("at most %d issuers", RECORD_MAX_ISSUERS);
			issuers[n_issuers++] = optarg;
			break;
		case 'f':
			fqdn = optarg;
			break;
		case 'n':
			if ((r = parse_now(optarg, &now)))
				return r;
			break;
		case 'j':
			json = true;
			break;
		case 'W':
		case 'C':
			if (time_parse_duration_ms(optarg, c == 'W' ? &warn_ms : &crit_ms) < 0)
				return usage_error("--%s '%s': expected a duration such as 30d",
						   c == 'W' ? "warn" : "critical", optarg);
			break;
		case 'h':
			fputs(lint_help, stdout);
			return 0;
		default:
			fputs(lint_help, stderr);
			return usage_error("unknown option or missing value (see --help)");
		}
	}
	/* No VALUE is the empty RRset (NO_RECORD, exit 1), not a usage error, so
	 * that lint takes the output of a lookup that found nothing:
	 * persistctl record lint ... $(dig +short TXT _validation-persist.x). */
	if (n_issuers == 0 || !a.account_uri) {
		fputs(lint_help, stderr);
		return usage_error("record lint needs --issuer and --account-uri");
	}
	if (argc - optind > RECORD_MAX_RRS)
		return usage_error("at most %d values", RECORD_MAX_RRS);
	for (size_t i = 0; i < n_issuers; i++)
		if (!record_issuer_is_valid(issuers[i]))
			return usage_error("--issuer '%s': expected a lowercase domain name",
					   issuers[i]);

	_cleanup_free_ char *base = NULL, *expected = NULL;
	bool name_wildcard = false;
	if (fqdn) {
		if (record_base_name(fqdn, &base, &name_wildcard) < 0)
			return usage_error("--fqdn '%s': not a DNS name", fqdn);
	} else if (a.hash_prefix && !a.any_domain) {
		return usage_error("hashed mode needs --fqdn NAME (the hash binds the domain) or "
				   "--any-domain");
	}
	bool needs_wildcard = a.wildcard || name_wildcard;
	if ((r = resolve_thumbprint(&a))) {
		free(a.thumbprint_owned);
		return r;
	}
	r = expected_account_uri(&a, base ? base : "*", &expected);
	free(a.thumbprint_owned);
	if (r < 0)
		return usage_error("computing the expected accounturi: %s", strerror(-r));

	size_t n = (size_t)(argc - optind);
	struct record_query q = { issuers, n_issuers, expected, needs_wildcard, now };
	struct record_rr rrs[RECORD_MAX_RRS];
	struct lint_item items[RECORD_MAX_RRS];
	for (size_t i = 0; i < n; i++) {
		const char *v = argv[optind + (int)i];
		size_t len = strlen(v);
		if (len > RECORD_MAX_BYTES)
			return usage_error("VALUE %zu is longer than %d bytes", i + 1, RECORD_MAX_BYTES);
		rrs[i] = (struct record_rr){ v, len };
		memset(&items[i], 0, sizeof(items[i]));
		int l = record_issuer_normalize(v, len, items[i].issuer, sizeof(items[i].issuer));
		for (size_t k = 0; l >= 0 && k < n_issuers && !items[i].ours; k++)
			items[i].ours = streq(items[i].issuer, issuers[k]);
		if (items[i].ours) {
			_cleanup_(record_freep) struct record *rec = NULL;
			items[i].parsed = record_parse(v, len, &rec, &items[i].err) == 0;
			r = record_evaluate(&rrs[i], 1, &q, &items[i].verdict);
			if (r < 0)
				return usage_error("evaluating: %s", strerror(-r));
		}
	}

	struct record_verdict verdict;
	r = record_evaluate(rrs, n, &q, &verdict);
	if (r < 0)
		return usage_error("evaluating: %s", strerror(-r));

	enum level level = LEVEL_OK;
	if (verdict.status == RECORD_VALID && verdict.has_persist_until)
		level = time_expiry_level(verdict.persist_until, now, warn_ms, crit_ms);
	char until[40] = "";
	if (verdict.has_persist_until)
		time_format_iso(verdict.persist_until, until, sizeof(until));
	int64_t days_left = verdict.has_persist_until ? time_days_left(verdict.persist_until, now) : 0;

	if (json) {
		_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(true);
		const char *out;
		size_t len;

		if (!w)
			return usage_error("out of memory");
		json_begin_object(w);
		json_kv_string(w, "status", record_status_to_string(verdict.status));
		json_kv_string(w, "reason", verdict.reason);
		json_kv_string(w, "expected_account_uri", expected);
		json_kv_bool(w, "wildcard_needed", needs_wildcard);
		json_key(w, "policy");
		json_string(w, verdict.policy_wildcard ? "wildcard" : NULL);
		json_kv_bool(w, "policy_wildcard", verdict.policy_wildcard);
		json_key(w, "persist_until");
		if (verdict.has_persist_until)
			json_int(w, verdict.persist_until);
		else
			json_null(w);
		json_key(w, "persist_until_iso");
		json_string(w, verdict.has_persist_until ? until : NULL);
		json_key(w, "days_left");
		if (verdict.has_persist_until)
			json_int(w, days_left);
		else
			json_null(w);
		json_kv_string(w, "expiry", time_expiry_to_string(level));
		json_key(w, "match");
		if (verdict.match >= 0)
			json_int(w, verdict.match);
		else
			json_null(w);
		json_kv_int(w, "now", now);
		json_key(w, "records");
		json_begin_array(w);
		for (size_t i = 0; i < n; i++) {
			json_begin_object(w);
			json_key(w, "value");
			json_string_n(w, rrs[i].text, rrs[i].len);
			json_kv_bool(w, "ours", items[i].ours);
			if (items[i].ours)
				json_kv_string(w, "status",
					       record_status_to_string(items[i].verdict.status));
			if (items[i].ours && !items[i].parsed) {
				json_key(w, "error");
				json_begin_object(w);
				json_kv_int(w, "offset", (int64_t)items[i].err.offset);
				json_kv_string(w, "reason", items[i].err.reason);
				json_end_object(w);
			}
			json_end_object(w);
		}
		json_end_array(w);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) < 0)
			return usage_error("JSON output failed (a value that is not UTF-8?)");
		while (len > 0 && out[len - 1] == '\n')
			len--;
		printf("%.*s\n", (int)len, out);
	} else {
		printf("%s: %s\n", record_status_to_string(verdict.status), verdict.reason);
		for (size_t i = 0; i < n; i++) {
			char issuer[80];
			str_escape_line(issuer, sizeof(issuer), items[i].issuer,
					strlen(items[i].issuer), 60);
			if (!items[i].ours) {
				printf("  record %zu: issuer '%s' is not this CA's; ignored\n", i + 1,
				       issuer);
			} else if (!items[i].parsed) {
				printf("  record %zu: malformed at byte %zu: %s\n", i + 1,
				       items[i].err.offset, items[i].err.reason);
				print_caret(rrs[i].text, rrs[i].len, items[i].err.offset);
			} else {
				printf("  record %zu: %s%s: %s\n", i + 1,
				       record_status_to_string(items[i].verdict.status),
				       (int)i == verdict.match ? " (decides the outcome)" : "",
				       items[i].verdict.reason);
			}
		}
		if (verdict.match >= 0 && verdict.status != RECORD_MALFORMED) {
			printf("  policy=wildcard: %s; %s\n",
			       verdict.policy_wildcard ? "present" : "absent",
			       needs_wildcard ? "this name needs it" : "this name does not need it");
			if (verdict.has_persist_until)
				printf("  persistUntil: %s (%" PRId64 " days left)%s\n", until, days_left,
				       level == LEVEL_WARNING    ? ", WARNING: publish a new record soon"
				       : level == LEVEL_CRITICAL ? ", CRITICAL: publish a new record now"
				       : level == LEVEL_ERROR    ? ", EXPIRED"
								  : "");
			else
				printf("  persistUntil: none (the record does not expire)\n");
		}
	}
	return verdict.status == RECORD_VALID ? 0 : 1;
}
