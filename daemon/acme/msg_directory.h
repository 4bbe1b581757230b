/* daemon/acme/msg_directory.h: the ACME directory object (RFC 8555 section 7.1.1, with
 * RFC 9773's renewalInfo, profiles and dns-persist-01's issuerDomainNames and
 * accountHashPrefix), read from a yajl tree into a plain struct.
 *
 * One of the parsers of daemon/acme/msg.h, which includes this header and states the
 * rules they all follow: pure; *ret filled only on success, with copies of every string;
 * strict about types and limits, lenient about unknown members; -EINVAL, -E2BIG or
 * -ENOMEM with a one-line reason in err. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "common/macro.h"

/* ---- directory (RFC 8555 section 7.1.1) -------------------------------------------- */

struct acme_profile {
	char *name;        /* owned */
	char *description; /* owned */
};

struct acme_directory {
	/* owned URLs; new_nonce, new_account and new_order are required, others NULL when
	 * the CA does not offer them */
	char *new_nonce, *new_account, *new_order, *revoke_cert, *key_change;
	char *renewal_info; /* RFC 9773 ARI base URL */
	struct {
		char *terms_of_service; /* owned or NULL */
		char *website;          /* owned or NULL */
		char **caa_identities;  /* owned array of owned strings */
		size_t n_caa_identities;
		bool external_account_required;
		struct acme_profile *profiles; /* owned; in the CA's order */
		size_t n_profiles;
		/* dns-persist-01 draft -02. The spec makes a missing or non-conforming list
		 * mean "pre-provisioning unavailable", not a broken directory: so a bad list
		 * is not an error; it leaves n_issuer_domain_names 0 and sets
		 * issuer_domain_names_malformed. */
		char **issuer_domain_names; /* owned, each a valid lowercase A-label name */
		size_t n_issuer_domain_names;
		bool issuer_domain_names_present;   /* the member exists at all */
		bool issuer_domain_names_malformed; /* ... but was not a conforming list */
		char *account_hash_prefix; /* owned or NULL (absent: draft -01 "url" mode) */
	} meta;
};

int acme_directory_parse(yajl_val v, struct acme_directory *ret, char *err, size_t err_size);
void acme_directory_done(struct acme_directory *d);
/* The description of a profile, NULL if the CA does not list it. Borrowed from d. */
const char *acme_directory_get_profile(const struct acme_directory *d, const char *name);
