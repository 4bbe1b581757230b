#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "daemon/fsperm.h"
#include "daemon/log.h"

/* Where a directory sits in the tree decides which files in it are ours. */
enum level {
	LEVEL_TOP,     /* state_dir */
	LEVEL_ACCOUNT, /* accounts/<ca> */
	LEVEL_CERT,    /* certs/<name> */
	LEVEL_VERSION, /* certs/<name>/archive/<N> */
	LEVEL_OTHER,   /* accounts, certs, archive: only directories of ours */
};

struct tidy {
	uid_t uid;
	unsigned refused;
};

/* Every name store.c hands to file_write_atomic(). */
static const char *const own_files[] = {
	"account.key", "account.key.next", "account.json", "state.json", "pending.key",
	"privkey.pem", "cert.pem",	   "chain.pem",	   "fullchain.pem", "domains",
	"state.journal",
};

bool fsperm_is_temp_name(const char *name)
{
	size_t l = strlen(name);

	if (l < 12 || memcmp(name + l - 11, ".tmp.", 5) != 0)
		return false;
	/* mkostemp()'s alphabet */
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	if (strspn(name + l - 6, alnum) != 6)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(own_files); i++)
		if (strlen(own_files[i]) == l - 11 && memcmp(name, own_files[i], l - 11) == 0)
			return true;
	return false;
}

static bool is_key_name(enum level level, const char *name)
{
	switch (level) {
	case LEVEL_ACCOUNT:
		return streq(name, "account.key") || streq(name, "account.key.next");
	case LEVEL_CERT:
		return streq(name, "pending.key");
	case LEVEL_VERSION:
		return streq(name, "privkey.pem");
	default:
		return false;
	}
}

static bool is_secret_name(enum level level, const char *name)
{
	return (level == LEVEL_TOP &&
		(streq(name, "state.json") || streq(name, "state.journal"))) ||
	       (level == LEVEL_ACCOUNT && streq(name, "account.json"));
}

_printf_(3, 4) static void refuse(struct tidy *t, const char *path, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_error("%s: %s", path, why);
	t->refused++;
}

static void tighten(int fd, const char *path, const struct stat *st, mode_t want)
{
	mode_t old = st->st_mode & 07777;

	if ((old & 07077) == 0)
		return;
	if (fchmod(fd, want) < 0) {
		log_warning("%s: mode %04o is too open, and changing it to %04o failed: %m", path,
			    (unsigned)old, (unsigned)want);
		return;
	}
	log_warning("%s: mode %04o was too open, changed to %04o", path, (unsigned)old,
		    (unsigned)want);
}

static void refuse_link(struct tidy *t, const char *path)
{
	refuse(t, path, "a symbolic link, not a key file of persistd's own: refusing to follow "
			"it (replace the link with the file)");
}

/* Whether st is a key this daemon may use, after refusing it (logged) if not:
 * writable by others, owned by someone else, a link or not a file at all may
 * not be the key this daemon made. */
static bool key_usable(struct tidy *t, const char *path, const struct stat *st)
{
	if (S_ISLNK(st->st_mode)) {
		refuse_link(t, path);
		return false;
	}
	if (!S_ISREG(st->st_mode)) {
		refuse(t, path, "not a regular file (%s)", file_type_name(st->st_mode));
		return false;
	}
	if (st->st_uid != t->uid) {
		refuse(t, path,
		       "owned by uid %u, not by persistd's uid %u: refusing to use a key someone "
		       "else may have put there (check it, then chown it or remove it)",
		       (unsigned)st->st_uid, (unsigned)t->uid);
		return false;
	}
	if (st->st_mode & 022) {
		refuse(t, path,
		       "mode %04o is group- or world-writable: refusing to use a key someone else "
		       "may have replaced (check it, then chmod 0600 it or remove it)",
		       (unsigned)(st->st_mode & 07777));
		return false;
	}
	return true;
}

/* A key: refused as key_usable() says, repaired if only too readable. Looked
 * at with one fstatat() (a key per cert version: 100k and more at 100k certs);
 * opened only to be repaired, and then checked again through the fd. */
static void tidy_key(struct tidy *t, int dfd, const char *name, const char *path)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			refuse(t, path, "cannot check the key file: %m");
		return;
	}
	if (!key_usable(t, path, &st) || (st.st_mode & 07077) == 0)
		return;
	/* O_NONBLOCK | O_NOFOLLOW: a FIFO or link swapped in since cannot stall
	 * us or redirect the fchmod(). */
	_cleanup_close_ int fd = openat(dfd, name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return;
	if (fd < 0 && errno == ELOOP) {
		refuse_link(t, path);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		refuse(t, path, "cannot check the key file: %m");
		return;
	}
	if (key_usable(t, path, &st))
		tighten(fd, path, &st, 0600);
}

