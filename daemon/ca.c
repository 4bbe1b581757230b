#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/strutil.h"
#include "daemon/ca.h"
#include "daemon/cafacts.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/signer.h"

enum ca_phase {
	CA_IDLE,
	CA_PREPARING,
	CA_READY,
};

struct ca_waiter {
	ca_ready_fn cb;
	void *userdata;
};

/* One ca_fetch_directory() in flight: the op's userdata, so that a CA freed
 * by a reload can still answer it (acme_conn_free() cancels silently). */
struct ca_dir_waiter {
	struct ca *ca;                /* borrowed */
	ca_done_fn cb;
	void *userdata;
	struct ca_dir_waiter *next;   /* in ca->dir_waiters */
};

struct ca {
	struct daemon *d;             /* borrowed */
	const struct config_ca *cfg;  /* borrowed from d->config */
	char *name;                   /* owned */
	struct acme_conn *conn;       /* owned */
	struct signer_ca *sca;        /* owned: signs with the account key, which only the
				       * signer process holds */
	char *jwk;                    /* owned: the account key's public JWK, or NULL */
	char *key_type;               /* owned: its type name */
	char *thumbprint;             /* owned */
	char *account_url;            /* owned */
	enum ca_phase phase;
	struct ca_waiter *waiters;    /* owned array */
	size_t n_waiters;
	struct ca_dir_waiter *dir_waiters; /* owned list: ca_fetch_directory() calls */
	uint64_t signer_id;           /* the signer request in flight, when signer_busy */
	bool signer_busy;
	uint64_t load_id;             /* a reload's "load", when load_busy */
	bool load_busy;
	bool key_is_new;              /* made in this run: the CA cannot know it yet */
	bool looked_up;               /* onlyReturnExisting asked once this run */
	char last_error[512];
	/* rollover or deactivation in flight */
	struct acme_rollover ro;      /* a key rollover (daemon/acme/account) */
	struct acme_account_op acct;  /* the account operation in flight (daemon/acme/account) */
	ca_done_fn rollover_cb;
	void *rollover_ud;
};

static void set_error(struct ca *ca, const char *fmt, ...) _printf_(2, 3);
static void set_error(struct ca *ca, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ca->last_error, sizeof(ca->last_error), fmt, ap);
	va_end(ap);
}

static int ca_signer_load(struct ca *ca);

/* Takes the public half of the account key from a signer reply. */
static int set_public(struct ca *ca, yajl_val reply)
{
	const char *tp = json_get_string(reply, "thumbprint");
	const char *type = json_get_string(reply, "key_type");
	yajl_val jwk = json_get(reply, "jwk");
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	char *text = NULL;
	int r;

	if (!tp || !type || !jwk || !YAJL_IS_OBJECT(jwk))
		return -EPROTO;
	if (!w)
		return -ENOMEM;
	json_value(w, jwk);
	r = json_writer_take(w, &text, NULL);
	if (r < 0)
		return r;
	free(ca->jwk);
	ca->jwk = text;
	if (state_set_str(&ca->thumbprint, tp) < 0 || state_set_str(&ca->key_type, type) < 0)
		return -ENOMEM;
	return 0;
}

int ca_new(struct daemon *d, const struct config_ca *cfg, struct ca **ret)
{
	_cleanup_(ca_freep) struct ca *ca = calloc(1, sizeof(*ca));
	int r;

	if (!ca)
		return -ENOMEM;
	ca->d = d;
	ca->cfg = cfg;
	ca->acct.userdata = ca;
	ca->name = strdup(cfg->name);
	if (!ca->name)
		return -ENOMEM;
	r = acme_conn_new(d->http, d->loop, cfg->directory, cfg->ca_bundle, &ca->conn);
	if (r < 0)
		return r;
	r = signer_ca_new(d->signer, cfg->name, &ca->sca);
	if (r < 0)
		return r;
	r = ca_signer_load(ca);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(ca);
	return 0;
}

static void prepare_finish(struct ca *ca, int r);

static void on_signer_ignored(int r, yajl_val reply, const char *why, void *ud)
{
	(void)reply;
	(void)ud;
	if (r < 0)
		log_warning("the signer: %s", why);
}

