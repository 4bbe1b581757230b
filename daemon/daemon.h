/* daemon/daemon.h: the one struct daemon that holds persistd's mutable state,
 * created in main.c and reached from handles through ->data.
 *
 * Modes: the long-running daemon, --oneshot (renew what is due, then exit)
 * and --probe (ask one CA about itself). All three build the same struct
 * with the loop, the config, the store, the state, HTTP, the DNS checker,
 * the scheduler and one struct ca / struct cert per configured CA / cert;
 * the daemon adds the control socket, signals and systemd notification.
 *
 * The clock: daemon_now() is the wall clock plus time_offset, which only a
 * daemon started with --test-clock lets a client move (tests of expiry
 * without waiting). */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "common/dnscheck.h"
#include "daemon/acme/http.h"
#include "daemon/sched.h"
#include "daemon/state.h"
#include "daemon/store.h"

struct ca;
struct cert;
struct signer;
struct control;
struct httpd;
struct fleet;

struct daemon {
	uv_loop_t *loop;            /* borrowed: main's loop */
	char *config_path;          /* owned */
	struct config *config;      /* owned */
	struct store *store;        /* owned */
	struct fsperm_job *tidy;    /* owned until joined: the start-up tidy (daemon/fsperm.h) */
	struct signer *signer;      /* owned: the account-key process (daemon/signer.h) */
	struct state *state;        /* owned */
	struct statejournal *journal; /* owned: how state reaches the store */
	struct http *http;          /* owned */
	struct dnscheck *dns;       /* owned */
	struct sched *sched;        /* owned */
	struct control *control;    /* owned; daemon mode only */
	struct httpd *httpd;        /* owned; daemon mode with http_listen only */
	struct fleet *fleet;        /* owned; fleet mode (store = postgresql://...) only */
	struct ca **cas;            /* owned */
	size_t n_cas;
	struct cert **certs;        /* owned */
	size_t n_certs;

	int64_t time_offset;        /* seconds added to the wall clock */
	bool test_clock;            /* --test-clock: clients may move time_offset */
	bool oneshot;               /* renew what is due, then stop */
	bool force;                 /* --force: renew even if not due */
	const char *only_cert;      /* borrowed from argv: --cert NAME */
	bool stopping;              /* SIGTERM: no new work; exit when jobs are parked */
	int exit_code;

	unsigned jobs_running;      /* orders in flight */
	unsigned oneshot_failed;
	unsigned oneshot_done;
	unsigned oneshot_not_due;
	unsigned oneshot_deploy_failed; /* renewed, but the deploy hook failed */
	unsigned oneshot_waiting;     /* certs whose outcome we still wait for */

	bool state_dirty;           /* state.json needs a write */
	bool state_full;            /* ... whole: a change not tied to one cert */
	uv_timer_t state_timer;     /* coalesces state writes */
	bool state_timer_init;

	/* The last failed reload, kept until a reload succeeds: status shows it
	 * and counts it as a WARNING (daemon/reload). */
	int64_t reload_failed_at;   /* 0: none since the last good one */
	char *reload_error_file;    /* owned or NULL */
	unsigned reload_error_line; /* 0: not about one line */
	char *reload_error;         /* owned or NULL */
	/* A DNS checker replaced by a reload (new resolver settings), freed once
	 * the lookups it still owes are answered. */
	struct dnscheck **dns_retired; /* owned array of owned checkers */
	size_t n_dns_retired;
	uv_timer_t dns_retire_timer;
	bool dns_retire_timer_init;

	bool read_only;             /* --probe: writes no state (and holds no lock) */

	uv_signal_t sig_term, sig_int, sig_hup;
	bool signals_init;
	uv_timer_t watchdog;
	bool watchdog_init;
	uint64_t watchdog_usec;
	uv_timer_t status_timer;    /* refreshes STATUS= for systemd */
	bool status_timer_init;
	uv_timer_t heaptrim_timer;  /* daemon/heaptrim, once a minute */
	bool heaptrim_timer_init;
};

int64_t daemon_now(const struct daemon *d);

/* The scheduler's clock: daemon_now() of the struct daemon passed as userdata. */
int64_t daemon_clock(void *userdata);

/* daemon_find_ca() is in daemon/ca.h and daemon_find_cert() in daemon/cert.h: the
 * daemon module sits below them and calls neither. */

/* Marks state.json dirty; it is written within a second. */
void daemon_state_changed(struct daemon *d);
/* The same for a change to one cert's entry (st may be NULL: unknown), which
 * then costs one line in the journal, not a rewrite of every cert. */
void daemon_state_cert_changed(struct daemon *d, struct state_cert *st);
int daemon_state_save_cert(struct daemon *d, struct state_cert *st);
/* Writes state.json now (in-flight order URLs must not wait). */
int daemon_state_save(struct daemon *d);

/* An event for events.subscribe clients (a JSON object); no-op without a
 * control socket. */
void daemon_notify_event(struct daemon *d, const char *json, size_t len);

/* Called by a cert when its renewal job ends (oneshot counts them). */
void daemon_job_finished(struct daemon *d, bool ok);
