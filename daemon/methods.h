/* daemon/methods.h: the control API's methods (docs/control-api.md), on top
 * of struct daemon. Each handler answers from the daemon's state at once, or
 * later for the ones that wait on the network (records.check, renew,
 * account.rollover, ca.probe, records.generate before the first account).
 * Mutating methods (renew, reload, account.rollover, and test.shift_time in
 * a --test-clock daemon) need an admin peer; daemon/control enforces it. */
#pragma once

#include <stddef.h>

#include "daemon/control.h"

struct daemon;
struct json_writer;

/* The method table for control_new(); userdata is the struct daemon. */
const struct control_method *methods_table(const struct daemon *d, size_t *ret_n);

/* The one-line summary for systemd's STATUS= (daemon/statusdoc's). */
void daemon_status_line(const struct daemon *d, char *buf, size_t size);

/* The status method's answer (one JSON object, daemon/statusdoc's) written
 * into w; daemon/httpd serves the same document at /api/status. Errors latch
 * in w. */
void methods_write_status(const struct daemon *d, struct json_writer *w);
/* The records.generate answer for every cert from what is known now, without
 * the network (values are null before the CA account is known): /api/records. */
void methods_write_records(struct daemon *d, struct json_writer *w);
