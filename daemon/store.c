#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/store.h"

struct store {
	char *dir; /* owned, absolute or as given */
};

bool store_name_is_safe(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 128 || streq(name, ".") || streq(name, ".."))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       len;
}

_printf_(2, 3) static int path_of(char **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int store_open(const char *state_dir, struct store **ret)
{
	_cleanup_free_ char *accounts = NULL, *certs = NULL;
	int r;

	r = dir_make_parents(state_dir, 0700);
	if (r < 0)
		return r;
	if (path_of(&accounts, "%s/accounts", state_dir) < 0 ||
	    path_of(&certs, "%s/certs", state_dir) < 0)
		return -ENOMEM;
	if ((r = make_dir(accounts)) < 0 || (r = make_dir(certs)) < 0)
		return r;
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dir = strdup(state_dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s);
}

const char *store_get_dir(const struct store *s)
{
	return s->dir;
}

static int save_key(const char *path, const struct key *k)
{
	char *pem = NULL;
	int r;

	r = key_write_pem(k, &pem);
	if (r < 0)
		return r;
	r = file_write_atomic(path, pem, strlen(pem), 0600);
	key_pem_free(pem);
	return r;
}

static int account_dir(struct store *s, const char *ca, char **ret)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	if (!store_name_is_safe(ca))
		return -EINVAL;
	if (path_of(&dir, "%s/accounts/%s", s->dir, ca) < 0)
		return -ENOMEM;
	r = make_dir(dir);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(dir);
	return 0;
}

int store_account_key_path(struct store *s, const char *ca, char **ret)
{
	if (!store_name_is_safe(ca))
		return -EINVAL;
	return path_of(ret, "%s/accounts/%s/account.key", s->dir, ca);
}

int store_account_load_key(struct store *s, const char *ca, struct key **ret)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = store_account_key_path(s, ca, &path);
	if (r < 0)
		return r;
	return key_load_file(path, ret);
}

int store_account_save_key(struct store *s, const char *ca, const struct key *k)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	int r;

	r = account_dir(s, ca, &dir);
	if (r < 0)
		return r;
	if (path_of(&path, "%s/account.key", dir) < 0)
		return -ENOMEM;
	return save_key(path, k);
}

static int next_key_paths(struct store *s, const char *ca, char **ret_next, char **ret_key)
{
	if (!store_name_is_safe(ca))
		return -EINVAL;
	if (path_of(ret_next, "%s/accounts/%s/account.key.next", s->dir, ca) < 0)
		return -ENOMEM;
	if (ret_key && path_of(ret_key, "%s/accounts/%s/account.key", s->dir, ca) < 0) {
		free(*ret_next);
		return -ENOMEM;
	}
	return 0;
}

int store_account_save_next_key(struct store *s, const char *ca, const struct key *k)
{
	_cleanup_free_ char *next = NULL;
	int r;

	r = next_key_paths(s, ca, &next, NULL);
	if (r < 0)
		return r;
	return save_key(next, k);
}

int store_account_promote_next_key(struct store *s, const char *ca)
{
	_cleanup_free_ char *next = NULL, *key = NULL, *dir = NULL;
	int r;

	r = next_key_paths(s, ca, &next, &key);
	if (r < 0)
		return r;
	if (rename(next, key) < 0)
		return -errno;
	r = account_dir(s, ca, &dir);
	if (r < 0)
		return r;
	return dir_fsync(dir);
}

