/* daemon/store_files.c: see store_files.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "common/x509.h"
#include "daemon/archive.h"
#include "daemon/statelock.h"
#include "daemon/store.h"
#include "daemon/store_files.h"

struct store_files {
	char *dir;    /* owned, absolute or as given */
	int lock_fd;  /* <dir>/lock while held (daemon/statelock), else -1 */
};

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
	struct store_files *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->lock_fd = -1;
	fs->dir = strdup(state_dir);
	if (!fs->dir) {
		free(fs);
		return -ENOMEM;
	}
	r = store_open_with(state_dir, &store_files_ops, fs, ret);
	if (r < 0) {
		free(fs->dir);
		free(fs);
	}
	return r;
}

static void files_free(void *impl)
{
	struct store_files *fs = impl;

	statelock_release(fs->lock_fd);
	free(fs->dir);
	free(fs);
}

static int files_lock(void *impl, const char *mode, const char *control_socket, char *why,
		      size_t why_size)
{
	struct store_files *fs = impl;

	if (fs->lock_fd >= 0)
		return 0;
	return statelock_take(fs->dir, mode, control_socket, &fs->lock_fd, why, why_size);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
	if (path_of(&dir, "%s/accounts/%s", store_get_dir(s), ca) < 0)
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
	return path_of(ret, "%s/accounts/%s/account.key", store_get_dir(s), ca);
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
	if (path_of(ret_next, "%s/accounts/%s/account.key.next", store_get_dir(s), ca) < 0)
		return -ENOMEM;
	if (ret_key && path_of(ret_key, "%s/accounts/%s/account.key", store_get_dir(s), ca) < 0) {
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
	if (path_of(&path, "%s/accounts/%s/account.json", store_get_dir(s), ca) < 0)
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

static int cert_dir(struct store_files *s, const char *cert, bool create, char **ret)
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
static int pending_key_path(struct store_files *s, const char *cert, bool create, char **ret_dir,
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

static int files_pending_key_save(void *impl, const char *cert, const struct key *k)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;
	int r;

	r = pending_key_path(s, cert, true, NULL, &path);
	if (r < 0)
		return r;
	return save_key(path, k);
}

static int files_pending_key_load(void *impl, const char *cert, struct key **ret)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;
	int r;

	r = pending_key_path(s, cert, false, NULL, &path);
	if (r < 0)
		return r;
	return key_load_file(path, ret);
}

static int files_pending_key_clear(void *impl, const char *cert)
{
	struct store_files *s = impl;
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

/* <vdir>/domains: the certificate's dNSNames, space-separated, on one line.
 * persistd-deploy@.service reads it as current/domains for RENEWED_DOMAINS,
 * outside the daemon; inside the version, it moves with `current`. */
static int write_domains(const char *vdir, const char *leaf_pem, size_t leaf_len)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	struct x509_info info;
	int r;

	r = x509_parse_leaf(leaf_pem, leaf_len, &info);
	if (r < 0)
		return r;
	char *joined = str_join((const char *const *)info.dns_names, info.n_dns_names, " ");
	if (joined && asprintf(&line, "%s\n", joined) < 0)
		line = NULL;
	free(joined);
	x509_info_done(&info);
	if (!line || path_of(&path, "%s/domains", vdir) < 0)
		return -ENOMEM;
	return file_write_atomic_batch(path, line, strlen(line), 0644);
}

static int files_cert_install(void *impl, const char *cert, const struct key *k,
			      const char *leaf_pem, size_t leaf_len, const char *chain_pem,
			      size_t chain_len, unsigned *ret_version)
{
	struct store_files *s = impl;
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
	/* The five files of the version go in with one fsync of vdir at the end
	 * (file_write_atomic_batch), before `current` can point at them. */
	r = file_write_atomic_batch(p, key_pem, strlen(key_pem), 0600);
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
		r = file_write_atomic_batch(p, data[i], lens[i], 0644);
		if (r < 0)
			return r;
	}
	r = write_domains(vdir, leaf_pem, leaf_len);
	if (r < 0)
		return r;
	r = dir_fsync(vdir);
	if (r < 0)
		return r;
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

static int files_cert_current_version(void *impl, const char *cert, unsigned *ret)
{
	struct store_files *s = impl;
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

static int files_cert_prune(void *impl, const char *cert, unsigned keep, unsigned also_keep,
			    unsigned *ret_pruned)
{
	struct store_files *s = impl;
	_cleanup_free_ char *dir = NULL, *archive = NULL;
	unsigned protect[2] = { 0, also_keep };
	int r;

	if (ret_pruned)
		*ret_pruned = 0;
	r = files_cert_current_version(impl, cert, &protect[0]);
	if (r < 0)
		return r;
	r = cert_dir(s, cert, false, &dir);
	if (r < 0)
		return r;
	if (path_of(&archive, "%s/archive", dir) < 0)
		return -ENOMEM;
	return archive_prune(archive, keep, protect, ELEMENTSOF(protect), ret_pruned);
}

static int current_path(struct store_files *s, const char *cert, const char *file, char **ret)
{
	if (!store_name_is_safe(cert) || !store_name_is_safe(file))
		return -EINVAL;
	return path_of(ret, "%s/certs/%s/current/%s", s->dir, cert, file);
}

static int files_cert_load_current(void *impl, const char *cert, char **ret_pem,
				   size_t *ret_len)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;
	int r;

	r = current_path(s, cert, "fullchain.pem", &path);
	if (r < 0)
		return r;
	return file_read_bounded(path, CERT_MAX_BYTES, ret_pem, ret_len);
}

static int files_cert_load_current_key(void *impl, const char *cert, struct key **ret)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;
	int r;

	r = current_path(s, cert, "privkey.pem", &path);
	if (r < 0)
		return r;
	return key_load_file(path, ret);
}

