/* daemon/ctlsock.h: the control socket's edges, below daemon/control: the
 * socket file it listens on, and who is at the other end of a connection.
 *
 * The socket file: ctlsock_create() replaces a stale socket left at path by
 * a dead daemon (connecting to it is refused), and refuses anything else
 * there: a live socket (-EADDRINUSE), a regular file or a directory
 * (-EEXIST). It binds with umask 0177, so the socket is born 0600 and only
 * then gets its group and mode: no one else can connect in between.
 * ctlsock_remove() unlinks the path only while it is still the socket we
 * created (same device and inode), never a newer daemon's.
 *
 * Peers: credentials come from SO_PEERCRED and SO_PEERGROUPS on the
 * connected fd, never from NSS lookups, so nothing here blocks.
 *
 * Errors: -errno. ctlsock_create() and ctlsock_check_adopted() log why (once,
 * here); the rest log nothing but debug lines. No state: every call works on
 * the path or fd it is given. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Creates, binds and sets up the listening socket file at path (group
 * (gid_t)-1 keeps ours). Returns the fd (not yet listening) and the socket
 * file's device and inode for ctlsock_remove(). */
int ctlsock_create(const char *path, gid_t group, mode_t mode, int *ret_fd, dev_t *ret_dev,
		   ino_t *ret_ino);

/* Unlinks path if it is still the socket ctlsock_create() made (dev, ino). */
void ctlsock_remove(const char *path, dev_t dev, ino_t ino);

/* Checks that an fd handed to us (socket activation) is a listening Unix
 * stream socket: 0 or -EINVAL (logged). The fd stays open either way. */
int ctlsock_check_adopted(int fd);

/* Sets SIGPIPE to SIG_IGN when it is still SIG_DFL: a client that hangs up
 * before reading its answer must not end the daemon (control.h). */
int ctlsock_ignore_sigpipe(void);

/* The connected peer's uid, gid and pid, and whether it is admin: its uid
 * is 0 or daemon_uid, or its primary or a supplementary gid is admin_gid
 * ((uid_t)-1 and (gid_t)-1: none). A peer whose supplementary groups cannot
 * be read counts with its primary gid only. */
int ctlsock_peer_identify(int fd, uid_t daemon_uid, gid_t admin_gid, struct ucred *ret_cred,
			  bool *ret_admin);
