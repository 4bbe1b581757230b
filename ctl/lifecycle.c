/* ctl/lifecycle.c: see lifecycle.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/jrpc.h"
#include "common/limits.h"
#include "common/json.h"
#include "common/strutil.h"
#include "ctl/dropin.h"
#include "ctl/lifecycle.h"
#include "ctl/output.h"
#include "ctl/remote.h"
#include "ctl/rpc.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3
#define REVOKE_TIMEOUT_MS (5 * 60 * 1000)
#define MAX_NAMES 100

static int usage_error(const struct remote_options *o, const char *usage, const char *cmd,
		       const char *what)
{
	fputs(usage, stderr);
	remotecall_error(o, EXIT_USAGE, 0, "%s: usage error: %s", cmd, what);
	return EXIT_USAGE;
}

/* Is a daemon listening? A missing socket or nobody behind it is "not
 * running", which add and remove accept; anything else (no permission, a
 * hung daemon) is not. */
static bool daemon_running(const struct remote_options *o)
{
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	int r = rpc_connect(o->socket, REMOTECALL_TIMEOUT_MS, &c);

	return !(r == -ENOENT || r == -ECONNREFUSED);
}

/* One call whose error is printed with the command's name in front; the
 * daemon's invalid-params answer is a usage error (2). */
/* ---- add ---- */

static int add_reload(const struct remote_options *o, const char *file, bool *ret_reloaded)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	struct rpc_error err = { 0 };

	*ret_reloaded = false;
	if (!daemon_running(o))
		return 0;
	int r = remotecall_call(o, "reload", NULL, REMOTECALL_TIMEOUT_MS, &v, &err);
	if (r == EXIT_FAIL) {
		/* The same parser passed it: the daemon refusing it means something
		 * changed under us. Take the file back so its next start is not
		 * refused too. */
		(void)unlink(file);
		remotecall_error(o, EXIT_FAIL, err.code,
				 "add: the daemon refused the new configuration: %s; %s removed "
				 "again",
				 err.message ? err.message : "no reason given", file);
	} else if (r && err.message) {
		remotecall_error(o, r, err.code, "add: reload: %s (%s stays; run persistctl "
						 "reload as root or a member of the admin group)",
				 err.message, file);
	}
	rpc_error_done(&err);
	*ret_reloaded = r == 0;
	return r;
}

/* add --json: one object; records null when the daemon did not reload. */
static int print_added(const char *name, const char *file, bool reloaded, yajl_val recs)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(true);
	const char *out;
	size_t len;

	if (!w)
		return EXIT_FAIL;
	json_begin_object(w);
	json_kv_string(w, "cert", name);
	json_kv_string(w, "file", file);
	json_kv_bool(w, "reloaded", reloaded);
	json_key(w, "records");
	if (recs)
		json_value(w, recs);
	else
		json_null(w);
	json_end_object(w);
	if (json_writer_finish(w, &out, &len) < 0)
		return EXIT_FAIL;
	fwrite(out, 1, len, stdout);
	return 0;
}

