#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/listen.h"
#include "common/strutil.h"
#include "common/timeutil.h"

/* inih's compile-time line buffer in Debian's build. Longer lines are ours to
 * reject, with a hint to continue lists on indented lines. */
#define CONFIG_MAX_LINE_BYTES 199

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

static bool is_dns_write_key(const char *k)
{
	for (size_t i = 0; i < ELEMENTSOF(dns_write_keys); i++)
		if (streq(k, dns_write_keys[i]))
			return true;
	return false;
}

enum section_type {
	SECTION_NONE,
	SECTION_DAEMON,
	SECTION_CA,
	SECTION_CERT,
	SECTION_IGNORED, /* after a bad header: its keys are not checked again */
};

struct seen_key {
	char name[40];
	unsigned line;
};

struct parse_ctx {
	struct config *c;
	struct config_errors *errs;
	const char *file;
	bool main_file;
	const char *text;
	size_t len;
	size_t pos;
	unsigned line;          /* the line inih is handling now */
	bool continuation;      /* that line started with whitespace */
	enum section_type section;
	unsigned section_line;
	void *target;           /* the struct the section fills (borrowed) */
	struct seen_key seen[64];
	size_t n_seen;
	char last_key[40];
	int oom;
};

#define ERR(ctx, ...) config_errors_add((ctx)->errs, (ctx)->file, (ctx)->line, __VA_ARGS__)

static const struct seen_key *find_seen(const struct parse_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->n_seen; i++)
		if (streq(ctx->seen[i].name, name))
			return &ctx->seen[i];
	return NULL;
}

