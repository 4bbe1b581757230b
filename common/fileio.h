/* common/fileio.h: bounded reads and crash-safe writes of whole files.
 * Reads never take more than the caller's limit (-E2BIG beyond it) and only
 * regular files. Writes are atomic: a temp file in the same directory,
 * written in full, fsynced, renamed over the target, then the directory
 * fsynced, so a crash at any instant leaves the old file or the new one,
 * never a mix. The mode is set before any byte is written, so a secret is
 * never readable by others, not even briefly.
 * Errors: -errno from the system calls, -E2BIG over a limit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* *ret is NUL-terminated (not counted in *retlen) and owned by the caller. */
int file_read_bounded(const char *path, size_t max_bytes, char **ret, size_t *retlen);

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* fsync of a directory, after entries in it changed. */
int dir_fsync(const char *path);

/* mkdir -p with the given mode for directories it creates. */
int dir_make_parents(const char *path, mode_t mode);