static void on_signer_loaded(int r, yajl_val reply, const char *why, void *ud)
{
	struct ca *ca = ud;
	bool have = false;

	ca->load_busy = false;
	if (r < 0) {
		log_warning("CA '%s': the signer refused it: %s", ca->name, why);
		return;
	}
	if (json_get_bool(reply, "have_key", &have) && have && set_public(ca, reply) < 0)
		log_warning("CA '%s': the signer's answer lacks the public key", ca->name);
}

/* Tells the signer about this CA: at start (before the loop runs) in one round trip, so the
 * public key is known at once; after a reload, on the loop. */
static int ca_signer_load(struct ca *ca)
{
	const char *type = key_type_to_string(ca->cfg->account_key_type);
	const char *kv[] = { "directory", ca->cfg->directory, "key_type", type, NULL };
	yajl_val v = NULL;
	char why[256];
	bool have = false;
	int r;

	r = signer_load_now(ca->d->signer, ca->name, ca->cfg->directory, type, &v, why,
			    sizeof(why));
	if (r == -EINVAL) { /* attached: the loop runs */
		r = signer_request(ca->d->signer, "load", ca->name, kv, on_signer_loaded, ca,
				   &ca->load_id);
		if (r == 0)
			ca->load_busy = true;
		return r;
	}
	if (r == -EACCES) {
		/* An unreadable account.key: as before, the CA's preparation reports it. */
		log_warning("CA '%s': the signer: %s", ca->name, why);
		return 0;
	}
	if (r < 0) {
		log_error("CA '%s': the signer: %s", ca->name, r == -EPROTO ? "bad reply" : why);
		return r;
	}
	if (json_get_bool(v, "have_key", &have) && have)
		r = set_public(ca, v);
	yajl_tree_free(v);
	return r;
}

void ca_free(struct ca *ca)
{
	if (!ca)
		return;
	/* Whoever still waits (a control request) gets an answer, not silence. */
	if (ca->n_waiters) {
		set_error(ca, "CA '%s' was removed from the configuration", ca->name);
		prepare_finish(ca, -ECANCELED);
	}
	if (ca->rollover_cb) {
		ca_done_fn cb = ca->rollover_cb;
		ca->rollover_cb = NULL;
		cb(ca, -ECANCELED, "the CA was removed from the configuration", ca->rollover_ud);
	}
	while (ca->dir_waiters) {
		struct ca_dir_waiter *w = ca->dir_waiters;
		ca->dir_waiters = w->next;
		w->cb(ca, -ECANCELED, "the CA was removed from the configuration", w->userdata);
		free(w);
	}
	if (ca->signer_busy)
		signer_cancel(ca->d->signer, ca->signer_id);
	if (ca->load_busy)
		signer_cancel(ca->d->signer, ca->load_id);
	if (ca->ro.signer)
		acme_rollover_cancel(&ca->ro);
	acme_account_op_cancel(&ca->acct);
	acme_conn_free(ca->conn);
	signer_ca_free(ca->sca);
	free(ca->jwk);
	free(ca->key_type);
	free(ca->thumbprint);
	free(ca->account_url);
	free(ca->waiters);
	free(ca->name);
	free(ca);
}

void ca_set_config(struct ca *ca, const struct config_ca *cfg)
{
	ca->cfg = cfg;
}

bool ca_is_ready(const struct ca *ca)
{
	return ca->phase == CA_READY;
}

const char *ca_last_error(const struct ca *ca)
{
	return ca->last_error;
}

const char *ca_get_name(const struct ca *ca)
{
	return ca->name;
}

const struct config_ca *ca_get_config(const struct ca *ca)
{
	return ca->cfg;
}

struct acme_conn *ca_get_conn(const struct ca *ca)
{
	return ca->conn;
}

const struct acme_directory *ca_get_directory(const struct ca *ca)
{
	return acme_conn_get_directory(ca->conn);
}

struct ca *daemon_find_ca(const struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_cas; i++)
		if (streq(ca_get_name(d->cas[i]), name))
			return d->cas[i];
	return NULL;
}

const char *ca_get_account_url(const struct ca *ca)
{
	return ca->account_url;
}

const char *ca_get_key_type(const struct ca *ca)
{
	return ca->key_type;
}

const char *ca_get_thumbprint(const struct ca *ca)
{
	return ca->thumbprint;
}

static struct state_ca *ca_state(struct ca *ca)
{
	return state_get_ca(ca->d->state, ca->name, true);
}

static const struct state_ca *ca_state_ro(const struct ca *ca)
{
	return state_get_ca(ca->d->state, ca->name, false);
}

