#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "daemon/certdeploy.h"
#include "daemon/certlevel.h"
#include "daemon/certserved.h"
#include "daemon/daemon.h"
#include "daemon/hook.h"
#include "daemon/log.h"
#include "daemon/store.h"

#define DEPLOY_HOOK_TIMEOUT_MS (10 * 60 * 1000)

/* The renewal's callers wait for the deploy of their certificate: the run
 * starting now (later == false) or the one after the run in flight. */
static void park_renew_waiters(struct cert *c, bool later, const char *message)
{
	struct cert_waiters w = certbase_take_waiters(c, CERT_WAIT_RENEW);

	for (size_t i = 0; i < w.n; i++) {
		char *m = message ? strdup(message) : NULL;
		if (certbase_add_waiter(c, later ? CERT_WAIT_LATER : CERT_WAIT_DEPLOY,
					w.items[i].cb, w.items[i].userdata, m) < 0) {
			/* Answered without the deploy's outcome. */
			free(m);
			w.items[i].cb(c, 0, message, w.items[i].userdata);
		}
	}
	free(w.items);
}

static void deploy_failed(struct cert *c, const char *error)
{
	struct state_cert *st = cert_state(c);
	int64_t now = daemon_now(c->d);

	if (!st)
		return;
	st->deploy_failed = true;
	(void)state_set_str(&st->last_error, error);
	if (!certbase_cert_update_level(c, now)) {
		/* Already WARNING (an earlier deploy failed too): still say it. */
		char message[1600], plain[CERTLEVEL_REASON_MAX];
		str_printf(message, sizeof(message), "%s: %s", c->cfg->name,
			   certlevel_cert_reason(st, plain, sizeof(plain)));
		struct alert a = {
			.kind = ALERT_CERT_DEPLOY_FAILED,
			.level = LEVEL_WARNING,
			.cert = c->cfg->name,
			.status = "VALID",
			.has_until = st->has_cert,
			.until = st->not_after,
			.now = now,
			.message = message,
			.reason = st->last_error,
		};
		certbase_emit(c, &a);
	}
}

static int start_deploy(struct cert *c);

static void on_deploy_done(int r, const char *message, const char *err_tail, void *userdata)
{
	struct cert *c = userdata;
	struct state_cert *st = cert_state(c);

	c->deploy = NULL;
	if (r < 0) {
		/* last_error is one line: the tail's lines are joined with " | ". */
		char error[HOOK_TAIL_LINES * (HOOK_TAIL_LINE_BYTES + 3) + 600];
		str_printf(error, sizeof(error), "the deploy hook %s %s%s", c->deploy_path, message,
			   err_tail[0] ? "; its standard error ended with: " : "");
		size_t used = strlen(error);
		for (const char *p = err_tail; *p && used + 4 < sizeof(error); p++) {
			if (*p == '\n') {
				memcpy(error + used, " | ", 3);
				used += 3;
			} else {
				error[used++] = *p;
			}
		}
		error[used] = '\0';
		log_warning("cert '%s': %s", c->cfg->name, error);
		deploy_failed(c, error);
	} else {
		log_info("cert '%s': deploy hook %s", c->cfg->name, message);
		if (st && st->deploy_failed) {
			st->deploy_failed = false;
			if (st->failures == 0)
				(void)state_set_str(&st->last_error, NULL);
			certbase_cert_update_level(c, daemon_now(c->d));
		}
	}
	free(c->deploy_path);
	c->deploy_path = NULL;
	certserved_deployed(c);
	if (st && !c->deploy_again)
		st->deploy_pending = false;
	daemon_state_cert_changed(c->d, cert_state(c));
	(void)daemon_state_save_cert(c->d, cert_state(c));

	struct cert_waiters w = certbase_take_waiters(c, CERT_WAIT_DEPLOY);
	certbase_later_waiters_move_up(c);
	certbase_call_waiters(c, w.items, w.n, 0, message);
	if (c->deploy_again) {
		/* Once for the newest certificate, however many came meanwhile. */
		c->deploy_again = false;
		(void)start_deploy(c);
	}
}

/* Runs the hook for the current certificate; its outcome goes to the
 * waiters of CERT_WAIT_DEPLOY, now when it cannot start. */
