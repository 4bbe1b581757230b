/* persistd: the certificate renewal daemon. main() parses the command line
 * and runs one mode: the daemon (default), --oneshot, --probe, or
 * --check-config (validate and summarize, like nginx -t). The modes that
 * write state (the daemon, --oneshot, --revoke) hold the state directory's
 * lock (store_lock) from before state.json is read until exit. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/config.h"
#include "common/listen.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "daemon/acme/order.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/certload.h"
#include "daemon/configcheck.h"
#include "daemon/confine.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/fsperm.h"
#include "daemon/heaptrim.h"
#include "daemon/hook.h"
#include "daemon/httpd.h"
#include "daemon/log.h"
#include "daemon/methods.h"
#include "daemon/reload.h"
#include "daemon/runonce.h"
#include "daemon/signer.h"
#include "daemon/statejournal.h"
#include "daemon/fleet.h"
#include "daemon/certrecheck.h"
#include "daemon/fleetcheck.h"
#include "daemon/fleetmigrate.h"
#include "daemon/fleetsync.h"

#define EXIT_USAGE 2

static const char help[] =
	"Usage: persistd [-c FILE] [-v] [--check-config | --oneshot [--cert NAME] [--force] |\n"
	"                --probe CA | --revoke NAME [--reason R] [--with-cert-key] |\n"
	"                --store-migrate]\n"
	"\n"
	"Keeps TLS certificates renewed with the ACME dns-persist-01 challenge.\n"
	"Without a mode it runs as the daemon (systemd Type=notify).\n"
	"  -c, --config FILE   main configuration (default " CONFIG_DEFAULT_PATH ");\n"
	"                      drop-ins are read from certs.d/ next to it\n"
	"  -t, --check-config  validate the configuration, print a summary, exit 0 or 1\n"
	"      --oneshot       renew what is due (or --force), print what happened, exit\n"
	"                      non-zero if anything failed (for cron)\n"
	"      --cert NAME     with --oneshot: only this cert\n"
	"      --force         with --oneshot: renew even if not due\n"
	"      --probe CA      print what the CA's directory says and whether it offers\n"
	"                      dns-persist-01\n"
	"      --revoke NAME   revoke the cert's current certificate [--reason REASON]\n"
	"                      [--with-cert-key: sign with the certificate's key]\n"
	"      --store-migrate copy this host's certificates and keys (sealed with the\n"
	"                      fleet key) into the database of store = (daemon stopped)\n"
	"  -v, --verbose       debug logging\n"
	"      --log-target T  auto (the journal when systemd started us), journal or stderr\n"
	"  -h, --help          this help\n"
	"      --version       print the version\n";

/* ---- setting up and tearing down struct daemon ---- */

static int build_cas_and_certs(struct daemon *d)
{
	int r;

	d->cas = calloc(d->config->n_cas ? d->config->n_cas : 1, sizeof(*d->cas));
	d->certs = calloc(d->config->n_certs ? d->config->n_certs : 1, sizeof(*d->certs));
	if (!d->cas || !d->certs)
		return -ENOMEM;
	for (size_t i = 0; i < d->config->n_cas; i++) {
		r = ca_new(d, d->config->cas[i], &d->cas[d->n_cas]);
		if (r < 0)
			return log_errno(LOG_ERR, r, "CA '%s': %m", d->config->cas[i]->name);
		d->n_cas++;
	}
	for (size_t i = 0; i < d->config->n_certs; i++) {
		const struct config_cert *cfg = d->config->certs[i];
		if (d->only_cert && !streq(cfg->name, d->only_cert))
			continue;
		r = cert_new(d, cfg, daemon_find_ca(d, cfg->ca_name), &d->certs[d->n_certs]);
		if (r < 0)
			return log_errno(LOG_ERR, r, "cert '%s': %m", cfg->name);
		d->n_certs++;
	}
	return 0;
}

