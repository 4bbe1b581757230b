#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "daemon/ca.h"
#include "daemon/daemon.h"
#include "daemon/fleet.h"
#include "daemon/keygen.h"
#include "daemon/log.h"
#include "daemon/precheck.h"
#include "daemon/renewal.h"
#include "daemon/store.h"

struct renewal {
	struct daemon *d;                 /* borrowed */
	struct ca *ca;                    /* borrowed */
	const struct config_cert *cfg;    /* borrowed */
	char *replaces;                   /* owned or NULL */
	char *resume_url;                 /* owned or NULL */
	bool new_order_held;
	bool dry_run;
	renewal_url_fn on_order_url;
	bool find_orphan;
	renewal_intent_fn on_order_intent;
	renewal_challenge_fn on_challenge;
	renewal_fleet_fn on_fleet_state;
	renewal_done_fn done;
	void *userdata;
	bool waiting_ca;                  /* a ca_prepare() callback will come */
	struct fleet_claim *claim;        /* owned: fleet mode's lock and row (daemon/fleet) */
	struct acme_account_view account;      /* owned copy: the order borrows it */
	struct precheck *pre;             /* in flight, or NULL */
	struct keygen *keygen;            /* fleet mode: the new order's key, in the making */
	struct order_job *job;            /* in flight, or NULL */
	char message[600];
};

static void renewal_free(struct renewal *rn)
{
	if (!rn)
		return;
	acme_account_view_done(&rn->account);
	keygen_abandon(rn->keygen);
	fleet_claim_finish(rn->claim, false);
	free(rn->replaces);
	free(rn->resume_url);
	free(rn);
}

static void on_order_url(struct order_job *job, const char *url, void *userdata)
{
	struct renewal *rn = userdata;

	(void)job;
	if (rn->claim)
		fleet_claim_order_url(rn->claim, url, false);
	if (rn->on_order_url)
		rn->on_order_url(rn, url, rn->userdata);
}

static int on_order_intent(struct order_job *job, bool sent, void *userdata)
{
	struct renewal *rn = userdata;

	(void)job;
	if (rn->claim) {
		/* Fail closed: the lock went with a broken connection, and another issuer may
		 * hold it now. */
		if (sent && !fleet_claim_may_order(rn->claim)) {
			log_warning("cert '%s': the fleet lock was lost with the database "
				    "connection; no new order",
				    rn->cfg->name);
			return -ENOTCONN;
		}
		fleet_claim_order_url(rn->claim, NULL, sent);
	}
	return rn->on_order_intent ? rn->on_order_intent(rn, sent, rn->userdata) : 0;
}

/* Another cert's saved order is not an orphan of this one's. */
static bool url_taken(const char *url, void *userdata)
{
	const struct renewal *rn = userdata;
	const struct state *st = rn->d->state;

	for (size_t i = 0; st && i < st->n_certs; i++) {
		const char *saved = state_cert_orders(st->certs[i])->order_url;
		if (saved && streq(saved, url) && !streq(st->certs[i]->name, rn->cfg->name))
			return true;
	}
	return false;
}

static void on_challenge(struct order_job *job, const struct acme_challenge *ch, void *userdata)
{
	struct renewal *rn = userdata;

	(void)job;
	if (!ch)
		ca_learn_offers_persist(rn->ca, false);
	else if (streq(ch->type, "dns-persist-01") && ca_learn_from_challenge(rn->ca, ch) < 0)
		log_warning("CA '%s': cannot remember the issuer names of a challenge: %s",
			    ca_get_name(rn->ca), strerror(ENOMEM));
	if (rn->on_challenge)
		rn->on_challenge(rn, ch, rn->userdata);
}

static int save_key(struct order_job *job, const struct key *k, void *userdata)
{
	struct renewal *rn = userdata;

	int r;

	(void)job;
	r = store_pending_key_save(rn->d->store, rn->cfg->name, k);
	if (r == 0 && rn->claim)
		fleet_claim_key_saved(rn->claim);
	return r;
}

