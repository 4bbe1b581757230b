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

/* The method table for control_new(); userdata is the struct daemon. */
const struct control_method *methods_table(const struct daemon *d, size_t *ret_n);

/* The one-line summary for systemd's STATUS=. */
void daemon_status_line(const struct daemon *d, char *buf, size_t size);