/* The facts (daemon/cafacts) of this CA; a change marks state.json dirty. */
static int changed(struct ca *ca, int r)
{
	if (r > 0)
		daemon_state_changed(ca->d);
	return r < 0 ? r : 0;
}

int ca_adopt_fleet_facts(struct ca *ca, const char *directory, const char *account_url,
			 const char *hash_prefix, char *const *issuers, size_t n_issuers)
{
	/* An account belongs to one directory; a host with the key has its own. */
	if (!directory || !account_url || !streq(directory, ca->cfg->directory) || ca->jwk)
		return 0;
	if (!ca->account_url || !streq(ca->account_url, account_url)) {
		free(ca->account_url);
		if (!(ca->account_url = strdup(account_url)))
			return -ENOMEM;
	}
	return changed(ca, cafacts_adopt_fleet(ca_state(ca), hash_prefix, issuers, n_issuers));
}

enum record_uri_mode ca_get_uri_mode(const struct ca *ca)
{
	return cafacts_uri_mode(ca->cfg, ca_get_directory(ca), ca_state_ro(ca));
}

int ca_load_local(struct ca *ca)
{
	const struct state_ca *st = state_get_ca(ca->d->state, ca->name, false);

	/* The public key came from the signer when this CA was made. */
	if (!ca->jwk)
		return 0;
	if (!ca->account_url && st && st->account_url && st->directory &&
	    streq(st->directory, ca->cfg->directory)) {
		ca->account_url = strdup(st->account_url);
		if (!ca->account_url)
			return -ENOMEM;
	}
	return 0;
}

const char *const *ca_get_issuers(const struct ca *ca, size_t *n)
{
	return cafacts_issuers(ca->cfg, ca_get_directory(ca), ca_state_ro(ca), n);
}

int ca_offers_persist(const struct ca *ca)
{
	return cafacts_offers_persist(ca_get_directory(ca), ca_state_ro(ca));
}

void ca_learn_offers_persist(struct ca *ca, bool offers)
{
	(void)changed(ca, cafacts_learn_offers_persist(ca_state(ca), offers));
}

int ca_learn_from_challenge(struct ca *ca, const struct acme_challenge *ch)
{
	ca_learn_offers_persist(ca, true);
	return changed(ca, cafacts_remember_issuers(ca_state(ca), ch->issuer_domain_names,
						    ch->n_issuer_domain_names));
}

void ca_get_account_view(const struct ca *ca, struct acme_account_view *view)
{
	cafacts_account_view(ca->cfg, ca_get_directory(ca), ca_state_ro(ca), ca->account_url,
			     ca->thumbprint, view);
}

int ca_expected_account_uri(const struct ca *ca, const char *name, const char *challenge_uri,
			    char **ret)
{
	struct acme_account_view view;

	ca_get_account_view(ca, &view);
	return acme_account_expected_uri(&view, name, challenge_uri, ret);
}

/* ---- preparation ---- */

static void prepare_finish(struct ca *ca, int r)
{
	struct ca_waiter *w = ca->waiters;
	size_t n = ca->n_waiters;

	ca->phase = r < 0 ? CA_IDLE : CA_READY;
	if (r < 0)
		log_warning("CA '%s': %s", ca->name, ca->last_error);
	ca->waiters = NULL;
	ca->n_waiters = 0;
	/* A callback may start a new preparation: it gets a fresh waiter list. */
	for (size_t i = 0; i < n; i++)
		w[i].cb(ca, r, w[i].userdata);
	free(w);
}

static int save_account_info(struct ca *ca)
{
	_cleanup_free_ char *json = NULL;
	int r;

	r = acme_account_info_json(ca->account_url, ca->cfg->directory, ca->key_type,
				   ca->thumbprint, daemon_now(ca->d), ca->cfg->contacts,
				   ca->cfg->n_contacts, &json);
	if (r < 0)
		return r;
	/* account.json sits beside the key, where only the signer may write. */
	const char *kv[] = { "json", json, NULL };
	return signer_request(ca->d->signer, "info", ca->name, kv, on_signer_ignored, NULL, NULL);
}

static int remember_account(struct ca *ca, const char *url)
{
	struct state_ca *st = ca_state(ca);
	int r;

	if (!st)
		return -ENOMEM;
	r = state_set_str(&ca->account_url, url);
	if (r < 0)
		return r;
	r = acme_conn_set_signer(ca->conn, &signer_acme_ops, ca->sca, url);
	if (r < 0)
		return r;
	if (state_set_str(&st->account_url, url) < 0 ||
	    state_set_str(&st->directory, ca->cfg->directory) < 0)
		return -ENOMEM;
	daemon_state_changed(ca->d);
	return 0;
}

