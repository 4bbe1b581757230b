/* common/config_parse.c: the INI reader of the configuration. See config_parse.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_keys.h"
#include "common/config_parse.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "common/timeutil.h"

_Static_assert(offsetof(struct config_ca, name) == 0, "common/strmap: key first");
_Static_assert(offsetof(struct config_cert, name) == 0, "common/strmap: key first");

/* inih's compile-time line buffer in Debian's build. Longer lines are ours to
 * reject, with a hint to continue lists on indented lines. */
#define CONFIG_MAX_LINE_BYTES 199

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
	enum config_section section;
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
	if (ctx->section == CONFIG_SECTION_CA) {
		struct config_ca *ca = ctx->target;
		if (!ca->directory)
			ERR(ctx, "[ca %s] has no 'directory': expected the CA's ACME directory URL",
			    ca->name);
		if (!!ca->eab_kid != !!ca->eab_hmac_file)
			ERR(ctx, "[ca %s] external account binding needs both 'eab_kid' and "
				 "'eab_hmac_file'",
			    ca->name);
	} else if (ctx->section == CONFIG_SECTION_CERT) {
		struct config_cert *cert = ctx->target;
		if (cert->n_names == 0)
			ERR(ctx, "[cert %s] has no 'names': expected the DNS names of the certificate",
			    cert->name);
		for (size_t i = 0; i < ctx->n_seen; i++) {
			const char *k = ctx->seen[i].name;
			if (!config_keys_is_dns_write(k))
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
		if (cert->challenge == CHALLENGE_DNS_01 && !config_cert_opts(cert)->dns01_hook)
			ERR(ctx, "[cert %s] challenge = dns-01 needs 'dns01_hook' (a program called "
				 "as 'HOOK set|clean FQDN VALUE')",
			    cert->name);
		/* Now, not once every file is read: the next section's allocations then
		 * fill the holes the unpacked names leave, instead of 100k of them staying
		 * scattered between the sections for good. Out of memory: config_finish()
		 * tries again. */
		(void)config_cert_pack_names(ctx->c, cert);
	}
	ctx->line = saved;
	ctx->section = CONFIG_SECTION_NONE;
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
	ctx->section = CONFIG_SECTION_IGNORED;
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
		ctx->section = CONFIG_SECTION_DAEMON;
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
		const struct config_ca *dup = config_find_ca(ctx->c, name);
		if (dup) {
			ERR(ctx, "duplicate [ca %s]: first defined at %s", name,
			    where_defined(dup->file, dup->line, where, sizeof(where)));
			return;
		}
		struct config_ca *ca = calloc(1, sizeof(*ca));
		if (!ca || !(ca->name = strdup(name)) ||
		    strmap_add(&ctx->c->ca_map, ca) < 0) {
			config_ca_free(ca);
			ctx->oom = 1;
			return;
		}
		if (push_ptr((void ***)&ctx->c->cas, &ctx->c->n_cas, ca) < 0) {
			(void)strmap_remove(&ctx->c->ca_map, ca->name);
			config_ca_free(ca);
			ctx->oom = 1;
			return;
		}
		ca->file = ctx->file;
		ca->line = ctx->line;
		ca->account_key_type = KEY_EC_P256;
		ctx->section = CONFIG_SECTION_CA;
		ctx->target = ca;
	} else {
		const struct config_cert *dup = config_find_cert(ctx->c, name);
		if (dup) {
			ERR(ctx, "duplicate [cert %s]: first defined at %s", name,
			    where_defined(dup->file, dup->line, where, sizeof(where)));
			return;
		}
		/* The name shares the section's allocation: one chunk fewer per cert. */
		size_t len = strlen(name) + 1;
		struct config_cert *cert = calloc(1, sizeof(*cert) + len);
		if (cert)
			cert->name = memcpy((char *)(cert + 1), name, len);
		if (!cert || strmap_add(&ctx->c->cert_map, cert) < 0) {
			config_cert_free(cert);
			ctx->oom = 1;
			return;
		}
		if (push_ptr((void ***)&ctx->c->certs, &ctx->c->n_certs, cert) < 0) {
			(void)strmap_remove(&ctx->c->cert_map, cert->name);
			config_cert_free(cert);
			ctx->oom = 1;
			return;
		}
		cert->file = ctx->file;
		cert->line = ctx->line;
		cert->challenge = CHALLENGE_DNS_PERSIST_01;
		cert->key_type = KEY_EC_P256;
		ctx->section = CONFIG_SECTION_CERT;
		ctx->target = cert;
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
	if (ctx->section == CONFIG_SECTION_IGNORED)
		return 1;
	if (ctx->section == CONFIG_SECTION_NONE) {
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
	struct config_key_ctx kc = {
		.errs = ctx->errs, .file = ctx->file, .line = ctx->line, .target = ctx->target,
	};
	switch (ctx->section) {
	case CONFIG_SECTION_DAEMON:
		r = config_keys_daemon(&kc, name, value, append);
		break;
	case CONFIG_SECTION_CA:
		r = config_keys_ca(&kc, name, value, append);
		break;
	default:
		r = config_keys_cert(&kc, name, value, append);
		break;
	}
	if (r == -ENOMEM)
		ctx->oom = 1;
	else if (r == 1)
		ERR(ctx, "unknown key '%s' in this section: expected one of %s", name,
		    config_keys_hint(ctx->section));
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
			ctx->section = CONFIG_SECTION_IGNORED;
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
	size_t errors_before = errs ? errs->n + errs->dropped : 0;

	if (len > CONFIG_MAX_BYTES) {
		config_errors_add(errs, file, 0, "file larger than %d bytes", CONFIG_MAX_BYTES);
		return -E2BIG;
	}
	/* The config's copy of the path, which every section of the file borrows: one copy
	 * per file, not per section (100k drop-ins). */
	char *copy = arena_strdup(&c->arena, file);
	if (!copy || push_ptr((void ***)&c->files, &c->n_files, copy) < 0)
		return -ENOMEM;
	struct parse_ctx ctx = {
		.c = c, .errs = errs, .file = copy, .main_file = main_file, .text = text,
		.len = len,
	};
	/* A UTF-8 byte order mark is harmless; inih skips it only on the first line. */
	int r = ini_parse_stream(read_config_line, &ctx, on_ini_value, &ctx);
	if (ctx.oom)
		return -ENOMEM;
	if (r > 0) {
		ctx.line = (unsigned)r;
		ERR(&ctx, "expected 'key = value', a [section] header or a comment");
	}
	section_end(&ctx);
	if (errs && errs->n + errs->dropped > errors_before)
		return -EINVAL;
	return 0;
}

/* "127.0.0.1", "127.0.0.1@5353", "::1", "::1@53": the resolver syntax
 * add_resolver accepts ("[::1]@53" too, for good measure). */
static bool resolver_is_loopback(const char *r)
{
	char host[64];
	unsigned char a[16];
	const char *at = strrchr(r, '@');
	size_t n = at ? (size_t)(at - r) : strlen(r);

	if (n > 1 && r[0] == '[' && r[n - 1] == ']') {
		r++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return false;
	memcpy(host, r, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	static const unsigned char v6_loopback[16] = { [15] = 1 };
	return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, v6_loopback, 16) == 0;
}

int config_finish(struct config *c, struct config_errors *errs)
{
	size_t errors_before = errs ? errs->n + errs->dropped : 0;
	struct config_daemon *d = &c->daemon;

	if (d->critical_before_ms > d->warn_before_ms)
		config_errors_add(errs, c->n_files ? c->files[0] : NULL, 0,
			  "critical_before is longer than warn_before: expected critical_before "
			  "<= warn_before");
	/* Nothing authenticates the AD bit on the wire (docs/man/persistd.conf.5). */
	for (size_t i = 0; d->trust_ad && !d->trust_ad_remote && i < d->n_resolvers; i++)
		if (!resolver_is_loopback(d->resolvers[i]))
			config_errors_add(errs, c->n_files ? c->files[0] : NULL, d->dnssec_line,
				  "'dnssec = trust-ad' trusts the AD flag only from resolvers on this "
				  "host, and resolver '%s' is not a loopback address: expected "
				  "127.0.0.0/8 or ::1, or dnssec = trust-ad-remote if the path to it "
				  "is trusted",
				  d->resolvers[i]);
	/* libunbound validates; trust-ad means nobody here does. */
	if (d->dns_unbound && d->trust_ad)
		config_errors_add(errs, c->n_files ? c->files[0] : NULL, d->dns_backend_line,
				  "'dns_backend = unbound' validates DNSSEC here, and 'dnssec = %s' "
				  "takes the resolver's AD flag instead: expected dnssec = validate "
				  "with dns_backend = unbound",
				  d->trust_ad_remote ? "trust-ad-remote" : "trust-ad");
	for (size_t i = 0; i < c->n_certs; i++) {
		struct config_cert *cert = c->certs[i];
		(void)config_cert_pack_names(c, cert); /* out of memory: they stay as they are */
		if (!cert->ca_name) {
			if (c->n_cas == 1) {
				cert->ca = c->cas[0];
				cert->ca_name = cert->ca->name;
				cert->ca_name_borrowed = true;
				continue;
			}
			config_errors_add(errs, cert->file, cert->line,
				  "[cert %s] has no 'ca': expected the name of a [ca NAME] section "
				  "(required when there is not exactly one)",
				  cert->name);
			continue;
		}
		cert->ca = (struct config_ca *)config_find_ca(c, cert->ca_name);
		if (cert->ca) {
			/* One copy of the CA's name, not one per cert. */
			if (!cert->ca_name_borrowed)
				free(cert->ca_name);
			cert->ca_name = cert->ca->name;
			cert->ca_name_borrowed = true;
		} else {
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
