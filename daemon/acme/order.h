/* daemon/acme/order.h: one certificate order, from newOrder to a checked
 * certificate, as an asynchronous state machine on the loop.
 *
 * Steps: newOrder (with the profile, and the ARI `replaces` of the
 * certificate being renewed) or the saved order is fetched again after a
 * restart; its authorizations are handled by daemon/acme/authz (dns-persist-01
 * checked read-only first, refusing to trigger validation when the CA would
 * fail, with the exact record to publish; dns-01 through the hook of
 * daemon/acme/dns01);
 * then the order is finalized with a CSR for a new key (made off the loop and
 * handed to save_key, which keeps it 0600 as the cert's pending key, before the
 * CA sees the CSR, so a restart finishes the order with the same key), polled
 * with Retry-After, the chain downloaded (an alternate chain is picked when
 * the cert asks for a preferred issuer) and checked by common/certcheck
 * (validity, names, key, links: a CA's bad certificate is reported, never
 * handed up).
 *
 * Lower tier: the job runs from what it is given (struct order_env: the loop,
 * the CA's transport, the DNS checker, the clock and a read-only view of the
 * account; the CA must be prepared, its directory fetched and its account
 * known) and reports upward only through callbacks: the order URL as soon as
 * it is known (to be saved), what a challenge told about the CA, the new key,
 * and the result, whose chain and key are handed over as owned data. It knows
 * nothing of the daemon, the CA module, state or the store: installing,
 * recording and alerting are the caller's (daemon/renewal).
 *
 * newOrder is sent once (acme_conn_post_once): an answer that never came
 * (a broken connection, a 5xx) may still have made an order, so instead of
 * sending it again the job looks for that order in the account's orders list
 * (daemon/acme/orphan) and continues it, and places a new one only if none is
 * found. The caller is told before newOrder goes out (on_order_intent) so it
 * can remember that across a restart and ask for the same search
 * (find_orphan).
 *
 * Every wait is a uv timer; polls back off and give up after a bound. Exactly
 * one done callback per started job, from the loop (never from inside
 * order_start), unless the job is cancelled (order_cancel), after which no
 * callback comes. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"

#include <uv.h>

#include "common/key.h"
#include "daemon/acme/account.h"
#include "daemon/acme/authz.h" /* struct order_env */
#include "daemon/acme/msg.h"

struct acme_conn;
struct dnscheck;
struct order_job;

struct order_result {
	int error;              /* 0: a new certificate, checked, is in chain/key */
	bool transient;         /* worth retrying soon (network, DNS, 5xx, timeouts) */
	bool refused;           /* our own check said the CA would fail: nothing triggered */
	bool gated;             /* ... and it said so before any order (daemon/renewal's
				 * precheck): no order was placed at all */
	int64_t retry_after;    /* the CA asked us to wait this many seconds; -1 if not */
	bool limited;           /* a new order was needed, but new_order_held: none placed */
	bool rejected;          /* the CA issued a certificate that certcheck refused: nothing
				 * was handed up; message says what was wrong with it */
	unsigned version;       /* 0 from the order; the installer (daemon/renewal) sets it */
	/* Both are the job's and live until the done callback returns. They are as long as
	 * they need to be: an operator must read every line of them. */
	const char *message;    /* what happened, for humans; may span lines; never NULL */
	const char *records;    /* the record(s) to publish (zone lines) when refused, or NULL */
	/* On success: the chain (PEM, leaf first; leaf_len bytes of it are the leaf) and
	 * its key. The job's, freed after the done callback unless it takes them
	 * (TAKE_PTR), which makes them the callback's. */
	char *chain;
	size_t chain_len, leaf_len;
	struct key *key;
};

typedef void (*order_done_fn)(struct order_job *job, struct order_result *res, void *userdata);
typedef void (*order_url_fn)(struct order_job *job, const char *url, void *userdata);
/* sent: newOrder is about to go out (return < 0 to not send it: the intent could not be
 * saved); !sent: it is settled without an order URL (the CA refused it, or the search
 * below ended). */
typedef int (*order_intent_fn)(struct order_job *job, bool sent, void *userdata);
/* True when another cert of the caller's has url saved as its order (not an orphan). */
typedef bool (*order_url_taken_fn)(const char *url, void *userdata);
/* A pending authorization's challenge, about to be answered: dns-persist-01 (its issuer
 * names are worth remembering), or dns-01 for a dns-01 cert; NULL when the CA does not
 * offer dns-persist-01 at all. */
typedef void (*order_challenge_fn)(struct order_job *job, const struct acme_challenge *ch,
				   void *userdata);
/* The new certificate key, before the CA sees a CSR for it: keep it (0600) so a
 * restart can finish the order; < 0 stops the order. */
typedef int (*order_key_fn)(struct order_job *job, const struct key *key, void *userdata);

struct order_params {
	const struct config_cert *cert;   /* borrowed for the job's lifetime */
	const char *profile;              /* the profile to ask for (the cert's, else the
					   * CA's), or NULL */
	const char *replaces;             /* ARI cert id of the cert being renewed, or NULL */
	const char *resume_url;           /* a saved order to continue, or NULL */
	struct key *pending_key;          /* the key saved for the resumed order, or NULL;
					   * the job's from order_start on, even when it fails */
	int pending_key_error;            /* why there is none: 0 or -ENOENT when none was
					   * saved, else it was unreadable */
	bool new_order_held;              /* the issuance circuit breaker: finish with
					   * `limited` rather than place a new order */
	/* persistctl renew --dry-run: stop once the order is ready (every authorization
	 * valid), before any key or CSR; done then gets error 0 with no chain and no key. */
	bool dry_run;
	order_url_fn on_order_url;        /* may be NULL; url NULL: forget the saved one */
	order_challenge_fn on_challenge;  /* may be NULL */
	order_key_fn save_key;            /* may be NULL (the key is then only in memory) */
	/* An earlier newOrder went out and its answer never came (the daemon was killed, or
	 * the connection broke): before a new order, look through the account's orders
	 * (RFC 8555 section 7.1.2.1) for a pending one with exactly the cert's names, and
	 * continue that one, so no order is left pending at the CA for ever. */
	bool find_orphan;
	order_intent_fn on_order_intent;  /* may be NULL */
	order_url_taken_fn url_taken;     /* may be NULL */
	order_done_fn done;
	void *userdata;
};

int order_start(const struct order_env *env, const struct order_params *p,
		struct order_job **ret);
void order_cancel(struct order_job *job); /* NULL is a no-op */
