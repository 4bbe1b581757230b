/* daemon/certpreload.h: the current certificates of many certs, read and parsed
 * on worker threads ahead of the thread that applies them.
 *
 * Owns the file work of loading a cert's current certificate at start: reading
 * its fullchain.pem and archive version from the store and parsing the leaf
 * (common/x509). At a cold start with 100k certs that is 100k small random
 * reads once the page cache has let the files go (a reboot, or a host that
 * evicts what sat idle), and one thread has one of them in flight at a time.
 *
 * Promises (the threads are common/workahead's):
 *   - certpreload_one() does it for one cert, on the calling thread;
 *   - certpreload_start() starts `threads` workers over names[0..n) (the array
 *     and its strings must outlive the run); certpreload_next() hands the
 *     results to its caller in the order of names, blocking until the next one
 *     is read, and NULL after the last. Workers run at most WORKAHEAD_SLOTS
 *     names ahead of the caller, so what waits in memory stays a few hundred
 *     KB at any n;
 *   - the workers call only store_cert_load_current() and
 *     store_cert_current_version(), which read files and touch nothing shared,
 *     and common/x509, which is pure; they block every signal and log nothing;
 *   - a cert that cannot be read or parsed is an error in its result, not a
 *     failure of the run. certpreload_start() fails only with -ENOMEM or when
 *     no thread starts (then nothing is left to free);
 *   - certpreload_finish() stops the workers (also before the last result was
 *     taken), joins them and frees everything.
 * A result is valid until the next certpreload_next() or certpreload_finish(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/x509.h"

struct store;
struct certpreload;

struct cert_preloaded {
	int load_r;            /* store_cert_load_current(): 0 or -errno (-ENOENT: none yet) */
	int parse_r;           /* x509_parse_leaf(), when load_r is 0 */
	bool has_version;      /* store_cert_current_version() succeeded */
	unsigned version;
	struct x509_info info; /* when load_r and parse_r are 0 */
};

/* *ret is filled in every case; release it with x509_info_done(&ret->info). */
void certpreload_one(struct store *store, const char *name, struct cert_preloaded *ret);

int certpreload_start(struct store *store, const char *const *names, size_t n, unsigned threads,
		      struct certpreload **ret);
/* The result for names[i] at the i-th call; NULL once all n were taken. */
const struct cert_preloaded *certpreload_next(struct certpreload *p);
void certpreload_finish(struct certpreload *p);
