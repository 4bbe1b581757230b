/* daemon/confine.c: Landlock rule sets and the signer's seccomp filter. See confine.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <seccomp.h>

#include "common/macro.h"
#include "daemon/confine.h"

/* Older headers lack the later rights; the bits are ABI. */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */

#define LL_FS_ABI1                                                                              \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                            \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                            \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                        \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                            \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                          \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* What a file (not a directory) rule may carry. */
#define LL_FS_FILE_RIGHTS                                                                       \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                            \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* On the path to the key directory: nothing that shows a file's bytes.
 * Truncating is writing (a shell's `> file`), so it goes with WRITE_FILE. */
#define LL_FS_ANCESTOR                                                                          \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LL_FS_TRUNCATE | LANDLOCK_ACCESS_FS_READ_DIR |          \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                        \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                             \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |                           \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

int confine_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	/* EPERM: a system-call filter around us (an older unit file) refuses Landlock. */
	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM ? -EOPNOTSUPP
										 : -errno;
	return (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t h = LL_FS_ABI1;

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LL_FS_TRUNCATE;
	if (abi >= 5)
		h |= LL_FS_IOCTL_DEV;
	return h;
}

static int new_ruleset(uint64_t handled)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = handled };
	long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);

	if (fd < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
	return (int)fd;
}

/* A rule for the file or directory open as fd (O_PATH); rights trimmed to what it can hold. */
static int add_rule_fd(int ruleset, int fd, uint64_t rights, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = { .parent_fd = fd };
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		rights &= LL_FS_FILE_RIGHTS;
	pb.allowed_access = rights & handled;
	if (pb.allowed_access == 0)
		return 0;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

static int add_rule_path(int ruleset, const char *path, uint64_t rights, uint64_t handled)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return add_rule_fd(ruleset, fd, rights, handled);
}

static int restrict_self(int ruleset)
{
	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs first; with it, leave setuid
	 * programs working for the hooks of a daemon that runs outside systemd. */
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return -errno;
	return 0;
}

/* Is a (absolute, resolved) equal to b or an ancestor of it? */
static bool is_same_or_ancestor(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (streq(a, "/"))
		return true;
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* Every entry of dir except `skip`, with all rights, unless it resolves onto the key's path. */
static int grant_siblings(int ruleset, const char *dir, const char *skip, const char *key,
			  uint64_t handled)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], real[PATH_MAX];
		if (streq(de->d_name, ".") || streq(de->d_name, "..") || streq(de->d_name, skip))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", streq(dir, "/") ? "" : dir,
			     de->d_name) >= (int)sizeof(path))
			continue;
		int fd = openat(dirfd(d), de->d_name, O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue; /* a dangling symlink, or gone meanwhile */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(proc, real, sizeof(real) - 1);
		if (n <= 0) {
			close(fd);
			continue;
		}
		real[n] = '\0';
		/* A symlink or bind mount onto the key directory or above it gets nothing. */
		if (is_same_or_ancestor(real, key) || is_same_or_ancestor(key, real)) {
			close(fd);
			continue;
		}
		r = add_rule_fd(ruleset, fd, handled, handled);
		close(fd);
		if (r == -ENOMEM)
			break;
		r = 0; /* an entry Landlock cannot hold a rule for stays at the ancestors' rights */
	}
	closedir(d);
	return r;
}

int confine_loop_away_from(const char *key_dir)
{
	char key[PATH_MAX];
	int abi, r;

	abi = confine_landlock_abi();
	if (abi < 0)
		return abi;
	if (!realpath(key_dir, key))
		return -errno;
	if (streq(key, "/"))
		return -EINVAL;
	uint64_t handled = handled_fs(abi);
	_cleanup_close_ int rs = new_ruleset(handled);
	if (rs < 0)
		return rs;
	r = add_rule_path(rs, "/", LL_FS_ANCESTOR, handled);
	if (r < 0)
		return r;
	/* Walk / -> key: at each ancestor, everything beside the next component. */
	char prefix[PATH_MAX] = "/";
	const char *p = key + 1;
	while (*p) {
		size_t len = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = '\0';
		r = grant_siblings(rs, prefix, comp, key, handled);
		if (r < 0)
			return r;
		size_t pl = strlen(prefix);
		if (pl + len + 2 > sizeof(prefix))
			return -ENAMETOOLONG;
		if (pl > 1)
			prefix[pl++] = '/';
		memcpy(prefix + pl, comp, len);
		prefix[pl + len] = '\0';
		p += len;
		while (*p == '/')
			p++;
	}
	return restrict_self(rs);
}

int confine_to_dir(const char *dir)
{
	int abi, r;

	abi = confine_landlock_abi();
	if (abi < 0)
		return abi;
	uint64_t handled = handled_fs(abi);
	_cleanup_close_ int rs = new_ruleset(handled);
	if (rs < 0)
		return rs;
	r = add_rule_path(rs, dir, handled, handled);
	if (r < 0)
		return r;
	return restrict_self(rs);
}

/* The signer's whole diet: its socket, the key directory, memory, the RNG, and what a
 * sanitizer build needs to report a crash. */
static const int signer_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lseek),
	SCMP_SYS(fcntl), SCMP_SYS(getrandom),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk),
	SCMP_SYS(madvise), SCMP_SYS(mprotect),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(fchmod),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(umask),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(futex),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sigaltstack),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

int confine_signer_seccomp(void)
{
	scmp_filter_ctx ctx;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(signer_syscalls); i++) {
		if (signer_syscalls[i] < 0)
			continue; /* a call this architecture lacks */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, signer_syscalls[i], 0);
		if (r < 0)
			goto out;
	}
	/* The kernel log names any process the filter kills. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}
