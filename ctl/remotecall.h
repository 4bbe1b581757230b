/* ctl/remotecall.h: one question to the running daemon, as every command of
 * ctl/remote asks it: connect to the control socket (ctl/rpc), make one
 * call, and turn what went wrong into a message on stderr and an exit code;
 * plus the option parsing and JSON printing those commands share.
 *
 * Exit codes (monitoring-plugin convention, see remote.h): 1 the daemon
 * answered with an error, 2 permission denied (or a usage error), 3 no
 * answer to this call: it cannot be reached, refuses the connection for
 * load, closes before answering, does not answer in time, or sends garbage
 * ("cannot tell", never a level or a failure of the operation). Every
 * message names the socket or the method and says what happened. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "ctl/rpc.h"

/* The global options of every remote command (ctl/remote.h). */
struct remote_options {
	const char *socket;   /* control socket path */
	bool json;            /* print the daemon's JSON answer */
	bool color;           /* colour on a TTY */
	const char *config;   /* -c CONFIG, or NULL: the daemon's configuration file */
};

/* What a call may take before the daemon counts as not answering, and the
 * connect timeout of every call. */
#define REMOTECALL_TIMEOUT_MS (30 * 1000)

/* Connects with timeout_ms; on failure prints why, with a hint (is the
 * daemon running? in the socket's group?), and returns -errno. */
int remotecall_connect(const struct remote_options *o, uint64_t timeout_ms,
		       struct rpc_client **ret);

/* One call; prints errors. 0 with *ret set (free it with yajl_tree_free),
 * or an exit code (above). An error answer is returned in *ret_err when
 * ret_err is not NULL (the caller prints it and calls rpc_error_done()),
 * else printed; a refusal for load is always printed and is 3. */
int remotecall_call(const struct remote_options *o, const char *method, const char *params,
		    uint64_t timeout_ms, yajl_val *ret, struct rpc_error *ret_err);
/* As remotecall_call(), for a command named cmd: an error answer is printed as
 * "cmd: message", and refused params (JSON-RPC invalid params) are a usage error. */
int remotecall_run(const struct remote_options *o, const char *cmd, const char *method,
		   const char *params, uint64_t timeout_ms, yajl_val *ret);
/* As remotecall_call(); a plain success reply may be taken by ret_pass
 * instead (rpc_call_pass()): then 0 with ret_pass->taken (written to ret_pass->out), *ret
 * untouched. */
struct jsonpass;
int remotecall_call_pass(const struct remote_options *o, const char *method, const char *params,
			 uint64_t timeout_ms, struct jsonpass *ret_pass, yajl_val *ret,
			 struct rpc_error *ret_err);

/* Prints v as indented JSON and a newline: 0, or 1 out of memory. */
int remotecall_print_json(yajl_val v);
/* The same, indented or on one line (watch --json: one object a line). */
int remotecall_print_json_as(yajl_val v, bool pretty);

/* An error message: "persistctl: MESSAGE" on stderr, and with o->json also
 * {"error":{"message","code","exit_code"}} on one line of stdout, so that a
 * script reading --json output always gets JSON. rpc_code is the daemon's
 * JSON-RPC error code, 0 (written as null) when the daemon gave none. */
_printf_(4, 5) void remotecall_error(const struct remote_options *o, int exit_code, int rpc_code,
				     const char *fmt, ...);

/* Confirmation of an irreversible command (account rollover, account
 * deactivate, and later revoke, remove --purge), as certbot's and lego's
 * users know from scripts: no prompt, the command runs only with --yes.
 * remotecall_take_yes() takes --yes (or -y) out of argv (before "--") and
 * returns whether it was there; remotecall_confirm() is 0 when yes, else
 * prints why not (remotecall_error) and returns the exit code 2. */
int remotecall_take_yes(int *argc, char **argv);
int remotecall_confirm(const struct remote_options *o, const char *what, bool yes);

/* The shared option parser: --json and --help on top of the global options
 * o, copied into *ret, and between min_args and max_args operands (at
 * optind). 0; -1 after printing the help (exit 0); -2 after printing usage
 * to stderr (exit 2), -3 for status and check (exit 3, UNKNOWN, their
 * monitoring contract); with --json the usage error is also on stdout. */
int remotecall_parse_simple(const struct remote_options *o, int argc, char **argv,
			    const char *usage, struct remote_options *ret, int min_args,
			    int max_args);

/* In a command function with (o, argc, argv): parses into a local
 * struct remote_options opt, returning from the command on --help or a
 * usage error. */
#define REMOTECALL_PARSE(usage, min, max)                                       \
	struct remote_options opt;                                              \
	do {                                                                    \
		int _p = remotecall_parse_simple(o, argc, argv, usage, &opt, min, max); \
		if (_p == -1)                                                   \
			return 0;                                               \
		if (_p < 0)                                                     \
			return -_p;                                             \
	} while (0)
