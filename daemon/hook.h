/* daemon/hook.h: runs an operator's program (deploy hook, dns-01 hook) as a
 * child process on the loop.
 *
 * stdout and stderr are read line by line into the log (prefixed, at most
 * HOOK_MAX_OUTPUT_BYTES logged per stream; the rest is drained), the child
 * gets a timeout (SIGTERM, then SIGKILL HOOK_KILL_GRACE_MS later), and the
 * result comes back through one callback from the loop: 0 for exit status
 * 0, -ECHILD for another status or a signal (the message says which),
 * -ETIMEDOUT when it was killed for taking too long, -ECANCELED when
 * hook_stop_all() stopped it. The callback also gets the last
 * HOOK_TAIL_LINES lines of stderr (each escaped and cut at
 * HOOK_TAIL_LINE_BYTES, joined by '\n'; "" when there were none), so a
 * failure can be shown with the hook's own words. The environment is the
 * daemon's plus the given KEY=VALUE entries; stdin is /dev/null, and no
 * other descriptor of the daemon's is open in it. The child runs in a
 * session and process group of its own so a timeout or a stop kills what
 * it started too. It is started with posix_spawn() (no copy of the
 * daemon's page tables) and its exit seen through a pidfd.
 *
 * hook_abandon() forgets the callback; the child still runs to its end (or
 * until hook_stop_all()).
 *
 * Stopping: hook_stop_all() sends SIGTERM to the process group of every
 * hook still running, at once, and SIGKILL HOOK_STOP_GRACE_MS later, so a
 * daemon that is told to stop is gone within a few seconds whatever its
 * hooks do. After it, hook_run() refuses with -ESHUTDOWN. The running
 * hooks are kept in one list for the process: there is one loop. */
#pragma once

#include "common/macro.h"

#include <stdint.h>
#include <uv.h>

#define HOOK_MAX_OUTPUT_BYTES (64 * 1024)
#define HOOK_KILL_GRACE_MS (5 * 1000)
/* Short: systemd waits TimeoutStopSec (90 s) for the whole daemon. */
#define HOOK_STOP_GRACE_MS (2 * 1000)
#define HOOK_TAIL_LINES 5
#define HOOK_TAIL_LINE_BYTES 200
/* How often a child's exit is looked for where no pidfd tells (Linux
 * before 5.3, valgrind). */
#define HOOK_REAP_POLL_MS 50

struct hook_run;

typedef void (*hook_done_fn)(int r, const char *message, const char *err_tail, void *userdata);

/* argv[0] is the program (absolute path); env is NULL-terminated or NULL. */
int hook_run(uv_loop_t *loop, const char *const *argv, const char *const *env,
	     uint64_t timeout_ms, const char *log_prefix, hook_done_fn cb, void *userdata,
	     struct hook_run **ret);
void hook_abandon(struct hook_run *h); /* NULL is a no-op */

/* SIGTERM now and SIGKILL after HOOK_STOP_GRACE_MS to every running hook;
 * later hook_run() calls fail with -ESHUTDOWN. */
void hook_stop_all(void);