static int start_deploy(struct cert *c)
{
	struct state_cert *st = cert_state(c);
	_cleanup_free_ char *dir = NULL, *full = NULL, *key = NULL, *e1 = NULL, *e2 = NULL,
			    *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL, *e7 = NULL,
			    *names = NULL;
	char prefix[200];
	int r = -ENOMEM;

	if (!config_cert_opts(c->cfg)->deploy_hook || !st)
		goto fail;
	names = str_join((const char *const *)c->cfg->names, c->cfg->n_names, " ");
	c->deploy_path = strdup(config_cert_opts(c->cfg)->deploy_hook);
	if (store_cert_path(c->d->store, c->cfg->name, "fullchain.pem", &full) < 0 ||
	    store_cert_path(c->d->store, c->cfg->name, "privkey.pem", &key) < 0 || !names ||
	    !c->deploy_path ||
	    asprintf(&dir, "%s/certs/%s/current", store_get_dir(c->d->store), c->cfg->name) < 0 ||
	    asprintf(&e1, "PERSISTD_CERT_NAME=%s", c->cfg->name) < 0 ||
	    asprintf(&e2, "PERSISTD_CERT_DIR=%s", dir) < 0 ||
	    asprintf(&e3, "PERSISTD_FULLCHAIN=%s", full) < 0 ||
	    asprintf(&e4, "PERSISTD_PRIVKEY=%s", key) < 0 ||
	    asprintf(&e5, "PERSISTD_NAMES=%s", names) < 0 ||
	    /* RENEWED_LINEAGE and RENEWED_DOMAINS let certbot deploy hooks
	     * work unchanged. */
	    asprintf(&e6, "RENEWED_LINEAGE=%s", dir) < 0 ||
	    asprintf(&e7, "RENEWED_DOMAINS=%s", names) < 0) {
		log_error("cert '%s': out of memory for the deploy hook", c->cfg->name);
		goto fail;
	}
	const char *env[] = { e1, e2, e3, e4, e5, e6, e7, NULL };
	const char *argv[] = { c->deploy_path, NULL };
	str_printf(prefix, sizeof(prefix), "cert '%s': deploy hook", c->cfg->name);
	r = hook_run(c->d->loop, argv, env, DEPLOY_HOOK_TIMEOUT_MS, prefix, on_deploy_done, c,
		     &c->deploy);
	if (r < 0)
		goto fail;
	c->deploy_version = st->version;
	log_info("cert '%s': running the deploy hook %s (version %u)", c->cfg->name, c->deploy_path,
		 st->version);
	return 0;

fail:
	/* Stopping: deploy_pending stays set, so the next start runs it. */
	if (r != -ESHUTDOWN && st && config_cert_opts(c->cfg)->deploy_hook) {
		char error[600];
		str_printf(error, sizeof(error), "cannot run the deploy hook %s: %s",
			   config_cert_opts(c->cfg)->deploy_hook, strerror(-r));
		log_warning("cert '%s': %s", c->cfg->name, error);
		st->deploy_pending = false;
		deploy_failed(c, error);
		(void)daemon_state_save_cert(c->d, cert_state(c));
	}
	free(c->deploy_path);
	c->deploy_path = NULL;
	struct cert_waiters w = certbase_take_waiters(c, CERT_WAIT_DEPLOY);
	certbase_call_waiters(c, w.items, w.n, r == -ESHUTDOWN ? -ECANCELED : 0,
		     "the certificate was installed, but the daemon is stopping: the deploy hook "
		     "runs at the next start");
	return r;
}

/* A new certificate is in place (or a failed deploy is to be retried): the
 * hook runs now, or once more after the run in flight. */
void certdeploy_request(struct cert *c, const char *renew_message)
{
	struct state_cert *st = cert_state(c);

	if (!st || !config_cert_opts(c->cfg)->deploy_hook) {
		certserved_deployed(c); /* nothing to run: it counts from the install */
		certbase_call_renew_waiters(c, 0, renew_message);
		return;
	}
	if (!st->deploy_pending) {
		st->deploy_pending = true;
		daemon_state_cert_changed(c->d, cert_state(c));
	}
	if (c->deploy) {
		c->deploy_again = true;
		park_renew_waiters(c, true, renew_message);
		return;
	}
	park_renew_waiters(c, false, renew_message);
	(void)start_deploy(c);
}

void certdeploy_installed(struct cert *c, const char *renew_message)
{
	const struct config_cert_opts *o = config_cert_opts(c->cfg);
	unsigned keep = o->has_archive_keep ? o->archive_keep : c->d->config->daemon.archive_keep;
	unsigned pruned = 0;
	int r;

	/* The run in flight still reads the version it started on. */
	r = store_cert_prune(c->d->store, c->cfg->name, keep, c->deploy ? c->deploy_version : 0,
			     &pruned);
	if (r < 0 && r != -EOPNOTSUPP)
		log_warning("cert '%s': pruning the archive to archive_keep = %u: %s, ignoring",
			    c->cfg->name, keep, strerror(-r));
	else if (pruned > 0)
		log_info("cert '%s': pruned %u old version%s (archive_keep = %u)", c->cfg->name,
			 pruned, pruned == 1 ? "" : "s", keep);
	certdeploy_request(c, renew_message);
}

/* After a stop or a reload: a deploy that is owed (the daemon stopped
 * during it) or failed (the operator may have fixed the hook) runs again. */
void certdeploy_resume(struct cert *c, const char *why)
{
	struct state_cert *st = cert_state(c);

	certserved_start(c);
	if (!st)
		return;
	if (!config_cert_opts(c->cfg)->deploy_hook) {
		if (st->deploy_pending || st->deploy_failed) {
			st->deploy_pending = st->deploy_failed = false;
			daemon_state_cert_changed(c->d, cert_state(c));
		}
		return;
	}
	if (!st->has_cert || !(st->deploy_pending || st->deploy_failed) || c->deploy)
		return;
	log_notice("cert '%s': running the deploy hook again (%s)", c->cfg->name,
		   st->deploy_failed ? "it failed last time" : why);
	certdeploy_request(c, NULL);
}

void certdeploy_stop(struct cert *c)
{
	certserved_stop(c);
	/* Abandoned, not waited for: hook_stop_all() ends it when the daemon
	 * stops; deploy_pending (saved) runs it again at the next start. */
	hook_abandon(c->deploy);
	c->deploy = NULL;
	c->deploy_again = false;
	free(c->deploy_path);
	c->deploy_path = NULL;
	struct cert_waiters lists[] = { certbase_take_waiters(c, CERT_WAIT_DEPLOY),
					certbase_take_waiters(c, CERT_WAIT_LATER) };
	for (size_t l = 0; l < ELEMENTSOF(lists); l++)
		certbase_call_waiters(c, lists[l].items, lists[l].n, -ECANCELED,
				      "the certificate was installed, but the deploy hook was "
				      "stopped before it finished (the daemon is stopping or the "
				      "cert was removed); it runs again at the next start");
}
