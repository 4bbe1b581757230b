/* common/fileio.h: bounded reads and crash-safe writes of whole files.
 * Reads never take more than the caller's limit (-E2BIG beyond it) and only
 * regular files: anything else (a FIFO, a device, a socket) is refused after
 * an open() that cannot block, so a FIFO put where a file belongs cannot
 * stall the caller. Writes are atomic: a temp file in the same directory,
 * written in full, fsynced, renamed over the target, then the directory
 * fsynced, so a crash at any instant leaves the old file or the new one,
 * never a mix. The mode is set before any byte is written, so a secret is
 * never readable by others, not even briefly.
 * Errors: -errno from the system calls, -E2BIG over a limit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* "fifo", "directory", "socket", "character device", ... for messages. */
const char *file_type_name(mode_t mode);

/* An fd open for reading (blocking again), only for a regular file:
 * -EISDIR for a directory, -EINVAL for any other type; *ret_st, if given,
 * is filled whenever the file could be opened, so the caller can say what
 * it was (file_type_name). */
int file_open_regular(const char *path, struct stat *ret_st);

/* *ret is NUL-terminated (not counted in *retlen) and owned by the caller. */
int file_read_bounded(const char *path, size_t max_bytes, char **ret, size_t *retlen);
/* The same; on -EISDIR/-EINVAL *ret_st says what the file was instead. */
int file_read_bounded_stat(const char *path, size_t max_bytes, char **ret, size_t *retlen,
			   struct stat *ret_st);

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same for a file that must not exist yet: -EEXIST when it does (or
 * appears meanwhile), and then nothing is written. */
int file_write_atomic_new(const char *path, const void *data, size_t len, mode_t mode);
/* The same without the directory's fsync at the end, for several files in one
 * directory: the content is on disk, but the new name is durable only once the
 * caller has called dir_fsync() on the directory, which it must do before
 * anything relies on the name (one fsync for the set instead of one each). */
int file_write_atomic_batch(const char *path, const void *data, size_t len, mode_t mode);

/* fsync of a directory, after entries in it changed. */
int dir_fsync(const char *path);

/* mkdir -p with the given mode for directories it creates. */
int dir_make_parents(const char *path, mode_t mode);
