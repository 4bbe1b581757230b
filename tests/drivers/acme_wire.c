/* tests/drivers/acme_wire.c: the ACME wire layer (daemon/acme/http, transport, msg) on a real
 * loop against a real CA, for tests/integration/test_acme_wire.py.
 *
 *   acme_wire [options] SCENARIO URL
 *     --ca FILE          trust roots (ca_bundle); default: the system's
 *     --timeout-ms N     one HTTP request (default 30000)
 *     --backoff-ms N     first retry backoff (default 1000)
 *     --max-retries N    (default 4)
 *     --max-body N       body cap of the "http" scenario
 *     --post-url URL     target of the "post" scenario (the CA's newAccount URL)
 *     --name NAMES       identifiers of the "order" scenario, comma-separated
 *                        (default www.example.test)
 *     --key-type TYPE    account key: ec-p256 (default), ec-p384, rsa2048
 *     --dump DIR         write the body of every ACME reply to DIR/<n>-<event>.json
 *     --allow-http       the "http" scenario accepts http:// (a local test server)
 *     --verbose          debug logging to stderr (default: info, which shows retries)
 *
 * Scenarios (URL is the directory URL except for "http"):
 *   http       one GET of URL on the http layer alone
 *   directory  two concurrent directory calls, then one more from the cache
 *   account    directory, newAccount (jwk), POST-as-GET of the account (kid), then
 *              newAccount onlyReturnExisting
 *   order      account, then newOrder for --name and POST-as-GET of each authorization
 *   post       two concurrent newAccount {"onlyReturnExisting":true} POSTs to --post-url
 *              before anything else: both wait for the one directory fetch and a nonce
 *   cancel     a GET of URL cancelled after 100 ms, then a second GET that must succeed
 *   free       three requests in flight, then acme_conn_free + http_free after 50 ms
 *
 * Output: one JSON object per line ("event": ...); the last line is
 * {"event":"closed","loop_close":0,...}. The exit code is 0 when the loop closed cleanly,
 * whatever the CA answered: the test judges the events. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/key.h"
#include "daemon/acme/http.h"
#include "daemon/acme/msg.h"
#include "daemon/acme/transport.h"
#include "daemon/log.h"

struct ctx {
	uv_loop_t loop;
	uv_timer_t timer; /* timer.data == this */
	struct http *http;
	struct acme_conn *conn;
	struct key *key;
	const char *scenario, *url, *ca, *name;
	uint64_t timeout_ms;
	size_t max_body;
	char *account_url;
	unsigned dir_replies, cb_after_cancel;
	struct acme_op *op;
	const char *dump_dir, *post_url;
	unsigned n_dumped;
	bool allow_http;
};

static struct ctx *the_ctx; /* for dump(): the driver has one context */

/* ---- output -------------------------------------------------------------------------- */

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

static void dump(const char *event, const struct acme_reply *r)
{
	char path[4096];
	FILE *f;

	if (!the_ctx->dump_dir || !r->body_len)
		return;
	snprintf(path, sizeof(path), "%s/%02u-%s.json", the_ctx->dump_dir, the_ctx->n_dumped++,
		 event);
	f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(r->body, 1, r->body_len, f);
	fclose(f);
}

static void reply_fields(struct json_writer *w, const char *event, const struct acme_reply *r)
{
	dump(event, r);
	json_kv_int(w, "error", r->error);
	json_kv_string(w, "error_name", r->error ? strerrorname_np(-r->error) : NULL);
	json_kv_string(w, "error_text", r->error_text);
	json_kv_int(w, "status", r->status);
	json_kv_int(w, "retry_after", r->retry_after_sec);
	json_kv_int(w, "attempts", r->attempts);
	json_kv_string(w, "location", r->location);
	json_kv_string(w, "content_type", r->content_type);
	json_kv_bool(w, "json", r->json != NULL);
	json_kv_string(w, "link_up", r->link_up);
	json_key(w, "link_alternate");
	json_begin_array(w);
	for (size_t i = 0; i < r->n_link_alternate; i++)
		json_string(w, r->link_alternate[i]);
	json_end_array(w);
	if (r->problem) {
		_cleanup_free_ char *text = acme_problem_format(r->problem);
		json_kv_string(w, "problem_type", acme_problem_short_type(r->problem));
		json_kv_string(w, "problem", text);
	}
	char desc[512];
	acme_reply_describe(r, desc, sizeof(desc));
	json_kv_string(w, "describe", desc);
}

