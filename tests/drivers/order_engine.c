/* tests/drivers/order_engine.c: one order of the order engine (daemon/acme/order) on a real
 * loop against a real CA and a real DNS server, from an environment this driver builds
 * alone: no struct daemon, no CA module, no state, no store. For
 * tests/integration/test_order_engine.py.
 *
 *   order_engine [options] DIRECTORY_URL
 *     --ca FILE            trust roots of the CA (ca_bundle)
 *     --resolver ADDR@PORT the DNS server to check records with (repeatable)
 *     --trust-anchor FILE  DNSSEC trust anchor; without it DNSSEC is not checked
 *     --name NAME          an identifier of the order (repeatable; default www.example.test)
 *     --account-key FILE   the account key, made (0600) when missing, so that runs share an
 *                          account and its records
 *     --persist-until T    persistUntil of the record to publish (Unix time)
 *     --max-retries N      of the transport (default 1: CA errors come fast)
 *
 * What it does: directory, newAccount (termsOfServiceAgreed; an existing account answers
 * 200 with its URL), then order_start() with a dns-persist-01 cert and the account view
 * the directory implies (accountHashPrefix: hashed, else url mode).
 *
 * Output: one JSON object per line ("event": ...): "account", "order-url", "challenge",
 * "key-saved", "done" (error, flags, message, records, chain, key), and last
 * {"event":"closed","loop_close":0}. Exit 0 when the loop closed cleanly, whatever the
 * order's outcome: the test judges the events. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/dnscheck.h"
#include "common/json.h"
#include "common/key.h"
#include "daemon/acme/account.h"
#include "daemon/acme/http.h"
#include "daemon/acme/msg.h"
#include "daemon/acme/order.h"
#include "daemon/acme/transport.h"
#include "daemon/log.h"

#define MAX_NAMES 8
#define MAX_RESOLVERS 4

struct ctx {
	uv_loop_t loop;
	struct http *http;
	struct acme_conn *conn;
	struct dnscheck *dns;
	struct key *key;
	char *account_url;
	char *thumbprint;
	struct acme_account_view account;
	struct config_cert cert;
	char *names[MAX_NAMES + 1];
	struct order_job *job;
	unsigned done_calls, keys_saved;
};

static struct json_writer *event_begin(const char *event)
{
	struct json_writer *w = json_writer_new(false);

	if (!w)
		abort();
	json_begin_object(w);
	json_kv_string(w, "event", event);
	return w;
}

static void event_end(struct json_writer *w)
{
	const char *out;
	size_t len;

	json_end_object(w);
	if (json_writer_finish(w, &out, &len) < 0)
		abort();
	fwrite(out, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	json_writer_free(w);
}

static void stop(struct ctx *x)
{
	acme_conn_free(x->conn);
	x->conn = NULL;
	http_free(x->http);
	x->http = NULL;
	/* Answers what it still owes with CANCELLED; the order is gone by now. */
	dnscheck_free(x->dns);
	x->dns = NULL;
}

static void fail(struct ctx *x, const char *what, int r, const char *text)
{
	struct json_writer *w = event_begin("failed");

	json_kv_string(w, "what", what);
	json_kv_int(w, "error", r);
	json_kv_string(w, "text", text);
	event_end(w);
	stop(x);
}

static int64_t clock_now(void *userdata)
{
	(void)userdata;
	return (int64_t)time(NULL);
}

/* ---- the order's upward events ---- */

static void on_order_url(struct order_job *job, const char *url, void *userdata)
{
	struct json_writer *w = event_begin("order-url");

	(void)job;
	(void)userdata;
	json_kv_string(w, "url", url);
	event_end(w);
}

static void on_challenge(struct order_job *job, const struct acme_challenge *ch, void *userdata)
{
	struct json_writer *w = event_begin("challenge");

	(void)job;
	(void)userdata;
	json_kv_bool(w, "offered", ch != NULL);
	if (ch) {
		json_kv_string(w, "url", ch->url);
		json_key(w, "issuers");
		json_begin_array(w);
		for (size_t i = 0; i < ch->n_issuer_domain_names; i++)
			json_string(w, ch->issuer_domain_names[i]);
		json_end_array(w);
	}
	event_end(w);
}

