/* tests/bench/bench_getdns.c: the ceiling of the library for
 * scripts/bench-dns. A bare getdns stub loop that only issues lookups with a
 * sliding window: TXT at _validation-persist.<name> for every name in a file
 * (one per line), nothing parsed beyond the answer count.
 *
 *   bench_getdns --server ADDR@PORT --names FILE [--window N]
 *                [--loop uv|uv-legacy|native] [--caa] [--trust-anchor FILE]
 *                [--timeout MS]
 *
 * --loop uv (default) runs getdns on libuv through common/getdns_uv, as
 * persistd does; uv-legacy through the adapter as it was before issue 12
 * (legacy_getdns_uv.inc: the reference the issue's target is stated
 * against); native uses getdns' own poll loop (getdns_context_run).
 * --caa adds a CAA query per name and --trust-anchor the DNSSEC extensions,
 * so that the loop can do the same DNS work as `persistctl check --direct`.
 * Prints one line: key=value pairs (names, answered, errors, seconds,
 * names_per_s, queries, user_s, sys_s, maxrss_kb). */
#include "common/macro.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/getdns_uv.h"
#include "legacy_getdns_uv.inc"

struct bench {
	getdns_context *ctx;
	getdns_dict *ext;
	char **names;
	size_t n_names;
	size_t next;        /* next name to issue */
	size_t done_names;
	unsigned inflight;
	unsigned window;
	bool caa;
	uint64_t queries;
	uint64_t answered, errors;
	unsigned char *pending; /* per name: queries still out */
	struct qarg *args;      /* per name: the userarg of its queries */
};

struct qarg {
	struct bench *b;
	size_t idx;
};

static void issue(struct bench *b);

static void on_answer(getdns_context *ctx, getdns_callback_type_t type, getdns_dict *resp,
		      void *userarg, getdns_transaction_t tid)
{
	struct qarg *q = userarg;
	struct bench *bb = q->b;
	size_t idx = q->idx;
	uint32_t status = 0;

	(void)ctx;
	(void)tid;
	bb->inflight--;
	if (type == GETDNS_CALLBACK_COMPLETE &&
	    getdns_dict_get_int(resp, "status", &status) == GETDNS_RETURN_GOOD &&
	    (status == GETDNS_RESPSTATUS_GOOD || status == GETDNS_RESPSTATUS_NO_NAME))
		bb->answered++;
	else
		bb->errors++;
	getdns_dict_destroy(resp);
	if (--bb->pending[idx] == 0)
		bb->done_names++;
	if (type != GETDNS_CALLBACK_CANCEL)
		issue(bb);
}

static void issue(struct bench *b)
{
	char qname[512];

	while (b->inflight < b->window && b->next < b->n_names) {
		size_t idx = b->next++;
		getdns_transaction_t tid;

		snprintf(qname, sizeof(qname), "_validation-persist.%s", b->names[idx]);
		b->pending[idx] = b->caa ? 2 : 1;
		b->inflight++;
		b->queries++;
		b->args[idx] = (struct qarg){ b, idx };
		if (getdns_general(b->ctx, qname, GETDNS_RRTYPE_TXT, b->ext, &b->args[idx], &tid,
				   on_answer)) {
			b->inflight--;
			b->errors++;
			b->pending[idx]--;
		}
		if (b->caa) {
			b->inflight++;
			b->queries++;
			if (getdns_general(b->ctx, b->names[idx], GETDNS_RRTYPE_CAA, NULL,
					   &b->args[idx], &tid, on_answer)) {
				b->inflight--;
				b->errors++;
				b->pending[idx]--;
			}
		}
		if (b->pending[idx] == 0)
			b->done_names++;
	}
}

static int load_names(const char *path, struct bench *b)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t cap = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		if (b->n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			char **n = realloc(b->names, cap * sizeof(*n));
			if (!n)
				return -1;
			b->names = n;
		}
		b->names[b->n_names] = strdup(line);
		if (!b->names[b->n_names])
			return -1;
		b->n_names++;
	}
	fclose(f);
	return 0;
}