static void strv_field(struct json_writer *w, const char *key, char *const *v, size_t n)
{
	json_key(w, key);
	json_begin_array(w);
	for (size_t i = 0; i < n; i++)
		json_string(w, v[i]);
	json_end_array(w);
}

/* ---- teardown -------------------------------------------------------------------------- */

/* Called from inside callbacks, as the daemon would: frees everything in flight. */
static void finish(struct ctx *x)
{
	acme_conn_free(x->conn);
	x->conn = NULL;
	http_free(x->http);
	x->http = NULL;
	uv_close((uv_handle_t *)&x->timer, NULL);
}

/* ---- http ---------------------------------------------------------------------------- */

static void on_http(const struct http_response *resp, void *ud)
{
	struct ctx *x = ud;
	struct json_writer *w = event_begin("http");

	json_kv_int(w, "error", resp->error);
	json_kv_string(w, "error_name", resp->error ? strerrorname_np(-resp->error) : NULL);
	json_kv_string(w, "error_text", resp->error_text);
	json_kv_int(w, "status", resp->status);
	json_kv_int(w, "body_len", (int64_t)resp->body_len);
	json_kv_bool(w, "body_nul", resp->body[resp->body_len] == '\0');
	json_kv_string(w, "content_type", resp->content_type);
	json_kv_string(w, "replay_nonce", resp->replay_nonce);
	json_kv_string(w, "link_index", resp->link_index);
	json_kv_string(w, "link_up", resp->link_up);
	json_kv_string(w, "location", resp->location);
	json_key(w, "link_alternate");
	json_begin_array(w);
	for (size_t i = 0; i < resp->n_link_alternate; i++)
		json_string(w, resp->link_alternate[i]);
	json_end_array(w);
	json_kv_int(w, "retry_after", resp->retry_after_sec);
	event_end(w);
	finish(x);
}

static int run_http(struct ctx *x)
{
	struct http_request req = {
		.method = "GET",
		.url = x->url,
		.ca_bundle = x->ca,
		.timeout_ms = x->timeout_ms,
		.max_body_bytes = x->max_body,
		.allow_http = x->allow_http,
	};

	return http_submit(x->http, &req, on_http, x, NULL);
}

/* ---- directory --------------------------------------------------------------------------- */

static void directory_event(struct ctx *x, const struct acme_reply *r, const char *tag)
{
	const struct acme_directory *d = acme_conn_get_directory(x->conn);
	struct json_writer *w = event_begin("directory");

	json_kv_string(w, "tag", tag);
	reply_fields(w, "directory", r);
	if (d && !r->error) {
		json_kv_string(w, "new_nonce", d->new_nonce);
		json_kv_string(w, "new_account", d->new_account);
		json_kv_string(w, "new_order", d->new_order);
		json_kv_string(w, "renewal_info", d->renewal_info);
		json_kv_string(w, "terms_of_service", d->meta.terms_of_service);
		json_kv_bool(w, "external_account_required", d->meta.external_account_required);
		strv_field(w, "caa_identities", d->meta.caa_identities, d->meta.n_caa_identities);
		strv_field(w, "issuer_domain_names", d->meta.issuer_domain_names,
			   d->meta.n_issuer_domain_names);
		json_kv_string(w, "account_hash_prefix", d->meta.account_hash_prefix);
		json_key(w, "profiles");
		json_begin_object(w);
		for (size_t i = 0; i < d->meta.n_profiles; i++)
			json_kv_string(w, d->meta.profiles[i].name, d->meta.profiles[i].description);
		json_end_object(w);
	}
	event_end(w);
}

static void on_directory_cached(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;

	directory_event(x, r, "cached");
	finish(x);
}

static void on_directory(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;

	directory_event(x, r, "first");
	if (++x->dir_replies < 2)
		return;
	if (r->error || acme_conn_directory(x->conn, on_directory_cached, x) < 0)
		finish(x);
}

