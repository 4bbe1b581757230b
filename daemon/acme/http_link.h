/* daemon/acme/http_link.h: the grammar of an HTTP Link header (RFC 8288 section 3).
 *
 * Owns: splitting one Link header value, such as `<url>; rel="a b"; x=y, <url2>; rel=up`,
 * into its links and each link's relation types. It keeps nothing and decides nothing:
 * every (target, relation type) pair goes to the callback, in the order of the header, and
 * daemon/acme/http picks the relations ACME uses (alternate, up, index).
 *
 * Promises: only the first rel parameter of a link counts (RFC 8288 section 3.3), and its
 * value is read up to 128 bytes; entries that are not `<target>` with parameters are
 * skipped up to the next top-level ','; a target without its '>' ends the parse. The target
 * is handed over as it is written (not resolved, not unescaped). Never reads past n bytes.
 * Pure: no allocation, no I/O, no logging; it cannot fail. */
#pragma once

#include <stddef.h>

/* url and rel point into the header value or a buffer of the parser: valid only during
 * the call. rel is one relation type, never empty, in the case it was sent. */
typedef void (*http_link_cb)(void *userdata, const char *url, size_t url_len, const char *rel,
			     size_t rel_len);

void http_link_parse(const char *s, size_t n, http_link_cb cb, void *userdata);
