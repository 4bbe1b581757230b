/* daemon/httpd.h: the optional read-only HTTP listener (http_listen).
 *
 * GNU libmicrohttpd runs inside persistd's libuv loop, without a thread of
 * its own: MHD is started with MHD_USE_EPOLL, its epoll descriptor is
 * watched by one uv_poll, and a uv_timer set from MHD_get_timeout() makes it
 * close idle connections; MHD_run() is called on either and never blocks.
 *
 * It serves GET and HEAD only (405 with Allow otherwise): / (daemon/webpage:
 * one HTML page with its script and style at /app.js and /style.css),
 * /metrics (daemon/metrics), /api/status (the control API's status answer)
 * and /api/records (records.generate's answer), both through httpd_sources.
 * Anything else is 404. Every answer carries a strict
 * Content-Security-Policy, X-Content-Type-Options: nosniff and
 * Cache-Control: no-store. Limits (common/limits.h): HTTPD_MAX_CONNS
 * connections, HTTPD_MAX_CONNS_PER_IP per client address,
 * HTTPD_CONN_MEMORY_BYTES for a request's head (more gets 431 or a close),
 * HTTPD_IDLE_SEC of silence. No authentication: what it shows is what the
 * status method shows to anyone who may open the control socket; nothing
 * secret (docs/web.md).
 *
 * A unix socket path is created with mode 0660 (the socket's group decides
 * who may read) and removed again by httpd_free(). A listener on an address
 * that is not loopback is logged as a warning at start. */
#pragma once

#include "common/macro.h"

#include <uv.h>

#include "common/listen.h"

struct daemon;
struct httpd;
struct json_writer;

/* The JSON documents it serves, written by the control API's code (handed
 * in by main.c, so that httpd and methods do not depend on each other). */
struct httpd_sources {
	void (*write_status)(struct daemon *d, struct json_writer *w);  /* /api/status */
	void (*write_records)(struct daemon *d, struct json_writer *w); /* /api/records */
};

/* Binds addr and starts serving d. -errno (logged) when the address cannot be
 * bound or MHD cannot start. */
int httpd_new(struct daemon *d, const struct listen_addr *addr, const struct httpd_sources *src,
	      struct httpd **ret);
/* Stops listening; memory goes in the handles' close callbacks (run the loop). */
void httpd_free(struct httpd *h);
