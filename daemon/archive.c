/* daemon/archive.c: see archive.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "daemon/archive.h"

#define ARCHIVE_MAX_VERSION 999999u

static bool version_of(const char *name, unsigned *ret)
{
	char *end;

	if (name[0] < '1' || name[0] > '9')
		return false;
	errno = 0;
	unsigned long n = strtoul(name, &end, 10);
	if (*end || errno || n > ARCHIVE_MAX_VERSION)
		return false;
	*ret = (unsigned)n;
	return true;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

int archive_versions(const char *archive_dir, unsigned **ret, size_t *ret_n)
{
	DIR *d = opendir(archive_dir);
	unsigned *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		unsigned version;
		struct stat st;
		if (!version_of(e->d_name, &version) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			unsigned *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = version;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_unsigned);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The key first: if anything below fails, the secret is gone at least. */
static int remove_version(int archive_fd, unsigned version)
{
	char name[16];
	int r = 0;

	snprintf(name, sizeof(name), "%u", version);
	int fd = openat(archive_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlinkat(fd, "privkey.pem", 0) < 0 && errno != ENOENT) {
		r = -errno;
		close(fd);
		return r;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		/* Only files persistd wrote: a directory inside stops the prune. */
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	}
	closedir(d);
	if (r == 0 && unlinkat(archive_fd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

int archive_prune(const char *archive_dir, unsigned keep, const unsigned *protect,
		  size_t n_protect, unsigned *ret_pruned)
{
	_cleanup_free_ unsigned *v = NULL;
	unsigned pruned = 0;
	size_t n;
	int r, first = 0;

	if (ret_pruned)
		*ret_pruned = 0;
	if (keep == 0)
		return 0;
	r = archive_versions(archive_dir, &v, &n);
	if (r < 0)
		return r;
	if (n <= keep)
		return 0;
	int archive_fd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (archive_fd < 0)
		return -errno;
	/* v is ascending: the n - keep first are the candidates, oldest first. */
	for (size_t i = 0; i < n - keep; i++) {
		bool kept = false;
		for (size_t k = 0; k < n_protect && !kept; k++)
			kept = protect[k] == v[i];
		if (kept)
			continue;
		r = remove_version(archive_fd, v[i]);
		if (r < 0 && first == 0)
			first = r;
		else if (r == 0)
			pruned++;
	}
	close(archive_fd);
	if (pruned > 0) {
		r = dir_fsync(archive_dir);
		if (r < 0 && first == 0)
			first = r;
	}
	if (ret_pruned)
		*ret_pruned = pruned;
	return first;
}