static bool valid_section_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int push_ptr(void ***arr, size_t *n, void *p)
{
	void **a = realloc(*arr, (*n + 1) * sizeof(void *));
	if (!a)
		return -ENOMEM;
	a[(*n)++] = p;
	*arr = a;
	return 0;
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

static const char *where_defined(const char *file, unsigned line, char *buf, size_t size)
{
	str_printf(buf, size, "%s:%u", file, line);
	return buf;
}

/* Checks what one section needs once all its keys are in. */
static void section_end(struct parse_ctx *ctx)
{
	unsigned saved = ctx->line;

	ctx->line = ctx->section_line;
	if (ctx->section == SECTION_CA) {
		struct config_ca *ca = ctx->target;
		if (!ca->directory)
			ERR(ctx, "[ca %s] has no 'directory': expected the CA's ACME directory URL",
			    ca->name);
		if (!!ca->eab_kid != !!ca->eab_hmac_file)
			ERR(ctx, "[ca %s] external account binding needs both 'eab_kid' and "
				 "'eab_hmac_file'",
			    ca->name);
	} else if (ctx->section == SECTION_CERT) {
		struct config_cert *cert = ctx->target;
		if (cert->n_names == 0)
			ERR(ctx, "[cert %s] has no 'names': expected the DNS names of the certificate",
			    cert->name);
		for (size_t i = 0; i < ctx->n_seen; i++) {
			const char *k = ctx->seen[i].name;
			if (!is_dns_write_key(k))
				continue;
			ctx->line = ctx->seen[i].line;
			if (cert->challenge == CHALLENGE_DNS_PERSIST_01)
				ERR(ctx,
				    "[cert %s] '%s' is a DNS write setting, but challenge = "
				    "dns-persist-01 needs no DNS write access: persistd only reads the "
				    "published _validation-persist record. Remove '%s' (or use "
				    "challenge = dns-01)",
				    cert->name, k, k);
			else if (!str_has_prefix(k, "dns01_"))
				ERR(ctx,
				    "[cert %s] '%s': persistd holds no DNS credentials; give them to "
				    "your dns01_hook (its environment or its own config) instead",
				    cert->name, k);
		}
		ctx->line = ctx->section_line;
		if (cert->challenge == CHALLENGE_DNS_01 && !cert->dns01_hook)
			ERR(ctx, "[cert %s] challenge = dns-01 needs 'dns01_hook' (a program called "
				 "as 'HOOK set|clean FQDN VALUE')",
			    cert->name);
	}
	ctx->line = saved;
	ctx->section = SECTION_NONE;
	ctx->target = NULL;
	ctx->n_seen = 0;
	ctx->last_key[0] = '\0';
}

static void section_begin(struct parse_ctx *ctx, const char *header)
{
	char buf[128], where[PATH_MAX + 16];
	const char *name;

	section_end(ctx);
	ctx->section_line = ctx->line;
	ctx->section = SECTION_IGNORED;
	str_printf(buf, sizeof(buf), "%s", header);
	char *sp = strchr(buf, ' ');
	if (sp) {
		*sp = '\0';
		name = sp + 1;
		while (*name == ' ')
			name++;
	} else {
		name = NULL;
	}

	if (streq(buf, "daemon")) {
		if (name) {
			ERR(ctx, "[daemon] takes no name");
			return;
		}
		if (!ctx->main_file) {
			ERR(ctx, "[daemon] belongs in the main config file, not in a certs.d drop-in");
			return;
		}
		ctx->section = SECTION_DAEMON;
		ctx->target = &ctx->c->daemon;
		return;
	}
	if (!streq(buf, "ca") && !streq(buf, "cert")) {
		ERR(ctx, "unknown section [%s]: expected [daemon], [ca NAME] or [cert NAME]", header);
		return;
	}
	if (!name || !valid_section_name(name)) {
		ERR(ctx, "[%s] needs a name of letters, digits, '.', '-' or '_', as in [%s www]",
		    header, buf);
		return;
	}
	if (streq(buf, "ca")) {
		for (size_t i = 0; i < ctx->c->n_cas; i++)
			if (streq(ctx->c->cas[i]->name, name)) {
				ERR(ctx, "duplicate [ca %s]: first defined at %s", name,
				    where_defined(ctx->c->cas[i]->file, ctx->c->cas[i]->line, where,
						  sizeof(where)));
				return;
			}
		struct config_ca *ca = calloc(1, sizeof(*ca));
		if (!ca || !(ca->name = strdup(name)) || !(ca->file = strdup(ctx->file)) ||
		    push_ptr((void ***)&ctx->c->cas, &ctx->c->n_cas, ca) < 0) {
			config_ca_free(ca);
			ctx->oom = 1;
			return;
		}
		ca->line = ctx->line;
		ca->account_key_type = KEY_EC_P256;
		ctx->section = SECTION_CA;
		ctx->target = ca;
	} else {
		for (size_t i = 0; i < ctx->c->n_certs; i++)
			if (streq(ctx->c->certs[i]->name, name)) {
				ERR(ctx, "duplicate [cert %s]: first defined at %s", name,
				    where_defined(ctx->c->certs[i]->file, ctx->c->certs[i]->line,
						  where, sizeof(where)));
				return;
			}
		struct config_cert *cert = calloc(1, sizeof(*cert));
		if (!cert || !(cert->name = strdup(name)) || !(cert->file = strdup(ctx->file)) ||
		    push_ptr((void ***)&ctx->c->certs, &ctx->c->n_certs, cert) < 0) {
			config_cert_free(cert);
			ctx->oom = 1;
			return;
		}
		cert->line = ctx->line;
		cert->challenge = CHALLENGE_DNS_PERSIST_01;
		cert->key_type = KEY_EC_P256;
		cert->dns01_hook_timeout_ms = 120 * MS_PER_SEC;
		cert->dns01_propagation_timeout_ms = 600 * MS_PER_SEC;
		ctx->section = SECTION_CERT;
		ctx->target = cert;
	}
}

/* Value parsers: each reports its own error and returns < 0 on bad input. */

static int set_string(struct parse_ctx *ctx, const char *key, const char *v, char **slot)
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

static int set_path(struct parse_ctx *ctx, const char *key, const char *v, char **slot)
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

static int set_duration(struct parse_ctx *ctx, const char *key, const char *v, uint64_t *slot)
{
	uint64_t ms;

	if (time_parse_duration_ms(v, &ms) < 0) {
		ERR(ctx, "'%s = %s': expected a duration such as 90s, 15m, 6h, 30d or 2w", key, v);
		return -EINVAL;
	}
	*slot = ms;
	return 0;
}

static int set_uint(struct parse_ctx *ctx, const char *key, const char *v, unsigned min,
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
static int for_each_item(struct parse_ctx *ctx, const char *key, const char *v,
			 int (*add)(struct parse_ctx *, const char *, const char *, void *), void *data)
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

static int add_name(struct parse_ctx *ctx, const char *key, const char *item, void *data)
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

static int add_contact(struct parse_ctx *ctx, const char *key, const char *item, void *data)
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

static int add_issuer(struct parse_ctx *ctx, const char *key, const char *item, void *data)
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

static int add_resolver(struct parse_ctx *ctx, const char *key, const char *item, void *data)
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

static int set_list(struct parse_ctx *ctx, const char *key, const char *v, char ***slot,
		    size_t *n, size_t max, bool append,
		    int (*add)(struct parse_ctx *, const char *, const char *, void *))
{
	if (!append) {
		config_strv_free(*slot);
		*slot = NULL;
		*n = 0;
	}
	struct strv_target t = { slot, n, max };
	return for_each_item(ctx, key, v, add, &t);
}

static int parse_daemon_key(struct parse_ctx *ctx, const char *k, const char *v, bool append)
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
	if (streq(k, "resolver")) {
		if (!append && streq(v, "system")) {
			config_strv_free(d->resolvers);
			d->resolvers = calloc(1, sizeof(char *));
			d->n_resolvers = 0;
			return d->resolvers ? 0 : -ENOMEM;
		}
		return set_list(ctx, k, v, &d->resolvers, &d->n_resolvers, 8, append, add_resolver);
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

static int parse_ca_key(struct parse_ctx *ctx, const char *k, const char *v, bool append)
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

static int parse_cert_key(struct parse_ctx *ctx, const char *k, const char *v, bool append)
{
	struct config_cert *cert = ctx->target;
	int r;

	if (streq(k, "ca"))
		return set_string(ctx, k, v, &cert->ca_name);
	if (streq(k, "names"))
		return set_list(ctx, k, v, &cert->names, &cert->n_names, CONFIG_MAX_NAMES_PER_CERT,
				append, add_name);
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
	if (streq(k, "profile"))
		return set_string(ctx, k, v, &cert->profile);
	if (streq(k, "preferred_chain"))
		return set_string(ctx, k, v, &cert->preferred_chain);
	if (streq(k, "deploy_hook")) {
		cert->deploy_hook_line = ctx->line;
		return set_path(ctx, k, v, &cert->deploy_hook);
	}
	if (streq(k, "dns01_hook")) {
		cert->dns01_hook_line = ctx->line;
		return set_path(ctx, k, v, &cert->dns01_hook);
	}
	if (streq(k, "dns01_hook_timeout"))
		return set_duration(ctx, k, v, &cert->dns01_hook_timeout_ms);
	if (streq(k, "dns01_propagation_timeout"))
		return set_duration(ctx, k, v, &cert->dns01_propagation_timeout_ms);
	if (streq(k, "max_orders_per_hour")) {
		unsigned u;
		r = set_uint(ctx, k, v, 1, CONFIG_MAX_ORDERS_PER_HOUR, &u);
		if (r == 0)
			cert->max_orders_per_hour = u;
		return r;
	}
	/* Recognized so that section_end can say why they are refused. */
	if (is_dns_write_key(k))
		return 0;
	return 1;
}

static const char *section_keys_hint(enum section_type t)
{
	switch (t) {
	case SECTION_DAEMON:
		return "state_dir, control_socket, admin_group, recheck_interval, warn_before, "
		       "critical_before, resolver, trust_anchor, dns_timeout, dns_max_inflight, "
		       "max_orders_per_hour, log_level, http_listen";
	case SECTION_CA:
		return "directory, contact, eab_kid, eab_hmac_file, ca_bundle, issuer, profile, "
		       "account_key_type, accounturi_mode, hash_scope";
	case SECTION_CERT:
		return "ca, names, challenge, key_type, persist_until, profile, preferred_chain, "
		       "deploy_hook, dns01_hook, dns01_hook_timeout, dns01_propagation_timeout, "
		       "max_orders_per_hour";
	default:
		return "";
	}
}

static int on_ini_value(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	char where[PATH_MAX + 16];
	bool append = false;
	int r;

	(void)section;
	if (ctx->oom)
		return 0;
	if (ctx->section == SECTION_IGNORED)
		return 1;
	if (ctx->section == SECTION_NONE) {
		ERR(ctx, "'%s' is outside any section: expected [daemon], [ca NAME] or [cert NAME] "
			 "first",
		    name);
		return 1;
	}
	if (ctx->continuation && streq(name, ctx->last_key)) {
		append = true;
	} else {
		const struct seen_key *prev = find_seen(ctx, name);
		if (prev) {
			ERR(ctx, "'%s' is set twice in this section (first at %s); to continue a list, "
				 "indent the next line",
			    name, where_defined(ctx->file, prev->line, where, sizeof(where)));
			return 1;
		}
		if (ctx->n_seen < ELEMENTSOF(ctx->seen)) {
			str_printf(ctx->seen[ctx->n_seen].name, sizeof(ctx->seen[0].name), "%s", name);
			ctx->seen[ctx->n_seen++].line = ctx->line;
		}
		str_printf(ctx->last_key, sizeof(ctx->last_key), "%s", name);
	}

	if (strlen(value) > CONFIG_MAX_VALUE_BYTES) {
		ERR(ctx, "'%s': value longer than %d bytes", name, CONFIG_MAX_VALUE_BYTES);
		return 1;
	}
	if (append && !(streq(name, "names") || streq(name, "contact") || streq(name, "issuer") ||
			streq(name, "resolver"))) {
		ERR(ctx, "'%s' does not take a list: an indented line continues only names, "
			 "contact, issuer or resolver",
		    name);
		return 1;
	}
	switch (ctx->section) {
	case SECTION_DAEMON:
		r = parse_daemon_key(ctx, name, value, append);
		break;
	case SECTION_CA:
		r = parse_ca_key(ctx, name, value, append);
		break;
	default:
		r = parse_cert_key(ctx, name, value, append);
		break;
	}
	if (r == -ENOMEM)
		ctx->oom = 1;
	else if (r == 1)
		ERR(ctx, "unknown key '%s' in this section: expected one of %s", name,
		    section_keys_hint(ctx->section));
	return ctx->oom ? 0 : 1;
}

/* Hands inih one line at a time, so that we know the line number, whether
 * it was indented, and can take section headers and over-long lines
 * ourselves. */
static char *read_config_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;

	if (ctx->pos >= ctx->len || ctx->oom)
		return NULL;
	const char *start = ctx->text + ctx->pos;
	const char *nl = memchr(start, '\n', ctx->len - ctx->pos);
	size_t l = nl ? (size_t)(nl - start) : ctx->len - ctx->pos;
	ctx->pos += l + (nl ? 1 : 0);
	ctx->line++;
	if (l > 0 && start[l - 1] == '\r')
		l--;

	ctx->continuation = l > 0 && (start[0] == ' ' || start[0] == '\t');
	if (memchr(start, '\0', l)) {
		ERR(ctx, "NUL byte in the line");
		goto comment;
	}
	if (l > CONFIG_MAX_LINE_BYTES || (int)l >= num - 1) {
		ERR(ctx, "line longer than %d characters; continue a list (names, contact) on "
			 "indented lines",
		    CONFIG_MAX_LINE_BYTES);
		goto comment;
	}

	size_t i = 0;
	while (i < l && (start[i] == ' ' || start[i] == '\t'))
		i++;
	if (i < l && start[i] == '[') {
		const char *close = memchr(start + i, ']', l - i);
		if (!close) {
			ERR(ctx, "section header without ']'");
			ctx->section = SECTION_IGNORED;
			goto comment;
		}
		const char *rest = close + 1;
		while (rest < start + l && (*rest == ' ' || *rest == '\t'))
			rest++;
		if (rest < start + l && *rest != ';' && *rest != '#')
			ERR(ctx, "unexpected text after the section header");
		char header[128];
		size_t hl = (size_t)(close - start - i - 1);
		if (hl >= sizeof(header))
			hl = sizeof(header) - 1;
		memcpy(header, start + i + 1, hl);
		header[hl] = '\0';
		section_begin(ctx, header);
		goto comment;
	}
	memcpy(str, start, l);
	str[l] = '\n';
	str[l + 1] = '\0';
	return str;
comment:
	/* inih still counts this line; give it one it ignores. */
	memcpy(str, "#\n", 3);
	return str;
}

int config_parse_text(struct config *c, const char *file, const char *text, size_t len,
		      bool main_file, struct config_errors *errs)
{
	struct parse_ctx ctx = {
		.c = c, .errs = errs, .file = file, .main_file = main_file, .text = text, .len = len,
	};
	size_t errors_before = errs ? errs->n + errs->dropped : 0;

	if (len > CONFIG_MAX_BYTES) {
		config_errors_add(errs, file, 0, "file larger than %d bytes", CONFIG_MAX_BYTES);
		return -E2BIG;
	}
	/* A UTF-8 byte order mark is harmless; inih skips it only on the first line. */
	int r = ini_parse_stream(read_config_line, &ctx, on_ini_value, &ctx);
	if (ctx.oom)
		return -ENOMEM;
	if (r > 0) {
		ctx.line = (unsigned)r;
		ERR(&ctx, "expected 'key = value', a [section] header or a comment");
	}
	section_end(&ctx);
	if (push_ptr((void ***)&c->files, &c->n_files, strdup(file)) < 0 ||
	    !c->files[c->n_files - 1])
		return -ENOMEM;
	if (errs && errs->n + errs->dropped > errors_before)
		return -EINVAL;
	return 0;
}

int config_finish(struct config *c, struct config_errors *errs)
{
	size_t errors_before = errs ? errs->n + errs->dropped : 0;
	struct config_daemon *d = &c->daemon;

	if (d->critical_before_ms > d->warn_before_ms)
		config_errors_add(errs, c->n_files ? c->files[0] : NULL, 0,
			  "critical_before is longer than warn_before: expected critical_before "
			  "<= warn_before");
	for (size_t i = 0; i < c->n_certs; i++) {
		struct config_cert *cert = c->certs[i];
		if (!cert->ca_name) {
			if (c->n_cas == 1) {
				cert->ca = c->cas[0];
				cert->ca_name = strdup(c->cas[0]->name);
				if (!cert->ca_name)
					return -ENOMEM;
				continue;
			}
			config_errors_add(errs, cert->file, cert->line,
				  "[cert %s] has no 'ca': expected the name of a [ca NAME] section "
				  "(required when there is not exactly one)",
				  cert->name);
			continue;
		}
		cert->ca = (struct config_ca *)config_find_ca(c, cert->ca_name);
		if (!cert->ca) {
			char known[256] = "";
			for (size_t k = 0; k < c->n_cas; k++)
				str_printf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
					   k ? ", " : "", c->cas[k]->name);
			config_errors_add(errs, cert->file, cert->line,
				  "[cert %s] names ca '%s', which is not defined (defined: %s)",
				  cert->name, cert->ca_name, c->n_cas ? known : "none");
		}
	}
	if (errs && errs->n + errs->dropped > errors_before)
		return -EINVAL;
	return 0;
}

static int dropin_filter(const struct dirent *e)
{
	size_t l = strlen(e->d_name);
	return e->d_name[0] != '.' && l > 5 && streq(e->d_name + l - 5, ".conf");
}

/* Says what a path that is not a regular file is, following a symbolic
 * link once so "a link to a fifo" reads as such. */
static void describe_non_regular(const char *path, const struct stat *st, char *buf, size_t size)
{
	struct stat lst;

	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && !S_ISLNK(st->st_mode))
		str_printf(buf, size, "symbolic link to a %s", file_type_name(st->st_mode));
	else
		str_printf(buf, size, "%s", file_type_name(st->st_mode));
}

