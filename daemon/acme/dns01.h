/* daemon/acme/dns01.h: the classic dns-01 challenge, kept apart from
 * dns-persist-01 on purpose: this is the only module in persistd that
 * changes DNS, and it does so only through the operator's hook.
 *
 * dns01_set() runs `HOOK set _acme-challenge.<name> VALUE` as a child process
 * (stdout and stderr captured to the log, killed after the hook timeout),
 * then waits until every authoritative server of the zone answers VALUE at
 * that name (asking the configured resolver instead when no NS set can be
 * found, as with pebble-challtestsrv), polling until the propagation
 * timeout: the first check right after the hook, then after 250 ms doubling
 * up to 10 s (daemon/acme/pollwait), so a record that is there within a
 * second is seen within a second. dns01_clean() runs `HOOK clean ...` and then frees the job; the
 * order engine calls it on every path once set was attempted, success or
 * failure. Once the daemon is stopping (hook_stop_all), a running hook is
 * stopped and a clean hook is not started: the log then names the TXT
 * record that may be left behind. Callbacks come from the loop, never from
 * inside the call. */
#pragma once

#include "common/macro.h"

#include <stdint.h>
#include <uv.h>

#define DNS01_POLL_FIRST_MS 250
#define DNS01_POLL_CAP_MS 10000

struct dnscheck;
struct dns01_job;

typedef void (*dns01_fn)(struct dns01_job *job, int r, const char *message, void *userdata);

struct dns01_params {
	const char *hook;                 /* absolute path */
	const char *identifier;           /* the authz identifier (no "*.") */
	const char *value;                /* b64url(SHA-256(key authorization)) */
	uint64_t hook_timeout_ms;
	uint64_t propagation_timeout_ms;
};

/* ready is called once: r == 0 when the value is visible everywhere. */
/* The loop and the DNS checker are borrowed until the job is freed. */
int dns01_set(uv_loop_t *loop, struct dnscheck *dns, const struct dns01_params *p,
	      dns01_fn ready, void *userdata, struct dns01_job **ret);

/* Runs the clean hook (whatever state the job is in) and frees the job when
 * it ends; done (may be NULL) is called then. After this call the job
 * pointer must not be used by the caller. */
void dns01_clean(struct dns01_job *job, dns01_fn done, void *userdata);
