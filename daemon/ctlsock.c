/* daemon/ctlsock.c: see ctlsock.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/ctlsock.h"
#include "daemon/log.h"

#define CTLSOCK_PEER_GROUPS 64 /* supplementary groups read without malloc */

/* ---- peers ---- */

static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[CTLSOCK_PEER_GROUPS];
	_cleanup_free_ gid_t *big = NULL;
	gid_t *groups = small;
	socklen_t len = sizeof(small);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, small, &len) < 0) {
		if (errno != ERANGE || len == 0)
			return false; /* no such option: only the primary gid counts */
		big = malloc(len);
		if (!big || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, big, &len) < 0)
			return false;
		groups = big;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int ctlsock_peer_identify(int fd, uid_t daemon_uid, gid_t admin_gid, struct ucred *ret_cred,
			  bool *ret_admin)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*ret_admin = cred.uid == 0 || (daemon_uid != (uid_t)-1 && cred.uid == daemon_uid) ||
		     (admin_gid != (gid_t)-1 &&
		      (cred.gid == admin_gid || peer_in_group(fd, admin_gid)));
	*ret_cred = cred;
	return 0;
}

/* ---- the socket file ---- */

static int socket_check_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int r;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return log_errno(LOG_ERR, -errno, "control socket '%s': %m", path);
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("control socket '%s' exists and is not a socket; refusing to replace it",
			  path);
		return -EEXIST;
	}
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "control socket: %m");
	memcpy(sa.sun_path, path, strlen(path));
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		log_error("control socket '%s' is in use by another process (another persistd?)",
			  path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED)
		return log_errno(LOG_ERR, -errno, "control socket '%s': probing it: %m", path);
	log_info("control: removing stale socket '%s'", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(LOG_ERR, -errno, "removing stale control socket '%s': %m", path);
	return 0;
}

int ctlsock_create(const char *path, gid_t group, mode_t mode, int *ret_fd, dev_t *ret_dev,
		   ino_t *ret_ino)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("control socket path '%s' is longer than %zu bytes", path,
			  sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	r = socket_check_stale(path);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "control socket: %m");
	/* Born 0600: nobody else may connect before the group and mode are set. */
	mode_t mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int saved = errno;
	(void)umask(mask);
	if (r < 0)
		return log_errno(LOG_ERR, -saved, "binding control socket '%s': %m", path);
	if (group != (gid_t)-1 && chown(path, (uid_t)-1, group) < 0) {
		r = log_errno(LOG_ERR, -errno, "control socket '%s': setting group %u: %m", path,
			      (unsigned)group);
		(void)unlink(path);
		return r;
	}
	if (chmod(path, mode) < 0 || lstat(path, &st) < 0) {
		r = log_errno(LOG_ERR, -errno, "control socket '%s': setting mode %04o: %m", path,
			      (unsigned)mode);
		(void)unlink(path);
		return r;
	}
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

void ctlsock_remove(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	/* Only our own socket: a newer daemon may have bound the path since. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino &&
	    unlink(path) < 0)
		log_debug("control: removing '%s': %m, ignoring", path);
}

int ctlsock_check_adopted(int fd)
{
	int type = 0, domain = 0, listening = 0;
	socklen_t l1 = sizeof(type), l2 = sizeof(domain), l3 = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l2) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l3) < 0)
		return log_errno(LOG_ERR, -errno, "control socket fd %d: %m", fd);
	if (type != SOCK_STREAM || domain != AF_UNIX || !listening) {
		log_error("control socket fd %d is not a listening Unix stream socket", fd);
		return -EINVAL;
	}
	return 0;
}

/* libuv writes with write(2): a client that hangs up before reading its
 * answer would raise SIGPIPE, whose default action ends the daemon. */
int ctlsock_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) < 0)
		return -errno;
	if (sa.sa_handler != SIG_DFL)
		return 0;
	sa = (struct sigaction){ .sa_handler = SIG_IGN };
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}