int store_account_drop_next_key(struct store *s, const char *ca)
{
	_cleanup_free_ char *next = NULL;
	int r;

	r = next_key_paths(s, ca, &next, NULL);
	if (r < 0)
		return r;
	if (unlink(next) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int store_account_load_info(struct store *s, const char *ca, char **ret_json, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;

	if (!store_name_is_safe(ca))
		return -EINVAL;
	if (path_of(&path, "%s/accounts/%s/account.json", s->dir, ca) < 0)
		return -ENOMEM;
	return file_read_bounded(path, 64 * 1024, ret_json, ret_len);
}

int store_account_save_info(struct store *s, const char *ca, const char *json, size_t len)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	int r;

	r = account_dir(s, ca, &dir);
	if (r < 0)
		return r;
	if (path_of(&path, "%s/account.json", dir) < 0)
		return -ENOMEM;
	return file_write_atomic(path, json, len, 0600);
}

static int cert_dir(struct store *s, const char *cert, bool create, char **ret)
{
	_cleanup_free_ char *dir = NULL, *archive = NULL;
	int r;

	if (!store_name_is_safe(cert))
		return -EINVAL;
	if (path_of(&dir, "%s/certs/%s", s->dir, cert) < 0 ||
	    path_of(&archive, "%s/archive", dir) < 0)
		return -ENOMEM;
	if (create) {
		if ((r = make_dir(dir)) < 0 || (r = make_dir(archive)) < 0)
			return r;
	}
	*ret = TAKE_PTR(dir);
	return 0;
}

/* certs/<name>/ (made when create) and the pending key's path in it. */
static int pending_key_path(struct store *s, const char *cert, bool create, char **ret_dir,
			    char **ret_path)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	r = cert_dir(s, cert, create, &dir);
	if (r < 0)
		return r;
	if (path_of(ret_path, "%s/pending.key", dir) < 0)
		return -ENOMEM;
	if (ret_dir)
		*ret_dir = TAKE_PTR(dir);
	return 0;
}

int store_pending_key_save(struct store *s, const char *cert, const struct key *k)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = pending_key_path(s, cert, true, NULL, &path);
	if (r < 0)
		return r;
	return save_key(path, k);
}

int store_pending_key_load(struct store *s, const char *cert, struct key **ret)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = pending_key_path(s, cert, false, NULL, &path);
	if (r < 0)
		return r;
	return key_load_file(path, ret);
}

int store_pending_key_clear(struct store *s, const char *cert)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	int r;

	r = pending_key_path(s, cert, false, &dir, &path);
	if (r < 0)
		return r;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	return dir_fsync(dir);
}

/* Highest N among archive/<N>, complete or not, so a half-written version
 * left by a crash is never reused. */
static int archive_max(const char *archive, unsigned *ret)
{
	DIR *d = opendir(archive);
	struct dirent *e;
	unsigned max = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		unsigned long n = strtoul(e->d_name, &end, 10);
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && !*end && n < 1000000 && n > max)
			max = (unsigned)n;
	}
	closedir(d);
	*ret = max;
	return 0;
}

