/* daemon/acme/chain.h: downloading the certificate of a valid order, part of
 * the order engine (daemon/acme/order).
 *
 * The default chain is fetched (POST-as-GET); when the cert asks for a
 * preferred issuer (preferred_chain) and the default chain's top does not
 * name it, the alternates the CA linked (Link rel="alternate") are tried in
 * order, and the default chain is kept when none matches. The chosen chain
 * is then checked by common/certcheck against the cert's names, its key and
 * the clock (validity, names, key, links): a certificate the CA got wrong
 * is reported (rejected), never handed up. One done callback from the loop,
 * unless cancelled, after which none comes. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/key.h"

struct acme_conn;
struct chain_dl;

struct chain_result {
	int error;              /* 0: chain holds a checked chain */
	bool transient;         /* worth retrying soon (network, 5xx, 429) */
	bool rejected;          /* certcheck refused what the CA issued */
	int64_t retry_after;    /* -1 if the CA gave none */
	const char *message;    /* why it failed; the download's until the callback returns */
	/* On success: the PEM chain, leaf first (leaf_len bytes of it). The download's,
	 * freed after the callback unless it takes it (TAKE_PTR). */
	char *chain;
	size_t chain_len, leaf_len;
};

typedef void (*chain_done_fn)(struct chain_dl *dl, struct chain_result *res, void *userdata);

struct chain_params {
	const char *url;                  /* the order's certificate URL */
	const struct config_cert *cert;   /* names and preferred_chain; borrowed */
	const struct key *key;            /* the key of the CSR; borrowed */
	int64_t now;                      /* for the validity check */
	chain_done_fn done;
	void *userdata;
};

int chain_download(struct acme_conn *conn, const struct chain_params *p, struct chain_dl **ret);
void chain_cancel(struct chain_dl *dl); /* NULL is a no-op */
