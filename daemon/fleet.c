#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <mbedtls/platform_util.h>

#include "common/certcheck.h"
#include "common/fleetkey.h"
#include "common/json.h"
#include "common/key.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/x509.h"
#include "daemon/daemon.h"
#include "daemon/fleet.h"
#include "daemon/fleetconfig.h"
#include "daemon/fleetcheck.h"
#include "daemon/fleet_db.h"
#include "daemon/fleetcopy.h"
#include "daemon/log.h"
#include "daemon/store.h"

#define FLEET_POLL_MS (30 * 1000)
#define FLEET_LOCK_RETRY_MS (30 * 1000)

struct fleet {
	struct daemon *d;                 /* borrowed */
	struct fleet_db *db;              /* owned */
	uint8_t key[FLEETKEY_BYTES];      /* wiped in fleet_free; never logged */
	struct fleetcopy copy;            /* the local store, db and key, for daemon/fleetcopy */
	bool follower;
	char *host;                       /* owned */
	fleet_sync_fn sync_fn;
	void *sync_userdata;
	char **sync_only;                 /* owned: certs whose next claim only installs */
	size_t n_sync_only;
	struct fleet_claim **waiting;     /* owned array of borrowed claims that wait */
	size_t n_waiting;
	uv_timer_t retry_timer;           /* retry_timer.data == this; frees it when closed */
	int64_t down_since;               /* 0: connected, or not tried yet */
	bool connected;
	uint64_t retry_ms;
	char last_error[256];
	char *view_json;                  /* owned or NULL: the last FLEET_DB_VIEW */
	int64_t view_at;
	struct fleetcheck *checks;        /* owned: the shared record re-checks */
};

struct fleet_claim {
	struct fleet *f;                  /* borrowed */
	const struct config_cert *cfg;    /* borrowed until finish */
	char *name;                       /* owned */
	fleet_claim_fn cb;
	void *userdata;
	struct fleet_db_job *job;         /* borrowed: in flight at the database */
	bool abandoned;                   /* finished while job was in flight */
	bool locked;
	uint64_t gen;                     /* the connection the lock lives on */
	bool sync_only;
	bool waiting;                     /* in f->waiting: a lock held elsewhere, no database,
					   * or (a follower) nothing newer stored yet */
	bool wait_for_lock;               /* retried on the timer, not only on news */
	char *resume_url;                 /* owned or NULL */
	char *order_url;                  /* owned or NULL: the URL last recorded */
	bool find_orphan;
	struct fleet_db_job *announce;    /* borrowed: fleet_claim_announce's write in flight */
	fleet_announce_fn announce_cb;
	void *announce_userdata;
	struct fleet_db_job *unlock_job;  /* owned: made before the lock is asked for, so that
					   * a lock taken can always be dropped */
	struct fleet_renewal renewal;     /* owned: as stored when the lock was taken */
	bool has_renewal;
	char message[600];
};

/* ---- claims ---- */

static void unwait(struct fleet_claim *cl)
{
	struct fleet *f = cl->f;

	if (!cl->waiting)
		return;
	cl->waiting = false;
	for (size_t i = 0; i < f->n_waiting; i++)
		if (f->waiting[i] == cl) {
			f->waiting[i] = f->waiting[--f->n_waiting];
			return;
		}
}

static void claim_free(struct fleet_claim *cl)
{
	unwait(cl);
	free(cl->name);
	free(cl->resume_url);
	free(cl->order_url);
	fleet_sql_renewal_done(&cl->renewal);
	if (cl->unlock_job)
		free(cl->unlock_job->cert);
	free(cl->unlock_job);
	free(cl);
}

static void unlock(struct fleet_claim *cl)
{
	if (!cl->locked)
		return;
	cl->locked = false;
	struct fleet_db_job *job = TAKE_PTR(cl->unlock_job); /* claim_submit made it */
	if (!job) {
		log_error("fleet: cert '%s': a lock without its unlock; it goes with the connection",
			  cl->name);
		return;
	}
	job->gen = cl->gen;
	fleet_db_submit(cl->f->db, job, NULL, NULL);
}

static void on_claim_row(struct fleet_db_job *job, void *userdata);

