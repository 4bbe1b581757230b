/* ctl/dropin.c: see dropin.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "ctl/dropin.h"
#include "ctl/rpc.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define ASK_DAEMON_MS 5000

int dropin_config_path(const struct remote_options *o, char **ret)
{
	const char *path = o->config ? o->config : CONFIG_DEFAULT_PATH;
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	struct rpc_error err = { 0 };

	/* Without -c, the daemon knows best: it may run with another -c. It not
	 * answering is no error here: then the default is the one. */
	if (!o->config && rpc_connect(o->socket, ASK_DAEMON_MS, &c) == 0) {
		int r = rpc_call(c, "config.path", NULL, &v, &err);
		if (r == 0 && json_get_string(v, "config_path"))
			path = json_get_string(v, "config_path");
		rpc_error_done(&err);
	}
	*ret = strdup(path);
	return *ret ? 0 : EXIT_FAIL;
}

int dropin_load(const struct remote_options *o, const char *path, const char *what,
		struct config **ret)
{
	struct config_errors errs = { 0 };
	int r = config_load(path, ret, &errs);

	if (r == 0) {
		config_errors_done(&errs);
		return 0;
	}
	const struct config_error *e = errs.n ? &errs.items[0] : NULL;
	remotecall_error(o, EXIT_FAIL, 0, "%s: the configuration %s has errors; fix them first: "
					  "%s:%u: %s",
			 what, path, e && e->file ? e->file : path, e ? e->line : 0,
			 e ? e->message : strerror(-r));
	for (size_t i = 1; i < errs.n; i++)
		fprintf(stderr, "  %s:%u: %s\n", errs.items[i].file ? errs.items[i].file : path,
			errs.items[i].line, errs.items[i].message);
	config_errors_done(&errs);
	return EXIT_FAIL;
}

int dropin_dir(const char *config_path, char **ret)
{
	const char *slash = strrchr(config_path, '/');
	int r = slash ? asprintf(ret, "%.*s/certs.d", (int)(slash - config_path), config_path)
		      : asprintf(ret, "certs.d");

	return r < 0 ? -ENOMEM : 0;
}

int dropin_path(const char *config_path, const char *name, char **ret)
{
	_cleanup_free_ char *dir = NULL;

	if (dropin_dir(config_path, &dir) < 0 || asprintf(ret, "%s/%s.conf", dir, name) < 0)
		return -ENOMEM;
	return 0;
}

/* A value on one INI line: no control characters (a line break would start
 * a new key or section), no comment characters (the rest would be dropped
 * silently), no blanks around it (trimmed silently). */
static bool value_is_plain(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || v[0] == ' ' || v[n - 1] == ' ')
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ';' || *p == '#')
			return false;
	return true;
}

static int check_value(const struct remote_options *o, const char *option, const char *v)
{
	if (value_is_plain(v))
		return 0;
	remotecall_error(o, EXIT_USAGE, 0,
			 "add: %s '%s': control characters, ';', '#' and surrounding blanks cannot "
			 "go into a configuration line",
			 option, v);
	return EXIT_USAGE;
}

/* The cert's name is its file's name: a name the loader skips (".x") or
 * that is no safe path component is refused before the parser sees it. */
static int check_name(const struct remote_options *o, const char *name)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= 200 && name[0] != '.';

	for (const char *p = name; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_';
	if (ok)
		return 0;
	remotecall_error(o, EXIT_USAGE, 0,
			 "add: '%s' is not a cert name: use letters, digits, '.', '-' or '_', not "
			 "starting with '.', at most 200 (it names the file certs.d/NAME.conf and "
			 "the directory of its certificates)",
			 name);
	return EXIT_USAGE;
}

/* --persist-until: what persist_until takes (a date, a UTC time, Unix
 * seconds) as given; an RFC 3339 time with an offset as its UTC time. */
static int persist_until_value(const struct remote_options *o, const char *v, char *buf,
			       size_t size)
{
	int64_t t;

	if (value_is_plain(v) && time_parse_date(v, &t) == 0) {
		str_printf(buf, size, "%s", v);
		return 0;
	}
	if (time_parse_rfc3339(v, &t) == 0) {
		time_format_iso(t, buf, size);
		return 0;
	}
	remotecall_error(o, EXIT_USAGE, 0,
			 "add: --persist-until '%s': expected a date (2027-06-01), an RFC 3339 "
			 "time (2027-06-01T12:00:00Z, 2027-06-01T14:00:00+02:00) or Unix seconds",
			 v);
	return EXIT_USAGE;
}