static int run_directory(struct ctx *x)
{
	int r = acme_conn_directory(x->conn, on_directory, x);
	if (r < 0)
		return r;
	return acme_conn_directory(x->conn, on_directory, x);
}

/* ---- account and order ------------------------------------------------------------------- */

static void on_authz(const struct acme_reply *r, void *ud);

static void account_event(const char *event, struct ctx *x, const struct acme_reply *r)
{
	struct json_writer *w = event_begin(event);
	struct acme_account a;
	char err[200] = "";

	reply_fields(w, event, r);
	json_kv_int(w, "nonces", (int64_t)acme_conn_get_nonce_count(x->conn));
	if (r->json && !r->problem) {
		if (acme_account_parse(r->json, &a, err, sizeof(err)) >= 0) {
			json_kv_string(w, "account_status", acme_status_to_string(a.status));
			strv_field(w, "contact", a.contact, a.n_contact);
			acme_account_done(&a);
		} else {
			json_kv_string(w, "parse_error", err);
		}
	}
	event_end(w);
}

static void on_order(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	struct json_writer *w = event_begin("new-order");
	struct acme_order o = { 0 };
	char err[200] = "";
	int pr = -EINVAL;

	reply_fields(w, "new-order", r);
	if (r->json && !r->problem) {
		pr = acme_order_parse(r->json, &o, err, sizeof(err));
		if (pr >= 0) {
			json_kv_string(w, "order_status", acme_status_to_string(o.status));
			json_kv_int(w, "authorizations", (int64_t)o.n_authorizations);
			json_kv_string(w, "finalize", o.finalize);
			json_kv_bool(w, "expires", o.expires != 0);
		} else {
			json_kv_string(w, "parse_error", err);
		}
	}
	event_end(w);
	if (pr < 0 || o.n_authorizations == 0) {
		acme_order_done(&o);
		finish(x);
		return;
	}
	x->dir_replies = (unsigned)o.n_authorizations; /* authorizations still to come */
	for (size_t i = 0; i < o.n_authorizations; i++)
		if (acme_conn_post(x->conn, o.authorizations[i], NULL, false, on_authz, x, NULL) < 0)
			abort();
	acme_order_done(&o);
}

static void on_authz(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	struct json_writer *w = event_begin("authz");
	struct acme_authz a;
	char err[200] = "";

	reply_fields(w, "authz", r);
	if (r->json && !r->problem) {
		if (acme_authz_parse(r->json, &a, err, sizeof(err)) >= 0) {
			json_kv_string(w, "authz_status", acme_status_to_string(a.status));
			json_kv_string(w, "identifier", a.identifier.value);
			json_key(w, "challenges");
			json_begin_array(w);
			for (size_t i = 0; i < a.n_challenges; i++) {
				const struct acme_challenge *c = &a.challenges[i];

				json_begin_object(w);
				json_kv_string(w, "type", c->type);
				json_kv_string(w, "status", acme_status_to_string(c->status));
				json_kv_bool(w, "token", c->token != NULL);
				json_kv_string(w, "issuer_spelling",
					       acme_issuer_spelling_to_string(c->issuer_spelling));
				strv_field(w, "issuers", c->issuer_domain_names,
					   c->n_issuer_domain_names);
				json_kv_string(w, "accounturi", c->accounturi);
				json_end_object(w);
			}
			json_end_array(w);
			acme_authz_done(&a);
		} else {
			json_kv_string(w, "parse_error", err);
		}
	}
	event_end(w);
	if (--x->dir_replies == 0)
		finish(x);
}

static void on_existing(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	struct json_writer *w = event_begin("existing-account");

	reply_fields(w, "existing-account", r);
	json_kv_bool(w, "same_url", r->location && x->account_url &&
					    streq(r->location, x->account_url));
	event_end(w);
	finish(x);
}