static void on_order_done(struct order_job *job, struct order_result *res, void *userdata)
{
	struct renewal *rn = userdata;
	struct order_result out = *res;
	int r;

	(void)job;
	rn->job = NULL;
	if (res->error == 0 && !rn->dry_run) {
		r = store_cert_install(rn->d->store, rn->cfg->name, res->key, res->chain,
				       res->leaf_len, res->chain + res->leaf_len,
				       res->chain_len - res->leaf_len, &out.version);
		if (r == -EINVAL)
			str_printf(rn->message, sizeof(rn->message),
				   "the certificate does not match the key we sent a CSR for; not "
				   "installed");
		else if (r < 0)
			str_printf(rn->message, sizeof(rn->message), "installing the certificate: %s",
				   strerror(-r));
		else {
			(void)store_pending_key_clear(rn->d->store, rn->cfg->name);
			/* Stored for the fleet, then the lock goes. */
			fleet_claim_finish(rn->claim, true);
			rn->claim = NULL;
			str_printf(rn->message, sizeof(rn->message),
				   "certificate installed as version %u", out.version);
		}
		out.error = r < 0 ? r : 0;
		out.message = rn->message;
		out.chain = NULL;
		out.key = NULL;
	}
	rn->done(rn, &out, rn->userdata);
	renewal_free(rn);
}

/* A renewal that ends before its order could start. */
static void fail(struct renewal *rn, int r, bool transient)
{
	struct order_result res = {
		.error = r,
		.transient = transient,
		.retry_after = -1,
		.message = rn->message,
	};

	rn->done(rn, &res, rn->userdata);
	renewal_free(rn);
}

static void start_order(struct renewal *rn)
{
	struct key *pending = NULL;
	int key_error, r;

	/* A resumed order must finish with the key its CSR was (or will be) made for. */
	key_error = rn->dry_run ? 0 : store_pending_key_load(rn->d->store, rn->cfg->name, &pending);
	if (key_error < 0 && key_error != -ENOENT)
		log_warning("cert '%s': pending key unreadable (%s), making a new one if needed",
			    rn->cfg->name, strerror(-key_error));
	struct order_env env = {
		.loop = rn->d->loop,
		.conn = ca_get_conn(rn->ca),
		.dns = rn->d->dns,
		.now = daemon_clock,
		.now_userdata = rn->d,
		.account = &rn->account,
	};
	struct order_params p = {
		.cert = rn->cfg,
		.profile = config_cert_opts(rn->cfg)->profile ? config_cert_opts(rn->cfg)->profile
							       : ca_get_config(rn->ca)->profile,
		.replaces = rn->replaces,
		.resume_url = rn->resume_url,
		.pending_key = pending,
		.pending_key_error = key_error < 0 ? key_error : 0,
		.new_order_held = rn->new_order_held,
		.dry_run = rn->dry_run,
		.on_order_url = on_order_url,
		.find_orphan = rn->find_orphan,
		.on_order_intent = on_order_intent,
		.url_taken = url_taken,
		.on_challenge = on_challenge,
		.save_key = rn->dry_run ? NULL : save_key,
		.done = on_order_done,
		.userdata = rn,
	};
	r = order_start(&env, &p, &rn->job);
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message), "starting the order: %s", strerror(-r));
		fail(rn, r, false);
	}
}

/* Fleet mode: a new order starts only once the database has its intent and its CSR key
 * (fleet_claim_announce), so that a kill after newOrder or finalize left never makes the
 * next issuer order a second certificate. */
static void on_announced(struct fleet_claim *cl, int r, const char *message, void *userdata)
{
	struct renewal *rn = userdata;

	(void)cl;
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message),
			   "no new order without the fleet database (%s)", message);
		fail(rn, -EAGAIN, true);
		return;
	}
	start_order(rn); /* with the key announced: it is the local pending key */
}

static void announce(struct renewal *rn, struct key *k)
{
	int r = store_pending_key_save(rn->d->store, rn->cfg->name, k);
	if (r == 0)
		r = fleet_claim_announce(rn->claim, k, on_announced, rn);
	key_free(k);
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message), "storing the order's key: %s",
			   strerror(-r));
		fail(rn, r, true);
	}
}

static void on_order_key(int r, struct key *k, void *userdata)
{
	struct renewal *rn = userdata;

	rn->keygen = NULL;
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message), "generating the certificate key: %s",
			   strerror(-r));
		fail(rn, r, false);
		return;
	}
	announce(rn, k);
}

