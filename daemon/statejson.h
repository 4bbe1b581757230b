/* daemon/statejson.h: the state model (daemon/state) as state.json, and
 * one cert's object of it as the journal (daemon/statejournal) writes it.
 *
 * A member at its default (null, 0, false, OK; an empty order_times) is
 * left out when written and reads back as that default, as it always has:
 * most of a cert's members are at theirs. An older persistd reads such a
 * file the same way: an absent member has always read as its default.
 * Unknown members in the file are ignored (a newer persistd wrote them);
 * members of the wrong type are an error with a message, and the daemon then
 * refuses to start rather than silently forget in-flight orders.
 * Errors: -EINVAL malformed file (err says where), -E2BIG over a limit,
 * -ENOMEM. Pure. */
#pragma once

#include <stddef.h>

#include <yajl/yajl_tree.h>

#include "daemon/state.h"

struct json_writer;

int state_from_json(const char *json, size_t len, struct state **ret, char *err, size_t err_size);
/* The whole file, ending in a newline, into *ret (the caller frees). */
int state_to_json(const struct state *s, char **ret, size_t *ret_len);

/* One cert's object as in state.json's "certs", for the journal; and back:
 * state_read_cert() replaces what s holds for that cert (creating it) with
 * v, in place, so pointers to the entry stay valid. */
void state_write_cert(struct json_writer *w, const struct state_cert *c);
int state_read_cert(struct state *s, const char *name, yajl_val v, char *err, size_t err_size);
