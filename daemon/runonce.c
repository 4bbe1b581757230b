/* daemon/runonce.c: the modes that run once and exit. See runonce.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/timeutil.h"
#include "daemon/acme/revoke.h"
#include "daemon/acme/transport.h"
#include "daemon/ca.h"
#include "daemon/cert.h"
#include "daemon/daemon.h"
#include "daemon/renewal.h"
#include "daemon/runonce.h"

#define EXIT_USAGE 2 /* as main.c's */

/* ---- oneshot ---- */

static void on_oneshot_done(struct cert *c, int r, const char *message, void *userdata)
{
	struct daemon *d = userdata;
	const struct state_cert *st = cert_state(c);

	d->oneshot_waiting--;
	if (r == 1) {
		char when[40];
		time_format_iso(st ? st->next_renewal : 0, when, sizeof(when));
		printf("%s: not due (next renewal %s)\n", cert_get_name(c), when);
		d->oneshot_not_due++;
	} else if (r < 0) {
		printf("%s: FAILED: %s\n", cert_get_name(c), message);
		if (st && st->records_hint && !strstr(message, st->records_hint))
			printf("%s: record to publish:\n  %s\n", cert_get_name(c), st->records_hint);
	} else {
		char until[40];
		time_format_iso(st ? st->not_after : 0, until, sizeof(until));
		printf("%s: renewed: %s, valid until %s\n", cert_get_name(c), message, until);
		if (st && st->deploy_failed && config_cert_opts(cert_get_config(c))->deploy_hook) {
			printf("%s: FAILED: the certificate was installed, but %s\n", cert_get_name(c),
			       st->last_error ? st->last_error : "the deploy hook failed");
			d->oneshot_deploy_failed++;
		}
	}
	fflush(stdout);
	if (d->oneshot_waiting == 0)
		uv_stop(d->loop);
}

int runonce_oneshot(struct daemon *d)
{
	int r;

	if (d->only_cert && d->n_certs == 0) {
		fprintf(stderr, "persistd: no cert named '%s' in the configuration\n", d->only_cert);
		return 1;
	}
	for (size_t i = 0; i < d->n_certs; i++) {
		struct cert *c = d->certs[i];
		r = cert_start(c);
		if (r == 0)
			r = cert_renew_if_due(c, d->force, on_oneshot_done, d);
		char why[200];
		if (r == -EAGAIN && cert_renew_held(c, why, sizeof(why))) {
			printf("%s: FAILED: %s\n", cert_get_name(c), why);
			d->oneshot_failed++;
			continue;
		}
		if (r < 0) {
			printf("%s: FAILED: cannot start: %s\n", cert_get_name(c), strerror(-r));
			d->oneshot_failed++;
			continue;
		}
		d->oneshot_waiting++;
	}
	if (d->oneshot_waiting)
		uv_run(d->loop, UV_RUN_DEFAULT);
	(void)daemon_state_save(d);
	printf("persistd: %u renewed, %u failed, %u not due", d->oneshot_done, d->oneshot_failed,
	       d->oneshot_not_due);
	if (d->oneshot_deploy_failed)
		printf(", %u deploy hooks failed", d->oneshot_deploy_failed);
	printf("\n");
	return d->oneshot_failed || d->oneshot_deploy_failed ? 1 : 0;
}

/* ---- revoke ---- */

struct revoke_run {
	struct daemon *d;
	const char *cert;
	int r;
};

static void on_revoke_done(int r, const char *message, void *userdata)
{
	struct revoke_run *rr = userdata;

	rr->r = r;
	if (r < 0)
		fprintf(stderr, "persistd: revoking '%s' failed: %s\n", rr->cert, message);
	else
		printf("%s: %s\n", rr->cert, message);
	uv_stop(rr->d->loop);
}

