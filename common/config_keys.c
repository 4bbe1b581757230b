/* common/config_keys.c: the keys of [daemon], [ca NAME] and [cert NAME], and their
 * values. See config_keys.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/config_keys.h"
#include "common/hostport.h"
#include "common/limits.h"
#include "common/listen.h"
#include "common/strutil.h"
#include "common/timeutil.h"

#define ERR(ctx, ...) config_errors_add((ctx)->errs, (ctx)->file, (ctx)->line, __VA_ARGS__)

/* Settings that would give persistd write access to DNS. In a dns-persist-01
 * cert each is refused outright; in a dns-01 cert only dns01_* is ours, and
 * credentials belong to the hook. */
static const char *const dns_write_keys[] = {
	"dns01_hook",	  "dns01_hook_timeout", "dns01_propagation_timeout",
	"tsig_key",	  "tsig_secret",	"tsig_keyfile",
	"tsig_algorithm", "tsig_name",		"nsupdate_server",
	"nsupdate_key",	  "dns_credentials",	"credentials",
	"credentials_file", "api_token",	"api_key",
	"dns_provider",
};

bool config_keys_is_dns_write(const char *k)
{
	for (size_t i = 0; i < ELEMENTSOF(dns_write_keys); i++)
		if (streq(k, dns_write_keys[i]))
			return true;
	return false;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	char **a = realloc(*v, (*n + 2) * sizeof(char *));
	if (!a) {
		free(copy);
		return -ENOMEM;
	}
	a[(*n)++] = copy;
	a[*n] = NULL;
	*v = a;
	return 0;
}

/* Value parsers: each reports its own error and returns < 0 on bad input. */

static int set_string(struct config_key_ctx *ctx, const char *key, const char *v, char **slot)
{
	if (!*v) {
		ERR(ctx, "'%s' is empty: expected a value", key);
		return -EINVAL;
	}
	char *s = strdup(v);
	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

static int set_path(struct config_key_ctx *ctx, const char *key, const char *v, char **slot)
{
	if (v[0] != '/') {
		ERR(ctx, "'%s = %s': expected an absolute path", key, v);
		return -EINVAL;
	}
	if (strlen(v) >= PATH_MAX) {
		ERR(ctx, "'%s': path too long", key);
		return -EINVAL;
	}
	return set_string(ctx, key, v, slot);
}

static int set_duration(struct config_key_ctx *ctx, const char *key, const char *v, uint64_t *slot)
{
	uint64_t ms;

	if (time_parse_duration_ms(v, &ms) < 0) {
		ERR(ctx, "'%s = %s': expected a duration such as 90s, 15m, 6h, 30d or 2w", key, v);
		return -EINVAL;
	}
	*slot = ms;
	return 0;
}

static int set_hostport(struct config_key_ctx *ctx, const char *key, const char *v,
			char **ret_host, uint16_t *ret_port)
{
	char *host;
	const char *why = "";
	int r = hostport_parse(v, &host, ret_port, &why);

	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		ERR(ctx, "'%s = %s': %s (expected HOST:PORT, e.g. www.example.com:443 or "
			 "[2001:db8::1]:993)", key, v, why);
		return -EINVAL;
	}
	free(*ret_host);
	*ret_host = host;
	return 0;
}

static int set_uint(struct config_key_ctx *ctx, const char *key, const char *v, unsigned min,
		    unsigned max, unsigned *slot)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || errno || v[0] == '-' || n < min || n > max) {
		ERR(ctx, "'%s = %s': expected a whole number from %u to %u", key, v, min, max);
		return -EINVAL;
	}
	*slot = (unsigned)n;
	return 0;
}

/* Splits on commas and whitespace; calls add() for each item. */
static int for_each_item(struct config_key_ctx *ctx, const char *key, const char *v,
			 int (*add)(struct config_key_ctx *, const char *, const char *, void *),
			 void *data)
{
	char item[CONFIG_MAX_VALUE_BYTES];
	const char *p = v;
	int r, n = 0;

	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t l = strcspn(p, ", \t");
		if (l >= sizeof(item)) {
			ERR(ctx, "'%s': item too long", key);
			return -EINVAL;
		}
		memcpy(item, p, l);
		item[l] = '\0';
		r = add(ctx, key, item, data);
		if (r < 0)
			return r;
		p += l;
		n++;
	}
	if (n == 0) {
		ERR(ctx, "'%s' is empty: expected a list separated by commas", key);
		return -EINVAL;
	}
	return 0;
}