int ctl_add(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl add NAME --ca CA --name FQDN [--name FQDN...]\n"
		"                      [--key-type T] [--persist-until DATE] [--deploy-hook PATH]\n"
		"Writes certs.d/NAME.conf beside the daemon's configuration, checked with the\n"
		"same parser as persistd -t, reloads the daemon and prints the records to publish.\n";
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'C' },
		{ "name", required_argument, NULL, 'n' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "persist-until", required_argument, NULL, 'u' },
		{ "deploy-hook", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct remote_options opt = *o;
	const char *names[MAX_NAMES];
	struct dropin_cert d = { .names = names };
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (c == 'C')
			d.ca = optarg;
		else if (c == 'n' && d.n_names < MAX_NAMES)
			names[d.n_names++] = optarg;
		else if (c == 'n')
			return usage_error(&opt, usage, "add", "more than 100 --name");
		else if (c == 'k')
			d.key_type = optarg;
		else if (c == 'u')
			d.persist_until = optarg;
		else if (c == 'H')
			d.deploy_hook = optarg;
		else if (c == 'j')
			opt.json = true;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else
			return usage_error(&opt, usage, "add", "unknown option or missing value");
	}
	if (argc - optind != 1)
		return usage_error(&opt, usage, "add", "expected one NAME");
	if (!d.ca || d.n_names == 0)
		return usage_error(&opt, usage, "add", "--ca and at least one --name are needed");
	d.name = argv[optind];

	_cleanup_free_ char *config_path = NULL, *file = NULL, *text = NULL;
	_cleanup_(config_freep) struct config *cfg = NULL;
	if ((r = dropin_render(&opt, &d, &text)))
		return r;
	if ((r = dropin_config_path(&opt, &config_path)) ||
	    (r = dropin_load(&opt, config_path, "add", &cfg)))
		return r;
	if (dropin_path(config_path, d.name, &file) < 0)
		return EXIT_FAIL;
	const struct config_cert *old = config_find_cert(cfg, d.name);
	if (old) {
		remotecall_error(&opt, EXIT_USAGE, 0,
				 "add: cert '%s' exists already (%s:%u): remove it first "
				 "(persistctl remove %s), or edit that file",
				 d.name, old->file, old->line, d.name);
		return EXIT_USAGE;
	}
	if (access(file, F_OK) == 0) {
		remotecall_error(&opt, EXIT_USAGE, 0, "add: %s exists already; it is not mine to "
						      "replace",
				 file);
		return EXIT_USAGE;
	}
	if (!config_find_ca(cfg, d.ca)) {
		char known[400] = "";
		for (size_t i = 0; i < cfg->n_cas; i++)
			str_printf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				   i ? ", " : "", cfg->cas[i]->name);
		remotecall_error(&opt, EXIT_USAGE, 0,
				 "add: unknown CA '%s': %s has %s%s", d.ca, config_path,
				 cfg->n_cas ? "[ca] sections for " : "no [ca] section",
				 known);
		return EXIT_USAGE;
	}
	if ((r = dropin_validate(&opt, config_path, file, text)) ||
	    (r = dropin_write(&opt, file, text)))
		return r;

	bool reloaded;
	r = add_reload(&opt, file, &reloaded);
	if (r)
		return r;
	if (!reloaded) {
		if (opt.json)
			print_added(d.name, file, false, NULL);
		else
			printf("added cert '%s': %s\n", d.name, file);
		fprintf(stderr, "persistctl: persistd is not running (nothing at %s): the cert "
				"applies when it starts; then 'persistctl record %s' prints the "
				"records to publish\n",
			opt.socket, d.name);
		return 0;
	}
	if (!opt.json) {
		printf("added cert '%s': %s; persistd reloaded.\n"
		       "Publish these records once; the daemon then orders the certificate:\n",
		       d.name, file);
		fflush(stdout);
		char *rec_argv[] = { (char *)"record", (char *)d.name, NULL };
		return ctl_record_remote(&opt, 2, rec_argv);
	}
	_cleanup_free_ char *params = NULL;
	_cleanup_(yajl_tree_freep) yajl_val recs = NULL;
	if (json_object_1("name", d.name, &params) < 0)
		return EXIT_FAIL;
	r = remotecall_run(&opt, "add", "records.generate", params, REMOTECALL_TIMEOUT_MS, &recs);
	return r ? r : print_added(d.name, file, true, recs);
}

/* ---- remove ---- */

struct remove_result {
	bool revoked, removed, reloaded, purged;
	const char *note;
};

static int remove_revoke(const struct remote_options *o, const char *name, const char *reason)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	const char *params;
	size_t len;

	if (!w)
		return EXIT_FAIL;
	json_begin_object(w);
	json_kv_string(w, "name", name);
	json_kv_string(w, "reason", reason);
	json_kv_bool(w, "replace", false); /* it is going away */
	json_end_object(w);
	if (json_writer_finish(w, &params, &len) < 0)
		return EXIT_FAIL;
	int r = remotecall_run(o, "remove --revoke", "revoke", params, REVOKE_TIMEOUT_MS, &v);
	if (r)
		return r;
	if (!o->json)
		printf("revoked the certificate of '%s' (serial %s)\n", name,
		       str_or(v, "serial", "?"));
	return 0;
}

/* The drop-in goes, the daemon reloads without it; on a refused reload the
 * file comes back, so that the configuration on disk stays what runs. */
static int remove_dropin(const struct remote_options *o, const char *file,
			 struct remove_result *res)
{
	_cleanup_free_ char *text = NULL, *dir = strdup(file);
	size_t len;
	int r = file_read_bounded(file, CONFIG_MAX_BYTES, &text, &len);

