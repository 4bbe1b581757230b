/* daemon/acme/msg_directory.c: the directory object. See msg_directory.h. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/acme/msg_directory.h"
#include "daemon/acme/msg_field.h"

/* ---- directory ----------------------------------------------------------------------- */

void acme_directory_done(struct acme_directory *d)
{
	if (!d)
		return;
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->meta.terms_of_service);
	free(d->meta.website);
	msg_field_strv_free(d->meta.caa_identities, d->meta.n_caa_identities);
	for (size_t i = 0; i < d->meta.n_profiles; i++) {
		free(d->meta.profiles[i].name);
		free(d->meta.profiles[i].description);
	}
	free(d->meta.profiles);
	msg_field_strv_free(d->meta.issuer_domain_names, d->meta.n_issuer_domain_names);
	free(d->meta.account_hash_prefix);
	*d = (struct acme_directory){ 0 };
}

const char *acme_directory_get_profile(const struct acme_directory *d, const char *name)
{
	for (size_t i = 0; d && name && i < d->meta.n_profiles; i++)
		if (streq(d->meta.profiles[i].name, name))
			return d->meta.profiles[i].description;
	return NULL;
}

static int directory_meta(yajl_val meta, struct acme_directory *d, char *err, size_t err_size)
{
	const char *what = "directory: meta";
	yajl_val profiles, idn;
	int r;

	if (!meta || YAJL_IS_NULL(meta))
		return 0;
	if (!YAJL_IS_OBJECT(meta))
		return msg_field_fail(-EINVAL, err, err_size, "directory: 'meta' is not an object");
	r = msg_field_get_url(meta, what, "termsOfService", false, &d->meta.terms_of_service, err,
			      err_size);
	if (r < 0)
		return r;
	r = msg_field_get_url(meta, what, "website", false, &d->meta.website, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_string_array(meta, what, "caaIdentities", false, ACME_MAX_CAA_IDENTITIES,
				       DNS_NAME_MAX_BYTES, &d->meta.caa_identities,
				       &d->meta.n_caa_identities, err, err_size);
	if (r < 0)
		return r;
	r = msg_field_get_bool(meta, what, "externalAccountRequired",
			       &d->meta.external_account_required, err, err_size);
	if (r < 0)
		return r;
	profiles = json_get(meta, "profiles");
	if (profiles && !YAJL_IS_NULL(profiles)) {
		size_t n;

		if (!YAJL_IS_OBJECT(profiles))
			return msg_field_fail(-EINVAL, err, err_size,
					      "%s: 'profiles' is not an object", what);
		n = profiles->u.object.len;
		if (n > ACME_MAX_PROFILES)
			return msg_field_fail(-E2BIG, err, err_size, "%s: more than %d profiles",
					      what, ACME_MAX_PROFILES);
		if (n) {
			d->meta.profiles = calloc(n, sizeof(*d->meta.profiles));
			if (!d->meta.profiles)
				return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			const char *name = profiles->u.object.keys[i];
			yajl_val desc = profiles->u.object.values[i];
			struct acme_profile *p = &d->meta.profiles[i];

			if (!*name || strlen(name) > DNS_NAME_MAX_BYTES)
				return msg_field_fail(-EINVAL, err, err_size,
						      "%s: profile %zu has a bad name", what, i);
			if (!YAJL_IS_STRING(desc))
				return msg_field_fail(
					-EINVAL, err, err_size,
					"%s: description of profile %zu is not a string", what, i);
			if (strlen(STR(desc)) > ACME_MAX_TEXT_BYTES)
				return msg_field_fail(-E2BIG, err, err_size,
						      "%s: description of profile %zu is too long",
						      what, i);
			d->meta.n_profiles++;
			p->name = strdup(name);
			p->description = strdup(STR(desc));
			if (!p->name || !p->description)
				return -ENOMEM;
		}
	}
	idn = json_get(meta, "issuerDomainNames");
	if (idn && !YAJL_IS_NULL(idn)) {
		char ignored[8];

		d->meta.issuer_domain_names_present = true;
		r = msg_field_issuer_list(idn, what, "issuerDomainNames",
					  &d->meta.issuer_domain_names,
					  &d->meta.n_issuer_domain_names, ignored, sizeof(ignored));
		if (r == -ENOMEM)
			return r;
		d->meta.issuer_domain_names_malformed = r < 0;
	}
	return msg_field_get_url(meta, what, "accountHashPrefix", false,
				 &d->meta.account_hash_prefix, err, err_size);
}

int acme_directory_parse(yajl_val v, struct acme_directory *ret, char *err, size_t err_size)
{
	_cleanup_(acme_directory_done) struct acme_directory d = { 0 };
	static const struct {
		const char *key;
		bool required;
		size_t offset;
	} urls[] = {
		{ "newNonce", true, offsetof(struct acme_directory, new_nonce) },
		{ "newAccount", true, offsetof(struct acme_directory, new_account) },
		{ "newOrder", true, offsetof(struct acme_directory, new_order) },
		{ "revokeCert", false, offsetof(struct acme_directory, revoke_cert) },
		{ "keyChange", false, offsetof(struct acme_directory, key_change) },
		{ "renewalInfo", false, offsetof(struct acme_directory, renewal_info) },
	};
	int r;

	r = msg_field_need_object(v, "directory", err, err_size);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(urls); i++) {
		char **field = (char **)((char *)&d + urls[i].offset);

		r = msg_field_get_url(v, "directory", urls[i].key, urls[i].required, field, err,
				      err_size);
		if (r < 0)
			return r;
	}
	r = directory_meta(json_get(v, "meta"), &d, err, err_size);
	if (r < 0)
		return r;
	*ret = d;
	d = (struct acme_directory){ 0 };
	return 0;
}
