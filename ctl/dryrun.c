#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/strutil.h"
#include "ctl/dryrun.h"

#define EXIT_FAIL 1
/* A dry run waits for the CA's validation like a renewal does. */
#define DRY_RUN_TIMEOUT_MS (20 * 60 * 1000)

/* Continuation lines of a message, indented under the step. */
static void print_indented(FILE *f, const char *s)
{
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(f, "%s%.*s\n", p == s ? "" : "                  ", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* The daemon's answer for one cert's dry run in *ret, or an exit code (said already). */
static int call_dry_run(const struct remote_options *o, const char *name, yajl_val *ret)
{
	_cleanup_free_ char *params = NULL;

	if (json_object_1("name", name, &params) < 0)
		return EXIT_FAIL;
	return remotecall_call(o, "renew.dry_run", params, DRY_RUN_TIMEOUT_MS, ret, NULL);
}

/* Each step with ok or FAILED, then the verdict: 0 when every step passed. */
static int print_steps(const char *name, yajl_val v)
{
	bool ok = false;

	(void)json_get_bool(v, "ok", &ok);
	yajl_val steps = json_get_array(v, "steps");
	const char *failed = NULL;
	for (size_t i = 0; steps && i < steps->u.array.len; i++) {
		yajl_val s = steps->u.array.values[i];
		bool sok = false;
		const char *step = json_get_string(s, "step");
		const char *m = json_get_string(s, "message");
		(void)json_get_bool(s, "ok", &sok);
		printf("%-10s %-6s ", step ? step : "?", sok ? "ok" : "FAILED");
		print_indented(stdout, m ? m : "");
		if (!sok && !failed)
			failed = step;
	}
	if (ok) {
		printf("%s: dry run succeeded: a renewal would succeed (not finalized, nothing "
		       "installed)\n", name);
		return 0;
	}
	fprintf(stderr, "persistctl: renew %s --dry-run: the %s step failed\n", name,
		failed ? failed : "last");
	return EXIT_FAIL;
}

int ctl_renew_dry_run(const struct remote_options *o, const char *name)
{
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	bool ok = false;
	int r = call_dry_run(o, name, &v);

	if (r)
		return r;
	if (o->json) {
		(void)json_get_bool(v, "ok", &ok);
		r = remotecall_print_json(v);
		return r ? r : ok ? 0 : EXIT_FAIL;
	}
	return print_steps(name, v);
}

int ctl_renew_all_dry_run(const struct remote_options *o)
{
	_cleanup_(yajl_tree_freep) yajl_val certs = NULL;
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	bool all_ok = true;
	int r;

	if (!w)
		return EXIT_FAIL;
	r = remotecall_call(o, "certs.list", "{}", DRY_RUN_TIMEOUT_MS, &certs, NULL);
	if (r)
		return r;
	size_t n = YAJL_IS_ARRAY(certs) ? certs->u.array.len : 0;
	json_begin_object(w);
	json_key(w, "results");
	json_begin_array(w);
	/* One after another, as certbot does: each places a real order (max_orders_per_hour). */
	for (size_t i = 0; i < n; i++) {
		const char *name = json_get_string(certs->u.array.values[i], "name");
		_cleanup_(yajl_tree_freep) yajl_val v = NULL;
		bool ok = false;
		if (!name)
			continue;
		if (!o->json)
			printf("%s%s:\n", i ? "\n" : "", name);
		if (call_dry_run(o, name, &v) == 0) {
			if (o->json) {
				json_value(w, v);
				(void)json_get_bool(v, "ok", &ok);
			} else
				ok = print_steps(name, v) == 0;
		}
		all_ok = all_ok && ok;
	}
	json_end_array(w);
	json_kv_bool(w, "ok", all_ok);
	json_end_object(w);
	if (o->json) {
		const char *out;
		size_t len;
		if (json_writer_finish(w, &out, &len) < 0)
			return EXIT_FAIL;
		fwrite(out, 1, len, stdout);
		fputc('\n', stdout);
	} else if (n == 0)
		printf("no certs configured\n");
	return all_ok ? 0 : EXIT_FAIL;
}
