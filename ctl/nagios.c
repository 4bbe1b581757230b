/* ctl/nagios.c: see nagios.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/macro.h"
#include "ctl/nagios.h"
#include "ctl/rpc.h"

#define NAGIOS_TIMEOUT_MS (30 * 1000)

/* Free text before the '|': one line, and no '|' that would start perfdata. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' || *s == '|' ? ' ' : *s, f);
}

static void put_label(FILE *f, const char *name, const char *suffix)
{
	fputc('\'', f);
	for (const char *p = name; *p; p++) {
		if (*p == '\'')
			fputs("''", f);
		else if (*p == '=')
			fputc('_', f);
		else
			fputc(*p, f);
	}
	fprintf(f, "%s'=", suffix);
}

static void put_perf(FILE *f, const char *name, const char *suffix, yajl_val obj, int64_t warn,
		     int64_t crit)
{
	int64_t days;

	fputc(' ', f);
	put_label(f, name ? name : "?", suffix);
	if (json_get_int(obj, "days_left", &days))
		fprintf(f, "%" PRId64, days);
	else
		fputc('U', f);
	fprintf(f, ";%" PRId64 ";%" PRId64, warn, crit);
}

static int64_t count(yajl_val counts, const char *level)
{
	int64_t n = 0;
	(void)json_get_int(counts, level, &n);
	return n;
}

int nagios_format(yajl_val st, char **ret_line, enum level *ret_level)
{
	yajl_val certs = json_get_array(st, "cert_list");
	yajl_val counts = json_get_object(st, "counts");
	enum level worst = output_daemon_level(json_get_string(st, "level"));
	const char *problem_name = NULL, *problem = NULL;
	int64_t warn_s = 0, crit_s = 0, n_certs = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)json_get_int(st, "warn_before", &warn_s);
	(void)json_get_int(st, "critical_before", &crit_s);
	(void)json_get_int(st, "certs", &n_certs);
	/* The first problem, the worst first, so the line says what to look at. */
	for (int want = LEVEL_CRITICAL; want > LEVEL_OK && !problem; want--)
		for (size_t i = 0; certs && i < certs->u.array.len && !problem; i++) {
			yajl_val c = certs->u.array.values[i];
			yajl_val names = json_get_array(c, "names");
			if ((int)output_daemon_level(json_get_string(c, "cert_level")) == want) {
				problem_name = json_get_string(c, "name");
				problem = json_get_string(c, "cert_level_reason");
			}
			for (size_t k = 0; names && k < names->u.array.len && !problem; k++) {
				yajl_val n = names->u.array.values[k];
				if ((int)output_daemon_level(json_get_string(n, "level")) == want) {
					problem_name = json_get_string(n, "name");
					problem = json_get_string(n, "level_reason");
				}
			}
		}
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "PERSISTD %s - %" PRId64 " certs, %" PRId64 " warning, %" PRId64
		   " critical, %" PRId64 " error",
		level_to_string(worst), n_certs, count(counts, "WARNING"), count(counts, "CRITICAL"),
		count(counts, "ERROR"));
	if (worst != LEVEL_OK && problem) {
		fputs(": ", f);
		put_text(f, problem_name ? problem_name : "?");
		fputs(": ", f);
		put_text(f, problem);
	}
	fputs(" |", f);
	for (size_t i = 0; certs && i < certs->u.array.len; i++) {
		yajl_val c = certs->u.array.values[i];
		put_perf(f, json_get_string(c, "name"), "_cert_days", c, warn_s / 86400,
			 crit_s / 86400);
	}
	for (size_t i = 0; certs && i < certs->u.array.len; i++) {
		yajl_val names = json_get_array(certs->u.array.values[i], "names");
		for (size_t k = 0; names && k < names->u.array.len; k++) {
			yajl_val n = names->u.array.values[k];
			put_perf(f, json_get_string(n, "name"), "_record_days", n, warn_s / 86400,
				 crit_s / 86400);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret_line = buf;
	*ret_level = worst;
	return 0;
}

int nagios_status(const char *socket)
{
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	_cleanup_free_ char *line = NULL;
	struct rpc_error err = { 0 };
	enum level level;
	int r;

	r = rpc_connect(socket, NAGIOS_TIMEOUT_MS, &c);
	if (r == 0) {
		r = rpc_call(c, "status", NULL, &v, &err);
		if (r == 1) {
			printf("PERSISTD UNKNOWN - status: %s\n", err.message ? err.message : "error");
			rpc_error_done(&err);
			return level_exit_code(LEVEL_UNKNOWN);
		}
	}
	if (r < 0) {
		printf("PERSISTD UNKNOWN - cannot reach persistd at %s: %s\n", socket,
		       strerror(-r));
		return level_exit_code(LEVEL_UNKNOWN);
	}
	if (!v || !YAJL_IS_OBJECT(v) || nagios_format(v, &line, &level) < 0) {
		printf("PERSISTD UNKNOWN - unexpected status answer\n");
		return level_exit_code(LEVEL_UNKNOWN);
	}
	printf("%s\n", line);
	return level_exit_code(level);
}