static int load_file(struct config *c, const char *path, bool main_file,
		     struct config_errors *errs)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	char what[64];
	size_t len;
	int r;

	/* Look before opening: a FIFO or a device is never opened at all, and
	 * file_read_bounded() refuses (without blocking) one swapped in since. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		describe_non_regular(path, &st, what, sizeof(what));
		config_errors_add(errs, path, 0, "not a regular file (%s)", what);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	r = file_read_bounded_stat(path, CONFIG_MAX_BYTES, &text, &len, &st);
	if (r == -E2BIG) {
		config_errors_add(errs, path, 0, "file larger than %d bytes", CONFIG_MAX_BYTES);
		return r;
	}
	if (r == -EISDIR || r == -EINVAL) {
		config_errors_add(errs, path, 0, "not a regular file (%s)", file_type_name(st.st_mode));
		return r;
	}
	if (r < 0) {
		config_errors_add(errs, path, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	return config_parse_text(c, path, text, len, main_file, errs);
}

/* A file the configuration names and the daemon reads at start. A missing
 * one is reported where it is used; one that is not a regular file would be
 * opened by curl or getdns with a blocking open(), so refuse it here. */
static int check_named_file(const char *path, const char *key, const char *file, unsigned line,
			    const char *section, struct config_errors *errs)
{
	struct stat st;
	char what[64];

	if (!path || stat(path, &st) < 0 || S_ISREG(st.st_mode))
		return 0;
	describe_non_regular(path, &st, what, sizeof(what));
	config_errors_add(errs, file, line, "%s%s '%s': not a regular file (%s)", section, key, path,
		  what);
	return -EINVAL;
}

