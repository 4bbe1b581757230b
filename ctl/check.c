/* ctl/check.c: see check.h. The command line and the names file; the
 * checking is ctl/checkpool's, the output ctl/checkfmt's. */
#include "ctl/check.h"

/* macro.h before uv.h (via dnscheck.h): see common/getdns_uv.h. */
#include "common/macro.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/dnscheck.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "common/record.h"
#include "common/timeutil.h"
#include "ctl/check_internal.h"
#include "ctl/checkpool.h"
#include "ctl/output.h"

#define DEFAULT_WARN_MS (30 * 86400 * MS_PER_SEC)
#define DEFAULT_CRITICAL_MS (7 * 86400 * MS_PER_SEC)
#define CHECK_MAX_THREADS 16

static const char check_help[] =
	"Usage: persistctl check --direct NAME... --issuer ISSUER --account-uri URI [OPTIONS]\n"
	"\n"
	"Looks up _validation-persist.NAME the way a CA will, without a daemon or a\n"
	"config file, and says whether the CA would accept it.\n"
	"\n"
	"  --issuer ISSUER          the CA's issuer domain name (repeatable)\n"
	"  --account-uri URI        the accounturi the CA expects in the record\n"
	"  --caa-account-uri URL    the account URL for CAA accounturi (default: --account-uri)\n"
	"  --wildcard               the names need wildcard coverage (as \"*.NAME\" does)\n"
	"  --file FILE              more names, one per line ('-' for stdin, '#' comments)\n"
	"  --resolver ADDR[@PORT]   ask this resolver (repeatable; default: /etc/resolv.conf)\n"
	"  --trust-anchor FILE      DNSSEC trust anchors (default: " DNSCHECK_ROOT_ANCHOR ";\n"
	"                           'none' skips validation)\n"
	"  --dnssec MODE            validate (default): getdns validates against the\n"
	"                           trust anchor; trust-ad: the resolvers validate and\n"
	"                           their AD flag says \"secure\" (loopback resolvers\n"
	"                           only); trust-ad-remote: the same, any resolver\n"
	"  --dns-backend NAME       who validates with --dnssec validate: getdns\n"
	"                           (default) or unbound (libunbound, with a key cache)\n"
	"  --authoritative          also ask every authoritative server of the zone\n"
	"  --auth-port PORT         port of the authoritative servers (default 53)\n"
	"  --no-caa                 skip the CAA pre-flight\n"
	"  --now UNIX|DATE          evaluate as of this time (default: now)\n"
	"  --warn DURATION          warn when persistUntil is this close (default 30d)\n"
	"  --critical DURATION      critical when it is this close (default 7d)\n"
	"  --timeout DURATION       per DNS query; a timeout is retried once (default 5s)\n"
	"  --max-inflight N         DNS queries at once (default 256)\n"
	"  --threads N              checking threads (default: one per CPU, up to 4,\n"
	"                           for 2000 names or more)\n"
	"  --json                   print a JSON array\n"
	"\n"
	"Exit: 0 all VALID, 1 warning, 2 critical or failing, 3 cannot tell.\n";

/* Set from the command line before parsing it: usage errors are then also a
 * JSON error object on stdout (output_json_error). */
static bool json_errors;

_printf_(1, 2) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = output_verror(json_errors, "persistctl check", EXIT_CHECK_USAGE, 0, fmt, ap);
	va_end(ap);
	return r;
}

static int read_names_file(const char *path, char **ret_text, size_t *ret_len)
{
	if (!streq(path, "-"))
		return file_read_bounded(path, NAMES_FILE_MAX_BYTES, ret_text, ret_len);

	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= NAMES_FILE_MAX_BYTES) {
				free(buf);
				return -E2BIG;
			}
			cap = MIN(cap * 2, (size_t)NAMES_FILE_MAX_BYTES);
			char *n = realloc(buf, cap + 1);
			if (!n) {
				free(buf);
				return -ENOMEM;
			}
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, stdin);
		if (got == 0)
			break;
		len += got;
	}
	if (ferror(stdin)) {
		free(buf);
		return -EIO;
	}
	buf[len] = 0;
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

/* Splits the file into names in place: one per line, '#' starts a comment,
 * surrounding whitespace ignored. */