struct strv_target {
	char ***v;
	size_t *n;
	size_t max;
};

static int add_name(struct config_key_ctx *ctx, const char *key, const char *item, void *data)
{
	struct strv_target *t = data;
	_cleanup_free_ char *base = NULL;
	bool wildcard;
	int r;

	r = record_base_name(item, &base, &wildcard);
	if (r < 0 || (strchr(item, '*') && !wildcard)) {
		ERR(ctx, "'%s': '%s' is not a DNS name (expected names like www.example.com or "
			 "*.example.com; internationalized names in their xn-- form)",
		    key, item);
		return -EINVAL;
	}
	char normalized[DNS_NAME_MAX_BYTES + 3];
	str_printf(normalized, sizeof(normalized), "%s%s", wildcard ? "*." : "", base);
	for (size_t i = 0; i < *t->n; i++)
		if (streq((*t->v)[i], normalized)) {
			ERR(ctx, "'%s': '%s' is listed twice", key, normalized);
			return -EINVAL;
		}
	if (*t->n >= t->max) {
		ERR(ctx, "'%s': more than %zu names", key, t->max);
		return -EINVAL;
	}
	return strv_push(t->v, t->n, normalized);
}

static int add_contact(struct config_key_ctx *ctx, const char *key, const char *item, void *data)
{
	struct strv_target *t = data;

	if (!str_has_prefix(item, "mailto:") || !strchr(item, '@')) {
		ERR(ctx, "'%s': '%s' is not a contact URI: expected mailto:someone@example.com",
		    key, item);
		return -EINVAL;
	}
	if (*t->n >= t->max) {
		ERR(ctx, "'%s': more than %zu entries", key, t->max);
		return -EINVAL;
	}
	return strv_push(t->v, t->n, item);
}

static int add_issuer(struct config_key_ctx *ctx, const char *key, const char *item, void *data)
{
	struct strv_target *t = data;

	if (!record_issuer_is_valid(item)) {
		ERR(ctx, "'%s': '%s' is not an issuer domain name (lowercase, no trailing dot)",
		    key, item);
		return -EINVAL;
	}
	if (*t->n >= t->max) {
		ERR(ctx, "'%s': more than %zu issuer names", key, t->max);
		return -EINVAL;
	}
	return strv_push(t->v, t->n, item);
}

static int add_resolver(struct config_key_ctx *ctx, const char *key, const char *item, void *data)
{
	struct strv_target *t = data;
	char addr[128];
	const char *at = strchr(item, '@');
	size_t al = at ? (size_t)(at - item) : strlen(item);
	unsigned char tmp[16];
	bool is_ip;

	if (al >= sizeof(addr))
		goto bad;
	memcpy(addr, item, al);
	addr[al] = '\0';
	is_ip = inet_pton(AF_INET, addr, tmp) == 1 || inet_pton(AF_INET6, addr, tmp) == 1;
	if (!is_ip)
		goto bad;
	if (at) {
		char *end;
		long port = strtol(at + 1, &end, 10);
		if (!at[1] || *end || port < 1 || port > 65535)
			goto bad;
	}
	if (*t->n >= t->max) {
		ERR(ctx, "'%s': more than %zu resolvers", key, t->max);
		return -EINVAL;
	}
	return strv_push(t->v, t->n, item);
bad:
	ERR(ctx, "'%s': '%s' is not an address: expected system, or IP[@PORT] such as "
		 "127.0.0.1@5353",
	    key, item);
	return -EINVAL;
}

static int set_list(struct config_key_ctx *ctx, const char *key, const char *v, char ***slot,
		    size_t *n, size_t max, bool append,
		    int (*add)(struct config_key_ctx *, const char *, const char *, void *))
{
	if (!append) {
		config_strv_free(*slot);
		*slot = NULL;
		*n = 0;
	}
	struct strv_target t = { slot, n, max };
	return for_each_item(ctx, key, v, add, &t);
}

