/* daemon/acme/authz.h: the authorizations of one order, part of the order
 * engine (daemon/acme/order runs it between newOrder and finalize).
 *
 * Every authorization URL of the order is fetched. One that is already
 * valid (just-in-time validation or reuse) needs nothing; a pending one is
 * answered in the cert's mode:
 *
 *  - dns-persist-01: the record is first checked read-only with the DNS
 *    checker, exactly as the CA will evaluate it. The check goes in two
 *    passes: every pending authorization is checked first, and the CA is
 *    asked to validate only when all would pass. If a check says the CA
 *    would fail (no record, wrong account, no policy=wildcard for a wildcard
 *    name, expired persistUntil, CAA forbids, DNSSEC bogus) nothing is
 *    triggered and the result names every record to publish at once. This
 *    mode has no path to any DNS-write code.
 *  - dns-01: daemon/acme/dns01 runs the write hook, waits for propagation,
 *    and always cleans up.
 *
 * then the CA's validation is polled (Retry-After, doubling, bounded) until
 * every authorization is valid. Runs from the environment it is given
 * (struct order_env) and reports upward only through its callbacks. Exactly
 * one done callback per started run, from the loop, unless cancelled
 * (authz_cancel), after which none comes. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "daemon/acme/account.h"
#include "daemon/acme/msg.h"

struct acme_conn;
struct dnscheck;
struct authz_run;

/* Where an order (and its authorizations) runs. Everything is borrowed for the
 * job's lifetime. */
struct order_env {
	uv_loop_t *loop;
	struct acme_conn *conn;             /* the CA's transport: directory fetched, account set */
	struct dnscheck *dns;               /* the dns-persist-01 pre-check and dns-01 propagation */
	int64_t (*now)(void *userdata);     /* the clock (the daemon's may be moved in tests) */
	void *now_userdata;
	const struct acme_account_view *account; /* a read-only view; must stay valid */
};

struct authz_result {
	int error;              /* 0: every authorization is valid */
	bool transient;         /* worth retrying soon */
	bool refused;           /* our own check said the CA would fail: nothing triggered */
	int64_t retry_after;    /* the CA asked us to wait this many seconds; -1 if not */
	const char *message;    /* the run's, until the callback returns; NULL on success */
	const char *records;    /* the record(s) to publish when refused, or NULL */
};

typedef void (*authz_done_fn)(struct authz_run *run, const struct authz_result *res,
			      void *userdata);
/* A pending authorization's challenge, about to be answered: dns-persist-01, or dns-01
 * for a dns-01 cert; NULL when the CA does not offer dns-persist-01 at all. */
typedef void (*authz_challenge_fn)(const struct acme_challenge *ch, void *userdata);

struct authz_params {
	const struct config_cert *cert;   /* borrowed for the run's lifetime */
	char *const *urls;                /* the order's authorizations (copied) */
	size_t n_urls;
	authz_challenge_fn on_challenge;  /* may be NULL */
	authz_done_fn done;
	void *userdata;
};

int authz_start(const struct order_env *env, const struct authz_params *p,
		struct authz_run **ret);
void authz_cancel(struct authz_run *run); /* NULL is a no-op */
