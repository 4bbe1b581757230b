/* common/hostport.h: HOST:PORT, as check_served takes it.
 *
 * HOST is a DNS name (letters, digits, '-', '.', '_'), an IPv4 address, or an
 * IPv6 address in brackets ("[::1]:443"); PORT is 1..65535 and required (a
 * TLS service is on no default port: SMTP, IMAP and HTTPS differ).
 * Pure: no I/O, no resolution. Errors: -EINVAL malformed (the reason in a
 * short constant string through *reterr when it is not NULL), -E2BIG for a
 * host over HOSTPORT_MAX_HOST_BYTES, -ENOMEM. */
#pragma once

#include <stdint.h>

#define HOSTPORT_MAX_HOST_BYTES 253

/* *ret_host is owned by the caller, without brackets ("::1"). */
int hostport_parse(const char *s, char **ret_host, uint16_t *ret_port, const char **reterr);
