#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/b64.h"
#include "common/csr.h"
#include "common/json.h"
#include "common/strutil.h"
#include "daemon/acme/orderbody.h"
#include "daemon/log.h"

int orderbody_new_order(const struct config_cert *cfg, const struct acme_directory *dir,
			const char *profile, const char *replaces, char **ret)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);

	if (!w)
		return -ENOMEM;
	json_begin_object(w);
	json_key(w, "identifiers");
	json_begin_array(w);
	for (size_t i = 0; i < cfg->n_names; i++) {
		json_begin_object(w);
		json_kv_string(w, "type", "dns");
		json_kv_string(w, "value", cfg->names[i]);
		json_end_object(w);
	}
	json_end_array(w);
	if (profile) {
		if (dir->meta.n_profiles == 0)
			log_warning("cert '%s': profile '%s' configured, but the CA lists no profiles, "
				    "ignoring",
				    cfg->name, profile);
		else
			json_kv_string(w, "profile", profile);
	}
	if (replaces && dir->renewal_info)
		json_kv_string(w, "replaces", replaces);
	json_end_object(w);
	return json_writer_take(w, ret, NULL);
}

int orderbody_finalize(const struct config_cert *cfg, const struct key *key, char **ret)
{
	_cleanup_free_ uint8_t *der = NULL;
	_cleanup_free_ char *b64 = NULL;
	char *payload;
	size_t der_len;
	int r;

	r = csr_create(key, (const char *const *)cfg->names, cfg->n_names, &der, &der_len);
	if (r == 0)
		r = b64url_encode(der, der_len, &b64);
	if (r == 0 && asprintf(&payload, "{\"csr\":\"%s\"}", b64) < 0)
		r = -ENOMEM;
	if (r == 0)
		*ret = payload;
	return r;
}

const char *orderbody_order_unusable(const struct acme_order *o,
				     const struct config_cert *cfg)
{
	if (o->status == ACME_STATUS_INVALID || o->status == ACME_STATUS_EXPIRED ||
	    o->status == ACME_STATUS_DEACTIVATED || o->status == ACME_STATUS_REVOKED)
		return "is no longer pending";
	if (o->n_identifiers != cfg->n_names)
		return "is for other names";
	for (size_t i = 0; i < o->n_identifiers; i++) {
		bool found = false;
		for (size_t k = 0; k < cfg->n_names && !found; k++)
			found = streq(o->identifiers[i].value, cfg->names[k]);
		if (!found)
			return "is for other names";
	}
	return NULL;
}
