/* daemon/hook.h: runs an operator's program (deploy hook, dns-01 hook) as a
 * child process on the loop.
 *
 * stdout and stderr are read line by line into the log (prefixed, at most
 * HOOK_MAX_OUTPUT_BYTES kept per stream; the rest is drained and counted),
 * the child gets a timeout (SIGTERM, then SIGKILL 5 s later), and the result
 * comes back through one callback from the loop: 0 for exit status 0,
 * -ECHILD for another status or a signal (the message says which),
 * -ETIMEDOUT when it was killed for taking too long. The environment is the
 * daemon's plus the given KEY=VALUE entries; stdin is /dev/null. The child
 * runs in its own process group so a timeout kills what it started too.
 * hook_abandon() forgets the callback; the child still runs to its end. */
#pragma once

#include "common/macro.h"

#include <stdint.h>
#include <uv.h>

#define HOOK_MAX_OUTPUT_BYTES (64 * 1024)
#define HOOK_KILL_GRACE_MS (5 * 1000)

struct hook_run;

typedef void (*hook_done_fn)(int r, const char *message, void *userdata);

/* argv[0] is the program (absolute path); env is NULL-terminated or NULL. */
int hook_run(uv_loop_t *loop, const char *const *argv, const char *const *env,
	     uint64_t timeout_ms, const char *log_prefix, hook_done_fn cb, void *userdata,
	     struct hook_run **ret);
void hook_abandon(struct hook_run *h); /* NULL is a no-op */
