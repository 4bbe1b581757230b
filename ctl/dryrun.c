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

int ctl_renew_dry_run(const struct remote_options *o, const char *name)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	const char *params;
	size_t len;
	bool ok = false;
	int r;

	if (!w)
		return EXIT_FAIL;
	json_begin_object(w);
	json_kv_string(w, "name", name);
	json_end_object(w);
	if (json_writer_finish(w, &params, &len) < 0)
		return EXIT_FAIL;
	r = remotecall_call(o, "renew.dry_run", params, DRY_RUN_TIMEOUT_MS, &v, NULL);
	if (r)
		return r;
	(void)json_get_bool(v, "ok", &ok);
	if (o->json) {
		r = remotecall_print_json(v);
		return r ? r : ok ? 0 : EXIT_FAIL;
	}
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
