/* common/config.c: reading the configuration's files, and checking the files it names.
 * See config.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/workahead.h"

static int dropin_filter(const struct dirent *e)
{
	size_t l = strlen(e->d_name);
	return e->d_name[0] != '.' && l > 5 && streq(e->d_name + l - 5, ".conf");
}

/* Says what a path that is not a regular file is, following a symbolic
 * link once so "a link to a fifo" reads as such. */
static void describe_non_regular(const char *path, const struct stat *st, char *buf, size_t size)
{
	struct stat lst;

	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && !S_ISLNK(st->st_mode))
		str_printf(buf, size, "symbolic link to a %s", file_type_name(st->st_mode));
	else
		str_printf(buf, size, "%s", file_type_name(st->st_mode));
}

/* One configuration file's bytes, or why there are none. */
struct file_read {
	int r;
	char *text;      /* owned */
	size_t len;
	struct stat st;  /* on -EISDIR / -EINVAL: what it was */
	bool looked;     /* the stat() before opening refused it: what says so */
	char what[64];
};

/* listed_regular: the directory listing said "regular file" (d_type), so
 * the stat() that keeps a FIFO or a device from being opened is not needed
 * (100k of them in a start at 100k drop-ins); file_read_bounded() still
 * refuses, without blocking, anything swapped in since. Safe on any thread. */
static void read_file(const char *path, bool listed_regular, struct file_read *out)
{
	struct stat st;

	/* Look before opening: a FIFO or a device is never opened at all. */
	if (!listed_regular && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		describe_non_regular(path, &st, out->what, sizeof(out->what));
		out->looked = true;
		out->r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		return;
	}
	out->r = file_read_bounded_stat(path, CONFIG_MAX_BYTES, &out->text, &out->len, &out->st);
}

static int parse_file(struct config *c, const char *path, bool main_file,
		      const struct file_read *f, struct config_errors *errs)
{
	if (f->looked) {
		config_errors_add(errs, path, 0, "not a regular file (%s)", f->what);
		return f->r;
	}
	if (f->r == -E2BIG) {
		config_errors_add(errs, path, 0, "file larger than %d bytes", CONFIG_MAX_BYTES);
		return f->r;
	}
	if (f->r == -EISDIR || f->r == -EINVAL) {
		config_errors_add(errs, path, 0, "not a regular file (%s)",
				  file_type_name(f->st.st_mode));
		return f->r;
	}
	if (f->r < 0) {
		config_errors_add(errs, path, 0, "cannot read: %s", strerror(-f->r));
		return f->r;
	}
	return config_parse_text(c, path, f->text, f->len, main_file, errs);
}

static int load_file(struct config *c, const char *path, bool main_file,
		     struct config_errors *errs)
{
	struct file_read f = { 0 };

	read_file(path, false, &f);
	int r = parse_file(c, path, main_file, &f, errs);
	free(f.text);
	return r;
}

/* The drop-ins are read on threads ahead of the parser (common/workahead)
 * once there are this many: with the page cache cold each is a random read,
 * and warm, the system calls of 100k reads leave the parsing thread. */
#define DROPIN_READ_AHEAD_MIN 64
#define DROPIN_READ_THREADS 4

struct dropins {
	const char *dir;
	struct dirent **list;
	size_t n;
};

static void dropin_path(const struct dropins *d, size_t i, char *buf, size_t size)
{
	str_printf(buf, size, "%s/%s", d->dir, d->list[i]->d_name);
}

static void dropin_read(void *ctx, size_t i, void *slot)
{
	const struct dropins *d = ctx;
	char p[PATH_MAX + 256];

	dropin_path(d, i, p, sizeof(p));
	read_file(p, d->list[i]->d_type == DT_REG, slot);
}

static void dropin_release(void *ctx, void *slot)
{
	(void)ctx;
	free(((struct file_read *)slot)->text);
}

static const struct workahead_ops dropin_ops = {
	.slot_size = sizeof(struct file_read),
	.work = dropin_read,
	.release = dropin_release,
};

/* Parses every drop-in in the listing's order; the first error that is not a
 * file's own (-EINVAL) stops the parsing. Returns that, else the first. */
static int load_dropins(struct config *c, const struct dropins *d, struct config_errors *errs)
{
	struct workahead *ahead = NULL;
	char p[PATH_MAX + 256];
	int failed = 0;

	/* Without threads (few files, or none could start) each is read here. */
	if (d->n < DROPIN_READ_AHEAD_MIN ||
	    workahead_start(&dropin_ops, (void *)d, d->n, DROPIN_READ_THREADS, &ahead) < 0)
		ahead = NULL;
	for (size_t i = 0; i < d->n && (!failed || failed == -EINVAL); i++) {
		struct file_read mine = { 0 };
		const struct file_read *f = ahead ? workahead_next(ahead) : &mine;
		dropin_path(d, i, p, sizeof(p));
		if (!ahead)
			dropin_read((void *)d, i, &mine);
		int r = parse_file(c, p, false, f, errs);
		free(mine.text);
		if (r == -ENOMEM)
			failed = r;
		else if (r < 0 && !failed)
			failed = r;
	}
	workahead_finish(ahead);
	return failed;
}

/* A file the configuration names and the daemon reads at start. A missing
 * one is reported where it is used; one that is not a regular file would be
 * opened by curl or getdns with a blocking open(), so refuse it here. */