static int set_upstream(getdns_context *ctx, const char *server)
{
	char host[64];
	const char *at = strchr(server, '@');
	size_t hl = at ? (size_t)(at - server) : strlen(server);
	uint8_t addr[4];

	if (hl >= sizeof(host))
		return -1;
	memcpy(host, server, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, addr) != 1)
		return -1;
	getdns_dict *u = getdns_dict_create();
	getdns_list *l = getdns_list_create();
	getdns_bindata type = { 4, (uint8_t *)"IPv4" };
	getdns_bindata data = { 4, addr };
	getdns_dict_set_bindata(u, "address_type", &type);
	getdns_dict_set_bindata(u, "address_data", &data);
	getdns_dict_set_int(u, "port", at ? (uint32_t)atoi(at + 1) : 53);
	getdns_list_set_dict(l, 0, u);
	getdns_return_t r = getdns_context_set_upstream_recursive_servers(ctx, l);
	getdns_dict_destroy(u);
	getdns_list_destroy(l);
	return r == GETDNS_RETURN_GOOD ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *names = NULL, *loop_kind = "uv", *ta = NULL;
	unsigned window = 500, timeout_ms = 5000;
	struct bench b = { 0 };

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (streq(argv[i], "--caa")) {
			b.caa = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "bench_getdns: '%s' needs a value\n", argv[i]);
			return 2;
		}
		if (streq(argv[i], "--server"))
			server = v;
		else if (streq(argv[i], "--names"))
			names = v;
		else if (streq(argv[i], "--window"))
			window = (unsigned)atoi(v);
		else if (streq(argv[i], "--loop"))
			loop_kind = v;
		else if (streq(argv[i], "--trust-anchor"))
			ta = v;
		else if (streq(argv[i], "--timeout"))
			timeout_ms = (unsigned)atoi(v);
		else {
			fprintf(stderr, "bench_getdns: unknown option '%s'\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (!server || !names || window == 0) {
		fprintf(stderr, "usage: bench_getdns --server ADDR@PORT --names FILE [--window N] "
				"[--loop uv|native] [--caa] [--trust-anchor FILE]\n");
		return 2;
	}
	if (load_names(names, &b) < 0 || b.n_names == 0) {
		fprintf(stderr, "bench_getdns: cannot read names from '%s'\n", names);
		return 1;
	}
	b.pending = calloc(b.n_names, 1);
	b.args = calloc(b.n_names, sizeof(*b.args));
	if (!b.pending || !b.args)
		return 1;
	b.window = window;

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	getdns_transport_list_t tl[] = { GETDNS_TRANSPORT_UDP, GETDNS_TRANSPORT_TCP };
	if (getdns_context_create(&b.ctx, 0) || getdns_context_set_resolution_type(b.ctx,
										      GETDNS_RESOLUTION_STUB) ||
	    getdns_context_set_dns_transport_list(b.ctx, 2, tl) ||
	    getdns_context_set_timeout(b.ctx, timeout_ms) || set_upstream(b.ctx, server) < 0) {
		fprintf(stderr, "bench_getdns: setting up getdns failed\n");
		return 1;
	}
	if (ta) {
		FILE *f = fopen(ta, "re");
		getdns_list *anchors = NULL;
		if (!f || getdns_fp2rr_list(f, &anchors, NULL, 3600) ||
		    getdns_context_set_dnssec_trust_anchors(b.ctx, anchors)) {
			fprintf(stderr, "bench_getdns: bad trust anchor file '%s'\n", ta);
			return 1;
		}
		fclose(f);
		getdns_list_destroy(anchors);
		b.ext = getdns_dict_create();
		getdns_dict_set_int(b.ext, "dnssec_return_status", GETDNS_EXTENSION_TRUE);
		getdns_dict_set_int(b.ext, "dnssec_return_all_statuses", GETDNS_EXTENSION_TRUE);
	}

	uv_loop_t loop;
	struct getdns_uv a;
	struct legacy_uv la;
	bool legacy = streq(loop_kind, "uv-legacy");
	bool uv = streq(loop_kind, "uv") || legacy;
	if (!uv && !streq(loop_kind, "native")) {
		fprintf(stderr, "bench_getdns: --loop is uv, uv-legacy or native\n");
		return 2;
	}
	if (uv) {
		uv_loop_init(&loop);
		getdns_uv_init(&a, &loop);
		legacy_uv_init(&la, &loop);
		if (legacy ? legacy_uv_attach(&la, b.ctx) < 0 : getdns_uv_attach(&a, b.ctx) < 0)
			return 1;
	}

	double t0 = now_s();
	issue(&b);
	if (uv)
		while (b.done_names < b.n_names && uv_run(&loop, UV_RUN_ONCE))
			;
	else
		getdns_context_run(b.ctx);
	double secs = now_s() - t0;

	getdns_context_destroy(b.ctx);
	if (uv) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
	}
	getdns_dict_destroy(b.ext);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("names=%zu answered=%llu errors=%llu seconds=%.3f names_per_s=%.0f queries=%llu "
	       "user_s=%.3f sys_s=%.3f maxrss_kb=%ld loop=%s window=%u\n",
	       b.n_names, (unsigned long long)b.answered, (unsigned long long)b.errors, secs,
	       (double)b.n_names / secs, (unsigned long long)b.queries,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
	       loop_kind, window);
	for (size_t i = 0; i < b.n_names; i++)
		free(b.names[i]);
	free(b.names);
	free(b.pending);
	free(b.args);
	return b.errors ? 1 : 0;
}
