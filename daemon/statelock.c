#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/strutil.h"
#include "daemon/statelock.h"

#define STATELOCK_MAX_BYTES 4096

/* "persistd pid N (control socket P)" from what the holder wrote. */
static void describe_holder(int fd, char *buf, size_t size)
{
	char text[STATELOCK_MAX_BYTES + 1];
	char mode[32] = "daemon", sock[STATELOCK_MAX_BYTES] = "";
	long pid = 0;
	ssize_t n = pread(fd, text, STATELOCK_MAX_BYTES, 0);

	text[n > 0 ? n : 0] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "pid %ld", &pid) == 1)
			continue;
		if (sscanf(line, "mode %31s", mode) == 1)
			continue;
		if (str_has_prefix(line, "control_socket "))
			str_printf(sock, sizeof(sock), "%s", line + strlen("control_socket "));
	}
	if (pid <= 0) {
		str_printf(buf, size, "another persistd (it has not written its pid yet)");
		return;
	}
	if (streq(mode, "daemon"))
		str_printf(buf, size, "persistd pid %ld (control socket %s)", pid,
			   sock[0] ? sock : "unknown");
	else
		str_printf(buf, size, "persistd --%s pid %ld", mode, pid);
}

int statelock_take(const char *state_dir, const char *mode, const char *control_socket,
		   int *ret_fd, char *why, size_t why_size)
{
	char path[4096], text[STATELOCK_MAX_BYTES];
	int fd, r;

	str_printf(path, sizeof(path), "%s/lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		r = -errno;
		str_printf(why, why_size, "opening %s: %s", path, strerror(errno));
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		if (r == -EWOULDBLOCK) {
			char holder[STATELOCK_MAX_BYTES + 64];
			describe_holder(fd, holder, sizeof(holder));
			str_printf(why, why_size, "state_dir %s is in use by %s", state_dir, holder);
			r = -EBUSY;
		} else {
			str_printf(why, why_size, "locking %s: %s", path, strerror(-r));
		}
		close(fd);
		return r;
	}
	int len = snprintf(text, sizeof(text), "pid %ld\nmode %s\ncontrol_socket %s\n",
			   (long)getpid(), mode, control_socket ? control_socket : "");
	/* Who holds it is for the loser's message only: failing to say so is no
	 * reason to refuse to run. */
	if (ftruncate(fd, 0) == 0 && len > 0)
		(void)!pwrite(fd, text, MIN((size_t)len, sizeof(text) - 1), 0);
	*ret_fd = fd;
	return 0;
}

void statelock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