/* account.json, state.json: not secret enough to refuse, but 0600 by design. */
static void tidy_secret(int dfd, const char *name, const char *path, uid_t uid)
{
	struct stat st;
	_cleanup_close_ int fd = openat(dfd, name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return; /* its reader reports what is wrong with it */
	if (st.st_uid != uid) {
		log_warning("%s: owned by uid %u, not by persistd's uid %u", path,
			    (unsigned)st.st_uid, (unsigned)uid);
		return;
	}
	tighten(fd, path, &st, 0600);
}

static void remove_temp(int dfd, const char *name, const char *path, bool link)
{
	struct stat st;

	/* Only what our own writes leave: a regular file (a link for current.tmp). */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (link ? !S_ISLNK(st.st_mode) : !S_ISREG(st.st_mode)))
		return;
	if (unlinkat(dfd, name, 0) < 0)
		log_warning("%s: removing the temporary file left by an interrupted write: %m",
			    path);
	else
		log_notice("%s: removed, a temporary file left by an interrupted write", path);
}

/* Opens a directory the daemon owns and makes it 0700; refuses one owned by
 * someone else or a link in its place. -ENOENT when absent. */
static int open_own_dir(struct tidy *t, int dfd, const char *name, const char *path, bool follow)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));

	if (fd < 0) {
		int r = -errno;
		if (r == -ENOENT)
			return r;
		if ((r == -ELOOP || r == -ENOTDIR) &&
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			refuse(t, path, "expected a directory, found a %s",
			       file_type_name(st.st_mode));
		else
			refuse(t, path, "cannot open the directory: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		refuse(t, path, "cannot check the directory: %m");
		close(fd);
		return -EIO;
	}
	if (st.st_uid != t->uid) {
		refuse(t, path, "owned by uid %u, not by persistd's uid %u (chown the state "
				"directory to the user persistd runs as)",
		       (unsigned)st.st_uid, (unsigned)t->uid);
		close(fd);
		return -EPERM;
	}
	tighten(fd, path, &st, 0700);
	return fd;
}

typedef void (*visit_fn)(struct tidy *t, int fd, const char *path);

static void tidy_entry(struct tidy *t, int fd, const char *path, enum level level,
		       visit_fn visit, const char *n, unsigned char type)
{
	char sub[PATH_MAX];

	if (snprintf(sub, sizeof(sub), "%s/%s", path, n) >= (int)sizeof(sub))
		return;
	if (level != LEVEL_OTHER && fsperm_is_temp_name(n)) {
		remove_temp(fd, n, sub, false);
	} else if (level == LEVEL_CERT && streq(n, "current.tmp")) {
		remove_temp(fd, n, sub, true);
	} else if (is_key_name(level, n)) {
		tidy_key(t, fd, n, sub);
	} else if (is_secret_name(level, n)) {
		tidy_secret(fd, n, sub, t->uid);
	} else if (visit && (level != LEVEL_CERT || streq(n, "archive"))) {
		struct stat st;
		/* Directories below; a link in the place of one is refused by
		 * open_own_dir(), other files are none of ours. */
		if (type == DT_UNKNOWN) {
			if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
		}
		if (type != DT_DIR && type != DT_LNK)
			return;
		_cleanup_close_ int sfd = open_own_dir(t, fd, n, sub, false);
		if (sfd >= 0)
			visit(t, sfd, sub);
	}
}

/* Calls each(ctx, name, d_type) for every entry of the directory fd but "."
 * and "..", until it returns < 0. Read with getdents64() into the stack, not
 * opendir(): at 100k certs that is 300k directories, and opendir() would dup,
 * fstat and fcntl each fd and allocate 32 KiB for it. A listing that fails is
 * refused. */
static void list_dir(struct tidy *t, int fd, const char *path,
		     int (*each)(void *ctx, const char *name, unsigned char type), void *ctx)
{
	_Alignas(struct dirent64) char buf[8192];

	for (;;) {
		ssize_t n = getdents64(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			refuse(t, path, "cannot list the directory: %m");
			return;
		}
		if (n == 0)
			return;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *e = (const struct dirent64 *)(buf + off);
			off += e->d_reclen;
			if (streq(e->d_name, ".") || streq(e->d_name, ".."))
				continue;
			if (each(ctx, e->d_name, e->d_type) < 0)
				return;
		}
	}
}

struct entries {
	struct tidy *t;
	int fd;
	const char *path;
	enum level level;
	visit_fn visit;
};

static int tidy_one_entry(void *ctx, const char *name, unsigned char type)
{
	const struct entries *e = ctx;

	tidy_entry(e->t, e->fd, e->path, e->level, e->visit, name, type);
	return 0;
}