static void on_account_checked(struct acme_account_op *op, int r, const char *url,
			       const char *message)
{
	struct ca *ca = op->userdata;

	(void)url;
	if (r < 0)
		set_error(ca, "%s", message ? message : strerror(-r));
	prepare_finish(ca, r);
}

/* The account URL from newAccount (created or found again). */
static void on_account_made(struct acme_account_op *op, int r, const char *url,
			    const char *message)
{
	struct ca *ca = op->userdata;

	if (r < 0) {
		set_error(ca, "%s", message ? message : strerror(-r));
		prepare_finish(ca, r);
		return;
	}
	r = remember_account(ca, url);
	if (r == 0)
		r = save_account_info(ca);
	if (r < 0) {
		set_error(ca, "saving the account: %s", strerror(-r));
		prepare_finish(ca, r);
		return;
	}
	log_notice("CA '%s': %s account %s", ca->name, op->created ? "created" : "found existing",
		   ca->account_url);
	daemon_state_changed(ca->d); /* not one cert's: the next write is whole */
	(void)daemon_state_save(ca->d);
	prepare_finish(ca, 0);
}

static void create_account(struct ca *ca);
static void on_account_lookup(struct acme_account_op *op, int r, const char *url,
			      const char *message);

static void find_or_create_account(struct ca *ca)
{
	const struct acme_directory *dir = ca_get_directory(ca);
	struct state_ca *st = ca_state(ca);
	int r;

	if (!st) {
		set_error(ca, "out of memory");
		prepare_finish(ca, -ENOMEM);
		return;
	}
	if (ca->cfg->uri_mode == CONFIG_URI_HASHED && !dir->meta.account_hash_prefix) {
		set_error(ca, "accounturi_mode = hashed, but the CA's directory has no "
			      "meta.accountHashPrefix (it speaks draft -01: use url or auto)");
		prepare_finish(ca, -EINVAL);
		return;
	}
	/* An account we made before, at this same directory: confirm it is still valid
	 * (draft -02 section 4.5 asks for this POST-as-GET before records are handed out). */
	if (st->account_url && st->directory && streq(st->directory, ca->cfg->directory)) {
		r = remember_account(ca, st->account_url);
		ca->acct.cb = on_account_checked;
		if (r == 0)
			r = acme_account_check(&ca->acct, ca->conn, ca->account_url);
		if (r < 0) {
			set_error(ca, "checking the account: %s", strerror(-r));
			prepare_finish(ca, r);
		}
		return;
	}
	/* A key from disk without a remembered URL (state.json lost, or another
	 * directory): ask the CA whether it knows the key before making anything. */
	if (!ca->key_is_new && !ca->looked_up) {
		ca->looked_up = true;
		r = acme_conn_set_signer(ca->conn, &signer_acme_ops, ca->sca, NULL);
		ca->acct.cb = on_account_lookup;
		if (r == 0)
			r = acme_account_lookup(&ca->acct, ca->conn, dir->new_account);
		if (r < 0) {
			set_error(ca, "looking the account up: %s", strerror(-r));
			prepare_finish(ca, r);
		}
		return;
	}
	create_account(ca);
}

static void create_account(struct ca *ca)
{
	const struct acme_directory *dir = ca_get_directory(ca);
	int r;

	if (dir->meta.external_account_required && !ca->cfg->eab_kid) {
		set_error(ca, "the CA requires external account binding: set eab_kid and "
			      "eab_hmac_file in [ca %s]",
			  ca->name);
		prepare_finish(ca, -EACCES);
		return;
	}
	_cleanup_free_ char *payload = NULL;
	r = acme_account_new_payload(ca->cfg->contacts, ca->cfg->n_contacts, ca->cfg->eab_kid,
				     ca->cfg->eab_hmac_file, dir->new_account, ca->jwk, &payload,
				     ca->last_error, sizeof(ca->last_error));
	if (r == 0)
		r = acme_conn_set_signer(ca->conn, &signer_acme_ops, ca->sca, NULL);
	ca->acct.cb = on_account_made;
	if (r == 0)
		r = acme_account_create(&ca->acct, ca->conn, dir->new_account, payload);
	if (r < 0) {
		if (!ca->last_error[0])
			set_error(ca, "creating the account: %s", strerror(-r));
		prepare_finish(ca, r);
	}
}

