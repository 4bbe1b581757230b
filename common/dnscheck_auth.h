/* common/dnscheck_auth.h: the authoritative part of a DNS checker job
 * (internal to common/dnscheck*.c): find the zone of the owner name (NS at
 * the owner name, then at the apex a negative answer's SOA names, else the
 * parent), the addresses of its name servers (shared lookups through the
 * cache), and ask each server directly for the TXT RRset, at most
 * DNSCHECK_MAX_AUTH_SERVERS of them.
 *
 * Promises: dnscheck_auth_start() counts one part in j->parts and ends it
 * exactly once through j->part_done, with j->res's zone, servers (each with
 * its error, data, verdict and fingerprint), auth_disagree, or auth_error
 * and auth_reason filled in. */
#pragma once

#include "common/dnscheck_internal.h"

void dnscheck_auth_start(struct dc_job *j);
