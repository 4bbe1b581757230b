/* common/config_model.c: the configuration's defaults, release and look-ups. See
 * config_model.h. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/config_model.h"
#include "common/strutil.h"
#include "common/timeutil.h"

static const char *const challenge_type_names[] = {
	[CHALLENGE_DNS_PERSIST_01] = "dns-persist-01",
	[CHALLENGE_DNS_01] = "dns-01",
};
_Static_assert(ELEMENTSOF(challenge_type_names) == _CHALLENGE_TYPE_MAX, "challenge names");

static const char *const uri_mode_names[] = {
	[CONFIG_URI_AUTO] = "auto",
	[CONFIG_URI_URL] = "url",
	[CONFIG_URI_HASHED] = "hashed",
};
_Static_assert(ELEMENTSOF(uri_mode_names) == _CONFIG_URI_MODE_MAX, "uri mode names");

const char *challenge_type_to_string(enum challenge_type t)
{
	return (unsigned)t < _CHALLENGE_TYPE_MAX ? challenge_type_names[t] : "unknown";
}

const char *config_uri_mode_to_string(enum config_uri_mode m)
{
	return (unsigned)m < _CONFIG_URI_MODE_MAX ? uri_mode_names[m] : "unknown";
}

void config_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void config_ca_free(struct config_ca *ca)
{
	if (!ca)
		return;
	free(ca->name);
	free(ca->directory);
	config_strv_free(ca->contacts);
	free(ca->eab_kid);
	free(ca->eab_hmac_file);
	free(ca->ca_bundle);
	config_strv_free(ca->issuers);
	free(ca->profile);
	free(ca);
}

int config_cert_pack_names(struct config *c, struct config_cert *cert)
{
	size_t n = cert->n_names, bytes = (n + 1) * sizeof(char *);

	if (cert->names_packed || !cert->names)
		return 0;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(cert->names[i]) + 1;
	char **v = arena_alloc(&c->arena, bytes, alignof(char *));
	if (!v)
		return -ENOMEM;
	char *p = (char *)(v + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(cert->names[i]) + 1;
		v[i] = memcpy(p, cert->names[i], len);
		p += len;
	}
	v[n] = NULL;
	config_strv_free(cert->names);
	cert->names = v;
	cert->names_packed = true;
	return 0;
}

void config_cert_free(struct config_cert *cert)
{
	if (!cert)
		return;
	if (!cert->ca_name_borrowed)
		free(cert->ca_name);
	if (!cert->names_packed) /* else they are in the config's arena */
		config_strv_free(cert->names);
	if (cert->opts) {
		free(cert->opts->profile);
		free(cert->opts->preferred_chain);
		free(cert->opts->deploy_hook);
		free(cert->opts->dns01_hook);
		free(cert->opts->check_served_host);
		free(cert->opts->check_served_sni);
		free(cert->opts);
	}
	free(cert);
}

static const struct config_cert_opts default_opts = {
	.dns01_hook_timeout_ms = 120 * MS_PER_SEC,
	.dns01_propagation_timeout_ms = 600 * MS_PER_SEC,
	.check_served_grace_ms = 600 * MS_PER_SEC,
};

const struct config_cert_opts *config_cert_opts(const struct config_cert *cert)
{
	return cert->opts ? cert->opts : &default_opts;
}

struct config_cert_opts *config_cert_opts_mut(struct config_cert *cert)
{
	if (!cert->opts) {
		cert->opts = malloc(sizeof(*cert->opts));
		if (cert->opts)
			*cert->opts = default_opts;
	}
	return cert->opts;
}

struct config *config_new(void)
{
	struct config *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	struct config_daemon *d = &c->daemon;
	d->state_dir = strdup("/var/lib/persistd");
	d->control_socket = strdup("/run/persistd/control.sock");
	d->admin_group = strdup("persistd-admin");
	d->trust_anchor = strdup("/usr/share/dns/root.key");
	d->resolvers = calloc(1, sizeof(char *));
	if (!d->state_dir || !d->control_socket || !d->admin_group || !d->trust_anchor ||
	    !d->resolvers) {
		config_free(c);
		return NULL;
	}
	d->recheck_interval_ms = 6 * 3600 * MS_PER_SEC;
	d->warn_before_ms = 30 * 86400 * MS_PER_SEC;
	d->critical_before_ms = 7 * 86400 * MS_PER_SEC;
	d->dns_timeout_ms = 5 * MS_PER_SEC;
	d->dns_max_inflight = 200;
	d->max_orders_per_hour = 3;
	d->archive_keep = 5;
	d->record_grace_ms = 7 * 86400 * MS_PER_SEC;
	d->log_level = LOG_INFO;
	return c;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->daemon.state_dir);
	free(c->daemon.control_socket);
	free(c->daemon.store_uri);
	free(c->daemon.fleet_key_file);
	free(c->daemon.fleet_host);
	free(c->daemon.admin_group);
	free(c->daemon.trust_anchor);
	free(c->daemon.http_listen);
	config_strv_free(c->daemon.resolvers);
	for (size_t i = 0; i < c->n_cas; i++)
		config_ca_free(c->cas[i]);
	free(c->cas);
	for (size_t i = 0; i < c->n_certs; i++)
		config_cert_free(c->certs[i]);
	free(c->certs);
	free(c->files);
	arena_done(&c->arena);
	strmap_done(&c->ca_map);
	strmap_done(&c->cert_map);
	free(c);
}

/* The maps are the parser's; a config assembled by other means (a test)
 * has none, and is searched the slow way. */
const struct config_ca *config_find_ca(const struct config *c, const char *name)
{
	if (strmap_size(&c->ca_map) == c->n_cas)
		return strmap_get(&c->ca_map, name);
	for (size_t i = 0; i < c->n_cas; i++)
		if (streq(c->cas[i]->name, name))
			return c->cas[i];
	return NULL;
}

const struct config_cert *config_find_cert(const struct config *c, const char *name)
{
	if (strmap_size(&c->cert_map) == c->n_certs)
		return strmap_get(&c->cert_map, name);
	for (size_t i = 0; i < c->n_certs; i++)
		if (streq(c->certs[i]->name, name))
			return c->certs[i];
	return NULL;
}
