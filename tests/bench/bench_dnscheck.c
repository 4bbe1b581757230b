/* tests/bench/bench_dnscheck.c: re-check rounds in one process, for
 * scripts/bench-dns. The daemon keeps one checker (common/dnscheck) for
 * months and checks every name again each round; `persistctl check
 * --direct` is a new process each time, so it cannot show what a second
 * round costs. This runs R rounds of the same names through one checker on
 * one thread, as the daemon does, and times each round.
 *
 *   bench_dnscheck --server ADDR@PORT --names FILE [--rounds R]
 *                  [--trust-anchor FILE|none] [--unbound] [--no-caa]
 *                  [--window N] [--timeout MS] [--cache-ms MS] [--pause-ms MS]
 *
 * --cache-ms and --pause-ms stand in for the hours between the daemon's
 * rounds: the checker's memoised lookups (CAA, NS, addresses, DNSKEY) live
 * --cache-ms (default 60,000, as in the daemon), and the driver waits
 * --pause-ms between rounds, so a round after a pause longer than the
 * cache asks for all of them again. What outlives the cache (the memo of
 * verified signatures) is what a later daemon round keeps too.
 * Prints one line per round: key=value pairs (round, names, valid, secure,
 * errors, seconds, names_per_s, user_s, sys_s, queries, sigs_secure,
 * sigs_memo_hits, sigs_to_validator). */
#include "common/macro.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/dnscheck.h"

struct bench {
	size_t done, valid, secure, errors;
};

static void on_result(const struct dnscheck_result *res, void *userdata)
{
	struct bench *b = userdata;

	b->done++;
	if (res->error != DNSCHECK_OK)
		b->errors++;
	else if (res->verdict.status == RECORD_VALID)
		b->valid++;
	if (res->dnssec == DNSCHECK_DNSSEC_SECURE)
		b->secure++;
}

static double cpu_s(int field)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	const struct timeval *t = field == 0 ? &ru.ru_utime : &ru.ru_stime;
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char **read_names(const char *path, size_t *ret_n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!*line)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				exit(1);
			v = nv;
		}
		v[n] = strdup(line);
		if (!v[n++])
			exit(1);
	}
	fclose(f);
	*ret_n = n;
	return v;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *names_file = NULL, *anchor = NULL;
	unsigned rounds = 2, window = 0;
	uint64_t timeout_ms = 0, cache_ms = 0, pause_ms = 0;
	bool unbound = false, caa = true;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (streq(a, "--unbound"))
			unbound = true;
		else if (streq(a, "--no-caa"))
			caa = false;
		else if (!v)
			goto usage;
		else if (streq(a, "--server"))
			server = v, i++;
		else if (streq(a, "--names"))
			names_file = v, i++;
		else if (streq(a, "--trust-anchor"))
			anchor = v, i++;
		else if (streq(a, "--rounds"))
			rounds = (unsigned)strtoul(v, NULL, 10), i++;
		else if (streq(a, "--window"))
			window = (unsigned)strtoul(v, NULL, 10), i++;
		else if (streq(a, "--timeout"))
			timeout_ms = strtoull(v, NULL, 10), i++;
		else if (streq(a, "--cache-ms"))
			cache_ms = strtoull(v, NULL, 10), i++;
		else if (streq(a, "--pause-ms"))
			pause_ms = strtoull(v, NULL, 10), i++;
		else
			goto usage;
	}
	if (!server || !names_file || rounds == 0)
		goto usage;
	size_t n = 0;
	char **names = read_names(names_file, &n);
	if (!names || n == 0) {
		fprintf(stderr, "bench_dnscheck: cannot read names from %s\n", names_file);
		return 1;
	}

	static const char *const issuers[] = { "ca.test" };
	const char *resolvers[] = { server };
	bool none = anchor && streq(anchor, "none");
	struct dnscheck_options o = {
		.resolvers = resolvers,
		.n_resolvers = 1,
		.trust_anchor_file = none ? NULL : anchor,
		.no_dnssec = none,
		.unbound = unbound,
		.timeout_ms = timeout_ms,
		.max_inflight = window,
		.cache_ms = cache_ms,
	};
	uv_loop_t loop;
	struct dnscheck *dc = NULL;
	if (uv_loop_init(&loop) < 0 || dnscheck_new(&loop, &o, &dc) < 0) {
		fputs("bench_dnscheck: cannot make the checker\n", stderr);
		return 1;
	}
	for (unsigned r = 1; r <= rounds; r++) {
		struct bench b = { 0 };
		struct dnscheck_stats s0, s1;
		if (r > 1 && pause_ms)
			usleep((useconds_t)(pause_ms * 1000));
		dnscheck_get_stats(dc, &s0);
		double t0 = mono_s(), u0 = cpu_s(0), k0 = cpu_s(1);
		for (size_t i = 0; i < n; i++) {
			struct dnscheck_request rq = {
				.name = names[i],
				.issuers = issuers,
				.n_issuers = 1,
				.account_uri = "https://ca.test/acct/1",
				.now = (int64_t)time(NULL),
				.caa = caa,
			};
			if (dnscheck_submit(dc, &rq, on_result, &b) < 0) {
				fputs("bench_dnscheck: submit failed\n", stderr);
				return 1;
			}
		}
		while (b.done < n && uv_run(&loop, UV_RUN_ONCE) != 0)
			;
		double wall = mono_s() - t0;
		dnscheck_get_stats(dc, &s1);
		printf("round=%u names=%zu valid=%zu secure=%zu errors=%zu seconds=%.3f "
		       "names_per_s=%.0f user_s=%.3f sys_s=%.3f queries=%" PRIu64
		       " sigs_secure=%" PRIu64 " sigs_memo_hits=%" PRIu64 " sigs_to_validator=%" PRIu64
		       "\n",
		       r, n, b.valid, b.secure, b.errors, wall, (double)n / wall, cpu_s(0) - u0,
		       cpu_s(1) - k0, s1.queries - s0.queries, s1.sigs_secure - s0.sigs_secure,
		       s1.sigs_memo_hits - s0.sigs_memo_hits,
		       s1.sigs_to_validator - s0.sigs_to_validator);
		fflush(stdout);
	}
	dnscheck_free(dc);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	(void)uv_loop_close(&loop);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
usage:
	fputs("usage: bench_dnscheck --server ADDR@PORT --names FILE [--rounds R]\n"
	      "       [--trust-anchor FILE|none] [--unbound] [--no-caa] [--window N]\n"
	      "       [--timeout MS] [--cache-ms MS] [--pause-ms MS]\n",
	      stderr);
	return 2;
}
