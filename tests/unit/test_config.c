/* Unit tests for common/config: values, errors with file:line, drop-ins, and
 * the refusal of DNS-write settings in persist mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <syslog.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fileio.h"
#include "common/timeutil.h"

static const char good[] = "[daemon]\n"
			   "state_dir = /tmp/x\n"
			   "recheck_interval = 2h ; inline comment\n"
			   "warn_before = 20d\n"
			   "critical_before = 3d\n"
			   "resolver = 127.0.0.1@5353, ::1\n"
			   "log_level = debug\n"
			   "\n"
			   "[ca le]\n"
			   "directory = https://acme.example/dir\n"
			   "contact = mailto:a@example.com\n"
			   "issuer = ca.example, ca2.example\n"
			   "accounturi_mode = hashed\n"
			   "hash_scope = any\n"
			   "\n"
			   "# a comment\n"
			   "[cert www]\n"
			   "ca = le\n"
			   "names = Example.COM, *.example.com\n"
			   "    www.example.com,\n"
			   "\tmail.example.com\n"
			   "persist_until = 2027-06-01\n"
			   "key_type = rsa2048\n"
			   "\n"
			   "[cert legacy]\n"
			   "ca = le\n"
			   "names = legacy.example.net\n"
			   "challenge = dns-01\n"
			   "dns01_hook = /usr/local/bin/hook\n"
			   "dns01_propagation_timeout = 5m\n";

static struct config *parse(const char *text, struct config_errors *errs, int *ret)
{
	struct config *c = config_new();
	assert_non_null(c);
	*ret = config_parse_text(c, "test.conf", text, strlen(text), true, errs);
	if (*ret == 0)
		*ret = config_finish(c, errs);
	return c;
}

static void expect_error(const char *text, unsigned line, const char *part)
{
	struct config_errors errs = { 0 };
	int r;
	struct config *c = parse(text, &errs, &r);

	assert_int_equal(r, -EINVAL);
	bool found = false;
	for (size_t i = 0; i < errs.n; i++)
		if (errs.items[i].line == line && strstr(errs.items[i].message, part))
			found = true;
	if (!found) {
		for (size_t i = 0; i < errs.n; i++)
			print_error("  got %s:%u: %s\n", errs.items[i].file, errs.items[i].line,
				    errs.items[i].message);
		fail_msg("expected an error at line %u containing '%s'", line, part);
	}
	config_errors_done(&errs);
	config_free(c);
}

static void test_good(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	int r;
	_cleanup_(config_freep) struct config *c = parse(good, &errs, &r);

	for (size_t i = 0; i < errs.n; i++)
		print_error("%u: %s\n", errs.items[i].line, errs.items[i].message);
	assert_int_equal(r, 0);
	assert_string_equal(c->daemon.state_dir, "/tmp/x");
	assert_int_equal(c->daemon.recheck_interval_ms, 2 * 3600 * 1000ULL);
	assert_int_equal(c->daemon.warn_before_ms, 20 * 86400 * 1000ULL);
	assert_int_equal(c->daemon.n_resolvers, 2);
	assert_string_equal(c->daemon.resolvers[1], "::1");
	assert_int_equal(c->daemon.log_level, LOG_DEBUG);
	assert_string_equal(c->daemon.trust_anchor, "/usr/share/dns/root.key");
	assert_int_equal(c->n_cas, 1);
	assert_int_equal(c->cas[0]->uri_mode, CONFIG_URI_HASHED);
	assert_true(c->cas[0]->hash_any_domain);
	assert_int_equal(c->cas[0]->n_issuers, 2);
	assert_int_equal(c->n_certs, 2);
	const struct config_cert *www = config_find_cert(c, "www");
	assert_non_null(www);
	assert_ptr_equal(www->ca, c->cas[0]);
	assert_int_equal(www->n_names, 4);
	assert_string_equal(www->names[0], "example.com");
	assert_string_equal(www->names[1], "*.example.com");
	assert_string_equal(www->names[3], "mail.example.com");
	/* After parsing, the names and their strings are one block (freed as one). */
	assert_true(www->names_packed);
	assert_null(www->names[4]);
	assert_ptr_equal(www->names[0], (const char *)(www->names + 5));
	assert_ptr_equal(www->names[1], www->names[0] + strlen("example.com") + 1);
	assert_true(www->has_persist_until);
	assert_int_equal(www->persist_until, 1811808000);
	assert_int_equal(www->key_type, KEY_RSA_2048);
	assert_int_equal(www->challenge, CHALLENGE_DNS_PERSIST_01);
	assert_int_equal(www->line, 17);
	const struct config_cert *legacy = config_find_cert(c, "legacy");
	assert_int_equal(legacy->challenge, CHALLENGE_DNS_01);
	assert_string_equal(config_cert_opts(legacy)->dns01_hook, "/usr/local/bin/hook");
	assert_int_equal(config_cert_opts(legacy)->dns01_propagation_timeout_ms, 300000);
	/* The issuance circuit breaker: 3 new orders an hour unless said otherwise. */
	assert_int_equal(c->daemon.max_orders_per_hour, 3);
	assert_int_equal(config_cert_opts(www)->max_orders_per_hour, 0);
}