/* One listing of a directory: its temp files, keys and secrets, and visit
 * for each subdirectory (only "archive" below a cert). */
static void tidy_entries(struct tidy *t, int fd, const char *path, enum level level,
			 visit_fn visit)
{
	struct entries e = { t, fd, path, level, visit };

	list_dir(t, fd, path, tidy_one_entry, &e);
}

static void visit_version(struct tidy *t, int fd, const char *path)
{
	tidy_entries(t, fd, path, LEVEL_VERSION, NULL);
}

static void visit_archive(struct tidy *t, int fd, const char *path)
{
	tidy_entries(t, fd, path, LEVEL_OTHER, visit_version);
}

static void visit_cert(struct tidy *t, int fd, const char *path)
{
	tidy_entries(t, fd, path, LEVEL_CERT, visit_archive);
}

static void visit_account(struct tidy *t, int fd, const char *path)
{
	tidy_entries(t, fd, path, LEVEL_ACCOUNT, NULL);
}

static void visit_top_dir(struct tidy *t, int top, const char *state_dir, const char *name,
			  visit_fn visit)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, name) >= (int)sizeof(path))
		return;
	_cleanup_close_ int fd = open_own_dir(t, top, name, path, false);
	if (fd >= 0)
		tidy_entries(t, fd, path, LEVEL_OTHER, visit);
}

/* certs/, listed once and then shared: its entries (one directory per cert,
 * 100k at 100k certs, the bulk of the walk) are handed out one at a time to
 * every thread that works on it, so the loop's thread can take its share
 * once its own start-up work is done (fsperm_tidy_wait()). */
struct certs_walk {
	int fd;
	char path[PATH_MAX];
	char *names;        /* each entry: its d_type byte, then its name and a NUL */
	size_t names_len;
	uint32_t *offsets;  /* where each entry starts in names */
	size_t n;
	atomic_size_t next; /* the next entry nobody has taken */
};

static void certs_walk_done(struct certs_walk *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->names);
	free(w->offsets);
	w->names = NULL;
	w->offsets = NULL;
	w->n = 0;
}

struct walk_listing {
	struct tidy *t;
	struct certs_walk *w;
	size_t cap, cap_offsets;
};

/* One entry more in w's list: 0 or -errno. */
static int certs_walk_append(struct walk_listing *l, const char *name, unsigned char type)
{
	struct certs_walk *w = l->w;
	size_t len = strlen(name) + 2;

	if (w->names_len + len > UINT32_MAX)
		return -E2BIG;
	if (w->names_len + len > l->cap) {
		size_t ncap = MAX(l->cap * 2, w->names_len + len + 4096);
		char *n = realloc(w->names, ncap);
		if (!n)
			return -ENOMEM;
		w->names = n;
		l->cap = ncap;
	}
	if (w->n == l->cap_offsets) {
		size_t ncap = MAX(l->cap_offsets * 2, (size_t)256);
		uint32_t *o = reallocarray(w->offsets, ncap, sizeof(*o));
		if (!o)
			return -ENOMEM;
		w->offsets = o;
		l->cap_offsets = ncap;
	}
	w->offsets[w->n++] = (uint32_t)w->names_len;
	w->names[w->names_len] = (char)type;
	memcpy(w->names + w->names_len + 1, name, len - 1);
	w->names_len += len;
	return 0;
}

static int certs_walk_add(void *ctx, const char *name, unsigned char type)
{
	struct walk_listing *l = ctx;
	int r = certs_walk_append(l, name, type);

	if (r < 0)
		refuse(l->t, l->w->path, "cannot list the directory: %s", strerror(-r));
	return r;
}

/* Opens and lists certs/ into w; w->fd stays -1 when there is none (or it was
 * refused), so there is nothing to share. */
static void certs_walk_list(struct tidy *t, int top, const char *state_dir, struct certs_walk *w)
{
	struct walk_listing l = { .t = t, .w = w };

	w->fd = -1;
	atomic_init(&w->next, 0);
	if (snprintf(w->path, sizeof(w->path), "%s/certs", state_dir) >= (int)sizeof(w->path))
		return;
	int fd = open_own_dir(t, top, "certs", w->path, false);
	if (fd < 0)
		return;
	w->fd = fd;
	list_dir(t, fd, w->path, certs_walk_add, &l);
}

static void certs_walk_work(struct tidy *t, struct certs_walk *w)
{
	for (;;) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			return;
		const char *e = w->names + w->offsets[i];
		tidy_entry(t, w->fd, w->path, LEVEL_OTHER, visit_cert, e + 1, (unsigned char)e[0]);
	}
}

static int tidy_result(const char *state_dir, int r, unsigned refused)
{
	if (refused) {
		log_error("refusing to use the state directory %s: %u problem%s above", state_dir,
			  refused, refused == 1 ? "" : "s");
		return -EPERM;
	}
	return r;
}