static int check_named_files(struct config *c, struct config_errors *errs)
{
	char section[160];
	int r = 0;

	r |= check_named_file(c->daemon.trust_anchor, "trust_anchor",
			      c->n_files ? c->files[0] : NULL, 0, "", errs);
	for (size_t i = 0; i < c->n_cas; i++) {
		const struct config_ca *ca = c->cas[i];
		str_printf(section, sizeof(section), "[ca %s] ", ca->name);
		r |= check_named_file(ca->eab_hmac_file, "eab_hmac_file", ca->file, ca->line,
				      section, errs);
		r |= check_named_file(ca->ca_bundle, "ca_bundle", ca->file, ca->line, section,
				      errs);
	}
	return r ? -EINVAL : 0;
}

int config_load(const char *path, struct config **ret, struct config_errors *errs)
{
	_cleanup_(config_freep) struct config *c = config_new();
	struct dirent **list = NULL;
	char dir[PATH_MAX];
	int r, failed = 0;

	if (!c)
		return -ENOMEM;
	r = load_file(c, path, true, errs);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		failed = r;

	const char *slash = strrchr(path, '/');
	if (slash)
		str_printf(dir, sizeof(dir), "%.*s/certs.d", (int)(slash - path), path);
	else
		str_printf(dir, sizeof(dir), "certs.d");
	int n = scandir(dir, &list, dropin_filter, alphasort);
	if (n < 0 && errno != ENOENT && errno != ENOTDIR) {
		config_errors_add(errs, dir, 0, "cannot read the drop-in directory: %s", strerror(errno));
		failed = -errno;
	}
	if (n > CONFIG_MAX_DROPINS) {
		config_errors_add(errs, dir, 0, "more than %d drop-in files", CONFIG_MAX_DROPINS);
		failed = -E2BIG;
	}
	for (int i = 0; i < n; i++) {
		char p[PATH_MAX + 256];
		if (!failed || failed == -EINVAL) {
			str_printf(p, sizeof(p), "%s/%s", dir, list[i]->d_name);
			r = load_file(c, p, false, errs);
			if (r == -ENOMEM)
				failed = r;
			else if (r < 0 && !failed)
				failed = r;
		}
		free(list[i]);
	}
	free(list);
	if (failed)
		return failed;
	r = config_finish(c, errs);
	if (r < 0)
		return r;
	r = check_named_files(c, errs);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- run-time checks (persistd -t) ---- */

/* exec: an executable file, else a readable one. */
static void check_file(struct config_errors *errs, const char *file, unsigned line,
		       const char *key, const char *path, bool exec)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		config_errors_add(errs, file, line, "%s '%s': %s", key, path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		config_errors_add(errs, file, line, "%s '%s': not a regular file", key, path);
		return;
	}
	/* access() asks with the real uid: the user running persistd -t, which is
	 * the service user when run as it (sudo -u persistd persistd -t). */
	if (access(path, exec ? X_OK : R_OK) < 0)
		config_errors_add(errs, file, line, "%s '%s': %s for uid %u", key, path,
			  exec ? "not executable" : "not readable", (unsigned)getuid());
	else if (exec && !(st.st_mode & 0111))
		config_errors_add(errs, file, line, "%s '%s': not executable", key, path);
}

