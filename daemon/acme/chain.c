#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/certcheck.h"
#include "common/strutil.h"
#include "common/x509.h"
#include "daemon/acme/chain.h"
#include "daemon/acme/transport.h"
#include "daemon/log.h"

struct chain_dl {
	struct acme_conn *conn;            /* borrowed */
	const struct config_cert *cfg;     /* borrowed */
	const struct key *key;             /* borrowed */
	int64_t now;
	chain_done_fn done;
	void *userdata;
	struct acme_op *op;                /* in flight, or NULL */
	bool alternate;                    /* fetching alternates[alt_index - 1] */
	char *chain;                       /* owned: the chain we will hand up */
	size_t chain_len;
	size_t alt_index;
	char **alternates;                 /* owned: Link rel="alternate" URLs */
	size_t n_alternates;
	char message[700];
	struct chain_result result;
};

static void dl_free(struct chain_dl *dl)
{
	free(dl->chain);
	free(dl->result.chain);
	for (size_t i = 0; i < dl->n_alternates; i++)
		free(dl->alternates[i]);
	free(dl->alternates);
	free(dl);
}

static void finish(struct chain_dl *dl, int error)
{
	dl->result.error = error;
	dl->result.message = dl->message;
	dl->done(dl, &dl->result, dl->userdata);
	dl_free(dl);
}

static const char *cert_name(const struct chain_dl *dl)
{
	return dl->cfg->name;
}

/* What the CA sent must be fit to serve before `current` moves: a CA with a wrong
 * clock or profile, or a wrong certificate, must not replace a good one. */
static void check(struct chain_dl *dl)
{
	const char *end_marker = "-----END CERTIFICATE-----";
	const char *end = strstr(dl->chain, end_marker);
	_cleanup_(certcheck_result_done) struct certcheck_result res = { 0 };
	int r;

	if (!end) {
		str_printf(dl->message, sizeof(dl->message), "the CA sent no certificate in PEM");
		finish(dl, -EPROTO);
		return;
	}
	end += strlen(end_marker);
	if (*end == '\r')
		end++;
	if (*end == '\n')
		end++;
	size_t leaf_len = (size_t)(end - dl->chain);
	r = certcheck_chain(dl->chain, dl->chain_len, (const char *const *)dl->cfg->names,
			    dl->cfg->n_names, dl->key, dl->now, &res);
	if (r < 0) {
		str_printf(dl->message, sizeof(dl->message), "checking the certificate: %s",
			   strerror(-r));
		finish(dl, r);
		return;
	}
	if (res.verdict != CERTCHECK_OK) {
		str_printf(dl->message, sizeof(dl->message),
			   "the CA issued a certificate we will not install (%s): %s",
			   certcheck_verdict_to_string(res.verdict), res.reason);
		dl->result.rejected = true;
		finish(dl, -EPROTO);
		return;
	}
	dl->result.chain = TAKE_PTR(dl->chain);
	dl->result.chain_len = dl->chain_len;
	dl->result.leaf_len = leaf_len;
	finish(dl, 0);
}

static bool chain_matches_preference(const struct chain_dl *dl, const char *pem, size_t len)
{
	_cleanup_free_ char *cn = NULL;

	if (!config_cert_opts(dl->cfg)->preferred_chain)
		return true;
	return x509_chain_top_issuer_cn(pem, len, &cn) == 0 &&
	       streq(cn, config_cert_opts(dl->cfg)->preferred_chain);
}

static void on_download(const struct acme_reply *rep, void *userdata);

static void fetch(struct chain_dl *dl, const char *url)
{
	int r = acme_conn_post(dl->conn, url, NULL, false, on_download, dl, &dl->op);
	if (r < 0) {
		str_printf(dl->message, sizeof(dl->message), "downloading the certificate: %s",
			   strerror(-r));
		finish(dl, r);
	}
}

static void fail_reply(struct chain_dl *dl, const struct acme_reply *rep)
{
	char why[600];

	acme_reply_describe(rep, why, sizeof(why));
	str_printf(dl->message, sizeof(dl->message), "downloading the certificate failed: %s", why);
	dl->result.retry_after = rep->retry_after_sec;
	if (acme_reply_try_later(rep)) {
		dl->result.transient = true;
		finish(dl, rep->error < 0 ? rep->error : -EAGAIN);
	} else {
		finish(dl, -EPROTO);
	}
}

static void on_download(const struct acme_reply *rep, void *userdata)
{
	struct chain_dl *dl = userdata;
	bool alternate = dl->alternate;

	dl->op = NULL;
	if (rep->error < 0 || rep->status != 200 || rep->body_len == 0) {
		if (alternate) {
			log_warning("cert '%s': alternate chain %s unavailable, ignoring",
				    cert_name(dl), rep->url);
		} else {
			fail_reply(dl, rep);
			return;
		}
	} else if (!alternate) {
		dl->chain = strndup(rep->body, rep->body_len);
		dl->chain_len = rep->body_len;
		if (!dl->chain) {
			finish(dl, -ENOMEM);
			return;
		}
		for (size_t i = 0; i < rep->n_link_alternate; i++) {
			char **a = realloc(dl->alternates, (dl->n_alternates + 1) * sizeof(*a));
			if (!a || !(a[dl->n_alternates] = strdup(rep->link_alternate[i]))) {
				if (a)
					dl->alternates = a;
				finish(dl, -ENOMEM);
				return;
			}
			dl->alternates = a;
			dl->n_alternates++;
		}
		if (chain_matches_preference(dl, dl->chain, dl->chain_len)) {
			check(dl);
			return;
		}
	} else if (chain_matches_preference(dl, rep->body, rep->body_len)) {
		char *c = strndup(rep->body, rep->body_len);
		if (!c) {
			finish(dl, -ENOMEM);
			return;
		}
		free(dl->chain);
		dl->chain = c;
		dl->chain_len = rep->body_len;
		log_info("cert '%s': using the alternate chain to '%s'", cert_name(dl),
			 config_cert_opts(dl->cfg)->preferred_chain);
		check(dl);
		return;
	}
	if (dl->alt_index < dl->n_alternates) {
		dl->alternate = true;
		fetch(dl, dl->alternates[dl->alt_index++]);
		return;
	}
	log_warning("cert '%s': no chain leads to preferred_chain '%s', using the default chain",
		    cert_name(dl), config_cert_opts(dl->cfg)->preferred_chain);
	check(dl);
}

int chain_download(struct acme_conn *conn, const struct chain_params *p, struct chain_dl **ret)
{
	struct chain_dl *dl = calloc(1, sizeof(*dl));
	int r;

	if (!dl)
		return -ENOMEM;
	*dl = (struct chain_dl){
		.conn = conn,
		.cfg = p->cert,
		.key = p->key,
		.now = p->now,
		.done = p->done,
		.userdata = p->userdata,
		.result.retry_after = -1,
	};
	r = acme_conn_post(conn, p->url, NULL, false, on_download, dl, &dl->op);
	if (r < 0) {
		dl_free(dl);
		return r;
	}
	*ret = dl;
	return 0;
}

void chain_cancel(struct chain_dl *dl)
{
	if (!dl)
		return;
	acme_op_cancel(dl->op);
	dl_free(dl);
}