static void on_account_lookup(struct acme_account_op *op, int r, const char *url,
			      const char *message)
{
	struct ca *ca = op->userdata;

	if (r == 0 && !url) {
		create_account(ca);
		return;
	}
	on_account_made(op, r, url, message);
}

static void on_account_key(int r, yajl_val reply, const char *why, void *userdata)
{
	struct ca *ca = userdata;
	bool created = false;

	ca->signer_busy = false;
	if (r < 0) {
		set_error(ca, "the account key (in the signer process): %s", why);
		prepare_finish(ca, r);
		return;
	}
	r = set_public(ca, reply);
	if (r < 0) {
		set_error(ca, "the signer's account key answer: %s", strerror(-r));
		prepare_finish(ca, r);
		return;
	}
	if (json_get_bool(reply, "created", &created) && created) {
		log_notice("CA '%s': generated a new %s account key", ca->name, ca->key_type);
		ca->key_is_new = true;
	}
	find_or_create_account(ca);
}

static void on_directory(const struct acme_reply *rep, void *userdata)
{
	struct ca *ca = userdata;
	char why[300];
	int r;

	if (rep->error < 0 || !ca_get_directory(ca)) {
		acme_reply_describe(rep, why, sizeof(why));
		set_error(ca, "fetching the directory %s failed: %s", ca->cfg->directory, why);
		prepare_finish(ca, rep->error < 0 ? rep->error : -EPROTO);
		return;
	}
	/* What the directory says about dns-persist-01, kept for when the CA is away. */
	r = changed(ca, cafacts_remember_directory(ca->cfg, ca_get_directory(ca), ca_state(ca),
						   daemon_now(ca->d)));
	if (r < 0) {
		set_error(ca, "out of memory");
		prepare_finish(ca, r);
		return;
	}
	if (ca->jwk) {
		find_or_create_account(ca);
		return;
	}
	/* The signer loads account.key, or makes one (RSA 4096 takes seconds there, not here). */
	r = signer_request(ca->d->signer, "key", ca->name, NULL, on_account_key, ca,
			   &ca->signer_id);
	if (r < 0) {
		set_error(ca, "asking the signer for the account key: %s", strerror(-r));
		prepare_finish(ca, r);
		return;
	}
	ca->signer_busy = true;
}

static void on_ready_again(const struct acme_reply *rep, void *userdata)
{
	(void)rep; /* the cached directory: nothing can have failed */
	prepare_finish(userdata, 0);
}