static void on_account(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	const struct acme_directory *d = acme_conn_get_directory(x->conn);
	int res;

	account_event("account", x, r);
	if (r->error || r->status != 200) {
		finish(x);
		return;
	}
	if (streq(x->scenario, "order")) {
		_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
		_cleanup_free_ char *names = strdup(x->name);
		const char *payload;
		size_t len;
		char *save = NULL;

		if (!w || !names)
			abort();
		json_begin_object(w);
		json_key(w, "identifiers");
		json_begin_array(w);
		for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
			json_begin_object(w);
			json_kv_string(w, "type", "dns");
			json_kv_string(w, "value", n);
			json_end_object(w);
		}
		json_end_array(w);
		json_end_object(w);
		if (json_writer_finish(w, &payload, &len) < 0)
			abort();
		res = acme_conn_post(x->conn, d->new_order, payload, false, on_order, x, NULL);
	} else {
		res = acme_conn_post(x->conn, d->new_account, "{\"onlyReturnExisting\":true}", true,
				     on_existing, x, NULL);
	}
	if (res < 0)
		finish(x);
}

static void on_new_account(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;

	account_event("new-account", x, r);
	if (r->error || (r->status != 201 && r->status != 200) || !r->location) {
		finish(x);
		return;
	}
	x->account_url = strdup(r->location);
	if (!x->account_url || acme_conn_set_account(x->conn, x->key, x->account_url) < 0 ||
	    acme_conn_post(x->conn, x->account_url, NULL, false, on_account, x, NULL) < 0)
		finish(x);
}

static void on_account_directory(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	const struct acme_directory *d = acme_conn_get_directory(x->conn);

	directory_event(x, r, "account");
	if (r->error || !d) {
		finish(x);
		return;
	}
	if (acme_conn_post(x->conn, d->new_account,
			   "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:wire@example.test\"]}",
			   true, on_new_account, x, NULL) < 0)
		finish(x);
}

static int run_account(struct ctx *x)
{
	return acme_conn_directory(x->conn, on_account_directory, x);
}

/* ---- post before the directory ---------------------------------------------------- */

static void on_post(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	struct json_writer *w = event_begin("post");

	reply_fields(w, "post", r);
	event_end(w);
	if (++x->dir_replies == 2)
		finish(x);
}

static int run_post(struct ctx *x)
{
	int r;

	if (!x->post_url)
		return -EINVAL;
	r = key_generate(KEY_EC_P256, &x->key);
	if (r >= 0)
		r = acme_conn_set_account(x->conn, x->key, NULL);
	for (int i = 0; r >= 0 && i < 2; i++)
		r = acme_conn_post(x->conn, x->post_url, "{\"onlyReturnExisting\":true}", true,
				   on_post, x, NULL);
	return r;
}

/* ---- cancel and free ---------------------------------------------------------------------- */

static void on_must_not_run(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;

	(void)r;
	x->cb_after_cancel++;
	fprintf(stderr, "acme_wire: a cancelled op called back\n");
}

static void on_second_get(const struct acme_reply *r, void *ud)
{
	struct ctx *x = ud;
	struct json_writer *w = event_begin("second-get");

	reply_fields(w, "second-get", r);
	json_kv_int(w, "callbacks_after_cancel", x->cb_after_cancel);
	event_end(w);
	finish(x);
}

static void on_cancel_timer(uv_timer_t *t)
{
	struct ctx *x = t->data;
	struct json_writer *w = event_begin("cancelled");

	acme_op_cancel(x->op);
	x->op = NULL;
	json_kv_int(w, "http_active", (int64_t)http_get_active(x->http));
	event_end(w);
	if (acme_conn_get(x->conn, x->url, on_second_get, x, NULL) < 0)
		finish(x);
}

static int run_cancel(struct ctx *x)
{
	int r = acme_conn_get(x->conn, x->url, on_must_not_run, x, &x->op);
	if (r < 0)
		return r;
	return uv_timer_start(&x->timer, on_cancel_timer, 100, 0);
}

static void on_free_timer(uv_timer_t *t)
{
	struct ctx *x = t->data;
	struct json_writer *w = event_begin("freeing");

	json_kv_int(w, "http_active", (int64_t)http_get_active(x->http));
	event_end(w);
	finish(x);
}