static int files_state_load(void *impl, char **ret_json, size_t *ret_len)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;

	if (path_of(&path, "%s/state.json", s->dir) < 0)
		return -ENOMEM;
	return file_read_bounded(path, STATE_MAX_BYTES, ret_json, ret_len);
}

static int files_state_save(void *impl, const char *json, size_t len)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;

	if (len > STATE_MAX_BYTES)
		return -E2BIG;
	if (path_of(&path, "%s/state.json", s->dir) < 0)
		return -ENOMEM;
	return file_write_atomic(path, json, len, 0600);
}

static int files_journal_load(void *impl, char **ret, size_t *ret_len)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;

	if (path_of(&path, "%s/state.journal", s->dir) < 0)
		return -ENOMEM;
	return file_read_bounded(path, STATE_MAX_BYTES, ret, ret_len);
}

static int files_journal_reset(void *impl, const char *data, size_t len)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;

	if (len > STATE_MAX_BYTES)
		return -E2BIG;
	if (path_of(&path, "%s/state.journal", s->dir) < 0)
		return -ENOMEM;
	return file_write_atomic(path, data, len, 0600);
}

/* Appends and syncs the data (not the size of the file alone: fdatasync
 * covers both); no rename, so one small write per save. */
static int files_journal_append(void *impl, const char *data, size_t len)
{
	struct store_files *s = impl;
	_cleanup_free_ char *path = NULL;
	int r = 0;

	if (path_of(&path, "%s/state.journal", s->dir) < 0)
		return -ENOMEM;
	int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* The certs with a directory under certs/, sorted, so a listing is stable. */
static int files_cert_list(void *impl, char ***ret_names, size_t *ret_n)
{
	struct store_files *s = impl;
	_cleanup_free_ char *certs = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int r = 0;

	if (path_of(&certs, "%s/certs", s->dir) < 0)
		return -ENOMEM;
	DIR *d = opendir(certs);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!store_name_is_safe(e->d_name) || e->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		store_names_free(names, n);
		return r;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

const struct store_ops store_files_ops = {
	.name = "files",
	.free = files_free,
	.lock = files_lock,
	.state_load = files_state_load,
	.state_save = files_state_save,
	.pending_key_load = files_pending_key_load,
	.pending_key_save = files_pending_key_save,
	.pending_key_clear = files_pending_key_clear,
	.cert_install = files_cert_install,
	.cert_load_current = files_cert_load_current,
	.cert_load_current_key = files_cert_load_current_key,
	.cert_current_version = files_cert_current_version,
	.cert_list = files_cert_list,
	.cert_prune = files_cert_prune,
	.journal_load = files_journal_load,
	.journal_reset = files_journal_reset,
	.journal_append = files_journal_append,
};