int config_keys_daemon(struct config_key_ctx *ctx, const char *k, const char *v, bool append)
{
	struct config_daemon *d = ctx->target;
	unsigned u;
	int r;

	if (streq(k, "state_dir"))
		return set_path(ctx, k, v, &d->state_dir);
	if (streq(k, "control_socket"))
		return set_path(ctx, k, v, &d->control_socket);
	if (streq(k, "admin_group"))
		return set_string(ctx, k, v, &d->admin_group);
	if (streq(k, "http_listen")) {
		struct listen_addr la;
		char why[200];
		if (streq(v, "off") || streq(v, "")) {
			free(d->http_listen);
			d->http_listen = NULL;
			return 0;
		}
		if (listen_addr_parse(v, &la, why, sizeof(why)) < 0) {
			ERR(ctx, "'http_listen': %s", why);
			return -EINVAL;
		}
		return set_string(ctx, k, v, &d->http_listen);
	}
	if (streq(k, "trust_anchor")) {
		/* "none": no DNSSEC validation (status "unchecked") */
		if (streq(v, "none")) {
			free(d->trust_anchor);
			d->trust_anchor = NULL;
			return 0;
		}
		d->trust_anchor_line = ctx->line;
		return set_path(ctx, k, v, &d->trust_anchor);
	}
	if (streq(k, "dnssec")) {
		/* Who validates: getdns here, or the resolvers (their AD flag). */
		if (streq(v, "validate"))
			d->trust_ad = d->trust_ad_remote = false;
		else if (streq(v, "trust-ad")) {
			d->trust_ad = true;
			d->trust_ad_remote = false;
		} else if (streq(v, "trust-ad-remote"))
			d->trust_ad = d->trust_ad_remote = true;
		else {
			ERR(ctx, "'dnssec = %s': expected validate, trust-ad or trust-ad-remote", v);
			return -EINVAL;
		}
		d->dnssec_line = ctx->line;
		return 0;
	}
	if (streq(k, "dns_backend")) {
		/* Who validates with dnssec = validate: getdns, or libunbound
		 * (which keeps validated keys across lookups). */
		if (streq(v, "getdns"))
			d->dns_unbound = false;
		else if (streq(v, "unbound"))
			d->dns_unbound = true;
		else {
			ERR(ctx, "'dns_backend = %s': expected getdns or unbound", v);
			return -EINVAL;
		}
		d->dns_backend_line = ctx->line;
		return 0;
	}
	if (streq(k, "recheck_interval")) {
		r = set_duration(ctx, k, v, &d->recheck_interval_ms);
		if (r == 0 && d->recheck_interval_ms < 60 * MS_PER_SEC) {
			ERR(ctx, "'recheck_interval = %s': expected at least 1m", v);
			return -EINVAL;
		}
		return r;
	}
	if (streq(k, "warn_before"))
		return set_duration(ctx, k, v, &d->warn_before_ms);
	if (streq(k, "record_grace"))
		return set_duration(ctx, k, v, &d->record_grace_ms);
	if (streq(k, "critical_before"))
		return set_duration(ctx, k, v, &d->critical_before_ms);
	if (streq(k, "dns_timeout")) {
		r = set_duration(ctx, k, v, &d->dns_timeout_ms);
		if (r == 0 && (d->dns_timeout_ms < 100 || d->dns_timeout_ms > 120 * MS_PER_SEC)) {
			ERR(ctx, "'dns_timeout = %s': expected 100ms to 2m", v);
			return -EINVAL;
		}
		return r;
	}
	if (streq(k, "dns_max_inflight")) {
		r = set_uint(ctx, k, v, 1, 4096, &u);
		if (r == 0)
			d->dns_max_inflight = u;
		return r;
	}
	if (streq(k, "max_orders_per_hour")) {
		r = set_uint(ctx, k, v, 1, CONFIG_MAX_ORDERS_PER_HOUR, &u);
		if (r == 0)
			d->max_orders_per_hour = u;
		return r;
	}
	if (streq(k, "archive_keep"))
		return set_uint(ctx, k, v, 0, CONFIG_MAX_ARCHIVE_KEEP, &d->archive_keep);
	if (streq(k, "resolver")) {
		if (!append && streq(v, "system")) {
			config_strv_free(d->resolvers);
			d->resolvers = calloc(1, sizeof(char *));
			d->n_resolvers = 0;
			return d->resolvers ? 0 : -ENOMEM;
		}
		return set_list(ctx, k, v, &d->resolvers, &d->n_resolvers, 8, append, add_resolver);
	}
	if (streq(k, "store")) {
		if (streq(v, "files")) {
			free(d->store_uri);
			d->store_uri = NULL;
			return 0;
		}
		if ((!str_has_prefix(v, "postgresql://") && !str_has_prefix(v, "postgres://")) ||
		    strpbrk(v, " \t")) {
			ERR(ctx, "'store = %s': expected files or a PostgreSQL URI such as "
				 "postgresql://persistd@db.example.com/persistd",
			    v);
			return -EINVAL;
		}
		d->store_line = ctx->line;
		return set_string(ctx, k, v, &d->store_uri);
	}
	if (streq(k, "role")) {
		if (streq(v, "issuer") || streq(v, "follower")) {
			d->follower = streq(v, "follower");
			return 0;
		}
		ERR(ctx, "'role = %s': expected issuer or follower", v);
		return -EINVAL;
	}
	if (streq(k, "fleet_key_file"))
		return set_path(ctx, k, v, &d->fleet_key_file);
	if (streq(k, "fleet_host")) {
		if (strlen(v) > 253 || strpbrk(v, " \t/\"'")) {
			ERR(ctx, "'fleet_host = %s': expected a host name", v);
			return -EINVAL;
		}
		return set_string(ctx, k, v, &d->fleet_host);
	}
	if (streq(k, "log_level")) {
		static const struct {
			const char *n;
			int l;
		} levels[] = { { "debug", LOG_DEBUG },	   { "info", LOG_INFO },
			       { "notice", LOG_NOTICE },   { "warning", LOG_WARNING },
			       { "error", LOG_ERR } };
		for (size_t i = 0; i < ELEMENTSOF(levels); i++)
			if (streq(v, levels[i].n)) {
				d->log_level = levels[i].l;
				return 0;
			}
		ERR(ctx, "'log_level = %s': expected debug, info, notice, warning or error", v);
		return -EINVAL;
	}
	return 1;
}