static int claim_submit(struct fleet_claim *cl)
{
	/* A follower and a sync only read: no lock, so they never wait behind an order. */
	bool lock = !cl->f->follower && !cl->sync_only;

	if (lock && !cl->unlock_job && !(cl->unlock_job = fleet_db_job_new(FLEET_DB_UNLOCK,
									     cl->name)))
		return -ENOMEM;
	cl->job = fleet_db_job_new(lock ? FLEET_DB_LOCK_READ : FLEET_DB_READ, cl->name);
	if (!cl->job)
		return -ENOMEM;
	fleet_db_submit(cl->f->db, cl->job, on_claim_row, cl);
	return 0;
}

/* The claim waits, and is tried again on news of the cert (a notification or the list),
 * when the database comes back, and (lock) on the retry timer: a lock holder that dies
 * sends no notification. */
static void claim_wait(struct fleet_claim *cl, bool lock, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void claim_wait(struct fleet_claim *cl, bool lock, const char *fmt, ...)
{
	struct fleet *f = cl->f;
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cl->wait_for_lock = lock;
	if (cl->waiting)
		return;
	struct fleet_claim **v = realloc(f->waiting, (f->n_waiting + 1) * sizeof(*v));
	if (!v) {
		str_printf(cl->message, sizeof(cl->message), "fleet: %s", strerror(ENOMEM));
		cl->cb(cl, FLEET_CLAIM_FAILED, 0, cl->message, cl->userdata);
		return;
	}
	f->waiting = v;
	v[f->n_waiting++] = cl;
	cl->waiting = true;
	log_info("cert '%s': %s", cl->name, why);
}

static void retry_waiting(struct fleet *f, const char *only, bool locks)
{
	for (size_t i = 0; i < f->n_waiting; i++) {
		struct fleet_claim *cl = f->waiting[i];
		if (cl->job || (only && !streq(only, cl->name)) || (locks && !cl->wait_for_lock))
			continue;
		(void)claim_submit(cl);
	}
}

static void on_retry_timer(uv_timer_t *t)
{
	retry_waiting(t->data, NULL, true);
}

/* A tie of notAfter between the stored version and the local one: did this host make the
 * local one after the stored one (fleetcopy_replaced_here)? Reads files only on a tie. */
static bool tie_replaced_here(struct fleet *f, const char *name, const char *stored_serial,
			      int64_t stored_not_after, int64_t local_not_after)
{
	return stored_not_after == local_not_after &&
	       fleetcopy_replaced_here(&f->copy, name, stored_serial);
}

static void on_claim_row(struct fleet_db_job *job, void *userdata)
{
	struct fleet_claim *cl = userdata;
	struct fleet *f = cl->f;
	const struct fleet_row *row = &job->row;
	_cleanup_free_ char *serial = NULL;
	int64_t not_after = 0;
	unsigned version = 0;
	int r;

	cl->job = NULL;
	if (job->op == FLEET_DB_LOCK_READ && job->locked) {
		cl->locked = true;
		cl->gen = job->gen;
	}
	if (cl->abandoned) {
		unlock(cl);
		claim_free(cl);
		return;
	}
	if (job->error < 0) {
		if (cl->sync_only) {
			str_printf(cl->message, sizeof(cl->message), "fleet: %s", job->why);
			unwait(cl);
			cl->cb(cl, FLEET_CLAIM_NOTHING, 0, cl->message, cl->userdata);
			return;
		}
		/* Advisory locks count: a lock taken before the row failed to read goes now,
		 * or the next try would hold it twice. */
		unlock(cl);
		/* No new order without the database: the renewal waits for it to come back. */
		claim_wait(cl, true, "no new order without the fleet database (%s)", job->why);
		return;
	}
	bool have = fleetcopy_local_version(&f->copy, cl->name, &serial, &not_after);
	bool replaced = have && row->exists &&
			tie_replaced_here(f, cl->name, row->serial, row->not_after, not_after);
	bool newer = row->exists && fleetcopy_stored_wins(row->serial, row->not_after,
							  have ? serial : NULL, not_after, replaced);
	/* A newer stored version needs no lock to install: the holder may be about to drop
	 * it (its version is announced before its lock goes). */
	if (job->op == FLEET_DB_LOCK_READ && !job->locked && !newer) {
		claim_wait(cl, true, "another issuer%s%s%s holds its fleet lock; waiting for its "
				     "new version",
			   row->order_host ? " ('" : "", row->order_host ? row->order_host : "",
			   row->order_host ? "')" : "");
		return;
	}
	if (newer) {
		r = fleetcopy_install(&f->copy, cl->cfg, row, daemon_now(f->d), &version,
				      cl->message, sizeof(cl->message));
		if (r < 0) {
			log_error("fleet: cert '%s': %s", cl->name, cl->message);
			unwait(cl);
			cl->cb(cl, FLEET_CLAIM_FAILED, 0, cl->message, cl->userdata);
			return;
		}
		char msg[600];
		str_printf(msg, sizeof(msg), "installed version %u from the fleet (serial %s, stored "
					     "by '%s')",
			   version, row->serial, row->updated_by ? row->updated_by : "?");
		str_printf(cl->message, sizeof(cl->message), "%s", msg);
		unwait(cl);
		cl->cb(cl, FLEET_CLAIM_INSTALLED, version, cl->message, cl->userdata);
		return;
	}
	if (cl->sync_only) {
		str_printf(cl->message, sizeof(cl->message), "fleet: nothing newer stored");
		unwait(cl);
		cl->cb(cl, FLEET_CLAIM_NOTHING, 0, cl->message, cl->userdata);
		return;
	}
	if (f->follower) {
		claim_wait(cl, false, "waiting for an issuer to store a newer version");
		return;
	}
	/* A version installed here while the database was away: stored now, and the order
	 * the row names (the one that made it) is over. */
	bool local_newer = have && fleetcopy_local_wins(serial, not_after,
							row->exists ? row->serial : NULL,
							row->not_after, replaced);
	if (local_newer)
		(void)fleetcopy_upload(&f->copy, cl->name, false, replaced ? row->serial : NULL);
	/* An order another issuer left in flight: continue it, with the key of its CSR. */
	if (row->exists && !local_newer && (row->order_url || row->order_intent)) {
		_cleanup_(key_freep) struct key *pk = NULL;
		if (row->pending_sealed &&
		    fleetcopy_open_key(&f->copy, cl->name, "pending", row->pending_sealed,
				       row->pending_sealed_len, &pk) == 0)
			(void)store_pending_key_save(f->d->store, cl->name, pk);
		if (row->order_url && !(cl->resume_url = strdup(row->order_url))) {
			str_printf(cl->message, sizeof(cl->message), "fleet: %s", strerror(ENOMEM));
			unwait(cl);
			cl->cb(cl, FLEET_CLAIM_FAILED, 0, cl->message, cl->userdata);
			return;
		}
		cl->find_orphan = !row->order_url;
		log_info("fleet: cert '%s': continuing the order '%s' left %s", cl->name,
			 row->order_host ? row->order_host : "?",
			 row->order_url ? "in flight" : "announced, looking for it at the CA");
	}
	str_printf(cl->message, sizeof(cl->message), "fleet lock taken");
	unwait(cl);
	if (row->exists) { /* moved: the job is freed after this callback */
		fleet_sql_renewal_done(&cl->renewal);
		cl->renewal = job->row.renewal;
		cl->has_renewal = true;
		job->row.renewal = (struct fleet_renewal){ 0 };
	}
	cl->cb(cl, FLEET_CLAIM_ORDER, 0, cl->message, cl->userdata);
}

int fleet_claim_start(struct fleet *f, const struct config_cert *cfg, fleet_claim_fn cb,
		      void *userdata, struct fleet_claim **ret)
{
	struct fleet_claim *cl = calloc(1, sizeof(*cl));

	if (!cl || !(cl->name = strdup(cfg->name))) {
		free(cl);
		return -ENOMEM;
	}
	cl->f = f;
	cl->cfg = cfg;
	cl->cb = cb;
	cl->userdata = userdata;
	for (size_t i = 0; i < f->n_sync_only; i++)
		if (streq(f->sync_only[i], cfg->name)) {
			cl->sync_only = true;
			fleet_unmark_sync_only(f, cfg->name);
			break;
		}
	if (claim_submit(cl) < 0) {
		claim_free(cl);
		return -ENOMEM;
	}
	*ret = cl;
	return 0;
}

const char *fleet_claim_resume_url(const struct fleet_claim *cl)
{
	return cl->resume_url;
}

bool fleet_claim_find_orphan(const struct fleet_claim *cl)
{
	return cl->find_orphan;
}

bool fleet_claim_sync_only(const struct fleet_claim *cl)
{
	return cl->sync_only;
}

bool fleet_claim_may_order(const struct fleet_claim *cl)
{
	return cl->locked && fleet_db_connected(cl->f->db) && fleet_db_gen(cl->f->db) == cl->gen;
}

void fleet_claim_order_url(struct fleet_claim *cl, const char *url, bool intent)
{
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_ORDER_URL, cl->name);
	_cleanup_(key_freep) struct key *pk = NULL;

	if (!job)
		return;
	job->row.order_intent = intent && !url;
	if (url && !(job->row.order_url = strdup(url))) {
		free(job->cert);
		free(job);
		return;
	}
	free(cl->order_url);
	cl->order_url = url ? strdup(url) : NULL;
	/* The CSR's key goes with the order, so that another issuer can finish it. */
	if ((url || intent) && store_pending_key_load(cl->f->d->store, cl->name, &pk) == 0)
		(void)fleetcopy_seal_key(&cl->f->copy, cl->name, "pending", pk, &job->row.pending_sealed,
			       &job->row.pending_sealed_len);
	fleet_db_submit(cl->f->db, job, fleetcopy_on_job_logged, NULL);
}

