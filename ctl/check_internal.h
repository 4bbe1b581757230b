/* ctl/check_internal.h: internal to ctl/check, ctl/checkfmt and
 * ctl/checkpool, the three pieces of `persistctl check --direct`: the
 * settings ctl/check parses from the command line, which ctl/checkpool
 * checks with and ctl/checkfmt judges and prints by. Read-only once parsed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* macro.h before uv.h (via dnscheck.h): see common/getdns_uv.h. */
#include "common/macro.h"
#include "common/dnscheck.h"
#include "common/limits.h"
#include "common/record.h"

/* UNKNOWN: monitoring plugins say so for bad arguments too */
#define EXIT_CHECK_USAGE 3

struct check_args {
	const char *issuers[RECORD_MAX_ISSUERS];
	char *issuers_owned[RECORD_MAX_ISSUERS]; /* owned: normalized copies */
	size_t n_issuers;
	const char *account_uri;
	const char *caa_account_uri;
	bool wildcard;
	const char *resolvers[DNSCHECK_MAX_RESOLVERS];
	size_t n_resolvers;
	const char *trust_anchor;
	bool trust_ad, trust_ad_remote;   /* --dnssec trust-ad[-remote] */
	bool unbound;                     /* --dns-backend unbound */
	bool authoritative;
	uint16_t auth_port;
	bool caa;
	bool json;
	int64_t now;
	uint64_t warn_ms, critical_ms, timeout_ms;
	unsigned max_inflight;
	size_t threads;
	const char *file;
};
