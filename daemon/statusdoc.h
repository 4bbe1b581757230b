/* daemon/statusdoc.h: the JSON documents that show the daemon's state, read
 * from struct daemon as it is now: the status document (also /api/status),
 * one cert with its names (certs.list, certs.get), the records list
 * (records.list, records.check) and the records to publish (records.generate,
 * /api/records), and the one-line summary for systemd's STATUS=.
 *
 * Read-only: nothing here changes the daemon, starts work or waits on the
 * network; a value not known yet (no cert, no CA account) is written as null.
 * Every writer appends exactly one JSON value to w; errors (out of memory)
 * latch in w and show at json_writer_finish(). Times are Unix seconds, each
 * with a KEY_iso twin in ISO 8601 (statusdoc_kv_time). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cert;
struct daemon;
struct json_writer;

/* "key": t, "key_iso": "..." for t > 0; "key": null otherwise. */
void statusdoc_kv_time(struct json_writer *w, const char *key, int64_t t);

/* One cert and its names; detail adds serial, issuer, ARI window, order,
 * key type, profile, hook and fullchain path (certs.get). */
void statusdoc_write_cert(struct json_writer *w, const struct daemon *d, const struct cert *c,
			  bool detail);

/* The one-line summary for systemd's STATUS= (truncated to size). */
void statusdoc_line(const struct daemon *d, char *buf, size_t size);

/* The status method's answer, one JSON object, with every cert. */
void statusdoc_write_status(const struct daemon *d, struct json_writer *w);

/* What a status call asks for, so that a host with 100k certs can answer in
 * milliseconds: summary (no cert_list; the counts, the worst certs and the
 * next events), one page of cert_list (certs [offset, offset + limit) in
 * configuration order, with a "page" object saying how to get the next), or
 * one cert by name. The counts, "level" and "worst" always cover every cert. */
#define STATUSDOC_WORST_MAX 10
struct statusdoc_query {
	bool summary;
	bool paged;           /* limit and offset apply */
	size_t offset, limit;
	const struct cert *only; /* borrowed: this cert alone */
};
void statusdoc_write_status_query(const struct daemon *d, struct json_writer *w,
				  const struct statusdoc_query *q);

/* The same answer a part at a time (the control socket's reply in parts):
 * begin writes all but the certs of cert_list; each more() writes certs
 * until w holds `bytes` or more, and returns true once the document is
 * whole. The certs are read by their place in the configuration when each
 * part is made, as paging reads them, so a reload between two parts may skip
 * or repeat a cert but never reads one that is gone. */
struct statusdoc_cursor {
	size_t next, to;  /* in_list: d->certs[next, to) are still to write */
	bool in_list;     /* cert_list is still to finish and close */
	bool open;        /* the document is still to close */
};
void statusdoc_status_begin(const struct daemon *d, struct json_writer *w,
			    const struct statusdoc_query *q, struct statusdoc_cursor *cur);
bool statusdoc_status_more(const struct daemon *d, struct json_writer *w,
			   struct statusdoc_cursor *cur, size_t bytes);

/* The records.list answer: every dns-persist-01 name's record as last
 * checked, for only that cert when only is not NULL. */
void statusdoc_write_records(struct json_writer *w, struct daemon *d, const struct cert *only);

/* The records.generate answer: what to publish for each dns-persist-01
 * name, for only that cert when only is not NULL. */
void statusdoc_write_generated(struct json_writer *w, struct daemon *d, const struct cert *only);