static void before_order(struct renewal *rn)
{
	struct key *k = NULL;

	if (!rn->claim || rn->dry_run || rn->resume_url || rn->find_orphan) {
		start_order(rn);
		return;
	}
	if (store_pending_key_load(rn->d->store, rn->cfg->name, &k) == 0) {
		announce(rn, k); /* an earlier attempt's key: the order engine takes it too */
		return;
	}
	int r = keygen_start(rn->d->loop, rn->cfg->key_type, on_order_key, rn, &rn->keygen);
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message), "starting key generation: %s",
			   strerror(-r));
		fail(rn, r, false);
	}
}

static void on_precheck(const struct precheck_result *res, void *userdata)
{
	struct renewal *rn = userdata;

	rn->pre = NULL;
	if (res->passed) {
		before_order(rn);
		return;
	}
	/* No order: it would only be refused. A missing or wrong record waits for the
	 * owner (the records to publish go up); a failed lookup is worth a retry. */
	_cleanup_free_ char *m = NULL;
	if (asprintf(&m, "waiting for the record, no order placed: %s%s%s", res->message,
		     res->records ? "\nPublish (once):\n" : "", res->records ? res->records : "") < 0)
		m = NULL;
	struct order_result out = {
		.error = res->dns_error ? -EAGAIN : -ENOENT,
		.transient = res->dns_error,
		.refused = !res->dns_error,
		.gated = true,
		.retry_after = -1,
		.message = m ? m : res->message,
		.records = res->records,
	};
	rn->done(rn, &out, rn->userdata);
	renewal_free(rn);
}

static void on_ca_ready(struct ca *ca, int r, void *userdata)
{
	struct renewal *rn = userdata;
	struct acme_account_view view;

	rn->waiting_ca = false;
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message), "%s", ca_last_error(ca));
		fail(rn, r, r != -EACCES && r != -EINVAL);
		return;
	}
	ca_get_account_view(ca, &view);
	r = acme_account_view_copy(&view, &rn->account);
	if (r < 0) {
		str_printf(rn->message, sizeof(rn->message), "starting the order: %s", strerror(-r));
		fail(rn, r, false);
		return;
	}
	/* A new order only once our read-only check of every name passes, where the CA's
	 * issuer names are known (daemon/precheck); an order to continue goes on. */
	if (!rn->dry_run && !rn->resume_url && !rn->find_orphan) {
		r = precheck_start(rn->d, ca, rn->cfg, on_precheck, rn, &rn->pre);
		if (r == 0)
			return;
		if (r != -ENODATA)
			log_warning("cert '%s': cannot check the records before ordering (%s), "
				    "ordering anyway", rn->cfg->name, strerror(-r));
	}
	before_order(rn);
}

/* Fleet mode: the claim decides whether this host orders at all (daemon/fleet.h). */
static void on_claim(struct fleet_claim *cl, enum fleet_claim_outcome outcome, unsigned version,
		     const char *message, void *userdata)
{
	struct renewal *rn = userdata;
	int r;

	str_printf(rn->message, sizeof(rn->message), "%s", message);
	switch (outcome) {
	case FLEET_CLAIM_ORDER: {
		/* The fleet's record of the order wins: it may be another issuer's. */
		const char *url = fleet_claim_resume_url(cl);
		if (url) {
			free(rn->resume_url);
			rn->resume_url = strdup(url);
			if (!rn->resume_url) {
				fail(rn, -ENOMEM, true);
				return;
			}
		}
		rn->find_orphan = rn->find_orphan || fleet_claim_find_orphan(cl);
		if (rn->on_fleet_state &&
		    rn->on_fleet_state(rn, fleet_claim_renewal(cl), rn->resume_url || rn->find_orphan,
				       rn->message, sizeof(rn->message), rn->userdata)) {
			/* Not an attempt here: the fleet's state holds it (the lock goes). */
			struct order_result res = { .error = -EAGAIN, .limited = true,
						    .message = rn->message, .retry_after = -1 };
			rn->done(rn, &res, rn->userdata);
			renewal_free(rn);
			return;
		}
		rn->waiting_ca = true;
		r = ca_prepare(rn->ca, on_ca_ready, rn);
		if (r < 0) {
			rn->waiting_ca = false;
			str_printf(rn->message, sizeof(rn->message), "preparing the CA: %s",
				   strerror(-r));
			fail(rn, r, true);
		}
		return;
	}
	case FLEET_CLAIM_INSTALLED: {
		struct order_result res = { .error = 0, .version = version, .message = rn->message,
					    .retry_after = -1 };
		rn->done(rn, &res, rn->userdata);
		renewal_free(rn);
		return;
	}
	case FLEET_CLAIM_NOTHING:
		if (fleet_claim_sync_only(cl)) {
			/* Not an attempt: nothing to count, nothing to back off from. */
			struct order_result res = { .error = -EAGAIN, .limited = true,
						    .message = rn->message, .retry_after = -1 };
			rn->done(rn, &res, rn->userdata);
			renewal_free(rn);
			return;
		}
		fail(rn, -EAGAIN, true);
		return;
	case FLEET_CLAIM_FAILED:
	case _FLEET_CLAIM_OUTCOME_MAX:
		break;
	}
	fail(rn, -EIO, false);
}