int runonce_revoke(struct daemon *d, const char *name, const char *reason, bool with_key)
{
	struct cert *c = daemon_find_cert(d, name);
	struct revoke_run rr = { d, name, 0 };
	int code = -1, r;

	if (!c) {
		fprintf(stderr, "persistd: no cert named '%s' in the configuration\n", name);
		return 1;
	}
	if (reason) {
		code = revoke_reason_from_string(reason);
		if (code < 0) {
			fprintf(stderr, "persistd: --reason '%s': expected unspecified, keyCompromise, "
					"superseded, affiliationChanged, cessationOfOperation, ...\n",
				reason);
			return EXIT_USAGE;
		}
	}
	r = renewal_revoke(d, cert_get_ca(c), name, code, with_key, on_revoke_done, &rr);
	if (r < 0) {
		fprintf(stderr, "persistd: cannot revoke '%s': %s\n", name,
			r == -ENOENT ? "it has no certificate yet" : strerror(-r));
		return 1;
	}
	uv_run(d->loop, UV_RUN_DEFAULT);
	return rr.r < 0 ? 1 : 0;
}

/* ---- probe ---- */

struct probe {
	struct daemon *d;
	struct ca *ca;
	int r;
};

static void print_list(const char *label, char *const *v, size_t n)
{
	printf("  %-26s", label);
	if (n == 0)
		printf("(none)");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", v[i]);
	printf("\n");
}

static void on_probe_directory(const struct acme_reply *rep, void *userdata)
{
	struct probe *p = userdata;
	const struct acme_directory *dir = ca_get_directory(p->ca);
	char why[400];

	uv_stop(p->d->loop);
	if (!dir) {
		acme_reply_describe(rep, why, sizeof(why));
		fprintf(stderr, "persistd: CA '%s': cannot read the directory: %s\n",
			ca_get_name(p->ca), why);
		p->r = 1;
		return;
	}
	int offers = ca_offers_persist(p->ca);
	printf("CA %s\n  %-26s%s\n", ca_get_name(p->ca), "directory",
	       ca_get_config(p->ca)->directory);
	printf("  %-26s%s\n", "terms of service",
	       dir->meta.terms_of_service ? dir->meta.terms_of_service : "(none)");
	printf("  %-26s%s\n", "website", dir->meta.website ? dir->meta.website : "(none)");
	print_list("caaIdentities", dir->meta.caa_identities, dir->meta.n_caa_identities);
	printf("  %-26s", "profiles");
	if (dir->meta.n_profiles == 0)
		printf("(none)");
	for (size_t i = 0; i < dir->meta.n_profiles; i++)
		printf("%s%s", i ? ", " : "", dir->meta.profiles[i].name);
	printf("\n  %-26s%s\n", "external account binding",
	       dir->meta.external_account_required ? "required" : "not required");
	printf("  %-26s%s\n", "renewal info (ARI)", dir->renewal_info ? "yes" : "no");
	printf("  %-26s%s\n", "key change", dir->key_change ? "yes" : "no");
	print_list("issuerDomainNames", dir->meta.issuer_domain_names,
		   dir->meta.n_issuer_domain_names);
	printf("  %-26s%s\n", "accountHashPrefix",
	       dir->meta.account_hash_prefix ? dir->meta.account_hash_prefix : "(none)");
	printf("  %-26s%s\n", "accounturi form",
	       ca_get_uri_mode(p->ca) == RECORD_URI_HASHED
		       ? "hashed (draft -02)"
		       : "the account URL (drafts -00/-01)");
	printf("\ndns-persist-01: ");
	if (dir->meta.n_issuer_domain_names)
		printf("SUPPORTED (the directory announces issuerDomainNames, draft -02)\n");
	else if (offers == 1)
		printf("SUPPORTED (an authorization from this CA offered it)\n");
	else if (offers == 0)
		printf("NOT OFFERED (an authorization from this CA offered no dns-persist-01 "
		       "challenge); use challenge = dns-01 or another CA\n");
	else
		printf("UNKNOWN: the directory does not announce it (draft -01 CAs do not).\n"
		       "persistd learns it from the challenges of the first order.\n");
	p->r = offers == 0 ? 1 : 0;
}

int runonce_probe(struct daemon *d, const char *name)
{
	struct probe p = { .d = d, .ca = daemon_find_ca(d, name) };
	int r;

	if (!p.ca) {
		fprintf(stderr, "persistd: no [ca %s] in the configuration\n", name);
		return 1;
	}
	r = acme_conn_directory(ca_get_conn(p.ca), on_probe_directory, &p);
	if (r < 0) {
		fprintf(stderr, "persistd: cannot reach CA '%s': %s\n", name, strerror(-r));
		return 1;
	}
	uv_run(d->loop, UV_RUN_DEFAULT);
	return p.r;
}