static void on_announced(struct fleet_db_job *job, void *userdata)
{
	struct fleet_claim *cl = userdata;
	int r = job->error;

	cl->announce = NULL;
	/* Written on another connection than the lock's: the lock is gone with the old one. */
	if (r == 0 && job->gen != cl->gen)
		r = -ENOTCONN;
	if (r < 0)
		str_printf(cl->message, sizeof(cl->message), "%s",
			   job->error < 0 ? job->why : "the fleet lock went with its connection");
	cl->announce_cb(cl, r, cl->message, cl->announce_userdata);
}

int fleet_claim_announce(struct fleet_claim *cl, const struct key *k, fleet_announce_fn cb,
			 void *userdata)
{
	if (!fleet_claim_may_order(cl))
		return -ENOTCONN;
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_ORDER_URL, cl->name);
	if (!job)
		return -ENOMEM;
	job->row.order_intent = true;
	int r = fleetcopy_seal_key(&cl->f->copy, cl->name, "pending", k, &job->row.pending_sealed,
				   &job->row.pending_sealed_len);
	if (r < 0) {
		free(job->cert);
		free(job);
		return r;
	}
	cl->announce = job;
	cl->announce_cb = cb;
	cl->announce_userdata = userdata;
	fleet_db_submit(cl->f->db, job, on_announced, cl);
	return 0;
}

