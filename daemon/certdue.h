/* daemon/certdue.h: when a cert may and should be renewed.
 *
 * Due: at the point chosen once, at random, inside the CA's ARI window (RFC 9773), else
 * at 2/3 of the certificate's lifetime, at once without a certificate or with an order
 * to resume or find; never before the backoff of failed attempts. Held, even when
 * forced: until the CA's Retry-After has passed, or, when a new order would be needed,
 * while max_orders_per_hour new orders were placed in the last hour (the issuance
 * circuit breaker; the order times are kept in the state across restarts). Reaching the
 * breaker is an alert of its own, once per hold. Internal to daemon/cert. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/certbase.h"

struct fleet_renewal;
struct renewal;

/* When the breaker lets the next new order go (now, or later); forgets old orders. */
int64_t certdue_orders_allowed_at(const struct cert *c, struct state_cert *st, int64_t now);
/* Counts a new order placed at now. */
void certdue_record_order(struct state_cert *st, int64_t now);
/* The breaker holds new orders until `until`: the alert, once per hold. */
void certdue_note_order_limit(struct cert *c, struct state_cert *st, int64_t until,
			      int64_t now);
/* The instant before which no attempt may start, and why (one line); 0: none. */
int64_t certdue_held_until(const struct cert *c, struct state_cert *st, int64_t now,
			   char *why, size_t size);
/* A renewal_fleet_fn (userdata: the cert): merges the state the fleet's issuers stored
 * into the cert's (daemon/fleetrenew) and holds the renewal while it says wait: the CA's
 * Retry-After, the breaker (new orders only), and another issuer's backoff (unless
 * forced, as this host's own). */
bool certdue_fleet_hold(struct renewal *rn, const struct fleet_renewal *stored, bool resuming,
			char *why, size_t size, void *userdata);
/* When the next renewal attempt is due. */
int64_t certdue_next_renewal(struct cert *c, int64_t now);
