/* daemon/certbase.h: the run-time record of one configured certificate, shared by the
 * modules that make up daemon/cert. Internal to daemon/cert, certrecheck, certdue and
 * certdeploy: everything else uses daemon/cert.h.
 *
 * Owns: struct cert and struct cert_name (one per configured name; allocated on its own,
 * since a check in flight outlives a cert freed by a reload), the waiters of renew and
 * check, the cert's state entry (looked up once), the alerts about levels (a change of
 * level is written at once, a level that stays non-OK is reminded once a day, each also
 * sent as an event to `persistctl watch`) and the random instants that spread work out.
 *
 * Calls go one way: cert -> certrecheck, certdue, certdeploy -> certbase -> certlevel.
 * Nothing here calls back up; the loop is only reached through daemon/daemon.h. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/level.h"
#include "daemon/alert.h"
#include "daemon/sched.h"
#include "daemon/state.h"

struct daemon;
struct ca;
struct cert;
struct renewal;
struct certdry;
struct acme_op;
struct hook_run;
struct certserved;

/* The same type as in daemon/cert.h, which this header must not include (it is below
 * daemon/cert in the one-way order). */
typedef void (*cert_done_fn)(struct cert *c, int r, const char *message, void *userdata);

struct cert_waiter {
	cert_done_fn cb;
	void *userdata;
	char *message;            /* owned: the renewal's outcome, while it waits for the deploy */
};

/* What a check in flight borrows to dnscheck, freed once its callback came: 100k names
 * keep none of it between checks. */
struct cert_name_request {
	char *expected;           /* owned: the accounturi the record must name */
	char **issuers;           /* owned */
	size_t n_issuers;
};

/* Allocated on its own: a check in flight outlives a cert freed by a reload. */
struct cert_name {
	struct cert *cert;        /* borrowed; NULL once the cert is gone */
	const char *name;         /* its cert's config's (cfg->names[i]), switched with it */
	struct sched_item item;   /* the next re-check */
	bool in_flight;           /* a dnscheck callback will come */
	bool waiting_ca;          /* waits for the CA's account before it can be checked */
	struct cert_name_request *request; /* owned, while in_flight; else NULL */
};

/* The callers a cert answers later, one list per event. */
enum cert_wait {
	CERT_WAIT_RENEW,          /* the renewal in flight ends */
	CERT_WAIT_CHECK,          /* every name's check in flight ends */
	CERT_WAIT_DEPLOY,         /* the deploy hook run ends (renewals parked for it) */
	CERT_WAIT_LATER,          /* ... the run after the one in flight ends */
	_CERT_WAIT_MAX,
};

struct cert_waiters {
	struct cert_waiter *items; /* owned */
	size_t n;
};

/* What only a cert at work has: its waiting callers and a reload's staged names.
 * Allocated when first needed and freed once empty again, so that 100k idle certs
 * carry one pointer of it each. Reached only through the certbase_*waiter* and
 * certbase_pending() functions below, which keep that promise. */
struct cert_pending {
	struct cert_waiters lists[_CERT_WAIT_MAX];
	struct cert_waiter due_waiter;    /* cert_renew_if_due: waiting for ARI */
	/* cert_stage_config(): the names under a config a reload may apply */
	const struct config_cert *staged_cfg; /* borrowed from the new config */
	struct cert_name **staged;        /* owned array; its names are owned unless
					   * c->names holds them too */
	size_t n_staged;
};