static int split_names(char *text, size_t len, const char ***names, size_t *n, size_t *cap,
		       const char *path)
{
	size_t line = 0;
	char *p = text, *end = text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		line++;
		*e = 0;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = 0;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		char *q = p + strlen(p);
		while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			*--q = 0;
		if (*p) {
			if (strpbrk(p, " \t"))
				return usage_error("%s:%zu: one name per line, got '%s'", path, line, p);
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 1024;
				const char **v = realloc(*names, nc * sizeof(*v));
				if (!v)
					return usage_error("out of memory");
				*names = v;
				*cap = nc;
			}
			(*names)[(*n)++] = p;
		}
		p = e + 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct check_args *a, const char ***names,
		      size_t *n_names, size_t *cap)
{
	enum {
		OPT_DIRECT = 0x100,
		OPT_ISSUER,
		OPT_ACCOUNT_URI,
		OPT_CAA_ACCOUNT_URI,
		OPT_WILDCARD,
		OPT_RESOLVER,
		OPT_TRUST_ANCHOR,
		OPT_AUTHORITATIVE,
		OPT_AUTH_PORT,
		OPT_NO_CAA,
		OPT_NOW,
		OPT_JSON,
		OPT_FILE,
		OPT_WARN,
		OPT_CRITICAL,
		OPT_TIMEOUT,
		OPT_MAX_INFLIGHT,
		OPT_THREADS,
		OPT_DNSSEC,
		OPT_DNS_BACKEND,
	};
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "issuer", required_argument, NULL, OPT_ISSUER },
		{ "account-uri", required_argument, NULL, OPT_ACCOUNT_URI },
		{ "caa-account-uri", required_argument, NULL, OPT_CAA_ACCOUNT_URI },
		{ "wildcard", no_argument, NULL, OPT_WILDCARD },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "trust-anchor", required_argument, NULL, OPT_TRUST_ANCHOR },
		{ "authoritative", no_argument, NULL, OPT_AUTHORITATIVE },
		{ "auth-port", required_argument, NULL, OPT_AUTH_PORT },
		{ "no-caa", no_argument, NULL, OPT_NO_CAA },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ "critical", required_argument, NULL, OPT_CRITICAL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "dnssec", required_argument, NULL, OPT_DNSSEC },
		{ "dns-backend", required_argument, NULL, OPT_DNS_BACKEND },
		{}
	};
	bool direct = false, have_now = false;
	int c;

	a->caa = true;
	a->warn_ms = DEFAULT_WARN_MS;
	a->critical_ms = DEFAULT_CRITICAL_MS;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'h':
			fputs(check_help, stdout);
			return -1;
		case OPT_DIRECT:
			direct = true;
			break;
		case OPT_ISSUER: {
			if (a->n_issuers == RECORD_MAX_ISSUERS)
				return usage_error("at most %d --issuer", RECORD_MAX_ISSUERS);
			char *s = strdup(optarg);
			if (!s)
				return usage_error("out of memory");
			a->issuers_owned[a->n_issuers] = s;
			for (char *p = s; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			size_t l = strlen(s);
			if (l > 0 && s[l - 1] == '.')
				s[l - 1] = 0;
			if (!record_issuer_is_valid(s))
				return usage_error("--issuer '%s': not a domain name", optarg);
			a->issuers[a->n_issuers++] = s;
			break;
		}
		case OPT_ACCOUNT_URI:
			a->account_uri = optarg;
			break;
		case OPT_CAA_ACCOUNT_URI:
			a->caa_account_uri = optarg;
			break;
		case OPT_WILDCARD:
			a->wildcard = true;
			break;
		case OPT_RESOLVER: {
			struct dnscheck_addr addr;
			if (a->n_resolvers == DNSCHECK_MAX_RESOLVERS)
				return usage_error("at most %d --resolver", DNSCHECK_MAX_RESOLVERS);
			if (dnscheck_parse_addr(optarg, 53, &addr) < 0)
				return usage_error("--resolver '%s': expected ADDR or ADDR@PORT", optarg);
			a->resolvers[a->n_resolvers++] = optarg;
			break;
		}
		case OPT_TRUST_ANCHOR:
			a->trust_anchor = optarg;
			break;
		case OPT_DNSSEC:
			if (streq(optarg, "validate"))
				a->trust_ad = a->trust_ad_remote = false;
			else if (streq(optarg, "trust-ad"))
				a->trust_ad = true;
			else if (streq(optarg, "trust-ad-remote"))
				a->trust_ad = a->trust_ad_remote = true;
			else
				return usage_error("--dnssec '%s': expected validate, trust-ad or "
						   "trust-ad-remote", optarg);
			break;
		case OPT_DNS_BACKEND:
			if (streq(optarg, "getdns"))
				a->unbound = false;
			else if (streq(optarg, "unbound"))
				a->unbound = true;
			else
				return usage_error("--dns-backend '%s': expected getdns or unbound",
						   optarg);
			break;
		case OPT_AUTHORITATIVE:
			a->authoritative = true;
			break;
		case OPT_AUTH_PORT: {
			char *end;
			errno = 0;
			unsigned long p = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || p == 0 || p > 65535)
				return usage_error("--auth-port '%s': expected a port number", optarg);
			a->auth_port = (uint16_t)p;
			break;
		}
		case OPT_NO_CAA:
			a->caa = false;
			break;
		case OPT_NOW:
			if (time_parse_date(optarg, &a->now) < 0)
				return usage_error("--now '%s': expected Unix seconds or a date", optarg);
			have_now = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_FILE:
			a->file = optarg;
			break;
		case OPT_WARN:
		case OPT_CRITICAL:
		case OPT_TIMEOUT: {
			uint64_t ms;
			const char *what = c == OPT_WARN ? "--warn" : c == OPT_CRITICAL ? "--critical"
											   : "--timeout";
			if (time_parse_duration_ms(optarg, &ms) < 0)
				return usage_error("%s '%s': expected a duration such as 30d, 6h, 500ms",
						   what, optarg);
			if (c == OPT_WARN)
				a->warn_ms = ms;
			else if (c == OPT_CRITICAL)
				a->critical_ms = ms;
			else {
				if (ms == 0 || ms > DNSCHECK_MAX_TIMEOUT_MS)
					return usage_error("--timeout '%s': between 1ms and %ds", optarg,
							   DNSCHECK_MAX_TIMEOUT_MS / 1000);
				a->timeout_ms = ms;
			}
			break;
		}
		case OPT_MAX_INFLIGHT: {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || n == 0 || n > DNSCHECK_MAX_INFLIGHT)
				return usage_error("--max-inflight '%s': between 1 and %d", optarg,
						   DNSCHECK_MAX_INFLIGHT);
			a->max_inflight = (unsigned)n;
			break;
		}
		case OPT_THREADS: {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || n == 0 || n > CHECK_MAX_THREADS)
				return usage_error("--threads '%s': between 1 and %d", optarg,
						   CHECK_MAX_THREADS);
			a->threads = n;
			break;
		}
		case '?':
		default:
			if (optopt && optopt < 0x100)
				return usage_error("unknown option '-%c' (see --help)", optopt);
			if (optopt)
				return usage_error("option '%s' needs a value", argv[optind - 1]);
			return usage_error("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (!direct)
		return usage_error("only --direct is available: it asks DNS without the daemon");
	if (a->n_issuers == 0)
		return usage_error("--issuer ISSUER is required");
	if (!a->account_uri || !*a->account_uri)
		return usage_error("--account-uri URI is required");
	if (a->critical_ms > a->warn_ms)
		return usage_error("--critical must not be longer than --warn");
	/* libunbound validates; with trust-ad nobody here does. */
	if (a->unbound && a->trust_ad)
		return usage_error("--dns-backend unbound validates here: it goes with --dnssec "
				   "validate, not %s", a->trust_ad_remote ? "trust-ad-remote" : "trust-ad");
	if (!have_now)
		a->now = (int64_t)time(NULL);
	for (int i = optind; i < argc; i++) {
		if (*n_names == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			const char **v = realloc(*names, nc * sizeof(*v));
			if (!v)
				return usage_error("out of memory");
			*names = v;
			*cap = nc;
		}
		(*names)[(*n_names)++] = argv[i];
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int ctl_check_direct(int argc, char **argv)
{
	struct check_args a = { 0 };
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ char *file_text = NULL;
	size_t n_names = 0, cap = 0;
	int r, ret = EXIT_CHECK_USAGE;

	json_errors = output_wants_json(argc, argv);
	r = parse_args(argc, argv, &a, &names, &n_names, &cap);
	if (r < 0)
		ret = 0; /* --help */
	if (r != 0)
		goto out_args;
	if (a.file) {
		size_t len;
		r = read_names_file(a.file, &file_text, &len);
		if (r < 0) {
			usage_error("--file '%s': %s", a.file,
				    r == -E2BIG ? "too large" : strerror(-r));
			goto out_args;
		}
		if (split_names(file_text, len, &names, &n_names, &cap, a.file) != 0)
			goto out_args;
	}
	if (n_names == 0) {
		usage_error("no names to check (give NAME... or --file FILE)");
		goto out_args;
	}
	for (size_t i = 0; i < n_names; i++) {
		_cleanup_free_ char *owner = NULL;
		bool w;
		if (record_owner_name(names[i], &owner, &w) < 0 || strlen(owner) > DNS_NAME_MAX_BYTES) {
			usage_error("'%s' is not a DNS name", names[i]);
			goto out_args;
		}
	}

	raise_nofile();
	ret = checkpool_run(&a, names, n_names);

out_args:
	for (size_t i = 0; i < RECORD_MAX_ISSUERS; i++)
		free(a.issuers_owned[i]);
	return ret;
}