int config_check_runtime(const struct config *c, int64_t now, struct config_errors *errs)
{
	size_t before = errs->n + errs->dropped;
	const char *main_file = c->n_files ? c->files[0] : NULL;

	if (c->daemon.trust_anchor)
		check_file(errs, main_file, c->daemon.trust_anchor_line, "trust_anchor",
			   c->daemon.trust_anchor, false);
	for (size_t i = 0; i < c->n_cas; i++) {
		const struct config_ca *ca = c->cas[i];
		if (ca->ca_bundle)
			check_file(errs, ca->file, ca->ca_bundle_line, "ca_bundle", ca->ca_bundle,
				   false);
		if (ca->eab_hmac_file)
			check_file(errs, ca->file, ca->eab_hmac_file_line, "eab_hmac_file",
				   ca->eab_hmac_file, false);
	}
	for (size_t i = 0; i < c->n_certs; i++) {
		const struct config_cert *cert = c->certs[i];
		if (cert->deploy_hook)
			check_file(errs, cert->file, cert->deploy_hook_line, "deploy_hook",
				   cert->deploy_hook, true);
		if (cert->dns01_hook)
			check_file(errs, cert->file, cert->dns01_hook_line, "dns01_hook",
				   cert->dns01_hook, true);
		if (cert->has_persist_until && cert->persist_until <= now) {
			char iso[40];
			time_format_iso(cert->persist_until, iso, sizeof(iso));
			config_errors_add(errs, cert->file, cert->persist_until_line,
				  "persist_until %s is in the past: records made from it would "
				  "authorize nothing",
				  iso);
		}
	}
	return errs->n + errs->dropped > before ? -EINVAL : 0;
}