	if (r < 0 || !dir) {
		remotecall_error(o, EXIT_FAIL, 0, "remove: cannot read %s: %s", file,
				 strerror(r < 0 ? -r : ENOMEM));
		return EXIT_FAIL;
	}
	if (unlink(file) < 0) {
		remotecall_error(o, EXIT_FAIL, 0, "remove: cannot delete %s: %m", file);
		return EXIT_FAIL;
	}
	*strrchr(dir, '/') = 0;
	(void)dir_fsync(dir);
	res->removed = true;
	if (!daemon_running(o)) {
		res->note = "persistd is not running: it starts without the cert";
		return 0;
	}
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	struct rpc_error err = { 0 };
	r = remotecall_call(o, "reload", NULL, REMOTECALL_TIMEOUT_MS, &v, &err);
	if (r == EXIT_FAIL) {
		(void)file_write_atomic(file, text, len, 0644);
		res->removed = false;
		remotecall_error(o, r, err.code, "remove: the daemon refused the configuration "
						 "without it: %s; %s restored",
				 err.message ? err.message : "no reason given", file);
	} else if (r && err.message) {
		remotecall_error(o, r, err.code, "remove: reload: %s", err.message);
	}
	rpc_error_done(&err);
	res->reloaded = r == 0;
	return r;
}

static int remove_purge(const struct remote_options *o, const char *name, const char *files,
			struct remove_result *res)
{
	_cleanup_free_ char *params = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	struct rpc_error err = { 0 };

	if (!daemon_running(o)) {
		remotecall_error(o, EXIT_FAIL, 0,
				 "remove --purge: persistd is not running, and it owns %s: start it "
				 "and run 'persistctl remove %s --purge --yes' again",
				 files, name);
		return EXIT_FAIL;
	}
	if (json_object_1("name", name, &params) < 0)
		return EXIT_FAIL;
	int r = remotecall_call(o, "certs.purge", params, REMOTECALL_TIMEOUT_MS, &v, &err);
	if (r && err.code == JRPC_NOT_FOUND) {
		res->note = "nothing was stored for it";
		r = 0;
	} else if (r && err.message) {
		remotecall_error(o, r, err.code, "remove --purge: %s", err.message);
	} else if (r == 0) {
		res->purged = true;
	}
	rpc_error_done(&err);
	return r;
}

static void remove_print(const struct remote_options *o, const char *name, const char *file,
			 const char *files, const struct remove_result *res)
{
	if (o->json) {
		_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(true);
		const char *out;
		size_t len;
		if (!w)
			return;
		json_begin_object(w);
		json_kv_string(w, "cert", name);
		json_kv_string(w, "file", res->removed ? file : NULL);
		json_kv_bool(w, "revoked", res->revoked);
		json_kv_bool(w, "reloaded", res->reloaded);
		json_kv_bool(w, "purged", res->purged);
		json_kv_string(w, "files", files);
		json_kv_string(w, "note", res->note);
		json_end_object(w);
		if (json_writer_finish(w, &out, &len) == 0)
			fwrite(out, 1, len, stdout);
		return;
	}
	if (res->removed)
		printf("removed cert '%s': %s deleted%s\n", name, file,
		       res->reloaded ? "; persistd reloaded" : "");
	if (res->purged)
		printf("deleted its files: %s\n", files);
	else if (!res->note || res->removed)
		printf("its files stay in %s (delete them with: persistctl remove %s --purge "
		       "--yes)\n",
		       files, name);
	if (res->note)
		printf("note: %s\n", res->note);
}