int config_keys_ca(struct config_key_ctx *ctx, const char *k, const char *v, bool append)
{
	struct config_ca *ca = ctx->target;
	int r;

	if (streq(k, "directory")) {
		if (!str_has_prefix(v, "https://") || strlen(v) <= 8 || strpbrk(v, " \t\"")) {
			ERR(ctx, "'directory = %s': expected an https:// URL (ACME requires HTTPS)", v);
			return -EINVAL;
		}
		return set_string(ctx, k, v, &ca->directory);
	}
	if (streq(k, "contact"))
		return set_list(ctx, k, v, &ca->contacts, &ca->n_contacts, 10, append, add_contact);
	if (streq(k, "eab_kid"))
		return set_string(ctx, k, v, &ca->eab_kid);
	if (streq(k, "eab_hmac_file")) {
		ca->eab_hmac_file_line = ctx->line;
		return set_path(ctx, k, v, &ca->eab_hmac_file);
	}
	if (streq(k, "ca_bundle")) {
		ca->ca_bundle_line = ctx->line;
		return set_path(ctx, k, v, &ca->ca_bundle);
	}
	if (streq(k, "issuer"))
		return set_list(ctx, k, v, &ca->issuers, &ca->n_issuers, RECORD_MAX_ISSUERS, append,
				add_issuer);
	if (streq(k, "profile"))
		return set_string(ctx, k, v, &ca->profile);
	if (streq(k, "account_key_type")) {
		r = key_type_from_string(v);
		if (r < 0) {
			ERR(ctx, "'%s = %s': expected ec-p256, ec-p384, rsa2048, rsa3072 or rsa4096", k,
			    v);
			return -EINVAL;
		}
		ca->account_key_type = (enum key_type)r;
		return 0;
	}
	if (streq(k, "accounturi_mode")) {
		for (int i = 0; i < _CONFIG_URI_MODE_MAX; i++)
			if (streq(v, config_uri_mode_to_string((enum config_uri_mode)i))) {
				ca->uri_mode = (enum config_uri_mode)i;
				return 0;
			}
		ERR(ctx, "'accounturi_mode = %s': expected auto, url or hashed", v);
		return -EINVAL;
	}
	if (streq(k, "hash_scope")) {
		if (streq(v, "domain") || streq(v, "any")) {
			ca->hash_any_domain = streq(v, "any");
			return 0;
		}
		ERR(ctx, "'hash_scope = %s': expected domain (one value per name) or any (the '*' "
			 "form, the same value for every name)",
		    v);
		return -EINVAL;
	}
	return 1;
}

