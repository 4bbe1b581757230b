/* ctl/renew.c: see renew.h. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "ctl/dryrun.h"
#include "ctl/output.h"
#include "ctl/renew.h"
#include "ctl/rpc.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
/* A renewal waits for the CA's validation and finalize. */
#define RENEW_TIMEOUT_MS (20 * 60 * 1000)

/* --all: the daemon's renew.all, one line a cert. */
static int renew_all(const struct remote_options *o, bool force, bool dry_run)
{
	if (dry_run) /* due or not, like one cert's (ctl/dryrun) */
		return ctl_renew_all_dry_run(o);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	int r = remotecall_run(o, "renew --all", "renew.all",
			       force ? "{\"force\":true}" : "{}", RENEW_TIMEOUT_MS, &v);
	if (r)
		return r;
	bool ok = false;
	(void)json_get_bool(v, "ok", &ok);
	if (o->json) {
		r = remotecall_print_json(v);
		return r ? r : ok ? 0 : EXIT_FAIL;
	}
	yajl_val results = json_get_array(v, "results");
	for (size_t i = 0; results && i < results->u.array.len; i++) {
		yajl_val one = results->u.array.values[i];
		bool good = false, deploy_failed = false;
		(void)json_get_bool(one, "ok", &good);
		(void)json_get_bool(one, "deploy_failed", &deploy_failed);
		FILE *f = good ? stdout : stderr;
		fprintf(f, "%s%s: %s%s\n", good ? "" : "persistctl: renew ",
			str_or(one, "cert", "?"), str_or(one, "message", good ? "done" : "failed"),
			deploy_failed ? " (installed, but the deploy hook failed)" : "");
	}
	if (!results || results->u.array.len == 0)
		printf("no certs configured\n");
	return ok ? 0 : EXIT_FAIL;
}

int ctl_renew(const struct remote_options *o, int argc, char **argv)
{
	static const char usage[] =
		"Usage: persistctl renew NAME [--force] [--dry-run] [--json]\n"
		"       persistctl renew --all [--force] [--dry-run] [--json]\n"
		"Renews now if due (or with --force) and waits for the outcome; --all: every\n"
		"cert that is due (every cert with --force), side by side, exit 0 when each was\n"
		"renewed or is not due, else 1.\n"
		"--dry-run: every step up to finalize; nothing is installed (--all: each cert's,\n"
		"one after another).\n";
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct remote_options opt = *o;
	bool all = false, force = false, dry_run = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) >= 0) {
		if (c == 'a')
			all = true;
		else if (c == 'f')
			force = true;
		else if (c == 'n')
			dry_run = true;
		else if (c == 'j')
			opt.json = true;
		else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (all) {
		if (argc - optind == 0)
			return renew_all(&opt, force, dry_run);
		fputs(usage, stderr);
		remotecall_error(&opt, EXIT_USAGE, 0, "renew: usage error: --all takes no NAME");
		return EXIT_USAGE;
	}
	if (argc - optind != 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (dry_run) /* due or not: it proves a renewal would work (ctl/dryrun) */
		return ctl_renew_dry_run(&opt, argv[optind]);
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *params;
	size_t len;
	if (!w)
		return EXIT_FAIL;
	json_begin_object(w);
	json_kv_string(w, "name", argv[optind]);
	json_kv_bool(w, "force", force);
	json_end_object(w);
	if (json_writer_finish(w, &params, &len) < 0)
		return EXIT_FAIL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	struct rpc_error err = { 0 };
	int r = remotecall_call(&opt, "renew", params, RENEW_TIMEOUT_MS, &v, &err);
	if (r == EXIT_FAIL || (r == EXIT_USAGE && err.message)) {
		remotecall_error(&opt, r, err.code, "renew %s: %s", argv[optind], err.message);
		yajl_val data = NULL;
		if (err.data_json && json_parse(err.data_json, strlen(err.data_json), 1 << 20, &data,
						NULL, 0) == 0) {
			const char *recs = json_get_string(data, "records_to_publish");
			if (recs && !strstr(err.message, recs))
				fprintf(stderr, "persistctl: publish this record, then renew again:\n  %s\n",
					recs);
			yajl_tree_free(data);
		}
		rpc_error_done(&err);
		return r;
	}
	if (r)
		return r;
	/* Installed but not deployed is a failure the operator must see. */
	yajl_val deploy = json_get_object(v, "deploy");
	bool deploy_ok = true;
	if (deploy)
		(void)json_get_bool(deploy, "ok", &deploy_ok);
	if (opt.json) {
		r = remotecall_print_json(v);
		return r ? r : deploy_ok ? 0 : EXIT_FAIL;
	}
	printf("%s: %s\n", argv[optind], str_or(v, "message", "done"));
	if (!deploy_ok) {
		fprintf(stderr, "persistctl: renew %s: the certificate was installed, but the deploy "
				"hook failed: %s\n",
			argv[optind], str_or(deploy, "error", "(no details)"));
		return EXIT_FAIL;
	}
	return 0;
}