static int save_key(struct order_job *job, const struct key *k, void *userdata)
{
	struct ctx *x = userdata;
	struct json_writer *w = event_begin("key-saved");

	(void)job;
	x->keys_saved++;
	json_kv_string(w, "alg", key_jws_alg(k));
	event_end(w);
	return 0;
}

static void on_done(struct order_job *job, struct order_result *res, void *userdata)
{
	struct ctx *x = userdata;
	struct json_writer *w = event_begin("done");
	char *pem = NULL;

	(void)job;
	x->job = NULL;
	x->done_calls++;
	json_kv_int(w, "error", res->error);
	json_kv_string(w, "error_name", res->error ? strerrorname_np(-res->error) : NULL);
	json_kv_bool(w, "transient", res->transient);
	json_kv_bool(w, "refused", res->refused);
	json_kv_bool(w, "rejected", res->rejected);
	json_kv_bool(w, "limited", res->limited);
	json_kv_int(w, "retry_after", res->retry_after);
	json_kv_string(w, "message", res->message);
	json_kv_string(w, "records", res->records);
	json_kv_int(w, "keys_saved", x->keys_saved);
	if (res->chain) {
		/* Taken, as an installer would: the job must not free it twice. */
		_cleanup_free_ char *chain = TAKE_PTR(res->chain);
		struct key *k = TAKE_PTR(res->key);
		json_kv_string(w, "chain", chain);
		json_kv_int(w, "leaf_len", (int64_t)res->leaf_len);
		if (k && key_write_pem(k, &pem) == 0)
			json_kv_string(w, "key", pem);
		key_pem_free(pem);
		key_free(k);
	}
	event_end(w);
	stop(x);
}

/* ---- account, then the order ---- */

static void start_order(struct ctx *x)
{
	const struct acme_directory *dir = acme_conn_get_directory(x->conn);
	int r;

	x->account = (struct acme_account_view){
		.url = x->account_url,
		.thumbprint = x->thumbprint,
		.uri_mode = dir->meta.account_hash_prefix ? RECORD_URI_HASHED : RECORD_URI_URL,
		.hash_prefix = dir->meta.account_hash_prefix,
		.issuers = (const char *const *)dir->meta.issuer_domain_names,
		.n_issuers = dir->meta.n_issuer_domain_names,
		.caa_identities = (const char *const *)dir->meta.caa_identities,
		.n_caa_identities = dir->meta.n_caa_identities,
	};
	struct order_env env = {
		.loop = &x->loop,
		.conn = x->conn,
		.dns = x->dns,
		.now = clock_now,
		.account = &x->account,
	};
	struct order_params p = {
		.cert = &x->cert,
		.on_order_url = on_order_url,
		.on_challenge = on_challenge,
		.save_key = save_key,
		.done = on_done,
		.userdata = x,
	};
	r = order_start(&env, &p, &x->job);
	if (r < 0)
		fail(x, "order_start", r, strerror(-r));
}

static void on_new_account(const struct acme_reply *rep, void *userdata)
{
	struct ctx *x = userdata;
	char why[512];
	int r;

	if (rep->error || (rep->status != 201 && rep->status != 200) || !rep->location) {
		acme_reply_describe(rep, why, sizeof(why));
		fail(x, "newAccount", rep->error ? rep->error : -EPROTO, why);
		return;
	}
	x->account_url = strdup(rep->location);
	if (!x->account_url) {
		fail(x, "newAccount", -ENOMEM, "out of memory");
		return;
	}
	struct json_writer *w = event_begin("account");
	json_kv_string(w, "url", x->account_url);
	json_kv_int(w, "status", rep->status);
	event_end(w);
	r = acme_conn_set_account(x->conn, x->key, x->account_url);
	if (r < 0) {
		fail(x, "acme_conn_set_account", r, strerror(-r));
		return;
	}
	start_order(x);
}

static void on_directory(const struct acme_reply *rep, void *userdata)
{
	struct ctx *x = userdata;
	const struct acme_directory *dir = acme_conn_get_directory(x->conn);
	char why[512];
	int r;

	if (rep->error || !dir) {
		acme_reply_describe(rep, why, sizeof(why));
		fail(x, "directory", rep->error ? rep->error : -EPROTO, why);
		return;
	}
	r = acme_conn_post(x->conn, dir->new_account, "{\"termsOfServiceAgreed\":true}", true,
			   on_new_account, x, NULL);
	if (r < 0)
		fail(x, "newAccount", r, strerror(-r));
}