/* The keys of struct config_cert_opts; 1: not one of them. */
static int set_cert_opt(struct config_key_ctx *ctx, struct config_cert_opts *o, const char *k,
			const char *v)
{
	int r;

	if (streq(k, "profile"))
		return set_string(ctx, k, v, &o->profile);
	if (streq(k, "preferred_chain"))
		return set_string(ctx, k, v, &o->preferred_chain);
	if (streq(k, "deploy_hook")) {
		o->deploy_hook_line = ctx->line;
		return set_path(ctx, k, v, &o->deploy_hook);
	}
	if (streq(k, "dns01_hook")) {
		o->dns01_hook_line = ctx->line;
		return set_path(ctx, k, v, &o->dns01_hook);
	}
	if (streq(k, "dns01_hook_timeout"))
		return set_duration(ctx, k, v, &o->dns01_hook_timeout_ms);
	if (streq(k, "dns01_propagation_timeout"))
		return set_duration(ctx, k, v, &o->dns01_propagation_timeout_ms);
	if (streq(k, "max_orders_per_hour")) {
		unsigned u;
		r = set_uint(ctx, k, v, 1, CONFIG_MAX_ORDERS_PER_HOUR, &u);
		if (r == 0)
			o->max_orders_per_hour = u;
		return r;
	}
	if (streq(k, "archive_keep")) {
		r = set_uint(ctx, k, v, 0, CONFIG_MAX_ARCHIVE_KEEP, &o->archive_keep);
		o->has_archive_keep = r == 0;
		return r;
	}
	if (streq(k, "check_served"))
		return set_hostport(ctx, k, v, &o->check_served_host, &o->check_served_port);
	if (streq(k, "check_served_sni"))
		return set_string(ctx, k, v, &o->check_served_sni);
	if (streq(k, "check_served_grace"))
		return set_duration(ctx, k, v, &o->check_served_grace_ms);
	if (streq(k, "record_grace")) {
		o->has_record_grace = true;
		return set_duration(ctx, k, v, &o->record_grace_ms);
	}
	return 1;
}

int config_keys_cert(struct config_key_ctx *ctx, const char *k, const char *v, bool append)
{
	struct config_cert *cert = ctx->target;
	int r;

	if (streq(k, "ca"))
		return set_string(ctx, k, v, &cert->ca_name);
	if (streq(k, "names")) {
		size_t n = cert->n_names; /* unsigned in the section: 100k of them */
		r = set_list(ctx, k, v, &cert->names, &n, CONFIG_MAX_NAMES_PER_CERT, append,
			     add_name);
		cert->n_names = (unsigned)n;
		return r;
	}
	if (streq(k, "challenge")) {
		for (int i = 0; i < _CHALLENGE_TYPE_MAX; i++)
			if (streq(v, challenge_type_to_string((enum challenge_type)i))) {
				cert->challenge = (enum challenge_type)i;
				return 0;
			}
		ERR(ctx, "'challenge = %s': expected dns-persist-01 or dns-01", v);
		return -EINVAL;
	}
	if (streq(k, "key_type")) {
		r = key_type_from_string(v);
		if (r < 0) {
			ERR(ctx, "'%s = %s': expected ec-p256, ec-p384, rsa2048, rsa3072 or rsa4096", k,
			    v);
			return -EINVAL;
		}
		cert->key_type = (enum key_type)r;
		return 0;
	}
	if (streq(k, "persist_until")) {
		if (time_parse_date(v, &cert->persist_until) < 0) {
			ERR(ctx, "'persist_until = %s': expected a date (2027-06-01 or "
				 "2027-06-01T12:00:00Z) or Unix seconds",
			    v);
			return -EINVAL;
		}
		cert->has_persist_until = true;
		cert->persist_until_line = ctx->line;
		return 0;
	}
	/* Any other key is an option, or makes the config fail: made for it either way. */
	struct config_cert_opts *o = config_cert_opts_mut(cert);
	if (!o)
		return -ENOMEM;
	r = set_cert_opt(ctx, o, k, v);
	if (r != 1)
		return r;
	/* Recognized so that section_end can say why they are refused. */
	if (config_keys_is_dns_write(k))
		return 0;
	return 1;
}

const char *config_keys_hint(enum config_section t)
{
	switch (t) {
	case CONFIG_SECTION_DAEMON:
		return "state_dir, control_socket, admin_group, recheck_interval, warn_before, "
		       "critical_before, resolver, trust_anchor, dnssec, dns_timeout, dns_max_inflight, "
		       "max_orders_per_hour, archive_keep, record_grace, log_level, http_listen";
	case CONFIG_SECTION_CA:
		return "directory, contact, eab_kid, eab_hmac_file, ca_bundle, issuer, profile, "
		       "account_key_type, accounturi_mode, hash_scope";
	case CONFIG_SECTION_CERT:
		return "ca, names, challenge, key_type, persist_until, profile, preferred_chain, "
		       "deploy_hook, dns01_hook, dns01_hook_timeout, dns01_propagation_timeout, "
		       "max_orders_per_hour, archive_keep, check_served, check_served_sni, "
		       "check_served_grace, record_grace";
	default:
		return "";
	}
}