int ca_prepare(struct ca *ca, ca_ready_fn cb, void *userdata)
{
	struct ca_waiter *w;
	int r;

	/* A fleet follower holds no account key, so it must never create one. */
	if (ca->d->config->daemon.store_uri && ca->d->config->daemon.follower)
		return -EPERM;
	w = realloc(ca->waiters, (ca->n_waiters + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	ca->waiters = w;
	w[ca->n_waiters++] = (struct ca_waiter){ cb, userdata };
	if (ca->phase == CA_PREPARING)
		return 0;
	if (ca->phase == CA_READY) {
		/* Answer from the loop, never from inside this call. */
		ca->phase = CA_PREPARING;
		r = acme_conn_directory(ca->conn, on_ready_again, ca);
	} else {
		ca->phase = CA_PREPARING;
		ca->last_error[0] = '\0';
		r = acme_conn_directory(ca->conn, on_directory, ca);
	}
	if (r < 0) {
		ca->n_waiters--;
		ca->phase = CA_IDLE;
	}
	return r;
}

void ca_cancel_wait(struct ca *ca, ca_ready_fn cb, void *userdata)
{
	for (size_t i = 0; i < ca->n_waiters; i++)
		if (ca->waiters[i].cb == cb && ca->waiters[i].userdata == userdata) {
			memmove(&ca->waiters[i], &ca->waiters[i + 1],
				(ca->n_waiters - i - 1) * sizeof(*ca->waiters));
			ca->n_waiters--;
			return;
		}
}

static void on_dir_for_waiter(const struct acme_reply *rep, void *userdata)
{
	struct ca_dir_waiter *w = userdata, **pp;
	struct ca *ca = w->ca;
	char why[400] = "";
	int r = 0;

	for (pp = &ca->dir_waiters; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = w->next;
	if (!ca_get_directory(ca)) {
		acme_reply_describe(rep, why, sizeof(why));
		r = rep->error < 0 ? rep->error : -EPROTO;
	}
	w->cb(ca, r, why, w->userdata);
	free(w);
}

int ca_fetch_directory(struct ca *ca, ca_done_fn cb, void *userdata)
{
	struct ca_dir_waiter *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*w = (struct ca_dir_waiter){ ca, cb, userdata, ca->dir_waiters };
	r = acme_conn_directory(ca->conn, on_dir_for_waiter, w);
	if (r < 0) {
		free(w);
		return r;
	}
	ca->dir_waiters = w;
	return 0;
}

/* ---- key rollover (daemon/acme/account) ---- */

static int adopt_new_key(yajl_val reply, void *userdata)
{
	return set_public(userdata, reply);
}

static void on_rolled_over(struct acme_rollover *ro, int r, const char *message)
{
	struct ca *ca = ro->userdata;
	ca_done_fn cb = ca->rollover_cb;
	char msg[800];

	ca->rollover_cb = NULL;
	if (r < 0) {
		cb(ca, r, message, ca->rollover_ud);
		return;
	}
	(void)save_account_info(ca);
	if (ca_get_uri_mode(ca) == RECORD_URI_URL)
		str_printf(msg, sizeof(msg),
			   "account key rolled over; the account URL %s is unchanged, so every "
			   "published record (accounturi = the account URL) stays valid: nothing to "
			   "republish",
			   ca->account_url);
	else
		str_printf(msg, sizeof(msg),
			   "account key rolled over; the account URL %s is unchanged. Published "
			   "records carry a hashed accounturi made from the old key's thumbprint: "
			   "CAs keep old thumbprints, so they still validate, but republish them "
			   "with the new value (persistctl record NAME) soon",
			   ca->account_url);
	log_notice("CA '%s': %s", ca->name, msg);
	cb(ca, 0, msg, ca->rollover_ud);
}

int ca_rollover(struct ca *ca, ca_done_fn cb, void *userdata)
{
	const struct acme_directory *dir = ca_get_directory(ca);
	int r;

	if (!ca_is_ready(ca) || !dir)
		return -EAGAIN;
	if (!dir->key_change)
		return -EOPNOTSUPP;
	if (ca->rollover_cb || ca->signer_busy)
		return -EBUSY;
	ca->ro = (struct acme_rollover){
		.signer = ca->d->signer,
		.conn = ca->conn,
		.ca_name = ca->name,
		.key_change_url = dir->key_change,
		.cb = on_rolled_over,
		.adopt = adopt_new_key,
		.userdata = ca,
	};
	r = acme_rollover_start(&ca->ro, ca->account_url);
	if (r < 0)
		return r;
	ca->rollover_cb = cb;
	ca->rollover_ud = userdata;
	return 0;
}

/* ---- deactivation ---- */

static void on_deactivated(struct acme_account_op *op, int r, const char *url,
			   const char *message)
{
	struct ca *ca = op->userdata;
	ca_done_fn cb = ca->rollover_cb;
	char msg[900];

	(void)url;
	ca->rollover_cb = NULL;
	if (r < 0) {
		cb(ca, r, message ? message : strerror(-r), ca->rollover_ud);
		return;
	}
	str_printf(msg, sizeof(msg),
		   "account %s is deactivated: the CA accepts nothing from it any more, and every "
		   "published record naming it is now dead weight: delete those records. To go on "
		   "with this CA, move %s/accounts/%s away (persistd then makes a new account) and "
		   "publish new records",
		   ca->account_url, store_get_dir(ca->d->store), ca->name);
	log_notice("CA '%s': %s", ca->name, msg);
	ca->phase = CA_IDLE;
	cb(ca, 0, msg, ca->rollover_ud);
}

int ca_deactivate(struct ca *ca, ca_done_fn cb, void *userdata)
{
	int r;

	if (!ca_is_ready(ca))
		return -EAGAIN;
	if (ca->rollover_cb || ca->signer_busy)
		return -EBUSY;
	ca->acct.cb = on_deactivated;
	r = acme_account_deactivate(&ca->acct, ca->conn, ca->account_url);
	if (r < 0)
		return r;
	ca->rollover_cb = cb;
	ca->rollover_ud = userdata;
	return 0;
}