struct cert {
	struct daemon *d;                 /* borrowed */
	const struct config_cert *cfg;    /* borrowed from d->config */
	struct ca *ca;                    /* borrowed */
	struct cert_name **names;         /* owned, or &one_name */
	size_t n_names;
	struct cert_name *one_name;       /* names' storage for a cert of one name (most of
					   * them): no array of one pointer to allocate */
	struct sched_item renew_item;
	struct sched_item ari_item;
	struct renewal *job;
	struct certdry *dry;              /* persistctl renew --dry-run in flight, or NULL */
	struct acme_op *ari_op;
	struct hook_run *deploy;          /* the one deploy hook run of this cert, or NULL */
	char *deploy_path;                /* owned: its program, for messages after a reload */
	struct certserved *served;        /* owned: check_served (daemon/certserved), or NULL */
	struct state_cert *st;            /* borrowed from d->state: looked up once, since
					   * thousands of certs make each lookup a scan */
	struct cert_pending *pending;     /* owned, or NULL: nobody waits, nothing staged */
	/* the small fields together, so the struct has no holes (100k of them) */
	unsigned deploy_version;          /* the archive version the deploy runs on: never
					   * pruned */
	bool deploy_again;                /* a newer certificate came during the deploy: run
					   * it once more */
	bool force_job;
	bool waiting_ca_for_check;        /* one ca_prepare() for all names */
	bool waiting_ca_for_ari;
};

/* As in daemon/cert.h; defined here so the pieces below daemon/cert can use it. */
struct state_cert *cert_state(const struct cert *c);
struct state_name *certbase_name_state(const struct cert_name *n);

/* A random instant in [a, b]. */
int64_t certbase_random_between(int64_t a, int64_t b);

/* The name's cert is gone but its check's callback will come: the callback frees it. */
void certbase_name_orphan(struct cert_name *n);
void certbase_name_free(struct cert_name *n);
void certbase_name_request_free(struct cert_name_request *rq);
DEFINE_FREEP(struct cert_name_request, certbase_name_request_free)

/* Writes the alert to the journal and sends it to `persistctl watch`. */
void certbase_emit(struct cert *c, const struct alert *a);

/* Set the level of a name or of the cert (daemon/certlevel) and alert on a change, or
 * once a day while it stays non-OK. The cert's: true when it wrote an alert. */
void certbase_name_update_level(struct cert *c, struct state_name *n, int64_t now);
/* The level and its reason only, with no alert: another fleet host checked the name and
 * raised the alert (daemon/fleetcheck). */
void certbase_name_level_quiet(struct cert *c, struct state_name *n, int64_t now);
bool certbase_cert_update_level(struct cert *c, int64_t now);

/* As in daemon/cert.h: re-evaluates levels against the clock. */
void cert_reevaluate(struct cert *c);

/* c->pending, allocated when it was NULL; NULL when out of memory. */
struct cert_pending *certbase_pending(struct cert *c);
/* Frees c->pending when nothing is left in it. */
void certbase_pending_trim(struct cert *c);
/* Frees c->pending and what is left in it (callers not answered): the cert is freed.
 * Its staged names must have been dropped. */
void certbase_pending_free(struct cert *c);

size_t certbase_n_waiters(const struct cert *c, enum cert_wait l);
/* -ENOMEM, else 0. */
int certbase_add_waiter(struct cert *c, enum cert_wait l, cert_done_fn cb, void *userdata,
			char *message);
/* Undoes the last certbase_add_waiter() to the list: what it was for did not start. */
void certbase_drop_last_waiter(struct cert *c, enum cert_wait l);
/* The list, taken out (the caller frees its items and their messages). */
struct cert_waiters certbase_take_waiters(struct cert *c, enum cert_wait l);
/* The callers of the run after the one in flight become those of the next run. The
 * list of the run in flight must have been taken. */
void certbase_later_waiters_move_up(struct cert *c);
/* -EBUSY when one waits already, -ENOMEM, else 0. */
int certbase_set_due_waiter(struct cert *c, cert_done_fn cb, void *userdata);
/* The cert_renew_if_due() caller, taken out; its cb is NULL when there is none. */
struct cert_waiter certbase_take_due_waiter(struct cert *c);

/* Answer the renewal's callers (CERT_WAIT_RENEW) and forget them. */
void certbase_call_renew_waiters(struct cert *c, int r, const char *message);
/* Answer the waiters w (a waiter's own message, when it has one and r >= 0, wins) and
 * free the array. */
void certbase_call_waiters(struct cert *c, struct cert_waiter *w, size_t n, int r,
			   const char *message);