static int run_free(struct ctx *x)
{
	int r;

	r = acme_conn_directory(x->conn, on_must_not_run, x);
	if (r >= 0)
		r = acme_conn_get(x->conn, x->url, on_must_not_run, x, NULL);
	if (r >= 0)
		r = acme_conn_get(x->conn, x->url, on_must_not_run, x, NULL);
	if (r >= 0)
		r = uv_timer_start(&x->timer, on_free_timer, 50, 0);
	return r;
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "backoff-ms", required_argument, NULL, 'b' },
		{ "max-retries", required_argument, NULL, 'r' },
		{ "max-body", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "dump", required_argument, NULL, 'd' },
		{ "post-url", required_argument, NULL, 'p' },
		{ "allow-http", no_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{},
	};
	struct ctx x = { .name = "www.example.test" };
	struct acme_retry_policy policy;
	uint64_t backoff_ms = 1000;
	unsigned max_retries = 4;
	int key_type = KEY_EC_P256, level = LOG_INFO, c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			x.ca = optarg;
			break;
		case 't':
			x.timeout_ms = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			backoff_ms = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			max_retries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			x.max_body = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			x.name = optarg;
			break;
		case 'k':
			key_type = key_type_from_string(optarg);
			if (key_type < 0) {
				fprintf(stderr, "acme_wire: bad key type '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			x.dump_dir = optarg;
			break;
		case 'p':
			x.post_url = optarg;
			break;
		case 'a':
			x.allow_http = true;
			break;
		case 'v':
			level = LOG_DEBUG;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: acme_wire [options] SCENARIO URL\n");
		return 2;
	}
	the_ctx = &x;
	x.scenario = argv[optind];
	x.url = argv[optind + 1];
	log_setup(LOG_TARGET_STDERR, level);

	if (uv_loop_init(&x.loop) < 0 || uv_timer_init(&x.loop, &x.timer) < 0)
		return 1;
	x.timer.data = &x;
	r = http_new(&x.loop, &x.http);
	if (r < 0) {
		fprintf(stderr, "acme_wire: http_new: %s\n", strerror(-r));
		return 1;
	}
	if (!streq(x.scenario, "http")) {
		r = acme_conn_new(x.http, &x.loop, x.url, x.ca, &x.conn);
		if (r < 0) {
			fprintf(stderr, "acme_wire: acme_conn_new: %s\n", strerror(-r));
			return 1;
		}
		acme_conn_get_policy(x.conn, &policy);
		policy.backoff_first_ms = backoff_ms;
		policy.max_retries = max_retries;
		if (x.timeout_ms)
			policy.timeout_ms = x.timeout_ms;
		acme_conn_set_policy(x.conn, &policy);
	}
	if (streq(x.scenario, "account") || streq(x.scenario, "order")) {
		r = key_generate((enum key_type)key_type, &x.key);
		if (r < 0) {
			fprintf(stderr, "acme_wire: key_generate: %s\n", strerror(-r));
			return 1;
		}
		r = acme_conn_set_account(x.conn, x.key, NULL);
		if (r >= 0)
			r = run_account(&x);
	} else if (streq(x.scenario, "http")) {
		r = run_http(&x);
	} else if (streq(x.scenario, "directory")) {
		r = run_directory(&x);
	} else if (streq(x.scenario, "post")) {
		r = run_post(&x);
	} else if (streq(x.scenario, "cancel")) {
		r = run_cancel(&x);
	} else if (streq(x.scenario, "free")) {
		r = run_free(&x);
	} else {
		fprintf(stderr, "acme_wire: unknown scenario '%s'\n", x.scenario);
		return 2;
	}
	if (r < 0) {
		struct json_writer *w = event_begin("start-failed");
		json_kv_int(w, "error", r);
		event_end(w);
		finish(&x);
	}

	r = uv_run(&x.loop, UV_RUN_DEFAULT);
	/* Everything was freed from inside a callback: only close callbacks may be left. */
	(void)uv_run(&x.loop, UV_RUN_DEFAULT);
	int closed = uv_loop_close(&x.loop);
	struct json_writer *w = event_begin("closed");
	json_kv_int(w, "loop_close", closed);
	json_kv_int(w, "callbacks_after_cancel", x.cb_after_cancel);
	event_end(w);
	key_free(x.key);
	free(x.account_url);
	return closed == 0 && x.cb_after_cancel == 0 ? 0 : 1;
}
