#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"

const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	case S_IFLNK:
		return "symbolic link";
	default:
		return "unknown file type";
	}
}

/* The fd stays O_NONBLOCK: Linux ignores the flag for regular files
 * (open(2)), so a reader that only reads may keep it and save the two
 * fcntl() calls per file (400k of them in a cold start at 100k certs). */
static int open_regular_nonblock(const char *path, struct stat *ret_st)
{
	struct stat st;

	/* O_NONBLOCK: open() of a FIFO without a writer, or of some devices,
	 * would wait forever, and with it the daemon's loop and signals. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (ret_st)
		*ret_st = st;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return TAKE_FD(fd);
}

static int clear_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int file_open_regular(const char *path, struct stat *ret_st)
{
	_cleanup_close_ int fd = open_regular_nonblock(path, ret_st);

	if (fd < 0)
		return fd;
	int r = clear_nonblock(fd);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int file_read_bounded(const char *path, size_t max_bytes, char **ret, size_t *retlen)
{
	return file_read_bounded_stat(path, max_bytes, ret, retlen, NULL);
}

int file_read_bounded_stat(const char *path, size_t max_bytes, char **ret, size_t *retlen,
			   struct stat *ret_st)
{
	struct stat st = { 0 };
	_cleanup_close_ int fd = open_regular_nonblock(path, &st);

	if (ret_st && (fd >= 0 || fd == -EISDIR || fd == -EINVAL))
		*ret_st = st;
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > max_bytes)
		return -E2BIG;

	/* Room for one byte more than fstat() said, and the NUL: a file that
	 * grew shows as a full read, and one that did not needs no realloc(). */
	size_t cap = (size_t)st.st_size + 2, len = 0;
	bool blocking = false;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 == cap) {
			/* The file grew while we read it. */
			if (cap - 1 >= max_bytes + 1)
				return -E2BIG;
			size_t ncap = MIN(cap * 2, max_bytes + 2);
			char *n = realloc(buf, ncap);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap = ncap;
		}
		size_t want = cap - 1 - len;
		ssize_t k = read(fd, buf + len, want);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* A file system that does honour O_NONBLOCK (some FUSE ones):
			 * block like any other reader of the file. */
			if (errno == EAGAIN && !blocking) {
				int r = clear_nonblock(fd);
				if (r < 0)
					return r;
				blocking = true;
				continue;
			}
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max_bytes)
			return -E2BIG;
		/* A regular file read short at exactly the size fstat() gave has
		 * ended: no read() for the 0 (200k of them in a cold start at 100k
		 * certs). Files that report size 0 (/proc) are read to the 0. */
		if (st.st_size > 0 && len == (size_t)st.st_size && (size_t)k < want)
			break;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*retlen = len;
	return 0;
}

int dir_fsync(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* mkostemp(), but write-only: the daemon may write where Landlock lets it read nothing
 * (beside the account-key directory, daemon/confine.h), and mkostemp() opens O_RDWR. */
static int open_tmp_wronly(char *tmpl)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char *x = tmpl + strlen(tmpl) - 6;

	for (int attempt = 0; attempt < 100; attempt++) {
		uint8_t rnd[6];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		for (size_t i = 0; i < 6; i++)
			x[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		int fd = open(tmpl, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			bool sync_dir, bool no_replace)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	const char *slash = strrchr(path, '/');
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");

	_cleanup_close_ int fd = open_tmp_wronly(tmp);
	if (fd < 0)
		return fd;
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto fail;
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(TAKE_FD(fd)) < 0) {
		r = -errno;
		goto fail;
	}
	/* RENAME_NOREPLACE: the check that the name is free and the rename are
	 * one step, so two writers of a new file cannot both win. */
	if ((no_replace ? renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE)
			: rename(tmp, path)) < 0) {
		r = -errno;
		goto fail;
	}
	return sync_dir ? dir_fsync(dir) : 0;
fail:
	(void)unlink(tmp);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, true, false);
}

int file_write_atomic_new(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, true, true);
}

int file_write_atomic_batch(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_atomic(path, data, len, mode, false, false);
}

int dir_make_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
