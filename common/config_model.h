/* common/config_model.h: the configuration as persistd uses it, once loaded.
 *
 * Owns: struct config and its [daemon], [ca NAME] and [cert NAME] parts, their defaults
 * (config_new), their release, and look-ups by name. It does not read or check anything:
 * common/config (the public interface, config.h) loads and validates, and every value found
 * here has passed those checks. Pure: no I/O, no logging, no clock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/key.h"
#include "common/macro.h"
#include "common/record.h"
#include "common/strmap.h"

#define CONFIG_MAX_ORDERS_PER_HOUR 100 /* = STATE_MAX_ORDER_TIMES */
#define CONFIG_MAX_ARCHIVE_KEEP 1000   /* archive_keep: versions kept per cert */

enum challenge_type {
	CHALLENGE_DNS_PERSIST_01,
	CHALLENGE_DNS_01,
	_CHALLENGE_TYPE_MAX,
};

const char *challenge_type_to_string(enum challenge_type t); /* "dns-persist-01", "dns-01" */

/* accounturi mode for a CA: from its directory (auto) or forced. */
enum config_uri_mode {
	CONFIG_URI_AUTO,
	CONFIG_URI_URL,
	CONFIG_URI_HASHED,
	_CONFIG_URI_MODE_MAX,
};

const char *config_uri_mode_to_string(enum config_uri_mode m);

struct config_daemon {
	char *state_dir;            /* owned */
	char *control_socket;       /* owned */
	char *admin_group;          /* owned */
	char *trust_anchor;         /* owned; NULL: "none", no DNSSEC validation */
	char *http_listen;          /* owned; NULL: no HTTP listener (common/listen syntax) */
	char **resolvers;           /* owned, NULL-terminated; empty = system resolver */
	size_t n_resolvers;
	uint64_t recheck_interval_ms;
	uint64_t warn_before_ms;
	uint64_t critical_before_ms;
	uint64_t dns_timeout_ms;
	unsigned dns_max_inflight;
	unsigned max_orders_per_hour; /* the issuance circuit breaker: new orders per cert in
				       * any hour, 1..CONFIG_MAX_ORDERS_PER_HOUR */
	unsigned archive_keep;      /* archive versions kept per cert; 0: all (as certbot) */
	uint64_t record_grace_ms;   /* a new cert waits this long for its records at WARNING */
	int log_level;              /* syslog priority */
	/* Fleet mode (docs/fleet.md): NULL store_uri is the files backend alone. */
	char *store_uri;            /* owned or NULL: a libpq URI, postgresql://... */
	bool follower;              /* role = follower: installs what issuers stored, never orders */
	char *fleet_key_file;       /* owned or NULL: 32 random bytes, 0600 */
	char *fleet_host;           /* owned or NULL: this host's name in the fleet (hostname) */
	unsigned store_line;        /* in files[0]; 0: not set */
	unsigned trust_anchor_line; /* in files[0]; 0: the default */
	bool trust_ad;              /* dnssec = trust-ad[-remote]: the resolvers validate */
	bool trust_ad_remote;       /* dnssec = trust-ad-remote: any resolver may say AD */
	unsigned dnssec_line;       /* in files[0]; 0: the default (validate) */
	bool dns_unbound;           /* dns_backend = unbound: libunbound validates */
	unsigned dns_backend_line;  /* in files[0]; 0: the default (getdns) */
};

struct config_ca {
	char *name;                 /* owned */
	char *directory;            /* owned, https URL */
	char **contacts;            /* owned, NULL-terminated */
	size_t n_contacts;
	char *eab_kid;              /* owned or NULL */
	char *eab_hmac_file;        /* owned or NULL */
	char *ca_bundle;            /* owned or NULL */
	char **issuers;             /* owned, NULL-terminated; override of the CA's list */
	size_t n_issuers;
	char *profile;              /* owned or NULL */
	enum key_type account_key_type;
	enum config_uri_mode uri_mode;
	bool hash_any_domain;       /* hashed mode: "*" instead of the domain */
	const char *file;           /* borrowed from the config's files: where it was defined */
	unsigned line;
	unsigned eab_hmac_file_line, ca_bundle_line; /* in file, for config_check_runtime() */
};

