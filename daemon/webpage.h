/* daemon/webpage.h: the status page's static files, built into the binary.
 *
 * daemon/web/index.html, app.js and style.css are embedded at build time
 * (.incbin in webpage.c), so the page needs no files at run time and no
 * external assets: the script fetches /api/status from the same listener
 * and draws the table, the records with copy buttons and an SVG timeline.
 * The CSP of daemon/httpd allows scripts and styles from 'self' only, hence
 * no inline script or style in index.html. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct webpage_asset {
	const char *path;          /* "/", "/app.js", "/style.css" */
	const char *content_type;
	const unsigned char *data; /* static */
	size_t len;
};

/* The asset served at url in *ret; false when there is none. */
bool webpage_find(const char *url, struct webpage_asset *ret);
