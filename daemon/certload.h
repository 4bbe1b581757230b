/* daemon/certload.h: a cert's current certificate, from the store into its
 * state entry.
 *
 * Owns the file side of a cert's start: the facts of the certificate in use
 * (validity, serial, issuer, ARI id, archive version) as the state keeps
 * them. Promises:
 *   - cert_load() does it for one cert, from what daemon/certpreload read for
 *     it already (pre) or by reading it here (pre NULL), and loads its CA's
 *     local facts; nothing is scheduled and no hook runs;
 *   - certload_current() reads and applies the certificate alone (after a
 *     renewal installed one);
 *   - certload_all() runs cert_load() for every configured cert at start, in
 *     the config's order, with the reading and parsing on certpreload's
 *     threads ahead of this one (each cert reads its own if they cannot
 *     start). A certificate that cannot be read or does not parse is logged
 *     and leaves the cert without one; only -ENOMEM fails (logged).
 * Loop thread. */
#pragma once

struct cert;
struct cert_preloaded;
struct daemon;

int cert_load(struct cert *c, const struct cert_preloaded *pre);
void certload_current(struct cert *c);
int certload_all(struct daemon *d);
