/* daemon/acme/orphan.h: finding the order a newOrder made when its answer never reached us
 * (the daemon was killed while it was on its way, the connection broke, a 5xx), so that
 * order is continued instead of being left pending at the CA while another one is placed.
 *
 * RFC 8555 section 7.1.2.1: POST-as-GET the account, then its `orders` URL, following
 * Link rel="next" for at most ACME_MAX_ORDERS_PAGES pages; then POST-as-GET the listed
 * orders newest first (CAs list them oldest first), at most ACME_MAX_ORDERS_PROBED, skipping
 * those the caller says are taken (another cert's order in flight). The first one that is
 * pending, ready or processing with exactly the given names (acme_order_has_names) is the
 * answer. A valid order is never taken: it is finished (nothing is left pending) and may be
 * an earlier renewal's.
 *
 * Outcomes, in exactly one callback from the loop unless cancelled:
 *  - found: url and order set;
 *  - none: the search ran (nothing matched), or cannot run at this CA (no `orders` URL, the
 *    list answers 404/405/501 or another 4xx, a malformed list): why says which, for the log;
 *  - error < 0: the CA could not answer now (network, 5xx, 429: reply is the failing one),
 *    or out of memory; the caller should try again later rather than order anew.
 * The connection and the account URL are the CA's; the caller passes them in. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>

#include "daemon/acme/msg.h"
#include "daemon/acme/transport.h"

struct orphan_search;

struct orphan_result {
	int error;                      /* 0, or -errno (see above) */
	const struct acme_reply *reply; /* the failing reply when the CA could not answer */
	const char *what;               /* what the failing request was, for a message */
	const char *url;                /* the order found, or NULL */
	struct acme_order *order;       /* its object when found; the callback may move it out
					 * (and leave it zeroed) */
	const char *why;                /* when none was found: why, one line */
};

typedef void (*orphan_done_fn)(const struct orphan_result *r, void *userdata);
typedef bool (*orphan_taken_fn)(const char *url, void *userdata);

/* account_url, names: borrowed until the callback; taken may be NULL. -EINVAL without
 * an account URL or names. */
int orphan_search_start(struct acme_conn *conn, const char *account_url,
			const char *const *names, size_t n_names, orphan_taken_fn taken,
			orphan_done_fn done, void *userdata, struct orphan_search **ret);
/* No callback after this; NULL, or a search whose callback runs, is a no-op (it is freed
 * when its callback returns). */
void orphan_search_cancel(struct orphan_search *s);
