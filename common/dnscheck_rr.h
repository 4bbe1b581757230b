/* common/dnscheck_rr.h: reading the RRs of a reply, for the DNS checker
 * (internal to common/dnscheck*.c): the data of one RR in the form a
 * lookup keeps, a type's name, getdns' DNSSEC status as ours.
 *
 * No state, no loop: each function reads only the message it is given,
 * bounded by common/dnswire. Errors: -EINVAL when the RR is malformed,
 * -E2BIG when data is over a limit of common/limits.h, -ENOMEM. */
#pragma once

#include "common/dnscheck_internal.h"
#include "common/dnswire.h"

#include <stddef.h>
#include <stdint.h>

/* The RR's owner (or any wire name), lowercase presentation form without
 * the trailing dot. */
int dnscheck_rr_owner(const struct dnswire_rr *rr, char *buf, size_t size);

/* The RR's data in the form a lookup keeps (ret->data owned by the caller):
 * TXT strings joined, CAA rdata raw, an NS or CNAME name or an address as
 * text. -EINVAL for any other qtype. */
int dnscheck_rr_blob(const struct dnswire_msg *m, const struct dnswire_rr *rr, uint16_t qtype,
		     struct dc_blob *ret);

/* "TXT", "CAA", ..., or "TYPEn" written into buf. */
const char *dnscheck_rr_type_name(uint32_t t, char *buf, size_t size);

/* getdns' dnssec_status value as ours; INDETERMINATE (no trust anchor
 * covers the name) is insecure. */
enum dnscheck_dnssec dnscheck_rr_dnssec(uint32_t s);
