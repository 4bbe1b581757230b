/* daemon/reload.h: applying a new configuration to the running daemon
 * (SIGHUP and the reload method).
 *
 * All or nothing: the new configuration is parsed and validated, and every
 * struct ca and struct cert it needs is built (running ones reused when they
 * did not change, with their work in flight) before anything running is
 * touched; then the new set is swapped in at once. If any step fails, the
 * running set stays exactly as it was. A CA that goes (removed, renamed, or
 * its directory or ca_bundle changed) is freed after the certs that used
 * it: every control request waiting on it is answered. A cert that goes is
 * unscheduled and freed; a cert moved to another CA is made afresh against
 * it (the old CA's order in flight and ARI window are forgotten).
 *
 * [daemon] settings: log_level, recheck_interval, warn_before and
 * critical_before apply at once; resolver, trust_anchor, dns_timeout and
 * dns_max_inflight make a new DNS checker (the old one answers what it has
 * in flight, then goes); state_dir, control_socket and admin_group need a
 * restart, which the answer and the log say.
 *
 * A failed reload is remembered (when, file:line, message) until a reload
 * succeeds; status shows it as a WARNING. */
#pragma once

struct daemon;

/* 0 and *ret_message says what changed; -EINVAL and *ret_message says why
 * nothing did. *ret_message is owned by the caller (NULL when out of memory).
 * Sends systemd RELOADING=1; the caller sends STATUS= and READY=1 after it,
 * whatever the outcome (reload.c does not depend on methods.c's summary). */
int daemon_reload(struct daemon *d, char **ret_message);

/* At teardown: frees what reloads left behind (a retiring DNS checker, the
 * last failure). */
void daemon_reload_done(struct daemon *d);

/* Logs a warning for each problem config_check_runtime() finds in the
 * running configuration (a missing hook, a past persist_until, ...): at
 * start and after a reload the daemon warns and goes on, where persistd -t
 * calls them errors. */
void daemon_reload_check_runtime(struct daemon *d);