static void test_max_orders_per_hour(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	int r;
	_cleanup_(config_freep) struct config *c = parse(
		"[daemon]\nmax_orders_per_hour = 5\n[ca a]\ndirectory = https://x/d\n"
		"[cert w]\nca = a\nnames = a.example\nmax_orders_per_hour = 1\n",
		&errs, &r);

	assert_int_equal(r, 0);
	assert_int_equal(c->daemon.max_orders_per_hour, 5);
	assert_int_equal(config_cert_opts(config_find_cert(c, "w"))->max_orders_per_hour, 1);
	expect_error("[daemon]\nmax_orders_per_hour = 0\n", 2, "from 1 to 100");
	expect_error("[daemon]\nmax_orders_per_hour = 101\n", 2, "from 1 to 100");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nca = a\nnames = a.example\n"
		     "max_orders_per_hour = lots\n",
		     6, "expected a whole number");
}

/* issue 13: check_served, check_served_sni, check_served_grace and archive_keep. */
static void test_served_and_archive_keep(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	int r;
	_cleanup_(config_freep) struct config *c = parse(
		"[daemon]\narchive_keep = 0\n[ca a]\ndirectory = https://x/d\n"
		"[cert w]\nca = a\nnames = a.example\ncheck_served = [::1]:8443\n"
		"check_served_sni = b.example\ncheck_served_grace = 90s\narchive_keep = 3\n"
		"[cert v]\nca = a\nnames = v.example\n",
		&errs, &r);

	assert_int_equal(r, 0);
	assert_int_equal(c->daemon.archive_keep, 0);
	const struct config_cert *w = config_find_cert(c, "w"), *v = config_find_cert(c, "v");
	assert_string_equal(config_cert_opts(w)->check_served_host, "::1");
	assert_int_equal(config_cert_opts(w)->check_served_port, 8443);
	assert_string_equal(config_cert_opts(w)->check_served_sni, "b.example");
	assert_int_equal(config_cert_opts(w)->check_served_grace_ms, 90000);
	assert_true(config_cert_opts(w)->has_archive_keep);
	assert_int_equal(config_cert_opts(w)->archive_keep, 3);
	assert_null(config_cert_opts(v)->check_served_host);
	assert_false(config_cert_opts(v)->has_archive_keep);
	assert_int_equal(config_cert_opts(v)->check_served_grace_ms, 600000);
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nca = a\nnames = a.example\n"
		     "check_served = www.example.com\n",
		     6, "the port is required");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nca = a\nnames = a.example\n"
		     "check_served = ::1:443\n",
		     6, "in brackets");
	expect_error("[daemon]\narchive_keep = 1001\n", 2, "from 0 to 1000");
	expect_error("[daemon]\narchive_keep = -1\n", 2, "from 0 to 1000");
}