void fleet_claim_key_saved(struct fleet_claim *cl)
{
	/* A key made by the order engine itself (a resumed order whose key was lost): stored
	 * with the order, one round trip after the CSR may have left. New orders announce
	 * theirs first (fleet_claim_announce). */
	if (cl->order_url) {
		_cleanup_free_ char *url = strdup(cl->order_url);
		if (url)
			fleet_claim_order_url(cl, url, false);
	}
}

void fleet_claim_finish(struct fleet_claim *cl, bool installed)
{
	if (!cl)
		return;
	if (installed && !cl->f->follower) {
		int r = fleetcopy_upload(&cl->f->copy, cl->name,
				     cl->locked && fleet_db_gen(cl->f->db) == cl->gen, NULL);
		if (r < 0)
			log_warning("fleet: cert '%s': cannot store the new version: %s", cl->name,
				    strerror(-r));
	}
	unwait(cl);
	if (cl->announce) {
		fleet_db_cancel(cl->announce);
		cl->announce = NULL;
	}
	if (cl->job) {
		cl->abandoned = true; /* on_claim_row drops the lock it may bring, and frees */
		return;
	}
	unlock(cl);
	claim_free(cl);
}

/* ---- sync ---- */

void fleet_set_sync_handler(struct fleet *f, fleet_sync_fn fn, void *userdata)
{
	f->sync_fn = fn;
	f->sync_userdata = userdata;
}