static int check_named_file(const char *path, const char *key, const char *file, unsigned line,
			    const char *section, struct config_errors *errs)
{
	struct stat st;
	char what[64];

	if (!path || stat(path, &st) < 0 || S_ISREG(st.st_mode))
		return 0;
	describe_non_regular(path, &st, what, sizeof(what));
	config_errors_add(errs, file, line, "%s%s '%s': not a regular file (%s)", section, key, path,
		  what);
	return -EINVAL;
}

static int check_named_files(struct config *c, struct config_errors *errs)
{
	char section[160];
	int r = 0;

	r |= check_named_file(c->daemon.trust_anchor, "trust_anchor",
			      c->n_files ? c->files[0] : NULL, 0, "", errs);
	for (size_t i = 0; i < c->n_cas; i++) {
		const struct config_ca *ca = c->cas[i];
		str_printf(section, sizeof(section), "[ca %s] ", ca->name);
		r |= check_named_file(ca->eab_hmac_file, "eab_hmac_file", ca->file, ca->line,
				      section, errs);
		r |= check_named_file(ca->ca_bundle, "ca_bundle", ca->file, ca->line, section,
				      errs);
	}
	return r ? -EINVAL : 0;
}

int config_load(const char *path, struct config **ret, struct config_errors *errs)
{
	return config_load_candidate(path, NULL, NULL, 0, ret, errs);
}

int config_load_candidate(const char *path, const char *cand_file, const char *cand_text,
			  size_t cand_len, struct config **ret, struct config_errors *errs)
{
	_cleanup_(config_freep) struct config *c = config_new();
	struct dirent **list = NULL;
	char dir[PATH_MAX];
	int r, failed = 0;

	if (!c)
		return -ENOMEM;
	r = load_file(c, path, true, errs);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		failed = r;

	const char *slash = strrchr(path, '/');
	if (slash)
		str_printf(dir, sizeof(dir), "%.*s/certs.d", (int)(slash - path), path);
	else
		str_printf(dir, sizeof(dir), "certs.d");
	int n = scandir(dir, &list, dropin_filter, alphasort);
	if (n < 0 && errno != ENOENT && errno != ENOTDIR) {
		config_errors_add(errs, dir, 0, "cannot read the drop-in directory: %s", strerror(errno));
		failed = -errno;
	}
	if (n > CONFIG_MAX_DROPINS) {
		config_errors_add(errs, dir, 0, "more than %d drop-in files", CONFIG_MAX_DROPINS);
		failed = -E2BIG;
	}
	if (n > 0 && (!failed || failed == -EINVAL)) {
		struct dropins d = { dir, list, (size_t)n };
		r = load_dropins(c, &d, errs);
		if (r == -ENOMEM || (r < 0 && !failed))
			failed = r;
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	if (cand_file && (!failed || failed == -EINVAL)) {
		r = config_parse_text(c, cand_file, cand_text, cand_len, false, errs);
		if (r == -ENOMEM || (r < 0 && !failed))
			failed = r;
	}
	if (failed)
		return failed;
	r = config_finish(c, errs);
	if (r < 0)
		return r;
	r = check_named_files(c, errs);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- run-time checks (persistd -t) ---- */

/* exec: an executable file, else a readable one. */
static void check_file(struct config_errors *errs, const char *file, unsigned line,
		       const char *key, const char *path, bool exec)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		config_errors_add(errs, file, line, "%s '%s': %s", key, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		config_errors_add(errs, file, line, "%s '%s': not a regular file", key, path);
		return;
	}
	/* access() asks with the real uid: the user running persistd -t, which is
	 * the service user when run as it (sudo -u persistd persistd -t). */
	if (access(path, exec ? X_OK : R_OK) < 0)
		config_errors_add(errs, file, line, "%s '%s': %s for uid %u", key, path,
			  exec ? "not executable" : "not readable", (unsigned)getuid());
	else if (exec && !(st.st_mode & 0111))
		config_errors_add(errs, file, line, "%s '%s': not executable", key, path);
}

int config_check_runtime(const struct config *c, int64_t now, struct config_errors *errs)
{
	size_t before = errs->n + errs->dropped;
	const char *main_file = c->n_files ? c->files[0] : NULL;

	if (c->daemon.trust_anchor)
		check_file(errs, main_file, c->daemon.trust_anchor_line, "trust_anchor",
			   c->daemon.trust_anchor, false);
	for (size_t i = 0; i < c->n_cas; i++) {
		const struct config_ca *ca = c->cas[i];
		if (ca->ca_bundle)
			check_file(errs, ca->file, ca->ca_bundle_line, "ca_bundle", ca->ca_bundle,
				   false);
		if (ca->eab_hmac_file)
			check_file(errs, ca->file, ca->eab_hmac_file_line, "eab_hmac_file",
				   ca->eab_hmac_file, false);
	}
	for (size_t i = 0; i < c->n_certs; i++) {
		const struct config_cert *cert = c->certs[i];
		const struct config_cert_opts *o = config_cert_opts(cert);
		if (o->deploy_hook)
			check_file(errs, cert->file, o->deploy_hook_line, "deploy_hook",
				   o->deploy_hook, true);
		if (o->dns01_hook)
			check_file(errs, cert->file, o->dns01_hook_line, "dns01_hook",
				   o->dns01_hook, true);
		if (cert->has_persist_until && cert->persist_until <= now) {
			char iso[40];
			time_format_iso(cert->persist_until, iso, sizeof(iso));
			config_errors_add(errs, cert->file, cert->persist_until_line,
				  "persist_until %s is in the past: records made from it would "
				  "authorize nothing",
				  iso);
		}
	}
	return errs->n + errs->dropped > before ? -EINVAL : 0;
}
