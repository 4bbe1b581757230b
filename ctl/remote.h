/* ctl/remote.h: the persistctl commands that ask the running daemon, over
 * its control socket (ctl/rpc): status, list, show, record NAME, check,
 * reload, account, probe, watch (renew: ctl/renew).
 *
 * Each returns the process exit code. Whenever the daemon gives no answer
 * to what was asked (it cannot be reached, refuses the connection for load,
 * closes before answering, does not answer in time, or sends garbage), that
 * is exit code 3 (UNKNOWN, "cannot tell", the monitoring-plugin convention)
 * with a message that says what happened; never a level or a failure.
 * status follows the convention for its levels: 0 OK, 1 WARNING, 2 CRITICAL
 * or ERROR; status and check exit 3 on usage errors too (monitoring cannot
 * tell a typo from a failure otherwise). With --json every error is also a
 * JSON object on stdout (remotecall_error); irreversible commands run only
 * with --yes (remotecall_confirm). */
#pragma once

#include "ctl/remotecall.h" /* struct remote_options */

int ctl_status(const struct remote_options *o, int argc, char **argv);
int ctl_list(const struct remote_options *o, int argc, char **argv);
int ctl_show(const struct remote_options *o, int argc, char **argv);
int ctl_record_remote(const struct remote_options *o, int argc, char **argv);
int ctl_check_remote(const struct remote_options *o, int argc, char **argv);
int ctl_reload(const struct remote_options *o, int argc, char **argv);
int ctl_account(const struct remote_options *o, int argc, char **argv);
int ctl_probe(const struct remote_options *o, int argc, char **argv);
int ctl_watch(const struct remote_options *o, int argc, char **argv);
