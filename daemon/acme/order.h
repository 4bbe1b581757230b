/* daemon/acme/order.h: one certificate order, from newOrder to an installed
 * certificate, as an asynchronous state machine on the loop.
 *
 * Steps: the CA is prepared (directory, account); newOrder (with the
 * profile, and the ARI `replaces` of the certificate being renewed) or the
 * saved order is fetched again after a restart; every authorization is
 * handled: one that is already valid (just-in-time validation or reuse)
 * needs nothing; a pending one is answered in the cert's mode:
 *
 *  - dns-persist-01: the record is first checked read-only with the DNS
 *    checker, exactly as the CA will evaluate it. If that check says the CA
 *    would fail (no record, wrong account, no policy=wildcard for a wildcard
 *    name, expired persistUntil, CAA forbids, DNSSEC bogus) the job refuses
 *    to trigger validation and reports why, with the exact record to publish.
 *    This mode has no path to any DNS-write code.
 *  - dns-01: the separate daemon/acme/dns01 module runs the write hook,
 *    waits for propagation, and always cleans up.
 *
 * then the order is finalized with a CSR for a new key (made off the loop and
 * saved 0600 as the cert's pending key before the CA sees the CSR, so a
 * restart finishes the order with the same key), polled with Retry-After,
 * the chain downloaded (an alternate chain is picked when the cert asks for
 * a preferred issuer), checked by common/certcheck (validity, names, key,
 * links: a CA's bad certificate is reported, never installed), and
 * installed atomically by daemon/store.
 *
 * newOrder is sent once (acme_conn_post_once): an answer that never came
 * (a broken connection, a 5xx) may still have made an order, so instead of
 * sending it again the job looks for that order in the account's orders list
 * (daemon/acme/orphan) and continues it, and places a new one only if none is
 * found. The caller is
 * told before newOrder goes out (on_order_intent) so it can remember that
 * across a restart and ask for the same search (find_orphan).
 *
 * Every wait is a uv timer; polls back off and give up after a bound. The
 * order URL is reported through on_order_url as soon as it is known so the
 * caller can save it. Exactly one done callback per started job, from the
 * loop, unless the job is cancelled (order_cancel), after which no callback
 * comes. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"

struct daemon;
struct ca;
struct order_job;

struct order_result {
	int error;              /* 0: a new certificate is installed */
	bool transient;         /* worth retrying soon (network, DNS, 5xx, timeouts) */
	bool refused;           /* our own check said the CA would fail: nothing triggered */
	int64_t retry_after;    /* the CA asked us to wait this many seconds; -1 if not */
	bool limited;           /* a new order was needed, but new_order_held: none placed */
	bool rejected;          /* the CA issued a certificate that certcheck refused: nothing
				 * was installed; message says what was wrong with it */
	unsigned version;       /* the installed archive version */
	/* Both are the job's and live until the done callback returns. They are as long as
	 * they need to be: an operator must read every line of them. */
	const char *message;    /* what happened, for humans; may span lines; never NULL */
	const char *records;    /* the record(s) to publish (zone lines) when refused, or NULL */
};

typedef void (*order_done_fn)(struct order_job *job, const struct order_result *res,
			      void *userdata);
typedef void (*order_url_fn)(struct order_job *job, const char *url, void *userdata);
/* sent: newOrder is about to go out (return < 0 to not send it: the intent could not be
 * saved); !sent: it is settled without an order URL (the CA refused it, or the search
 * below ended). */
typedef int (*order_intent_fn)(struct order_job *job, bool sent, void *userdata);

struct order_params {
	struct ca *ca;                    /* borrowed */
	const struct config_cert *cert;   /* borrowed for the job's lifetime */
	const char *replaces;             /* ARI cert id of the cert being renewed, or NULL */
	const char *resume_url;           /* a saved order to continue, or NULL */
	bool new_order_held;              /* the issuance circuit breaker: finish with
					   * `limited` rather than place a new order */
	order_url_fn on_order_url;        /* may be NULL */
	/* An earlier newOrder went out and its answer never came (the daemon was killed, or
	 * the connection broke): before a new order, look through the account's orders
	 * (RFC 8555 section 7.1.2.1) for a pending one with exactly the cert's names, and
	 * continue that one, so no order is left pending at the CA for ever. */
	bool find_orphan;
	order_intent_fn on_order_intent;  /* may be NULL */
	order_done_fn done;
	void *userdata;
};

int order_start(struct daemon *d, const struct order_params *p, struct order_job **ret);
void order_cancel(struct order_job *job); /* NULL is a no-op */