static void test_record_grace(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	int r;
	_cleanup_(config_freep) struct config *c = parse(
		"[daemon]\nrecord_grace = 3d\n[ca a]\ndirectory = https://x/d\n"
		"[cert w]\nca = a\nnames = a.example\nrecord_grace = 0s\n"
		"[cert v]\nca = a\nnames = b.example\n",
		&errs, &r);

	assert_int_equal(r, 0);
	assert_int_equal(c->daemon.record_grace_ms, 3ULL * 86400 * 1000);
	/* 0 is a grace of its own (none), not "the [daemon] value". */
	assert_true(config_cert_opts(config_find_cert(c, "w"))->has_record_grace);
	assert_int_equal(config_cert_opts(config_find_cert(c, "w"))->record_grace_ms, 0);
	assert_false(config_cert_opts(config_find_cert(c, "v"))->has_record_grace);
	_cleanup_(config_freep) struct config *d = parse("[daemon]\n", &errs, &r);
	assert_int_equal(d->daemon.record_grace_ms, 7ULL * 86400 * 1000);
	expect_error("[daemon]\nrecord_grace = soon\n", 2, "expected a duration");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nca = a\nnames = a.example\n"
		     "record_grace = -1d\n",
		     6, "expected a duration");
}

static void test_trust_anchor_none(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	int r;
	_cleanup_(config_freep) struct config *c =
		parse("[daemon]\ntrust_anchor = none\n", &errs, &r);

	assert_int_equal(r, 0);
	assert_null(c->daemon.trust_anchor);
}

static void test_dnssec_trust_ad(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	int r;
	_cleanup_(config_freep) struct config *c = parse(
		"[daemon]\nresolver = 127.0.0.53, ::1, ::1@5353, 127.0.0.1@53\ndnssec = trust-ad\n",
		&errs, &r);

	assert_int_equal(r, 0);
	assert_true(c->daemon.trust_ad);
	assert_false(c->daemon.trust_ad_remote);
	/* the AD flag of a resolver elsewhere: refused unless said so */
	expect_error("[daemon]\ndnssec = trust-ad\nresolver = 127.0.0.1, 192.0.2.1@53\n", 2,
		     "resolver '192.0.2.1@53' is not a loopback address");
	expect_error("[daemon]\nresolver = 2001:db8::1@53\ndnssec = trust-ad\n", 3,
		     "trust-ad-remote");
	expect_error("[daemon]\ndnssec = maybe\n", 2, "expected validate, trust-ad or trust-ad-remote");
	struct config_errors errs2 = { 0 };
	_cleanup_(config_freep) struct config *c2 =
		parse("[daemon]\nresolver = 192.0.2.1\ndnssec = trust-ad-remote\n", &errs2, &r);
	assert_int_equal(r, 0);
	assert_true(c2->daemon.trust_ad && c2->daemon.trust_ad_remote);
	struct config_errors errs3 = { 0 };
	_cleanup_(config_freep) struct config *c3 =
		parse("[daemon]\ndnssec = validate\nresolver = 192.0.2.1\n", &errs3, &r);
	assert_int_equal(r, 0);
	assert_false(c3->daemon.trust_ad);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[daemon]\nbogus = 1\n", 2, "unknown key 'bogus'");
	expect_error("[nope]\n", 1, "unknown section [nope]");
	expect_error("[cert]\n", 1, "needs a name");
	expect_error("[daemon]\nrecheck_interval = soon\n", 2, "expected a duration");
	expect_error("[daemon]\nwarn_before = 1d\nwarn_before = 2d\n", 3, "set twice");
	expect_error("state_dir = /x\n", 1, "outside any section");
	expect_error("[daemon]\nstate_dir = relative\n", 2, "absolute path");
	expect_error("[daemon]\nresolver = localhost\n", 2, "not an address");
	expect_error("[daemon]\nlog_level = loud\n", 2, "expected debug");
	expect_error("[daemon]\njust some words\n", 2, "expected 'key = value'");
	expect_error("[ca a]\ndirectory = http://x/dir\n", 2, "https://");
	expect_error("[ca a]\ncontact = ops@example.com\n", 2, "mailto:");
	expect_error("[ca a]\ndirectory = https://x/d\n[ca a]\ndirectory = https://y/d\n", 3,
		     "duplicate [ca a]: first defined at test.conf:1");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nca = b\nnames = a.example\n", 3,
		     "names ca 'b', which is not defined (defined: a)");
	expect_error("[ca a]\ndirectory = https://x/d\n[ca b]\ndirectory = https://y/d\n"
		     "[cert w]\nnames = a.example\n",
		     5, "has no 'ca'");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "[cert w]\nnames = b.example\n",
		     5, "duplicate [cert w]");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = bad name!\n", 4,
		     "is not a DNS name");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example, A.example.\n",
		     4, "listed twice");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\n", 3, "has no 'names'");
	expect_error("[ca a]\n", 1, "has no 'directory'");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "persist_until = tomorrow\n",
		     5, "expected a date");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "challenge = http-01\n",
		     5, "expected dns-persist-01 or dns-01");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "challenge = dns-01\n",
		     3, "needs 'dns01_hook'");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "key_type = dsa\n",
		     5, "expected ec-p256");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "challenge = dns-persist-01\n  x\n",
		     6, "does not take a list");
	expect_error("[daemon]\nwarn_before = 1d\ncritical_before = 2d\n", 0,
		     "critical_before is longer than warn_before");
	expect_error("[ca a]\ndirectory = https://x/d\neab_kid = k\n", 1, "needs both");
	char longline[400];
	snprintf(longline, sizeof(longline), "[daemon]\nadmin_group = %0300d\n", 0);
	expect_error(longline, 2, "line longer than 199");

	/* A NUL byte inside the file is an error on its line, not an early end. */
	static const char nul[] = "[daemon]\nadmin_group = a\0b\nlog_level = info\n";
	struct config_errors errs = { 0 };
	struct config *c = config_new();
	assert_int_equal(config_parse_text(c, "nul.conf", nul, sizeof(nul) - 1, true, &errs),
			 -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.items[0].line, 2);
	assert_non_null(strstr(errs.items[0].message, "NUL byte"));
	config_errors_done(&errs);
	config_free(c);
}

