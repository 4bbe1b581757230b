/* daemon/statelock.h: one writer per state directory.
 *
 * Every mode that writes state (the daemon, --oneshot, --revoke) holds an
 * exclusive flock() on <state_dir>/lock for as long as it runs; a second
 * writer on the same directory (a daemon beside a daemon, --oneshot beside
 * a running daemon) would install certificates and rewrite state.json
 * behind the first one's back. The holder writes its pid, mode and control
 * socket into the file after taking the lock, so that the loser can say who
 * holds it. The file stays (removing a lock file races with the next
 * taker); the lock ends with the process, even on SIGKILL.
 *
 * Errors: -EBUSY when another process holds the lock (why says who), else
 * -errno from open() or flock() (why says which). The loop is not involved:
 * this runs once, at start-up. */
#pragma once

#include <stddef.h>

/* The holder's fd (O_CLOEXEC: hooks do not inherit it) in *ret_fd. mode is
 * "daemon", "oneshot" or "revoke"; control_socket may be NULL. */
int statelock_take(const char *state_dir, const char *mode, const char *control_socket,
		   int *ret_fd, char *why, size_t why_size);

/* Closes the fd (and so drops the lock); -1 is a no-op. */
void statelock_release(int fd);