/* What few certs set: held apart so that 100k sections that set none of it share one
 * default (config_cert_opts()) instead of each carrying about 100 bytes of it. */
struct config_cert_opts {
	char *profile;              /* owned or NULL: overrides the CA's */
	char *preferred_chain;      /* owned or NULL: issuer CN of the chain's top */
	char *deploy_hook;          /* owned or NULL */
	char *dns01_hook;           /* owned or NULL; only with CHALLENGE_DNS_01 */
	uint64_t dns01_hook_timeout_ms;
	uint64_t dns01_propagation_timeout_ms;
	char *check_served_host;    /* owned or NULL: no check of what is served */
	char *check_served_sni;     /* owned or NULL: the first name (without "*.") */
	uint64_t check_served_grace_ms; /* after a deploy, before a stale server is an alert */
	uint64_t record_grace_ms;   /* when has_record_grace, else the [daemon] record_grace */
	unsigned max_orders_per_hour; /* 0: the [daemon] value */
	unsigned archive_keep;      /* when has_archive_keep, else the [daemon] value */
	unsigned deploy_hook_line, dns01_hook_line; /* in the section's file */
	uint16_t check_served_port;
	bool has_archive_keep;
	bool has_record_grace;
};

struct config_cert {
	const char *name;           /* part of the section's own allocation */
	char *ca_name;              /* owned, or the CA's once resolved (ca_name_borrowed) */
	struct config_ca *ca;       /* borrowed from the config, resolved by config_finish */
	char **names;               /* owned, NULL-terminated, lowercase, as given ("*." kept) */
	struct config_cert_opts *opts; /* owned; NULL: every default (config_cert_opts()) */
	int64_t persist_until;      /* when has_persist_until */
	const char *file;           /* borrowed from the config's files */
	unsigned n_names;           /* at most CONFIG_MAX_NAMES_PER_CERT */
	enum challenge_type challenge;
	enum key_type key_type;
	unsigned line;
	unsigned persist_until_line; /* in file */
	/* the small fields together, so the struct has no holes (100k of them) */
	bool has_persist_until;
	bool ca_name_borrowed;
	bool names_packed;          /* names and its strings are in the config's arena */
};

struct config {
	struct config_daemon daemon;
	struct config_ca **cas;     /* owned */
	size_t n_cas;
	struct config_cert **certs; /* owned */
	size_t n_certs;
	const char **files;         /* owned array: every file read, in order (the paths
				     * are in arena) */
	size_t n_files;
	/* name -> cas[i] / certs[i], kept by the parser: a duplicate check and a
	 * lookup per section stay O(1) with 100k drop-ins */
	struct strmap ca_map, cert_map;
	/* What lives as long as the config and is never freed alone, packed: each
	 * file's path and each cert's names (100k drop-ins) */
	struct arena arena;
};

struct config *config_new(void);
void config_free(struct config *c);
DEFINE_FREEP(struct config, config_free)

/* For the loader, which builds sections before they join a config. NULL is a no-op. */
void config_ca_free(struct config_ca *ca);
void config_cert_free(struct config_cert *cert);
/* The section's options: its own, else the shared defaults. Never NULL. */
const struct config_cert_opts *config_cert_opts(const struct config_cert *cert);
/* Its own options, made from the defaults the first time: for the parser, and for tests
 * that build a section by hand. NULL when out of memory. */
struct config_cert_opts *config_cert_opts_mut(struct config_cert *cert);
/* Frees a NULL-terminated string vector and its strings. NULL is a no-op. */
void config_strv_free(char **v);
/* Moves cert->names and its strings into one piece of c's arena, once the cert's
 * section is read (the parser calls it then, and config_finish() again for any it
 * could not): 100k one-name certs would each hold two malloc chunks for it. -ENOMEM
 * leaves it as it was. */
int config_cert_pack_names(struct config *c, struct config_cert *cert);

const struct config_ca *config_find_ca(const struct config *c, const char *name);
const struct config_cert *config_find_cert(const struct config *c, const char *name);
