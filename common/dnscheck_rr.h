/* common/dnscheck_rr.h: reading what getdns returns, for the DNS checker
 * (internal to common/dnscheck*.c): the owner, type and data of one RR
 * dict, a type's name, a reply's DNSSEC status.
 *
 * No state, no loop: each function reads only the dict it is given.
 * Errors: -EINVAL when the dict lacks what is asked or it is malformed,
 * -E2BIG when data is over a limit of common/limits.h, -ENOMEM. */
#pragma once

#include "common/dnscheck_internal.h"

#include <stddef.h>
#include <stdint.h>

/* The owner name, lowercase presentation form without the trailing dot. */
int dnscheck_rr_owner(getdns_dict *rr, char *buf, size_t size);

/* The RR's type; 0 if it has none. */
uint32_t dnscheck_rr_type(getdns_dict *rr);

/* The RR's data in the form a lookup keeps (ret->data owned by the caller):
 * TXT strings joined, CAA rdata raw, an NS name or an address as text.
 * -EINVAL for any other qtype. */
int dnscheck_rr_blob(getdns_dict *rr, uint16_t qtype, struct dc_blob *ret);

/* "TXT", "CAA", ..., or "TYPEn" written into buf. */
const char *dnscheck_rr_type_name(uint32_t t, char *buf, size_t size);

/* getdns' dnssec_status value as ours; INDETERMINATE (no trust anchor
 * covers the name) is insecure. */
enum dnscheck_dnssec dnscheck_rr_dnssec(uint32_t s);