int renewal_start(struct daemon *d, const struct renewal_params *p, struct renewal **ret)
{
	struct renewal *rn = calloc(1, sizeof(*rn));
	int r;

	if (!rn)
		return -ENOMEM;
	rn->d = d;
	rn->ca = p->ca;
	rn->cfg = p->cert;
	rn->new_order_held = p->new_order_held;
	rn->dry_run = p->dry_run;
	rn->on_order_url = p->on_order_url;
	rn->find_orphan = p->find_orphan;
	rn->on_order_intent = p->on_order_intent;
	rn->on_challenge = p->on_challenge;
	rn->on_fleet_state = p->on_fleet_state;
	rn->done = p->done;
	rn->userdata = p->userdata;
	if ((p->replaces && !(rn->replaces = strdup(p->replaces))) ||
	    (p->resume_url && !(rn->resume_url = strdup(p->resume_url)))) {
		renewal_free(rn);
		return -ENOMEM;
	}
	if (d->fleet)
		r = fleet_claim_start(d->fleet, rn->cfg, on_claim, rn, &rn->claim);
	else {
		rn->waiting_ca = true;
		r = ca_prepare(rn->ca, on_ca_ready, rn);
	}
	if (r < 0) {
		renewal_free(rn);
		return r;
	}
	*ret = rn;
	return 0;
}

void renewal_cancel(struct renewal *rn)
{
	if (!rn)
		return;
	if (rn->waiting_ca)
		ca_cancel_wait(rn->ca, on_ca_ready, rn);
	precheck_cancel(rn->pre);
	order_cancel(rn->job);
	renewal_free(rn);
}

/* ---- revocation ---- */

struct revoke_run {
	char *payload;            /* owned */
	struct key *cert_key;     /* owned, when signing with it */
	revoke_fn cb;
	void *userdata;
};

static void revoke_run_free(struct revoke_run *rr)
{
	free(rr->payload);
	key_free(rr->cert_key);
	free(rr);
}

static void on_revoke_ca_ready(struct ca *ca, int r, void *userdata)
{
	struct revoke_run *rr = userdata;

	if (r < 0) {
		rr->cb(r, ca_last_error(ca), rr->userdata);
		revoke_run_free(rr);
		return;
	}
	r = revoke_send(ca_get_conn(ca), rr->payload, TAKE_PTR(rr->cert_key), rr->cb, rr->userdata);
	if (r == -EOPNOTSUPP)
		rr->cb(r, "the CA's directory has no revokeCert", rr->userdata);
	else if (r < 0)
		rr->cb(r, "cannot send the revocation", rr->userdata);
	revoke_run_free(rr);
}

int renewal_revoke(struct daemon *d, struct ca *ca, const char *cert, int reason,
		   bool with_cert_key, revoke_fn cb, void *userdata)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;
	int r;

	r = store_cert_load_current(d->store, cert, &pem, &len);
	if (r < 0)
		return r;
	struct revoke_run *rr = calloc(1, sizeof(*rr));
	if (!rr)
		return -ENOMEM;
	rr->cb = cb;
	rr->userdata = userdata;
	r = revoke_payload(pem, len, reason, &rr->payload);
	if (r == 0 && with_cert_key)
		r = store_cert_load_current_key(d->store, cert, &rr->cert_key);
	if (r == 0)
		r = ca_prepare(ca, on_revoke_ca_ready, rr);
	if (r < 0)
		revoke_run_free(rr);
	return r;
}
