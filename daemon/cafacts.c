#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "daemon/cafacts.h"

const char *cafacts_hash_prefix(const struct acme_directory *dir, const struct state_ca *st)
{
	if (dir)
		return dir->meta.account_hash_prefix;
	return st ? st->hash_prefix : NULL;
}

enum record_uri_mode cafacts_uri_mode(const struct config_ca *cfg, const struct acme_directory *dir,
				      const struct state_ca *st)
{
	switch (cfg->uri_mode) {
	case CONFIG_URI_URL:
		return RECORD_URI_URL;
	case CONFIG_URI_HASHED:
		return RECORD_URI_HASHED;
	default:
		return cafacts_hash_prefix(dir, st) ? RECORD_URI_HASHED : RECORD_URI_URL;
	}
}

const char *const *cafacts_issuers(const struct config_ca *cfg, const struct acme_directory *dir,
				   const struct state_ca *st, size_t *n)
{
	if (cfg->n_issuers) {
		*n = cfg->n_issuers;
		return (const char *const *)cfg->issuers;
	}
	if (dir && dir->meta.n_issuer_domain_names) {
		*n = dir->meta.n_issuer_domain_names;
		return (const char *const *)dir->meta.issuer_domain_names;
	}
	if (st && st->n_issuers) {
		*n = st->n_issuers;
		return (const char *const *)st->issuers;
	}
	if (dir && dir->meta.n_caa_identities) {
		*n = dir->meta.n_caa_identities;
		return (const char *const *)dir->meta.caa_identities;
	}
	*n = 0;
	return NULL;
}

int cafacts_offers_persist(const struct acme_directory *dir, const struct state_ca *st)
{
	if (st && st->offers_persist >= 0)
		return st->offers_persist;
	/* Draft -02 makes issuerDomainNames required of a CA that offers the method. */
	if (dir && dir->meta.n_issuer_domain_names)
		return 1;
	return -1;
}

int cafacts_learn_offers_persist(struct state_ca *st, bool offers)
{
	if (!st)
		return -ENOMEM;
	if (st->offers_persist == (int)offers)
		return 0;
	st->offers_persist = offers;
	return 1;
}

int cafacts_remember_issuers(struct state_ca *st, char *const *names, size_t n)
{
	bool same;

	if (!st)
		return -ENOMEM;
	same = st->n_issuers == n;
	for (size_t i = 0; same && i < n; i++)
		same = streq(st->issuers[i], names[i]);
	if (same)
		return 0;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(names[i]);
		if (!v[i]) {
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < st->n_issuers; i++)
		free(st->issuers[i]);
	free(st->issuers);
	st->issuers = v;
	st->n_issuers = n;
	return 1;
}

int cafacts_remember_directory(const struct config_ca *cfg, const struct acme_directory *dir,
			       struct state_ca *st, int64_t now)
{
	if (!st)
		return -ENOMEM;
	if (state_set_str(&st->hash_prefix, dir->meta.account_hash_prefix) < 0 ||
	    state_set_str(&st->uri_mode,
			  record_uri_mode_to_string(cafacts_uri_mode(cfg, dir, st))) < 0)
		return -ENOMEM;
	/* Issuer names for checking records while the CA is away: the directory's
	 * own list, or the caaIdentities hint until a challenge says better. */
	if (dir->meta.n_issuer_domain_names &&
	    cafacts_remember_issuers(st, dir->meta.issuer_domain_names,
				     dir->meta.n_issuer_domain_names) < 0)
		return -ENOMEM;
	if (!dir->meta.n_issuer_domain_names && st->n_issuers == 0 &&
	    cafacts_remember_issuers(st, dir->meta.caa_identities, dir->meta.n_caa_identities) < 0)
		return -ENOMEM;
	st->probed_at = now;
	return 1;
}

void cafacts_account_view(const struct config_ca *cfg, const struct acme_directory *dir,
			  const struct state_ca *st, const char *account_url,
			  const char *thumbprint, struct acme_account_view *view)
{
	*view = (struct acme_account_view){
		.url = account_url,
		.thumbprint = thumbprint,
		.uri_mode = cafacts_uri_mode(cfg, dir, st),
		.hash_prefix = cafacts_hash_prefix(dir, st),
		.hash_any_domain = cfg->hash_any_domain,
	};
	/* The fixed names only: a challenge's own list ranks next (see order.c). */
	if (cfg->n_issuers) {
		view->issuers = (const char *const *)cfg->issuers;
		view->n_issuers = cfg->n_issuers;
	} else if (dir && dir->meta.n_issuer_domain_names) {
		view->issuers = (const char *const *)dir->meta.issuer_domain_names;
		view->n_issuers = dir->meta.n_issuer_domain_names;
	}
	if (dir) {
		view->caa_identities = (const char *const *)dir->meta.caa_identities;
		view->n_caa_identities = dir->meta.n_caa_identities;
	}
}

int cafacts_adopt_fleet(struct state_ca *st, const char *hash_prefix, char *const *issuers,
			size_t n_issuers)
{
	int r, changed = 0;

	if (!st)
		return -ENOMEM;
	bool same = hash_prefix ? st->hash_prefix && streq(st->hash_prefix, hash_prefix)
				: !st->hash_prefix;
	if (!same) {
		if (state_set_str(&st->hash_prefix, hash_prefix) < 0)
			return -ENOMEM;
		changed = 1;
	}
	r = cafacts_remember_issuers(st, issuers, n_issuers);
	return r < 0 ? r : (r || changed);
}