/* Joins the tidy that daemon_setup() started; < 0: the daemon must not start. */
static int daemon_tidy_wait(struct daemon *d)
{
	int r;

	if (!d->tidy)
		return 0;
	r = fsperm_tidy_wait(d->tidy);
	d->tidy = NULL;
	if (r < 0 && r != -EPERM) /* fsperm logged every refusal itself */
		log_errno(LOG_ERR, r, "checking %s: %m", d->config->daemon.state_dir);
	return r;
}

/* lock_mode: NULL for a mode that writes nothing (--probe), else the mode
 * named to a second writer that finds the state directory taken. */
static int daemon_setup(struct daemon *d, const char *lock_mode)
{
	const struct config_daemon *dc = &d->config->daemon;
	char err[256];
	int r;

	r = store_open(dc->state_dir, &d->store);
	if (r < 0)
		return log_errno(LOG_ERR, r, "opening the state directory %s: %m", dc->state_dir);
	d->read_only = !lock_mode;
	if (lock_mode) {
		/* Before state.json is read: the holder may still be writing it. */
		char why[4300];
		r = store_lock(d->store, lock_mode,
			       streq(lock_mode, "daemon") ? dc->control_socket : NULL, why,
			       sizeof(why));
		if (r < 0) {
			log_error("%s%s", why,
				  r == -EBUSY ? "; refusing to run a second writer beside it" : "");
			return r;
		}
		/* Only a writer tidies, and only under the lock: another persistd
		 * may be writing those temp files. */
		r = fsperm_tidy_start(dc->state_dir, &d->tidy);
		if (r < 0)
			return log_errno(LOG_ERR, r, "checking %s: %m", dc->state_dir);
	}
	r = statejournal_load(d->store, &d->state, &d->journal, err, sizeof(err));
	if (r == -ENOMEM)
		return log_errno(LOG_ERR, r, "reading %s/state.json: %m", dc->state_dir);
	if (r < 0) {
		/* Refusing beats forgetting orders in flight and alert history. */
		log_error("%s/state.json is unreadable: %s; move it and state.journal away to "
			  "start afresh", dc->state_dir, err);
		return r;
	}
	const struct statejournal_stats *js = statejournal_get_stats(d->journal);
	if (js->torn_tail)
		log_notice("%s/state.journal: its last line was cut short (a crash while "
			   "writing it), ignoring it", dc->state_dir);
	if (js->stale_journal)
		log_notice("%s/state.journal: older than state.json (a crash between the two), "
			   "ignoring it", dc->state_dir);
	r = http_new(d->loop, &d->http);
	if (r < 0)
		return log_errno(LOG_ERR, r, "starting HTTP: %m");
	struct dnscheck_options o = {
		.resolvers = (const char *const *)dc->resolvers,
		.n_resolvers = dc->n_resolvers,
		.trust_anchor_file = dc->trust_anchor,
		.no_dnssec = !dc->trust_anchor,
		.trust_ad = dc->trust_ad,
		.trust_ad_remote = dc->trust_ad_remote,
		.unbound = dc->dns_unbound,
		.timeout_ms = dc->dns_timeout_ms,
		.max_inflight = dc->dns_max_inflight,
	};
	r = dnscheck_new(d->loop, &o, &d->dns);
	if (r == -EPERM)
		return log_errno(LOG_ERR, r, "starting the DNS checker: dnssec = trust-ad and a "
				 "system resolver is not a loopback address; name local resolvers "
				 "with 'resolver', or say dnssec = trust-ad-remote");
	if (r < 0)
		return log_errno(LOG_ERR, r, "starting the DNS checker (trust anchor %s): %m",
				 dc->trust_anchor ? dc->trust_anchor : "none");
	r = sched_new(d->loop, daemon_clock, d, &d->sched);
	if (r < 0)
		return log_errno(LOG_ERR, r, "starting the scheduler: %m");
	return build_cas_and_certs(d);
}

/* From here on the signer answers on the loop, and this process (with every hook it spawns)
 * cannot open the account-key directory. Before any thread that reads the network: Landlock
 * binds only the calling thread and what it creates later. The start-up tidy's threads may
 * still run unconfined (they must reach the keys' modes); they read nothing from the network
 * and are joined before anything does. */