static void test_persist_refuses_dns_write(void **state)
{
	(void)state;
	/* The order of keys does not matter: challenge may come last. */
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "dns01_hook = /bin/hook\n",
		     5, "needs no DNS write access");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "tsig_key = hmac-sha256:k:c2VjcmV0\nchallenge = dns-persist-01\n",
		     5, "'tsig_key' is a DNS write setting");
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "credentials = /etc/secret\n",
		     5, "needs no DNS write access");
	/* In dns-01 mode the hook is fine, credentials still are not ours. */
	expect_error("[ca a]\ndirectory = https://x/d\n[cert w]\nnames = a.example\n"
		     "challenge = dns-01\ndns01_hook = /bin/hook\napi_token = x\n",
		     7, "holds no DNS credentials");
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(file_write_atomic(path, text, strlen(text), 0644), 0);
}

static void test_load_dropins(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-config-XXXXXX";
	char path[256], dropins[256], p[300];
	struct config_errors errs = { 0 };
	struct config *c = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/persistd.conf", dir);
	snprintf(dropins, sizeof(dropins), "%s/certs.d", dir);
	assert_int_equal(mkdir(dropins, 0755), 0);
	write_file(path, "[ca a]\ndirectory = https://x/d\n");
	snprintf(p, sizeof(p), "%s/b.conf", dropins);
	write_file(p, "[cert two]\nnames = two.example\n");
	snprintf(p, sizeof(p), "%s/a.conf", dropins);
	write_file(p, "[cert one]\nnames = one.example\n");
	snprintf(p, sizeof(p), "%s/ignored.txt", dropins);
	write_file(p, "garbage");

	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_int_equal(c->n_certs, 2);
	assert_string_equal(c->certs[0]->name, "one"); /* name order */
	assert_int_equal(c->n_files, 3);
	config_free(c);

	/* A duplicate across files names both places. */
	snprintf(p, sizeof(p), "%s/c.conf", dropins);
	write_file(p, "\n[cert one]\nnames = x.example\n");
	assert_int_equal(config_load(path, &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.items[0].line, 2);
	assert_non_null(strstr(errs.items[0].file, "c.conf"));
	assert_non_null(strstr(errs.items[0].message, "a.conf:1"));
	config_errors_done(&errs);
	unlink(p);

	/* [daemon] is for the main file only. */
	write_file(p, "[daemon]\nlog_level = debug\n");
	assert_int_equal(config_load(path, &c, &errs), -EINVAL);
	assert_non_null(strstr(errs.items[0].message, "main config file"));
	config_errors_done(&errs);
	unlink(p);

	/* A candidate drop-in (persistctl add) is parsed with the others, under
	 * its own name in errors, and is refused like a file on disk. */
	snprintf(p, sizeof(p), "%s/new.conf", dropins);
	const char *cand = "[cert three]\nca = a\nnames = three.example\n";
	assert_int_equal(config_load_candidate(path, p, cand, strlen(cand), &c, &errs), 0);
	assert_int_equal(c->n_certs, 3);
	assert_non_null(config_find_cert(c, "three"));
	assert_string_equal(config_find_cert(c, "three")->file, p);
	config_free(c);
	assert_int_equal(access(p, F_OK), -1); /* nothing written */
	cand = "[cert one]\nca = a\nnames = x.example\n";
	assert_int_equal(config_load_candidate(path, p, cand, strlen(cand), &c, &errs), -EINVAL);
	assert_string_equal(errs.items[0].file, p);
	assert_non_null(strstr(errs.items[0].message, "duplicate [cert one]"));
	config_errors_done(&errs);
	cand = "[cert four]\nca = nope\nnames = four.example\n";
	assert_int_equal(config_load_candidate(path, p, cand, strlen(cand), &c, &errs), -EINVAL);
	assert_non_null(strstr(errs.items[0].message, "nope"));
	config_errors_done(&errs);

	snprintf(p, sizeof(p), "%s/missing.conf", dir);
	assert_int_equal(config_load(p, &c, &errs), -ENOENT);
	assert_non_null(strstr(errs.items[0].message, "cannot read"));
	config_errors_done(&errs);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* One error, on `file`, whose message contains `needle`. */
static void expect_load_error(const char *path, const char *file, const char *needle)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;

	assert_int_not_equal(config_load(path, &c, &errs), 0);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_non_null(errs.items[0].file);
	if (!strstr(errs.items[0].file, file) || !strstr(errs.items[0].message, needle))
		fail_msg("expected '%s' on %s, got %s:%u: %s", needle, file, errs.items[0].file,
			 errs.items[0].line, errs.items[0].message);
	config_errors_done(&errs);
}

static void test_load_refuses_non_regular(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-config-XXXXXX";
	char path[256], dropins[256], p[600], q[300], bundle[100];

	/* A regression blocks in open() on the FIFO: let SIGALRM end it as a
	 * failure instead of hanging the suite. */
	alarm(10);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/persistd.conf", dir);
	snprintf(dropins, sizeof(dropins), "%s/certs.d", dir);
	assert_int_equal(mkdir(dropins, 0755), 0);
	write_file(path, "[ca a]\ndirectory = https://x/d\n");
	snprintf(p, sizeof(p), "%s/a.conf", dropins);
	write_file(p, "[cert one]\nnames = one.example\n");

	/* A FIFO drop-in: refused by its path, without waiting for a writer. */
	snprintf(p, sizeof(p), "%s/b.conf", dropins);
	assert_int_equal(mkfifo(p, 0644), 0);
	expect_load_error(path, "certs.d/b.conf", "not a regular file (fifo)");

	/* A symbolic link to a FIFO is no better. */
	snprintf(q, sizeof(q), "%s/fifo", dir);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(symlink(q, p), 0);
	expect_load_error(path, "certs.d/b.conf", "not a regular file (symbolic link to a fifo)");
	assert_int_equal(unlink(p), 0);

	/* Nor is a directory that happens to end in .conf. */
	assert_int_equal(mkdir(p, 0755), 0);
	expect_load_error(path, "certs.d/b.conf", "not a regular file (directory)");
	assert_int_equal(rmdir(p), 0);

	/* The main file itself. */
	snprintf(q, sizeof(q), "%s/main-fifo.conf", dir);
	assert_int_equal(mkfifo(q, 0644), 0);
	expect_load_error(q, "main-fifo.conf", "not a regular file (fifo)");

	/* Files the configuration names, which curl or getdns would open with a
	 * blocking open(). */
	snprintf(bundle, sizeof(bundle), "%s/fifo", dir);
	snprintf(p, sizeof(p), "[ca a]\ndirectory = https://x/d\nca_bundle = %s\n", bundle);
	write_file(path, p);
	expect_load_error(path, "persistd.conf", "[ca a] ca_bundle");
	expect_load_error(path, "persistd.conf", "not a regular file (fifo)");
	snprintf(p, sizeof(p), "[daemon]\ntrust_anchor = %s\n[ca a]\ndirectory = https://x/d\n"
			       "eab_kid = k\neab_hmac_file = /dev/null\n",
		 bundle);
	write_file(path, p);
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	assert_int_equal(config_load(path, &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 2);
	assert_non_null(strstr(errs.items[0].message, "trust_anchor"));
	assert_non_null(strstr(errs.items[0].message, "(fifo)"));
	assert_non_null(strstr(errs.items[1].message, "eab_hmac_file '/dev/null'"));
	assert_non_null(strstr(errs.items[1].message, "(character device)"));
	assert_int_equal(errs.items[1].line, 3);
	config_errors_done(&errs);

	/* A file that is missing is still the caller's business, as before. */
	write_file(path, "[ca a]\ndirectory = https://x/d\nca_bundle = /nonexistent/x.pem\n");
	assert_int_equal(config_load(path, &c, &errs), 0);
	config_free(c);
	alarm(0);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

static void test_shipped_examples(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	const char *root = getenv("PERSISTD_TESTDATA");
	char path[4096];

	/* tests/data/../../etc/persistd.conf, with certs.d next to it */
	snprintf(path, sizeof(path), "%s/../../etc/persistd.conf", root ? root : "tests/data");
	int r = config_load(path, &c, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_error("%s:%u: %s\n", errs.items[i].file, errs.items[i].line,
			    errs.items[i].message);
	assert_int_equal(r, 0);
	/* certs.d/ ships only example.conf.sample, which is not live. */
	assert_int_equal(c->n_certs, 0);
	config_free(c);

	/* The sample is valid once copied to a NAME.conf: the main file and
	 * the sample, read as one. */
	char *main_text = NULL, *sample = NULL, *both = NULL;
	size_t main_len, sample_len;
	assert_int_equal(file_read_bounded(path, 1 << 20, &main_text, &main_len), 0);
	snprintf(path, sizeof(path), "%s/../../etc/certs.d/example.conf.sample",
		 root ? root : "tests/data");
	assert_int_equal(file_read_bounded(path, 1 << 20, &sample, &sample_len), 0);
	assert_true(asprintf(&both, "%s\n%s", main_text, sample) > 0);
	c = parse(both, &errs, &r);
	for (size_t i = 0; i < errs.n; i++)
		print_error("%s:%u: %s\n", errs.items[i].file, errs.items[i].line,
			    errs.items[i].message);
	assert_int_equal(r, 0);
	assert_int_equal(c->n_certs, 1);
	config_free(c);
	free(main_text);
	free(sample);
	free(both);
}

static bool has_error(const struct config_errors *errs, unsigned line, const char *part)
{
	for (size_t i = 0; i < errs->n; i++)
		if (errs->items[i].line == line && strstr(errs->items[i].message, part))
			return true;
	for (size_t i = 0; i < errs->n; i++)
		print_error("  got %s:%u: %s\n", errs->items[i].file, errs->items[i].line,
			    errs->items[i].message);
	return false;
}

/* What persistd -t finds beyond the syntax: missing or unreadable files,
 * hooks that are not executable, a persist_until already past. */
static void test_check_runtime(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-runtime-XXXXXX";
	char text[2048], bundle[300], hmac[300], hook[300], p[400];
	struct config_errors errs = { 0 };
	int r;

	assert_non_null(mkdtemp(dir));
	snprintf(bundle, sizeof(bundle), "%s/bundle.pem", dir);
	snprintf(hmac, sizeof(hmac), "%s/eab.key", dir);
	snprintf(hook, sizeof(hook), "%s/hook", dir);
	write_file(bundle, "x");
	write_file(hmac, "x");
	write_file(hook, "#!/bin/sh\n");
	assert_int_equal(chmod(hook, 0755), 0);
	snprintf(text, sizeof(text),
		 "[daemon]\n"                          /* 1 */
		 "trust_anchor = %s/anchor.key\n"      /* 2: missing */
		 "[ca a]\n"                            /* 3 */
		 "directory = https://x/d\n"           /* 4 */
		 "ca_bundle = %s\n"                    /* 5 */
		 "eab_kid = k\n"                       /* 6 */
		 "eab_hmac_file = %s\n"                /* 7 */
		 "[cert w]\n"                          /* 8 */
		 "names = w.example\n"                 /* 9 */
		 "deploy_hook = %s\n"                  /* 10 */
		 "persist_until = 2027-06-01\n",       /* 11 */
		 dir, bundle, hmac, hook);
	struct config *c = parse(text, &errs, &r);
	assert_int_equal(r, 0);
	int64_t before = 1811808000 - 1; /* 2027-06-01T00:00:00Z - 1 s */

	/* Only the trust anchor is missing. */
	assert_int_equal(config_check_runtime(c, before, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_true(has_error(&errs, 2, "trust_anchor"));
	assert_string_equal(errs.items[0].file, "test.conf");
	config_errors_done(&errs);
	snprintf(p, sizeof(p), "%s/anchor.key", dir);
	write_file(p, "x");
	assert_int_equal(config_check_runtime(c, before, &errs), 0);
	assert_int_equal(errs.n, 0);

	/* persist_until at or after now: in the past. */
	assert_int_equal(config_check_runtime(c, before + 1, &errs), -EINVAL);
	assert_true(has_error(&errs, 11, "persist_until 2027-06-01T00:00:00Z is in the past"));
	config_errors_done(&errs);

	/* A hook that is not executable, a bundle that is a directory, a
	 * missing HMAC file. */
	assert_int_equal(chmod(hook, 0644), 0);
	unlink(bundle);
	assert_int_equal(mkdir(bundle, 0755), 0);
	unlink(hmac);
	assert_int_equal(config_check_runtime(c, before, &errs), -EINVAL);
	assert_int_equal(errs.n, 3);
	assert_true(has_error(&errs, 10, "deploy_hook"));
	assert_true(has_error(&errs, 10, "not executable"));
	assert_true(has_error(&errs, 5, "not a regular file"));
	assert_true(has_error(&errs, 7, "No such file"));
	config_errors_done(&errs);
	config_free(c);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* 20,000 drop-ins, as a host with that many certs has: every section is
 * found through the parser's map, the duplicate check across files still
 * names the first definition, and the lookups cost a few probes each
 * whatever the count (they were a linear search per section, so O(n^2) per
 * start; counted here, not timed). */
static void test_many_dropins(void **state)
{
	(void)state;
	struct config_errors errs = { 0 };
	struct config *c = config_new();
	char text[128], file[32];

	assert_non_null(c);
	const char *main_text = "[ca le]\ndirectory = https://x.test/d\n";
	assert_int_equal(config_parse_text(c, "main.conf", main_text, strlen(main_text), true,
					   &errs), 0);
	for (int i = 0; i < 20000; i++) {
		snprintf(file, sizeof(file), "c%05d.conf", i);
		snprintf(text, sizeof(text), "[cert c%05d]\nnames = n%05d.example.com\n", i, i);
		assert_int_equal(config_parse_text(c, file, text, strlen(text), false, &errs), 0);
	}
	assert_int_equal(c->n_certs, 20000);
	uint64_t probes = c->cert_map.probes;
	for (int i = 0; i < 20000; i++) {
		snprintf(text, sizeof(text), "c%05d", i);
		const struct config_cert *cert = config_find_cert(c, text);
		assert_non_null(cert);
		assert_string_equal(cert->name, text);
	}
	assert_true((c->cert_map.probes - probes) / 20000 < 4);
	assert_null(config_find_cert(c, "c20000"));
	const char *dup = "[cert c01234]\nnames = again.example.com\n";
	assert_int_equal(config_parse_text(c, "dup.conf", dup, strlen(dup), false, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.items[0].message, "duplicate [cert c01234]: first defined at "
						       "c01234.conf:1"));
	assert_int_equal(c->n_certs, 20000);
	/* config_finish() counts only its own errors: the certs are fine. */
	assert_int_equal(config_finish(c, &errs), 0);
	config_errors_done(&errs);
	config_free(c);
}

/* Past the count where drop-ins are read on threads ahead of the parser
 * (and past the read-ahead's ring): every cert in the listing's order, and
 * each bad file's error on that file, in the listing's order. */
static void test_dropins_read_ahead(void **state)
{
	(void)state;
	char dir[] = "/tmp/persistd-config-XXXXXX";
	char path[256], p[300], text[128];
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	enum { N = 1500 };

	alarm(60);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/persistd.conf", dir);
	write_file(path, "[ca a]\ndirectory = https://x/d\n");
	snprintf(p, sizeof(p), "%s/certs.d", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "%s/certs.d/c%04d.conf", dir, i);
		snprintf(text, sizeof(text), "[cert c%04d]\nnames = n%04d.example\n", i, i);
		write_file(p, text);
	}
	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_int_equal(c->n_certs, N);
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof(text), "c%04d", i);
		assert_string_equal(c->certs[i]->name, text);
		snprintf(text, sizeof(text), "n%04d.example", i);
		assert_string_equal(c->certs[i]->names[0], text);
	}
	config_free(c);
	c = NULL;

	/* A syntax error, a FIFO (never opened: its stat() comes first) and
	 * another error, far apart. */
	snprintf(p, sizeof(p), "%s/certs.d/c0003.conf", dir);
	write_file(p, "[cert c0003]\nnames = n0003.example\nbogus = 1\n");
	snprintf(p, sizeof(p), "%s/certs.d/c0700.conf", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkfifo(p, 0644), 0);
	snprintf(p, sizeof(p), "%s/certs.d/c1499.conf", dir);
	write_file(p, "[cert c1499]\n");
	assert_int_equal(config_load(path, &c, &errs), -EINVAL);
	assert_null(c);
	assert_int_equal(errs.n, 3);
	assert_non_null(strstr(errs.items[0].file, "c0003.conf"));
	assert_int_equal(errs.items[0].line, 3);
	assert_non_null(strstr(errs.items[1].file, "c0700.conf"));
	assert_non_null(strstr(errs.items[1].message, "not a regular file (fifo)"));
	assert_non_null(strstr(errs.items[2].file, "c1499.conf"));
	config_errors_done(&errs);
	alarm(0);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_trust_anchor_none),
		cmocka_unit_test(test_dnssec_trust_ad),
		cmocka_unit_test(test_max_orders_per_hour),
		cmocka_unit_test(test_served_and_archive_keep),
		cmocka_unit_test(test_record_grace),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_persist_refuses_dns_write),
		cmocka_unit_test(test_load_dropins),
		cmocka_unit_test(test_load_refuses_non_regular),
		cmocka_unit_test(test_shipped_examples),
		cmocka_unit_test(test_check_runtime),
		cmocka_unit_test(test_many_dropins),
		cmocka_unit_test(test_dropins_read_ahead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