/* Everything but certs/'s entries, which it lists into w: < 0 when the state
 * directory itself cannot be used (then w is empty). */
static int tidy_prepare(struct tidy *t, const char *state_dir, struct certs_walk *w)
{
	w->fd = -1;
	/* state_dir itself may be a link an administrator made; below it, no
	 * link is followed. */
	_cleanup_close_ int top = open_own_dir(t, AT_FDCWD, state_dir, state_dir, true);
	if (top < 0)
		return top;
	tidy_entries(t, top, state_dir, LEVEL_TOP, NULL);
	visit_top_dir(t, top, state_dir, "accounts", visit_account);
	certs_walk_list(t, top, state_dir, w);
	return 0;
}

int fsperm_tidy(const char *state_dir)
{
	struct tidy t = { .uid = geteuid() };
	struct certs_walk w = { .fd = -1 };

	int r = tidy_prepare(&t, state_dir, &w);
	certs_walk_work(&t, &w);
	certs_walk_done(&w);
	return tidy_result(state_dir, r, t.refused);
}

/* Threads of the start-up tidy. Beyond the cores' worth, the others wait on the
 * disk: with the page cache cold (a host up for weeks evicts a store read only
 * at start), a walk of 300k directories is 300k small random reads, and one
 * thread has one of them in flight at a time. */
#define TIDY_THREADS 8

struct tidy_worker {
	struct fsperm_job *job;
	pthread_t thread;
	struct tidy tidy;
	bool started;
};

struct fsperm_job {
	char *state_dir;
	struct tidy_worker workers[TIDY_THREADS];
	struct certs_walk walk;
	int result;
	/* Set once walk is listed (or will never be): from then on others may share it. */
	pthread_mutex_t lock;
	pthread_cond_t listed_cond;
	bool listed;
};

static void wait_listed(struct fsperm_job *job)
{
	pthread_mutex_lock(&job->lock);
	while (!job->listed)
		pthread_cond_wait(&job->listed_cond, &job->lock);
	pthread_mutex_unlock(&job->lock);
}

static void *tidy_thread(void *arg)
{
	struct tidy_worker *me = arg;
	struct fsperm_job *job = me->job;

	if (me == &job->workers[0]) {
		job->result = tidy_prepare(&me->tidy, job->state_dir, &job->walk);
		pthread_mutex_lock(&job->lock);
		job->listed = true;
		pthread_cond_broadcast(&job->listed_cond);
		pthread_mutex_unlock(&job->lock);
	} else {
		wait_listed(job);
	}
	certs_walk_work(&me->tidy, &job->walk);
	return NULL;
}

static void job_free(struct fsperm_job *job)
{
	pthread_mutex_destroy(&job->lock);
	pthread_cond_destroy(&job->listed_cond);
	free(job->state_dir);
	free(job);
}

/* Joins every thread started; the sum of their refusals. */
static unsigned join_workers(struct fsperm_job *job)
{
	unsigned refused = 0;

	for (size_t i = 0; i < TIDY_THREADS; i++) {
		if (!job->workers[i].started)
			continue;
		pthread_join(job->workers[i].thread, NULL);
		refused += job->workers[i].tidy.refused;
	}
	return refused;
}

int fsperm_tidy_start(const char *state_dir, struct fsperm_job **ret)
{
	struct fsperm_job *job = calloc(1, sizeof(*job));
	sigset_t all, old;
	int r = 0;

	if (!job)
		return -ENOMEM;
	job->walk.fd = -1;
	pthread_mutex_init(&job->lock, NULL);
	pthread_cond_init(&job->listed_cond, NULL);
	job->state_dir = strdup(state_dir);
	if (!job->state_dir) {
		job_free(job);
		return -ENOMEM;
	}
	/* The threads inherit the mask: signals stay with the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < TIDY_THREADS && r == 0; i++) {
		struct tidy_worker *w = &job->workers[i];
		w->job = job;
		w->tidy.uid = geteuid();
		r = -pthread_create(&w->thread, NULL, tidy_thread, w);
		w->started = r == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!job->workers[0].started) {
		job_free(job);
		return r;
	}
	/* Fewer helpers than asked only make the walk slower. */
	*ret = job;
	return 0;
}

int fsperm_tidy_wait(struct fsperm_job *job)
{
	/* The caller's share: whatever certs/ entries the threads have not taken yet. */
	struct tidy mine = { .uid = geteuid() };

	wait_listed(job);
	certs_walk_work(&mine, &job->walk);
	unsigned refused = join_workers(job) + mine.refused;
	certs_walk_done(&job->walk);
	int r = tidy_result(job->state_dir, job->result, refused);
	job_free(job);
	return r;
}