int ctl_remove(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl remove NAME [--revoke [--reason R]] [--purge] --yes\n"
		"Deletes certs.d/NAME.conf and reloads; the daemon stops renewing the cert.\n"
		"  --revoke    revoke its certificate first (needs --yes)\n"
		"  --purge     delete its certificates and keys too (needs --yes); without it\n"
		"              they stay, and the command says where\n";
	static const struct option opts[] = {
		{ "revoke", no_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ "purge", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct remote_options opt = *o;
	bool yes = remotecall_take_yes(&argc, argv), revoke = false, purge = false;
	const char *reason = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (c == 'r')
			revoke = true;
		else if (c == 'R')
			reason = optarg;
		else if (c == 'p')
			purge = true;
		else if (c == 'j')
			opt.json = true;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else
			return usage_error(&opt, usage, "remove", "unknown option or missing value");
	}
	if (argc - optind != 1)
		return usage_error(&opt, usage, "remove", "expected one NAME");
	if (reason && !revoke)
		return usage_error(&opt, usage, "remove", "--reason goes with --revoke");
	if ((revoke || purge) &&
	    (r = remotecall_confirm(&opt, purge ? "remove --purge" : "remove --revoke", yes)))
		return r;
	const char *name = argv[optind];
	_cleanup_free_ char *config_path = NULL, *file = NULL, *files = NULL;
	_cleanup_(config_freep) struct config *cfg = NULL;
	if ((r = dropin_config_path(&opt, &config_path)) ||
	    (r = dropin_load(&opt, config_path, "remove", &cfg)))
		return r;
	if (dropin_path(config_path, name, &file) < 0 ||
	    asprintf(&files, "%s/certs/%s", cfg->daemon.state_dir, name) < 0)
		return EXIT_FAIL;
	const struct config_cert *cert = config_find_cert(cfg, name);
	struct remove_result res = { 0 };
	if (!cert && !purge) {
		remotecall_error(&opt, EXIT_USAGE, 0, "remove: no cert named '%s' in %s or its "
						      "certs.d",
				 name, config_path);
		return EXIT_USAGE;
	}
	if (cert && !streq(cert->file, file)) {
		remotecall_error(&opt, EXIT_USAGE, 0,
				 "remove: cert '%s' is defined at %s:%u, not in a drop-in of its "
				 "own (%s): delete its [cert %s] section there by hand, then run "
				 "persistctl reload",
				 name, cert->file, cert->line, file, name);
		return EXIT_USAGE;
	}
	for (size_t i = 0; cert && i < cfg->n_certs; i++)
		if (cfg->certs[i] != cert && streq(cfg->certs[i]->file, file)) {
			remotecall_error(&opt, EXIT_USAGE, 0,
					 "remove: %s also defines [cert %s] (line %u): delete the "
					 "[cert %s] section (line %u) by hand, then run persistctl "
					 "reload",
					 file, cfg->certs[i]->name, cfg->certs[i]->line, name,
					 cert->line);
			return EXIT_USAGE;
		}
	if (cert && revoke) {
		if ((r = remove_revoke(&opt, name, reason)))
			return r;
		res.revoked = true;
	}
	if (cert && (r = remove_dropin(&opt, file, &res)))
		return r;
	if (purge && (r = remove_purge(&opt, name, files, &res)))
		return r;
	remove_print(&opt, name, file, files, &res);
	return 0;
}

/* ---- revoke ---- */

int ctl_revoke(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl revoke NAME [--reason R] --yes\n"
		"Revokes the cert's current certificate at its CA, through the daemon, which\n"
		"then orders a replacement. R: unspecified, keyCompromise, affiliationChanged,\n"
		"superseded, cessationOfOperation (or another RFC 5280 reason, or its number).\n";
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct remote_options opt = *o;
	bool yes = remotecall_take_yes(&argc, argv);
	const char *reason = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (c == 'R')
			reason = optarg;
		else if (c == 'j')
			opt.json = true;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else
			return usage_error(&opt, usage, "revoke", "unknown option or missing value");
	}
	if (argc - optind != 1)
		return usage_error(&opt, usage, "revoke", "expected one NAME");
	if ((r = remotecall_confirm(&opt, "revoke", yes)))
		return r;
	const char *name = argv[optind];
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	const char *params;
	size_t len;
	if (!w)
		return EXIT_FAIL;
	json_begin_object(w);
	json_kv_string(w, "name", name);
	json_kv_string(w, "reason", reason);
	json_end_object(w);
	if (json_writer_finish(w, &params, &len) < 0)
		return EXIT_FAIL;
	r = remotecall_run(&opt, "revoke", "revoke", params, REVOKE_TIMEOUT_MS, &v);
	if (r)
		return r;
	if (opt.json)
		return remotecall_print_json(v);
	bool replacing = false;
	(void)json_get_bool(v, "replacing", &replacing);
	printf("%s: certificate %s revoked (reason %s)%s\n", name, str_or(v, "serial", "?"),
	       str_or(v, "reason", "not given"),
	       replacing ? "; persistd is ordering a replacement (persistctl status shows it)"
			 : "");
	return 0;
}