int fleet_mark_sync_only(struct fleet *f, const char *cert)
{
	for (size_t i = 0; i < f->n_sync_only; i++)
		if (streq(f->sync_only[i], cert))
			return 0;
	char **v = realloc(f->sync_only, (f->n_sync_only + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	f->sync_only = v;
	v[f->n_sync_only] = strdup(cert);
	if (!v[f->n_sync_only])
		return -ENOMEM;
	f->n_sync_only++;
	return 0;
}

void fleet_unmark_sync_only(struct fleet *f, const char *cert)
{
	for (size_t i = 0; i < f->n_sync_only; i++)
		if (streq(f->sync_only[i], cert)) {
			free(f->sync_only[i]);
			f->sync_only[i] = f->sync_only[--f->n_sync_only];
			return;
		}
}

static bool in_event(const struct fleet_db_event *ev, const char *name)
{
	for (size_t i = 0; i < ev->n; i++)
		if (streq(ev->names[i], name))
			return true;
	return false;
}

static void on_changed(struct fleet *f, const struct fleet_db_event *ev)
{
	const struct config *c = f->d->config;

	for (size_t i = 0; i < ev->n; i++) {
		_cleanup_free_ char *serial = NULL;
		int64_t not_after = 0;
		if (!config_find_cert(c, ev->names[i]))
			continue;
		bool have = fleetcopy_local_version(&f->copy, ev->names[i], &serial, &not_after);
		bool replaced = have && tie_replaced_here(f, ev->names[i], ev->serials[i],
							  ev->not_afters[i], not_after);
		if (fleetcopy_stored_wins(ev->serials[i], ev->not_afters[i], have ? serial : NULL,
					  not_after, replaced)) {
			retry_waiting(f, ev->names[i], false);
			if (f->sync_fn)
				f->sync_fn(f, ev->names[i], f->sync_userdata);
		} else if (!f->follower && ev->full_list && have &&
			   fleetcopy_local_wins(serial, not_after, ev->serials[i], ev->not_afters[i],
						replaced))
			(void)fleetcopy_upload(&f->copy, ev->names[i], false,
					       replaced ? ev->serials[i] : NULL);
	}
	if (f->follower || !ev->full_list)
		return;
	/* The outbox: what was installed here while the database was away. */
	for (size_t k = 0; k < c->n_certs; k++) {
		_cleanup_free_ char *serial = NULL;
		int64_t not_after;
		if (!in_event(ev, c->certs[k]->name) &&
		    fleetcopy_local_version(&f->copy, c->certs[k]->name, &serial, &not_after))
			(void)fleetcopy_upload(&f->copy, c->certs[k]->name, false, NULL);
	}
}

static void on_db_event(const struct fleet_db_event *ev, void *userdata)
{
	struct fleet *f = userdata;
	int64_t now = daemon_now(f->d);

	switch (ev->type) {
	case FLEET_DB_CONNECTED:
		if (f->down_since)
			log_notice("fleet: the database is back after %" PRId64 " s (host '%s', %s)",
				   now - f->down_since, f->host, f->follower ? "follower" : "issuer");
		else
			log_notice("fleet: connected to the database (host '%s', %s)", f->host,
				   f->follower ? "follower" : "issuer");
		f->down_since = 0;
		f->connected = true;
		f->last_error[0] = '\0';
		retry_waiting(f, NULL, false);
		break;
	case FLEET_DB_DISCONNECTED:
		f->retry_ms = ev->retry_ms;
		str_printf(f->last_error, sizeof(f->last_error), "%s", ev->why);
		if (!f->down_since) {
			f->down_since = now;
			log_warning("fleet: database unreachable (%s); retrying with backoff. The "
				    "local copies are still served; no new orders until it is back",
				    ev->why);
		} else
			log_debug("fleet: database still unreachable: %s", ev->why);
		f->connected = false;
		break;
	case FLEET_DB_CHANGED:
		on_changed(f, ev);
		break;
	case FLEET_DB_VIEW: {
		char *v = strdup(ev->view_json);
		if (v) {
			free(f->view_json);
			f->view_json = v;
			f->view_at = now;
		}
		break;
	}
	case _FLEET_DB_EVENT_MAX:
		break;
	}
}

/* ---- life cycle and status ---- */

int fleet_new(struct daemon *d, struct fleet **ret)
{
	const struct config_daemon *dc = &d->config->daemon;
	_cleanup_(fleet_freep) struct fleet *f = calloc(1, sizeof(*f));
	char path[4200], err[256], hostname[256];
	int r;

	if (!f)
		return -ENOMEM;
	f->d = d;
	f->follower = dc->follower;
	if (fleet_key_path(d->config, path, sizeof(path)) < 0)
		return -ENOENT;
	r = fleetkey_load(path, f->key, err, sizeof(err));
	if (r < 0) {
		log_error("fleet key %s: %s", path, err);
		return r;
	}
	if (!dc->fleet_host && gethostname(hostname, sizeof(hostname)) < 0)
		return -errno;
	hostname[sizeof(hostname) - 1] = '\0';
	f->host = strdup(dc->fleet_host ? dc->fleet_host : hostname);
	if (!f->host)
		return -ENOMEM;
	struct fleet_db_options o = {
		.uri = dc->store_uri,
		.host = f->host,
		.role = f->follower ? "follower" : "issuer",
		.poll_ms = FLEET_POLL_MS,
		.on_event = on_db_event,
		.userdata = f,
	};
	r = fleet_db_new(d->loop, &o, &f->db);
	if (r < 0)
		return r;
	f->copy = (struct fleetcopy){ .store = d->store, .db = f->db, .key = f->key };
	r = fleetcheck_new(d->loop, f->db, f->host, &f->checks);
	if (r < 0)
		return r;
	(void)uv_timer_init(d->loop, &f->retry_timer);
	f->retry_timer.data = f;
	(void)uv_timer_start(&f->retry_timer, on_retry_timer, FLEET_LOCK_RETRY_MS,
			     FLEET_LOCK_RETRY_MS);
	*ret = TAKE_PTR(f);
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	fleet_db_free(f->db);
	fleetcheck_free(f->checks);
	mbedtls_platform_zeroize(f->key, sizeof(f->key));
	for (size_t i = 0; i < f->n_sync_only; i++)
		free(f->sync_only[i]);
	free(f->sync_only);
	free(f->waiting);
	free(f->view_json);
	free(f->host);
	if (f->retry_timer.data)
		uv_close((uv_handle_t *)&f->retry_timer, on_timer_closed);
	else
		free(f);
}

struct fleetcheck *fleet_get_checks(const struct fleet *f)
{
	return f->checks;
}

struct fleet_db *fleet_get_db(const struct fleet *f)
{
	return f->db;
}

const char *fleet_host_name(const struct fleet *f)
{
	return f->host;
}

const struct fleet_renewal *fleet_claim_renewal(const struct fleet_claim *cl)
{
	return cl->has_renewal ? &cl->renewal : NULL;
}

bool fleet_is_follower(const struct fleet *f)
{
	return f->follower;
}

bool fleet_database_connected(const struct fleet *f)
{
	return f->connected;
}

void fleet_status_line(const struct fleet *f, char *buf, size_t size)
{
	char since[40];

	if (f->connected || !f->down_since) {
		str_printf(buf, size, "fleet: %s '%s', database %s", f->follower ? "follower" : "issuer",
			   f->host, f->connected ? "connected" : "connecting");
		return;
	}
	time_format_iso(f->down_since, since, sizeof(since));
	str_printf(buf, size, "fleet: %s '%s', database unreachable since %s, retrying in %" PRIu64
			      " s (%s)",
		   f->follower ? "follower" : "issuer", f->host, since, (f->retry_ms + 999) / 1000,
		   f->last_error);
}

void fleet_status_json(const struct fleet *f, struct json_writer *w)
{
	char line[600];

	json_begin_object(w);
	json_kv_string(w, "host", f->host);
	json_kv_string(w, "role", f->follower ? "follower" : "issuer");
	json_kv_bool(w, "database_connected", f->connected);
	if (f->down_since)
		json_kv_int(w, "database_unreachable_since", f->down_since);
	if (f->last_error[0])
		json_kv_string(w, "database_error", f->last_error);
	fleet_status_line(f, line, sizeof(line));
	json_kv_string(w, "summary", line);
	if (f->checks) {
		int index;
		size_t alive = fleetcheck_alive(f->checks, &index);
		json_kv_int(w, "checks_made", (int64_t)fleetcheck_checks_made(f->checks));
		json_kv_int(w, "check_hosts_alive", (int64_t)alive);
		json_kv_int(w, "check_index", index);
	}
	/* As the database saw it at view_at: hosts alive, orders in flight and which version
	 * each host serves. */
	if (f->view_json) {
		json_kv_int(w, "view_at", f->view_at);
		json_key(w, "view");
		json_raw(w, f->view_json, strlen(f->view_json));
	}
	json_end_object(w);
}