int store_cert_install(struct store *s, const char *cert, const struct key *k,
		       const char *leaf_pem, size_t leaf_len, const char *chain_pem,
		       size_t chain_len, unsigned *ret_version)
{
	_cleanup_free_ char *dir = NULL, *archive = NULL, *vdir = NULL, *p = NULL, *fullchain = NULL,
			    *tmp_link = NULL, *current = NULL, *target = NULL, *key_pem = NULL;
	unsigned n = 0;
	int r;

	r = key_pem_matches(k, leaf_pem, leaf_len);
	if (r < 0)
		return r;
	if (r == 0)
		return -EINVAL;
	r = cert_dir(s, cert, true, &dir);
	if (r < 0)
		return r;
	if (path_of(&archive, "%s/archive", dir) < 0)
		return -ENOMEM;
	r = archive_max(archive, &n);
	if (r < 0)
		return r;
	n++;
	if (path_of(&vdir, "%s/%u", archive, n) < 0)
		return -ENOMEM;
	if (mkdir(vdir, 0700) < 0)
		return -errno;

	bool nl = leaf_len > 0 && leaf_pem[leaf_len - 1] == '\n';
	if (asprintf(&fullchain, "%.*s%s%.*s", (int)leaf_len, leaf_pem, nl ? "" : "\n",
		     (int)chain_len, chain_pem) < 0)
		return -ENOMEM;

	r = key_write_pem(k, &key_pem);
	if (r < 0)
		return r;
	if (path_of(&p, "%s/privkey.pem", vdir) < 0) {
		key_pem_free(TAKE_PTR(key_pem));
		return -ENOMEM;
	}
	r = file_write_atomic(p, key_pem, strlen(key_pem), 0600);
	key_pem_free(TAKE_PTR(key_pem));
	if (r < 0)
		return r;

	static const char *const names[] = { "cert.pem", "chain.pem", "fullchain.pem" };
	const char *data[] = { leaf_pem, chain_pem, fullchain };
	size_t lens[] = { leaf_len, chain_len, strlen(fullchain) };
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		free(p);
		p = NULL;
		if (path_of(&p, "%s/%s", vdir, names[i]) < 0)
			return -ENOMEM;
		r = file_write_atomic(p, data[i], lens[i], 0644);
		if (r < 0)
			return r;
	}
	r = dir_fsync(archive);
	if (r < 0)
		return r;

	/* Switch: a new symlink renamed over the old one is atomic. */
	if (path_of(&tmp_link, "%s/current.tmp", dir) < 0 ||
	    path_of(&current, "%s/current", dir) < 0 || path_of(&target, "archive/%u", n) < 0)
		return -ENOMEM;
	(void)unlink(tmp_link);
	if (symlink(target, tmp_link) < 0)
		return -errno;
	if (rename(tmp_link, current) < 0) {
		r = -errno;
		(void)unlink(tmp_link);
		return r;
	}
	r = dir_fsync(dir);
	if (r < 0)
		return r;
	if (ret_version)
		*ret_version = n;
	return 0;
}

int store_cert_current_version(struct store *s, const char *cert, unsigned *ret)
{
	_cleanup_free_ char *dir = NULL, *current = NULL;
	char buf[64];
	int r;

	r = cert_dir(s, cert, false, &dir);
	if (r < 0)
		return r;
	if (path_of(&current, "%s/current", dir) < 0)
		return -ENOMEM;
	ssize_t l = readlink(current, buf, sizeof(buf) - 1);
	if (l < 0)
		return -errno;
	buf[l] = '\0';
	char *end;
	if (!str_has_prefix(buf, "archive/"))
		return -EINVAL;
	unsigned long n = strtoul(buf + 8, &end, 10);
	if (*end || n == 0 || n > 1000000)
		return -EINVAL;
	*ret = (unsigned)n;
	return 0;
}

int store_cert_path(struct store *s, const char *cert, const char *file, char **ret)
{
	if (!store_name_is_safe(cert) || !store_name_is_safe(file))
		return -EINVAL;
	return path_of(ret, "%s/certs/%s/current/%s", s->dir, cert, file);
}

int store_cert_load_current(struct store *s, const char *cert, char **ret_pem, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = store_cert_path(s, cert, "fullchain.pem", &path);
	if (r < 0)
		return r;
	return file_read_bounded(path, CERT_MAX_BYTES, ret_pem, ret_len);
}

int store_cert_load_current_key(struct store *s, const char *cert, struct key **ret)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = store_cert_path(s, cert, "privkey.pem", &path);
	if (r < 0)
		return r;
	return key_load_file(path, ret);
}

int store_state_load(struct store *s, char **ret_json, size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;

	if (path_of(&path, "%s/state.json", s->dir) < 0)
		return -ENOMEM;
	return file_read_bounded(path, STATE_MAX_BYTES, ret_json, ret_len);
}

int store_state_save(struct store *s, const char *json, size_t len)
{
	_cleanup_free_ char *path = NULL;

	if (len > STATE_MAX_BYTES)
		return -E2BIG;
	if (path_of(&path, "%s/state.json", s->dir) < 0)
		return -ENOMEM;
	return file_write_atomic(path, json, len, 0600);
}