static int confine_loop(struct daemon *d)
{
	_cleanup_free_ char *key_dir = NULL;
	int r;

	r = signer_attach(d->signer, d->loop);
	if (r < 0)
		return log_errno(LOG_ERR, r, "talking to the signer process: %m");
	if (asprintf(&key_dir, "%s/accounts", store_get_dir(d->store)) < 0)
		return -ENOMEM;
	r = confine_loop_away_from(key_dir);
	if (r == -EOPNOTSUPP) {
		log_warning("this kernel has no Landlock (Linux >= 5.13 with lsm=landlock): hooks "
			    "and this process are not kept out of %s",
			    key_dir);
		return 0;
	}
	if (r < 0)
		return log_errno(LOG_ERR, r, "confining this process away from %s: %m", key_dir);
	log_debug("Landlock: this process and its hooks are kept out of %s", key_dir);
	return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void close_if(bool *init, uv_handle_t *h)
{
	if (*init) {
		*init = false;
		uv_close(h, on_handle_closed);
	}
}

static void daemon_teardown(struct daemon *d)
{
	(void)daemon_tidy_wait(d); /* set-up failed while it ran */
	for (size_t i = 0; i < d->n_certs; i++)
		cert_free(d->certs[i]);
	free(d->certs);
	d->certs = NULL;
	d->n_certs = 0;
	for (size_t i = 0; i < d->n_cas; i++)
		ca_free(d->cas[i]);
	free(d->cas);
	d->cas = NULL;
	d->n_cas = 0;
	fleet_free(d->fleet); /* its locks go with its connection */
	d->fleet = NULL;
	if (d->state_dirty)
		(void)daemon_state_save(d);
	control_free(d->control);
	d->control = NULL;
	httpd_free(d->httpd);
	d->httpd = NULL;
	sched_free(d->sched);
	d->sched = NULL;
	dnscheck_free(d->dns);
	d->dns = NULL;
	daemon_reload_done(d);
	http_free(d->http);
	d->http = NULL;
	signer_free(d->signer);
	d->signer = NULL;
	close_if(&d->state_timer_init, (uv_handle_t *)&d->state_timer);
	close_if(&d->watchdog_init, (uv_handle_t *)&d->watchdog);
	close_if(&d->status_timer_init, (uv_handle_t *)&d->status_timer);
	close_if(&d->heaptrim_timer_init, (uv_handle_t *)&d->heaptrim_timer);
	if (d->signals_init) {
		d->signals_init = false;
		uv_close((uv_handle_t *)&d->sig_term, on_handle_closed);
		uv_close((uv_handle_t *)&d->sig_int, on_handle_closed);
		uv_close((uv_handle_t *)&d->sig_hup, on_handle_closed);
	}
	/* Close callbacks (curl, getdns, timers) run before the loop can close. */
	uv_run(d->loop, UV_RUN_DEFAULT);
	state_free(d->state);
	d->state = NULL;
	statejournal_free(d->journal);
	d->journal = NULL;
	store_free(d->store);
	d->store = NULL;
	config_free(d->config);
	d->config = NULL;
}

/* ---- the daemon ---- */

static void notify_status(struct daemon *d)
{
	char line[300];

	daemon_status_line(d, line, sizeof(line));
	(void)sd_notifyf(0, "STATUS=%s", line);
}

static void on_status_timer(uv_timer_t *t)
{
	notify_status(t->data);
}

static void on_heaptrim_timer(uv_timer_t *t)
{
	(void)t;
	heaptrim_release();
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	(void)sd_notify(0, "WATCHDOG=1");
}

static void begin_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	log_notice("%s: parking work in flight and stopping", why);
	(void)sd_notify(0, "STOPPING=1");
	/* First, so that no hook starts from here on (a dns-01 clean hook of a
	 * parked order is logged instead) and the running ones are gone within
	 * HOOK_STOP_GRACE_MS: teardown waits for their process handles. */
	hook_stop_all();
	for (size_t i = 0; i < d->n_certs; i++)
		cert_stop(d->certs[i]);
	/* A whole snapshot at a clean stop: state.json alone is then the truth, for an older
	 * persistd after a downgrade (it knows no journal: docs/rollback.md) and for anyone
	 * reading it. */
	daemon_state_changed(d);
	(void)daemon_state_save(d);
	uv_stop(d->loop);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		/* daemon_reload() logs the outcome either way. */
		_cleanup_free_ char *message = NULL;
		(void)daemon_reload(d, &message);
		notify_status(d);
		(void)sd_notify(0, "READY=1");
		return;
	}
	begin_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int open_control(struct daemon *d)
{
	const struct config_daemon *dc = &d->config->daemon;
	struct control_options o;
	struct group *g;
	size_t n_methods;
	const struct control_method *methods = methods_table(d, &n_methods);
	int n_fds, r;

	control_options_init(&o);
	o.path = dc->control_socket;
	o.admin_group = dc->admin_group;
	o.daemon_uid = getuid();
	/* NSS here, once at start-up and on reload, never on the loop's hot path. */
	g = getgrnam(dc->admin_group);
	if (g) {
		o.admin_gid = g->gr_gid;
		o.group = g->gr_gid;
	} else {
		log_warning("admin group '%s' does not exist: only root and the daemon's user may "
			    "renew, reload and roll keys over, ignoring",
			    dc->admin_group);
	}
	n_fds = sd_listen_fds(1);
	if (n_fds > 1) {
		log_error("systemd passed %d sockets; expected one (the control socket)", n_fds);
		return -EINVAL;
	}
	if (n_fds == 1) {
		o.listen_fd = SD_LISTEN_FDS_START;
		log_info("using the control socket passed by systemd");
	} else {
		/* The parent directory is ours to make (RuntimeDirectory in the unit). */
		char dir[4096];
		const char *slash = strrchr(dc->control_socket, '/');
		if (slash && slash != dc->control_socket) {
			str_printf(dir, sizeof(dir), "%.*s", (int)(slash - dc->control_socket),
				   dc->control_socket);
			(void)mkdir(dir, 0755);
		}
	}
	r = control_new(d->loop, &o, methods, n_methods, d, &d->control);
	if (r < 0)
		return r;
	return 0;
}

