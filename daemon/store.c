/* daemon/store.c: see store.h. The interface: every call goes to the
 * backend's ops; what is local to the host whatever the backend (the
 * deployed copies' paths, the state_dir) is answered here. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/archive.h"
#include "daemon/store.h"

struct store {
	const struct store_ops *ops;
	void *impl;  /* owned by ops */
	char *dir;   /* owned: the host's state_dir */
};

bool store_name_is_safe(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 128 || streq(name, ".") || streq(name, ".."))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       len;
}

int store_open_with(const char *state_dir, const struct store_ops *ops, void *impl,
		    struct store **ret)
{
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->dir = strdup(state_dir);
	if (!s->dir) {
		free(s);
		return -ENOMEM;
	}
	s->ops = ops;
	s->impl = impl;
	*ret = s;
	return 0;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	s->ops->free(s->impl);
	free(s->dir);
	free(s);
}

const char *store_get_dir(const struct store *s)
{
	return s->dir;
}

const char *store_backend_name(const struct store *s)
{
	return s->ops->name;
}

int store_lock(struct store *s, const char *mode, const char *control_socket, char *why,
	       size_t why_size)
{
	return s->ops->lock(s->impl, mode, control_socket, why, why_size);
}

int store_pending_key_load(struct store *s, const char *cert, struct key **ret)
{
	return s->ops->pending_key_load(s->impl, cert, ret);
}

int store_pending_key_save(struct store *s, const char *cert, const struct key *k)
{
	return s->ops->pending_key_save(s->impl, cert, k);
}

int store_pending_key_clear(struct store *s, const char *cert)
{
	return s->ops->pending_key_clear(s->impl, cert);
}

int store_cert_install(struct store *s, const char *cert, const struct key *k,
		       const char *leaf_pem, size_t leaf_len, const char *chain_pem,
		       size_t chain_len, unsigned *ret_version)
{
	return s->ops->cert_install(s->impl, cert, k, leaf_pem, leaf_len, chain_pem, chain_len,
				    ret_version);
}

int store_cert_load_current(struct store *s, const char *cert, char **ret_pem, size_t *ret_len)
{
	return s->ops->cert_load_current(s->impl, cert, ret_pem, ret_len);
}

int store_cert_load_current_key(struct store *s, const char *cert, struct key **ret)
{
	return s->ops->cert_load_current_key(s->impl, cert, ret);
}

int store_cert_current_version(struct store *s, const char *cert, unsigned *ret)
{
	return s->ops->cert_current_version(s->impl, cert, ret);
}

int store_cert_list(struct store *s, char ***ret_names, size_t *ret_n)
{
	return s->ops->cert_list(s->impl, ret_names, ret_n);
}

void store_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int store_cert_path(struct store *s, const char *cert, const char *file, char **ret)
{
	if (!store_name_is_safe(cert) || !store_name_is_safe(file))
		return -EINVAL;
	return asprintf(ret, "%s/certs/%s/current/%s", s->dir, cert, file) < 0 ? -ENOMEM : 0;
}

int store_cert_prune(struct store *s, const char *cert, unsigned keep, unsigned also_keep,
		     unsigned *ret_pruned)
{
	/* A backend without it keeps every version (the caller stays quiet about it). */
	if (!s->ops->cert_prune)
		return -EOPNOTSUPP;
	return s->ops->cert_prune(s->impl, cert, keep, also_keep, ret_pruned);
}

int store_cert_versions(struct store *s, const char *cert, unsigned **ret, size_t *ret_n)
{
	_cleanup_free_ char *archive = NULL;

	if (!store_name_is_safe(cert))
		return -EINVAL;
	if (asprintf(&archive, "%s/certs/%s/archive", s->dir, cert) < 0)
		return -ENOMEM;
	return archive_versions(archive, ret, ret_n);
}

int store_cert_load_version(struct store *s, const char *cert, unsigned version, char **ret_pem,
			    size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;

	if (!store_name_is_safe(cert))
		return -EINVAL;
	if (asprintf(&path, "%s/certs/%s/archive/%u/cert.pem", s->dir, cert, version) < 0)
		return -ENOMEM;
	return file_read_bounded(path, CERT_MAX_BYTES, ret_pem, ret_len);
}

static int on_purge_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	/* FTW_DEPTH: a directory comes after its contents; FTW_PHYS: a link is
	 * removed itself, never followed. */
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -errno : 0;
}

int store_cert_purge(struct store *s, const char *cert)
{
	_cleanup_free_ char *dir = NULL;
	struct stat st;

	if (!store_name_is_safe(cert))
		return -EINVAL;
	if (asprintf(&dir, "%s/certs/%s", s->dir, cert) < 0)
		return -ENOMEM;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	int r = nftw(dir, on_purge_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	return r < 0 ? -errno : r > 0 ? -EIO : r;
}

int store_state_load(struct store *s, char **ret_json, size_t *ret_len)
{
	return s->ops->state_load(s->impl, ret_json, ret_len);
}

int store_state_save(struct store *s, const char *json, size_t len)
{
	return s->ops->state_save(s->impl, json, len);
}

int store_journal_load(struct store *s, char **ret, size_t *ret_len)
{
	return s->ops->journal_load ? s->ops->journal_load(s->impl, ret, ret_len) : -EOPNOTSUPP;
}

int store_journal_reset(struct store *s, const char *data, size_t len)
{
	return s->ops->journal_reset ? s->ops->journal_reset(s->impl, data, len) : -EOPNOTSUPP;
}

int store_journal_append(struct store *s, const char *data, size_t len)
{
	return s->ops->journal_append ? s->ops->journal_append(s->impl, data, len) : -EOPNOTSUPP;
}