static int account_key(const char *path, struct key **ret)
{
	char *pem = NULL;
	int fd, r;

	if (!path)
		return key_generate(KEY_EC_P256, ret);
	r = key_load_file(path, ret);
	if (r != -ENOENT)
		return r;
	r = key_generate(KEY_EC_P256, ret);
	if (r < 0)
		return r;
	r = key_write_pem(*ret, &pem);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pem, strlen(pem)) != (ssize_t)strlen(pem))
		r = -errno;
	if (fd >= 0)
		close(fd);
	key_pem_free(pem);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "trust-anchor", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "account-key", required_argument, NULL, 'k' },
		{ "persist-until", required_argument, NULL, 'p' },
		{ "max-retries", required_argument, NULL, 'm' },
		{},
	};
	struct ctx x = { 0 };
	const char *ca = NULL, *anchor = NULL, *key_path = NULL;
	const char *resolvers[MAX_RESOLVERS];
	size_t n_resolvers = 0, n_names = 0;
	unsigned max_retries = 1;
	struct acme_retry_policy policy;
	int c, r;

	x.cert.challenge = CHALLENGE_DNS_PERSIST_01;
	x.cert.key_type = KEY_EC_P256;
	x.cert.name = (char *)"engine";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			ca = optarg;
			break;
		case 'r':
			if (n_resolvers == MAX_RESOLVERS)
				return 2;
			resolvers[n_resolvers++] = optarg;
			break;
		case 't':
			anchor = optarg;
			break;
		case 'n':
			if (n_names == MAX_NAMES)
				return 2;
			x.names[n_names++] = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'p':
			x.cert.has_persist_until = true;
			x.cert.persist_until = strtoll(optarg, NULL, 10);
			break;
		case 'm':
			max_retries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: order_engine [options] DIRECTORY_URL\n");
		return 2;
	}
	if (n_names == 0)
		x.names[n_names++] = (char *)"www.example.test";
	x.cert.names = x.names;
	x.cert.n_names = n_names;
	log_setup(LOG_TARGET_STDERR, LOG_INFO);

	r = account_key(key_path, &x.key);
	if (r < 0) {
		fprintf(stderr, "order_engine: account key: %s\n", strerror(-r));
		return 1;
	}
	r = key_thumbprint(x.key, &x.thumbprint);
	if (r < 0 || uv_loop_init(&x.loop) < 0)
		return 1;
	struct dnscheck_options o = {
		.resolvers = resolvers,
		.n_resolvers = n_resolvers,
		.trust_anchor_file = anchor,
		.no_dnssec = !anchor,
	};
	r = http_new(&x.loop, &x.http);
	if (r == 0)
		r = dnscheck_new(&x.loop, &o, &x.dns);
	if (r == 0)
		r = acme_conn_new(x.http, &x.loop, argv[optind], ca, &x.conn);
	if (r < 0) {
		fprintf(stderr, "order_engine: setting up: %s\n", strerror(-r));
		return 1;
	}
	acme_conn_get_policy(x.conn, &policy);
	policy.backoff_first_ms = 200;
	policy.max_retries = max_retries;
	acme_conn_set_policy(x.conn, &policy);
	r = acme_conn_set_account(x.conn, x.key, NULL);
	if (r == 0)
		r = acme_conn_directory(x.conn, on_directory, &x);
	if (r < 0)
		fail(&x, "start", r, strerror(-r));

	(void)uv_run(&x.loop, UV_RUN_DEFAULT);
	(void)uv_run(&x.loop, UV_RUN_DEFAULT);
	int closed = uv_loop_close(&x.loop);
	struct json_writer *w = event_begin("closed");
	json_kv_int(w, "loop_close", closed);
	json_kv_int(w, "done_calls", x.done_calls);
	event_end(w);
	key_free(x.key);
	free(x.account_url);
	free(x.thumbprint);
	return closed == 0 ? 0 : 1;
}