static void write_status(struct daemon *d, struct json_writer *w)
{
	methods_write_status(d, w);
}

/* The optional HTTP listener: off unless http_listen is set. */
static int open_httpd(struct daemon *d)
{
	static const struct httpd_sources src = {
		.write_status = write_status,
		.write_records = methods_write_records,
	};
	const char *spec = d->config->daemon.http_listen;
	struct listen_addr addr;
	char why[200];

	if (!spec)
		return 0;
	if (listen_addr_parse(spec, &addr, why, sizeof(why)) < 0) {
		log_error("http_listen: %s", why);
		return -EINVAL;
	}
	return httpd_new(d, &addr, &src, &d->httpd);
}

static int run_daemon(struct daemon *d)
{
	int r;

	r = open_control(d);
	if (r < 0)
		return 1;
	r = open_httpd(d);
	if (r < 0)
		return 1;
	/* The certificates are read while the tidy walks the tree: both are
	 * file work, on two cores. */
	r = certload_all(d);
	if (r < 0)
		return 1;
	if (daemon_tidy_wait(d) < 0)
		return 1;
	if (d->config->daemon.store_uri) {
		/* After confine_loop(): the database thread is confined like the loop. */
		r = fleet_new(d, &d->fleet);
		if (r < 0)
			return log_errno(LOG_ERR, r, "starting fleet mode: %m"), 1;
		fleet_set_sync_handler(d->fleet, fleetsync_on_newer, d);
		struct fleetcheck_handlers h = { certrecheck_on_fleet_result,
						 certrecheck_on_fleet_facts, d };
		fleetcheck_set_handlers(fleet_get_checks(d->fleet), &h);
	}
	for (size_t i = 0; i < d->n_certs; i++) {
		r = cert_schedule(d->certs[i]);
		if (r < 0)
			return log_errno(LOG_ERR, r, "cert '%s': %m", cert_get_name(d->certs[i])), 1;
	}
	/* Loading 100k configs, state entries (the parse tree of state.json) and
	 * certificates freed as much as it kept. */
	heaptrim_release();
	uv_signal_t *sigs[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
	int nums[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < 3; i++) {
		(void)uv_signal_init(d->loop, sigs[i]);
		sigs[i]->data = d;
		(void)uv_signal_start(sigs[i], on_signal, nums[i]);
	}
	d->signals_init = true;
	if (sd_watchdog_enabled(0, &d->watchdog_usec) > 0 && d->watchdog_usec > 0) {
		(void)uv_timer_init(d->loop, &d->watchdog);
		d->watchdog.data = d;
		d->watchdog_init = true;
		uint64_t ms = d->watchdog_usec / 1000 / 3;
		(void)uv_timer_start(&d->watchdog, on_watchdog, ms ? ms : 1, ms ? ms : 1);
	}
	/* STATUS= is for systemd only: without a notify socket nobody reads it. */
	if (getenv("NOTIFY_SOCKET")) {
		(void)uv_timer_init(d->loop, &d->status_timer);
		d->status_timer.data = d;
		d->status_timer_init = true;
		(void)uv_timer_start(&d->status_timer, on_status_timer, 60 * 1000, 60 * 1000);
	}
	/* What the record checks of the last minute freed. */
	(void)uv_timer_init(d->loop, &d->heaptrim_timer);
	d->heaptrim_timer_init = true;
	(void)uv_timer_start(&d->heaptrim_timer, on_heaptrim_timer, HEAPTRIM_INTERVAL_MS,
			     HEAPTRIM_INTERVAL_MS);

	char line[300];
	daemon_status_line(d, line, sizeof(line));
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", line);
	log_notice("persistd %s started: %s", PERSISTD_VERSION, line);
	uv_run(d->loop, UV_RUN_DEFAULT);
	log_notice("persistd stopped");
	return d->exit_code;
}

int main(int argc, char **argv)
{
	enum { OPT_ONESHOT = 256, OPT_CERT, OPT_FORCE, OPT_PROBE, OPT_VERSION, OPT_TEST_CLOCK,
	       OPT_REVOKE, OPT_REASON, OPT_CERT_KEY, OPT_LOG_TARGET, OPT_STORE_MIGRATE };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 't' },
		{ "oneshot", no_argument, NULL, OPT_ONESHOT },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "probe", required_argument, NULL, OPT_PROBE },
		{ "revoke", required_argument, NULL, OPT_REVOKE },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "with-cert-key", no_argument, NULL, OPT_CERT_KEY },
		{ "log-target", required_argument, NULL, OPT_LOG_TARGET },
		{ "store-migrate", no_argument, NULL, OPT_STORE_MIGRATE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "test-clock", no_argument, NULL, OPT_TEST_CLOCK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct daemon d = { 0 };
	const char *config_path = CONFIG_DEFAULT_PATH, *probe = NULL, *revoke = NULL,
		   *reason = NULL;
	bool check = false, verbose = false, with_cert_key = false, store_migrate = false;
	int log_target = -1;
	uv_loop_t loop;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:tvh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check = true;
			break;
		case OPT_ONESHOT:
			d.oneshot = true;
			break;
		case OPT_CERT:
			d.only_cert = optarg;
			break;
		case OPT_FORCE:
			d.force = true;
			break;
		case OPT_PROBE:
			probe = optarg;
			break;
		case OPT_REVOKE:
			revoke = optarg;
			break;
		case OPT_REASON:
			reason = optarg;
			break;
		case OPT_CERT_KEY:
			with_cert_key = true;
			break;
		case OPT_STORE_MIGRATE:
			store_migrate = true;
			break;
		case OPT_LOG_TARGET:
			log_target = log_target_from_string(optarg);
			if (log_target < 0) {
				fprintf(stderr, "persistd: --log-target '%s': expected auto, journal or "
						"stderr\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case OPT_TEST_CLOCK:
			d.test_clock = true;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		case OPT_VERSION:
			printf("persistd %s\n", PERSISTD_VERSION);
			return 0;
		default:
			fputs(help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "persistd: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if ((int)check + (int)d.oneshot + (probe != NULL) + (revoke != NULL) + (int)store_migrate >
	    1) {
		fprintf(stderr, "persistd: choose one of --check-config, --oneshot, --probe, "
				"--revoke and --store-migrate\n");
		return EXIT_USAGE;
	}
	if ((reason || with_cert_key) && !revoke) {
		fprintf(stderr, "persistd: --reason and --with-cert-key go with --revoke\n");
		return EXIT_USAGE;
	}
	if ((d.only_cert || d.force) && !d.oneshot) {
		fprintf(stderr, "persistd: --cert and --force go with --oneshot\n");
		return EXIT_USAGE;
	}
	if (check)
		return configcheck_run(config_path);

	if (configcheck_load(config_path, &d.config) < 0)
		return 1;
	if (store_migrate) {
		/* No loop, no signer, no network but the database's: see daemon/fleetmigrate. */
		log_setup(LOG_TARGET_STDERR, verbose ? LOG_DEBUG : d.config->daemon.log_level);
		r = d.config->daemon.store_uri ? configcheck_fleet(d.config, config_path) : 0;
		r = r < 0 ? 1 : fleetmigrate_run(d.config);
		config_free(d.config);
		return r;
	}
	if (d.config->daemon.store_uri && !probe) {
		if (configcheck_fleet(d.config, config_path) < 0)
			return 1;
		/* Without the fleet's locks a one-shot run could order what an issuer orders. */
		if (d.oneshot || revoke) {
			fprintf(stderr, "persistd: --oneshot and --revoke are not for fleet mode "
					"(store = postgresql): the daemon orders under the fleet's "
					"locks\n");
			return 1;
		}
	}
	d.config_path = strdup(config_path);
	if (!d.config_path)
		return 1;
	/* The daemon logs to the journal under systemd; the one-shot modes talk to
	 * the terminal. */
	if (log_target < 0)
		log_target = d.oneshot || probe || revoke ? LOG_TARGET_STDERR : LOG_TARGET_AUTO;
	log_setup((enum log_target)log_target,
		  verbose ? LOG_DEBUG : d.config->daemon.log_level);
	if (!probe)
		daemon_reload_check_runtime(&d);
	if (d.test_clock) {
		const char *off = getenv("PERSISTD_TEST_TIME_OFFSET");
		if (off)
			d.time_offset = strtoll(off, NULL, 10);
		log_warning("--test-clock: clients may move this daemon's clock (offset %" PRId64
			    " s); for tests only",
			    d.time_offset);
	}
	/* getdns opens one UDP socket per query in flight: make room. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* The account keys' process, forked while this one has no thread and has read nothing
	 * from the network. */
	r = signer_start(d.config->daemon.state_dir, d.config, &d.signer);
	if (r < 0) {
		log_error("starting the signer process: %s", strerror(-r));
		return 1;
	}
	r = uv_loop_init(&loop);
	if (r < 0) {
		fprintf(stderr, "persistd: %s\n", uv_strerror(r));
		return 1;
	}
	d.loop = &loop;
	r = daemon_setup(&d, probe ? NULL : revoke ? "revoke" : d.oneshot ? "oneshot" : "daemon");
	if (r >= 0)
		r = confine_loop(&d);
	/* The daemon joins the tidy itself, once it has read its certificates. */
	if (r >= 0 && (probe || revoke || d.oneshot))
		r = daemon_tidy_wait(&d);
	if (r < 0)
		r = 1;
	else if (probe)
		r = runonce_probe(&d, probe);
	else if (revoke)
		r = runonce_revoke(&d, revoke, reason, with_cert_key);
	else if (d.oneshot)
		r = runonce_oneshot(&d);
	else
		r = run_daemon(&d);
	daemon_teardown(&d);
	free(d.config_path);
	if (uv_loop_close(&loop) != 0)
		log_warning("handles left open at exit");
	return r;
}
