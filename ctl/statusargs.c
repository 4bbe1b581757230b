/* ctl/statusargs.c: see statusargs.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "ctl/statusargs.h"

static int parse_count(const char *opt, const char *s, uint64_t *ret, char *msg, size_t size)
{
	char *end;

	errno = 0;
	unsigned long long v = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
	if (!s || !*s || *s < '0' || *s > '9' || errno || *end || v > INT64_MAX) {
		str_printf(msg, size, "%s expects a number of certs, not '%s'", opt, s ? s : "");
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* --opt VALUE or --opt=VALUE at argv[*i]: the value, or NULL when this is
 * not the option; *i moves past what was used. */
static const char *take_value(int argc, char **argv, int *i, const char *opt, bool *matched)
{
	size_t l = strlen(opt);

	*matched = false;
	if (strncmp(argv[*i], opt, l) != 0)
		return NULL;
	if (argv[*i][l] == '=') {
		*matched = true;
		return argv[*i] + l + 1;
	}
	if (argv[*i][l] != '\0')
		return NULL;
	*matched = true;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int statusargs_take(int *argc, char **argv, struct statusargs *ret, char *msg, size_t msg_size)
{
	struct statusargs a = { 0 };
	bool rest = false, m;
	int n = 0, r;

	for (int i = 0; i < *argc; i++) {
		if (i == 0 || rest) {
			argv[n++] = argv[i];
			continue;
		}
		if (streq(argv[i], "--")) {
			rest = true;
			argv[n++] = argv[i];
			continue;
		}
		if (streq(argv[i], "--summary")) {
			a.summary = true;
			continue;
		}
		const char *v = take_value(*argc, argv, &i, "--limit", &m);
		if (m) {
			r = parse_count("--limit", v, &a.limit, msg, msg_size);
			if (r < 0)
				return r;
			a.has_limit = true;
			continue;
		}
		v = take_value(*argc, argv, &i, "--offset", &m);
		if (m) {
			r = parse_count("--offset", v, &a.offset, msg, msg_size);
			if (r < 0)
				return r;
			a.has_offset = true;
			continue;
		}
		v = take_value(*argc, argv, &i, "--cert", &m);
		if (m) {
			if (!v || !*v) {
				str_printf(msg, msg_size, "--cert expects the name of a cert");
				return -EINVAL;
			}
			a.cert = v;
			continue;
		}
		argv[n++] = argv[i];
	}
	if (a.cert && (a.has_limit || a.has_offset || a.summary)) {
		str_printf(msg, msg_size, "--cert shows one cert: it goes with none of --summary, "
					  "--limit and --offset");
		return -EINVAL;
	}
	*argc = n;
	argv[n] = NULL;
	*ret = a;
	return 0;
}

int statusargs_params(const struct statusargs *a, bool json_output, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;
	bool paged = a->has_limit || a->has_offset;

	*ret = NULL;
	if (!a->summary && !a->cert && !paged && json_output)
		return 0;
	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	if (a->summary)
		json_kv_bool(w, "summary", true);
	if (a->cert)
		json_kv_string(w, "cert", a->cert);
	if (!a->summary && !a->cert) {
		json_kv_int(w, "limit",
			    a->has_limit ? (int64_t)a->limit : STATUSARGS_DEFAULT_LIMIT);
		json_kv_int(w, "offset", (int64_t)a->offset);
	}
	json_end_object(w);
	if (json_writer_finish(w, &out, &len) < 0)
		return -ENOMEM;
	*ret = strndup(out, len);
	return *ret ? 0 : -ENOMEM;
}

void statusargs_print_page_note(FILE *f, yajl_val status)
{
	yajl_val page = json_get_object(status, "page");
	int64_t offset = 0, returned = 0, total = 0, next = 0;

	if (!page || !json_get_int(page, "offset", &offset) ||
	    !json_get_int(page, "returned", &returned) || !json_get_int(page, "total", &total))
		return;
	if (offset == 0 && returned == total)
		return;
	if (returned > 0)
		fprintf(f, "\ncerts %" PRId64 "-%" PRId64 " of %" PRId64 " shown.", offset + 1,
			offset + returned, total);
	else
		fprintf(f, "\nno certs shown (%" PRId64 " in all).", total);
	if (json_get_int(page, "next_offset", &next))
		fprintf(f, " Next page: persistctl status --offset %" PRId64 "; more at once: "
			   "--limit N;", next);
	fprintf(f, " one cert: --cert NAME; counts and the worst only: --summary.\n");
}

void statusargs_print_summary(FILE *f, yajl_val status)
{
	yajl_val worst = json_get_array(status, "worst");
	int64_t t;
	char iso[40];

	if (json_get_int(status, "next_check", &t) && t > 0) {
		time_format_iso(t, iso, sizeof(iso));
		const char *c = json_get_string(status, "next_check_cert");
		fprintf(f, "next record check: %s (%s)\n", iso, c ? c : "?");
	}
	if (json_get_int(status, "next_renewal", &t) && t > 0) {
		time_format_iso(t, iso, sizeof(iso));
		const char *c = json_get_string(status, "next_renewal_cert");
		fprintf(f, "next renewal:      %s (%s)\n", iso, c ? c : "?");
	}
	if (!worst || worst->u.array.len == 0) {
		fprintf(f, "every cert is OK\n");
		return;
	}
	fprintf(f, "the worst certs:\n");
	for (size_t i = 0; i < worst->u.array.len; i++) {
		yajl_val c = worst->u.array.values[i];
		const char *name = json_get_string(c, "name"), *level = json_get_string(c, "level"),
			   *reason = json_get_string(c, "reason");
		fprintf(f, "  %-8s %s: %s\n", level ? level : "?", name ? name : "?",
			reason ? reason : "-");
	}
}