int dropin_render(const struct remote_options *o, const struct dropin_cert *d, char **ret)
{
	_cleanup_free_ char *names = NULL, *text = NULL;
	char until[64] = "";
	int r;

	if ((r = check_name(o, d->name)) || (r = check_value(o, "--ca", d->ca)))
		return r;
	if (d->key_type && (r = check_value(o, "--key-type", d->key_type)))
		return r;
	if (d->deploy_hook && (r = check_value(o, "--deploy-hook", d->deploy_hook)))
		return r;
	if (d->persist_until && (r = persist_until_value(o, d->persist_until, until,
							 sizeof(until))))
		return r;
	for (size_t i = 0; i < d->n_names; i++) {
		if ((r = check_value(o, "--name", d->names[i])))
			return r;
		char *joined = NULL;
		if (asprintf(&joined, "%s%s%s", names ? names : "", names ? ", " : "",
			     d->names[i]) < 0)
			return EXIT_FAIL;
		free(names);
		names = joined;
	}
	if (asprintf(&text,
		     "# Written by persistctl add. Remove it with: persistctl remove %s\n"
		     "[cert %s]\nca = %s\nnames = %s\n%s%s%s%s%s%s%s%s%s",
		     d->name, d->name, d->ca, names ? names : "",
		     d->key_type ? "key_type = " : "", d->key_type ? d->key_type : "",
		     d->key_type ? "\n" : "", until[0] ? "persist_until = " : "", until,
		     until[0] ? "\n" : "", d->deploy_hook ? "deploy_hook = " : "",
		     d->deploy_hook ? d->deploy_hook : "", d->deploy_hook ? "\n" : "") < 0)
		return EXIT_FAIL;
	*ret = TAKE_PTR(text);
	return 0;
}

static void print_errors(const struct remote_options *o, const struct config_errors *errs,
			 const char *only_file)
{
	bool first = true;

	for (size_t i = 0; i < errs->n; i++) {
		const struct config_error *e = &errs->items[i];
		if (only_file && (!e->file || !streq(e->file, only_file)))
			continue;
		if (first)
			remotecall_error(o, EXIT_USAGE, 0, "add: %s:%u: %s",
					 e->file ? e->file : "?", e->line, e->message);
		else
			fprintf(stderr, "  %s:%u: %s\n", e->file ? e->file : "?", e->line,
				e->message);
		first = false;
	}
	if (first)
		remotecall_error(o, EXIT_USAGE, 0, "add: the new configuration does not load");
}

int dropin_validate(const struct remote_options *o, const char *config_path, const char *file,
		    const char *text)
{
	_cleanup_(config_freep) struct config *c = NULL;
	struct config_errors errs = { 0 };
	int r = config_load_candidate(config_path, file, text, strlen(text), &c, &errs);

	if (r < 0) {
		print_errors(o, &errs, NULL);
		config_errors_done(&errs);
		return EXIT_USAGE;
	}
	/* What persistd -t checks beyond the syntax, for the new cert only: an
	 * older problem elsewhere is not this command's to refuse. */
	config_errors_done(&errs);
	errs = (struct config_errors){ 0 };
	(void)config_check_runtime(c, (int64_t)time(NULL), &errs);
	for (size_t i = 0; i < errs.n; i++)
		if (errs.items[i].file && streq(errs.items[i].file, file)) {
			print_errors(o, &errs, file);
			config_errors_done(&errs);
			return EXIT_USAGE;
		}
	config_errors_done(&errs);
	return 0;
}

int dropin_write(const struct remote_options *o, const char *file, const char *text)
{
	_cleanup_free_ char *dir = strdup(file);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int r;

	if (!dir)
		return EXIT_FAIL;
	if (slash) {
		*slash = 0;
		r = dir_make_parents(dir, 0755);
		if (r < 0) {
			remotecall_error(o, EXIT_FAIL, 0, "add: cannot create %s: %s", dir,
					 strerror(-r));
			return EXIT_FAIL;
		}
	}
	/* The config is no secret (the main file is 0644 too); 0644 lets
	 * persistd -t run as the service user read it. */
	r = file_write_atomic_new(file, text, strlen(text), 0644);
	if (r == -EEXIST) {
		remotecall_error(o, EXIT_USAGE, 0,
				 "add: %s appeared meanwhile (another persistctl add?); not replaced",
				 file);
		return EXIT_USAGE;
	}
	if (r < 0) {
		remotecall_error(o, EXIT_FAIL, 0, "add: cannot write %s: %s", file, strerror(-r));
		return EXIT_FAIL;
	}
	return 0;
}
