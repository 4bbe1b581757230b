/* ctl/remotecall.c: see remotecall.h. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/jrpc.h"
#include "common/json.h"
#include "common/strutil.h"
#include "ctl/output.h"
#include "ctl/jsonpass.h"
#include "ctl/remotecall.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

void remotecall_error(const struct remote_options *o, int exit_code, int rpc_code,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)output_verror(o->json, "persistctl", exit_code, rpc_code, fmt, ap);
	va_end(ap);
}

int remotecall_connect(const struct remote_options *o, uint64_t timeout_ms,
		       struct rpc_client **ret)
{
	int r = rpc_connect(o->socket, timeout_ms, ret);

	if (r == 0)
		return 0;
	remotecall_error(o, EXIT_UNREACHABLE, 0, "cannot reach persistd at %s: %s", o->socket,
			 strerror(-r));
	if (r == -ENOENT || r == -ECONNREFUSED)
		fprintf(stderr, "persistctl: is it running? Start it with 'systemctl start persistd' "
				"(or point -s at its control_socket)\n");
	else if (r == -EACCES)
		fprintf(stderr, "persistctl: reading needs membership of the socket's group "
				"(persistd-admin by default), or root\n");
	return r;
}

static const char *call_failure(int r)
{
	switch (r) {
	case -ETIMEDOUT:
		return "no answer in time";
	case -ECONNRESET:
		return "the daemon closed the connection before answering";
	case -EPROTO:
		return "the daemon's answer is not JSON-RPC 2.0";
	case -E2BIG:
		return "the daemon's answer is over the size limit";
	default:
		return strerror(-r);
	}
}

/* One call; prints errors. 0 with *ret set, EXIT_* otherwise. Whenever no
 * answer to this call came (no connection, a refusal for load, a close,
 * a timeout, garbage), that is EXIT_UNREACHABLE: "cannot tell", never a
 * level or a failure of the operation. */
int remotecall_call(const struct remote_options *o, const char *method, const char *params,
		    uint64_t timeout_ms, yajl_val *ret, struct rpc_error *ret_err)
{
	return remotecall_call_pass(o, method, params, timeout_ms, NULL, ret, ret_err);
}

int remotecall_run(const struct remote_options *o, const char *cmd, const char *method,
		   const char *params, uint64_t timeout_ms, yajl_val *ret)
{
	struct rpc_error err = { 0 };
	int r = remotecall_call(o, method, params, timeout_ms, ret, &err);

	if (r && err.message) {
		if (err.code == JRPC_INVALID_PARAMS)
			r = EXIT_USAGE;
		remotecall_error(o, r, err.code, "%s: %s", cmd, err.message);
	}
	rpc_error_done(&err);
	return r;
}

int remotecall_call_pass(const struct remote_options *o, const char *method, const char *params,
			 uint64_t timeout_ms, struct jsonpass *ret_pass, yajl_val *ret,
			 struct rpc_error *ret_err)
{
	_cleanup_(rpc_closep) struct rpc_client *c = NULL;
	struct rpc_error err = { 0 };
	int r;

	if (remotecall_connect(o, REMOTECALL_TIMEOUT_MS, &c) < 0)
		return EXIT_UNREACHABLE;
	rpc_set_timeout(c, timeout_ms);
	r = rpc_call_pass(c, method, params, ret_pass, ret, &err);
	if (r < 0) {
		/* Part of a result is out (ctl/jsonpass): the error starts a line of its own. */
		if (ret_pass && ret_pass->partial)
			fputc('\n', ret_pass->out);
		remotecall_error(o, EXIT_UNREACHABLE, 0, "%s: %s; cannot tell", method,
				 call_failure(r));
		return EXIT_UNREACHABLE;
	}
	if (r == 1 && err.refused) {
		remotecall_error(o, EXIT_UNREACHABLE, err.code,
				 "%s: persistd at %s refused the connection: %s; cannot tell, "
				 "try again",
				 method, o->socket, err.message ? err.message : "no reason given");
		rpc_error_done(&err);
		return EXIT_UNREACHABLE;
	}
	if (r == 1) {
		int code = err.code;
		int exit_code = code == JRPC_PERMISSION_DENIED ? EXIT_USAGE : EXIT_FAIL;
		if (ret_err) {
			*ret_err = err;
		} else {
			remotecall_error(o, exit_code, code, "%s",
					 err.message ? err.message : "error");
			rpc_error_done(&err);
		}
		return exit_code;
	}
	return 0;
}

int remotecall_print_json(yajl_val v)
{
	return remotecall_print_json_as(v, true);
}

int remotecall_print_json_as(yajl_val v, bool pretty)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(pretty);
	const char *out;
	size_t len;

	if (!w)
		return EXIT_FAIL;
	json_value(w, v);
	if (json_writer_finish(w, &out, &len) < 0)
		return EXIT_FAIL;
	while (len > 0 && out[len - 1] == '\n')
		len--;
	printf("%.*s\n", (int)len, out);
	return 0;
}

/* The usage errors of status and check are UNKNOWN (3): their contract
 * with monitoring. Others are 2. */
static int usage_failed(const struct remote_options *o, const char *cmd, const char *what)
{
	int code = streq(cmd, "status") || streq(cmd, "check") ? EXIT_UNREACHABLE : EXIT_USAGE;

	if (o->json)
		remotecall_error(o, code, 0, "%s: usage error: %s", cmd, what);
	return -code;
}

/* The shared option parser: only --json and --help on top of the globals. */
int remotecall_parse_simple(const struct remote_options *o, int argc, char **argv,
			    const char *usage, struct remote_options *ret, int min_args,
			    int max_args)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*ret = *o;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		if (c == 'j') {
			ret->json = true;
		} else if (c == 'h') {
			printf("%s", usage);
			return -1;
		} else {
			fputs(usage, stderr);
			return usage_failed(ret, argv[0], "unknown option or missing value");
		}
	}
	int n = argc - optind;
	if (n < min_args || n > max_args) {
		fputs(usage, stderr);
		return usage_failed(ret, argv[0], n < min_args ? "missing operand"
								: "too many operands");
	}
	return 0;
}

int remotecall_take_yes(int *argc, char **argv)
{
	int n = 0;
	bool yes = false, rest = false;

	for (int i = 0; i < *argc; i++) {
		if (!rest && (streq(argv[i], "--yes") || streq(argv[i], "-y"))) {
			yes = true;
			continue;
		}
		rest = rest || streq(argv[i], "--");
		argv[n++] = argv[i];
	}
	*argc = n;
	argv[n] = NULL;
	return yes;
}

int remotecall_confirm(const struct remote_options *o, const char *what, bool yes)
{
	if (yes)
		return 0;
	remotecall_error(o, EXIT_USAGE, 0,
			 "%s cannot be undone: run it again with --yes to confirm", what);
	return EXIT_USAGE;
}
