/* ctl/certshow.c: see certshow.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/strutil.h"
#include "ctl/certshow.h"
#include "ctl/output.h"

static void print_served(yajl_val s)
{
	bool checked = false;

	if (!s)
		return;
	(void)json_get_bool(s, "checked", &checked);
	if (!checked) {
		printf("  served        %s: not checked yet (next %s)\n", str_or(s, "target", "?"),
		       str_or(s, "next_check_iso", "-"));
		return;
	}
	printf("  served        %s: %s: %s\n", str_or(s, "target", "?"), str_or(s, "level", "?"),
	       str_or(s, "reason", "-"));
	printf("                checked %s, next %s\n", str_or(s, "checked_at_iso", "-"),
	       str_or(s, "next_check_iso", "-"));
}

void certshow_print(yajl_val v)
{
	yajl_val key = json_get_object(v, "key");
	yajl_val files = json_get_object(v, "files");
	yajl_val versions = json_get_array(v, "archive_versions");
	int64_t bits = 0, days = 0;

	if (key && json_get_int(key, "bits", &bits))
		printf("  key type      %s (%" PRId64 " bits)\n", str_or(key, "type", "?"), bits);
	else
		printf("  key type      -\n");
	if (json_get_int(v, "days_left", &days))
		printf("  expires       %s (%" PRId64 " days left)\n", str_or(v, "not_after_iso", "-"),
		       days);
	printf("  current       %s -> %s\n", str_or(files, "current", "-"),
	       str_or(files, "current_target", "-"));
	static const char *const rows[][2] = {
		{ "cert", "cert.pem" },		  { "chain", "chain.pem" },
		{ "fullchain", "fullchain.pem" }, { "privkey", "privkey.pem" },
		{ "domains", "domains" },
	};
	for (size_t i = 0; i < ELEMENTSOF(rows); i++)
		printf("  %-13s %s\n", rows[i][1], str_or(files, rows[i][0], "-"));
	printf("  versions kept ");
	for (size_t i = 0; versions && i < versions->u.array.len; i++) {
		yajl_val n = versions->u.array.values[i];
		printf("%s%lld", i ? ", " : "", YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : 0LL);
	}
	printf("%s (in %s/archive)\n", versions && versions->u.array.len ? "" : "none",
	       str_or(files, "dir", "-"));
	print_served(json_get_object(v, "served"));
}

enum level certshow_add_served_row(struct output_table *t, yajl_val c)
{
	yajl_val s = json_get_object(c, "served");
	bool checked = false, matches = false;

	if (!s)
		return LEVEL_OK;
	(void)json_get_bool(s, "checked", &checked);
	const char *level = str_or(s, "level", "OK");
	const char *status = !checked ? "UNCHECKED"
			     : json_get_string(s, "error") ? "NO_ANSWER"
			     : json_get_bool(s, "matches", &matches) && matches ? "CURRENT"
			     : json_get_bool(s, "stale", &matches) && matches ? "STALE"
									       : "OTHER";
	char name[300];
	str_printf(name, sizeof(name), "(served %s)", str_or(s, "target", "?"));
	const char *row[] = {
		str_or(c, "name", "?"), name, level, status, str_or(s, "not_after_iso", "-"), "-",
		"-", str_or(s, "next_check_iso", "-"), str_or(s, "reason", "-"),
	};
	(void)output_table_add(t, row, output_daemon_level(level));
	return output_daemon_level(level);
}
