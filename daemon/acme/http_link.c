/* daemon/acme/http_link.c: the Link header's grammar. See http_link.h. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "daemon/acme/http_link.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Skips to the next ',' that is outside a quoted string or <...>; returns its index or n. */
static size_t skip_link_value(const char *s, size_t n, size_t i)
{
	bool quoted = false, angle = false;

	for (; i < n; i++) {
		if (quoted) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				quoted = false;
		} else if (angle) {
			if (s[i] == '>')
				angle = false;
		} else if (s[i] == '"') {
			quoted = true;
		} else if (s[i] == '<') {
			angle = true;
		} else if (s[i] == ',') {
			break;
		}
	}
	return i;
}

static void link_add(const char *url, size_t len, const char *rel, size_t rel_len,
		     http_link_cb cb, void *userdata)
{
	/* rel is a space-separated list of relation types (RFC 8288 section 3.3). */
	for (size_t i = 0; i < rel_len;) {
		while (i < rel_len && is_ws(rel[i]))
			i++;
		size_t start = i;
		while (i < rel_len && !is_ws(rel[i]))
			i++;
		if (i > start)
			cb(userdata, url, len, rel + start, i - start);
	}
}

/* One Link header value: `<url>; rel="a b"; x=y, <url2>; rel=up`. Bad entries are skipped. */
void http_link_parse(const char *s, size_t n, http_link_cb cb, void *userdata)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (is_ws(s[i]) || s[i] == ','))
			i++;
		if (i >= n)
			break;
		if (s[i] != '<') {
			i = skip_link_value(s, n, i);
			continue;
		}
		size_t ustart = ++i;
		while (i < n && s[i] != '>')
			i++;
		if (i >= n)
			return;
		size_t ulen = i - ustart;
		char rel[128];
		size_t rel_len = 0;
		bool have_rel = false;

		i++;
		for (;;) {
			while (i < n && is_ws(s[i]))
				i++;
			if (i >= n || s[i] == ',')
				break;
			if (s[i] != ';') {
				i = skip_link_value(s, n, i);
				break;
			}
			i++;
			while (i < n && is_ws(s[i]))
				i++;
			size_t nstart = i;
			while (i < n && !strchr("=;, \t", s[i]))
				i++;
			size_t nlen = i - nstart;
			while (i < n && is_ws(s[i]))
				i++;
			char val[128];
			size_t vlen = 0;
			if (i < n && s[i] == '=') {
				i++;
				while (i < n && is_ws(s[i]))
					i++;
				if (i < n && s[i] == '"') {
					for (i++; i < n && s[i] != '"'; i++) {
						if (s[i] == '\\' && i + 1 < n)
							i++;
						if (vlen < sizeof(val))
							val[vlen++] = s[i];
					}
					if (i < n)
						i++; /* closing quote */
				} else {
					for (; i < n && !strchr(";, \t", s[i]); i++)
						if (vlen < sizeof(val))
							val[vlen++] = s[i];
				}
			}
			/* Only the first rel counts (RFC 8288 section 3.3). */
			if (nlen == 3 && strncasecmp(s + nstart, "rel", 3) == 0 && !have_rel) {
				have_rel = true;
				memcpy(rel, val, vlen);
				rel_len = vlen;
			}
		}
		if (have_rel)
			link_add(s + ustart, ulen, rel, rel_len, cb, userdata);
	}
}
