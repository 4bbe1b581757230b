/* common/dnscheck.h: the read-only DNS checker. For each name it looks up
 * TXT at _validation-persist.<base> (the base name for "*." names), follows
 * CNAMEs, hands the RRset to the record engine (common/record), reports the
 * DNSSEC status, optionally asks every authoritative server of the zone
 * directly, and optionally runs the CAA pre-flight (RFC 8659 tree climbing,
 * judged by common/caa). It never writes to DNS.
 *
 * The one common/ module with a loop: getdns in stub mode on the uv loop the
 * caller hands to dnscheck_new(), through common/getdns_uv. Everything is
 * asynchronous and bounded: at most max_inflight queries in flight (getdns
 * opens one UDP socket per query, so the window is also clamped well below
 * RLIMIT_NOFILE), a per-query timeout, a bounded queue of names, bounded
 * caches. Lookups of CAA, NS and addresses are shared between names and
 * reused for DNSCHECK_CACHE_MS; the TXT lookup is fresh for every name.
 *
 * Outcomes: a lookup that fails (SERVFAIL, REFUSED, timeout, truncation,
 * a DNSSEC-bogus answer, a referral, a reply to another question, a reply
 * that cannot be read) is an error (result.error != OK, status
 * "DNS_ERROR"), never NO_RECORD. NO_RECORD is only an NXDOMAIN or NODATA
 * answer to the question asked. A bogus answer is never VALID.
 *
 * Retries: getdns never retransmits, and never fails over on an error
 * rcode, so dnscheck does both. Each resolver has a getdns context of its
 * own. One question (name, type) has timeout_ms in all; each attempt gets
 * dnscheck_attempt_ms() of it (min(1 s, timeout_ms/3), doubling), and an
 * attempt that times out is cancelled and asked again of the next resolver
 * (the same one when there is one). A resolver that answers SERVFAIL,
 * REFUSED, another error rcode, a reply to another question or an
 * unreadable reply is not asked that question again: the next one is. The
 * question fails when every resolver failed that way, when the budget is
 * spent, or after DNSCHECK_MAX_ATTEMPTS attempts; the reason then names
 * what each resolver did.
 *
 * DNSSEC: validated against the trust anchor. A signed TXT answer is
 * checked here (common/dnscheck_sigs): its RRSIG against the zone's DNSKEY
 * RRset, which the validator judges once per zone per DNSCHECK_CACHE_MS,
 * and a signature verified once is remembered, so a later round costs one
 * query and a digest per name. Everything else (denials, CNAMEs, wildcards,
 * unsigned zones, anything that does not verify) goes to the validator:
 * getdns (every answer's chain fetched and verified again: getdns caches
 * nothing across queries), or, with trust_ad, taken from the AD flag of a validating
 * resolver on this host (unbound, systemd-resolved, ...), whose cache of
 * validated keys makes a recheck cost one query per name. With `unbound`,
 * the TXT lookups are validated here by libunbound (common/dnscheck_unbound),
 * which keeps validated keys across queries for their TTL.
 *
 * Errors: functions return -errno (-EINVAL bad option or name, -ENOENT
 * missing trust anchor file, -EPERM trust_ad with a resolver that is not a
 * loopback address, -E2BIG over a limit, -ENOMEM, -ESHUTDOWN after
 * dnscheck_free()). A function that returns an error never calls its
 * callback. Results arrive through the callback from the loop (never from
 * inside dnscheck_submit()), exactly one per submitted name: a request still
 * unanswered when dnscheck_free() is called gets DNSCHECK_ERR_CANCELLED from
 * inside dnscheck_free(), so that its owner can free what it lent (the
 * request's strings, the userdata). Such a callback must not touch state
 * its owner freed before calling dnscheck_free(). No logging. Requests
 * carry `now` for the record's persistUntil; the system clock is read
 * only for the validity of signatures, as the validator reads it. */
#pragma once

/* macro.h before uv.h: see common/getdns_uv.h. */
#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/caa.h"
#include "common/record.h"

#define DNSCHECK_ROOT_ANCHOR "/usr/share/dns/root.key"

enum dnscheck_dnssec {
	DNSCHECK_DNSSEC_UNCHECKED, /* validation off */
	DNSCHECK_DNSSEC_SECURE,
	DNSCHECK_DNSSEC_INSECURE,  /* provably unsigned, or no trust anchor covers it */
	DNSCHECK_DNSSEC_BOGUS,
	_DNSCHECK_DNSSEC_MAX,
};

const char *dnscheck_dnssec_to_string(enum dnscheck_dnssec d); /* "secure", ... */

/* Why a lookup gave no usable answer. */
enum dnscheck_error {
	DNSCHECK_OK,
	DNSCHECK_ERR_SERVFAIL,
	DNSCHECK_ERR_REFUSED,
	DNSCHECK_ERR_RCODE,         /* another error rcode (FORMERR, NOTIMP, ...) */
	DNSCHECK_ERR_TIMEOUT,
	DNSCHECK_ERR_TRUNCATED,     /* truncated, and the TCP retry failed */
	DNSCHECK_ERR_QUESTION,      /* the reply is to another question (name, type or class) */
	DNSCHECK_ERR_MALFORMED,     /* the reply has no readable question section */
	DNSCHECK_ERR_NETWORK,       /* getdns gave up on the connection (e.g. TCP closed) */
	DNSCHECK_ERR_BOGUS,         /* DNSSEC validation failed */
	DNSCHECK_ERR_REFERRAL,      /* a referral or an answer without authority */
	DNSCHECK_ERR_CNAME,         /* CNAME loop or chain over DNSCHECK_MAX_CNAME_HOPS */
	DNSCHECK_ERR_LIMIT,         /* more RRs than we evaluate */
	DNSCHECK_ERR_NO_ZONE,       /* --authoritative: no NS set or no server address */
	DNSCHECK_ERR_INTERNAL,      /* getdns refused the query */
	DNSCHECK_ERR_CANCELLED,     /* dnscheck_free() came before the answer */
	_DNSCHECK_ERR_MAX,
};

const char *dnscheck_error_to_string(enum dnscheck_error e); /* "SERVFAIL", "TIMEOUT", ... */

struct dnscheck_options {
	const char *const *resolvers; /* borrowed: "ADDR[@PORT]"; none: /etc/resolv.conf */
	size_t n_resolvers;
	const char *trust_anchor_file; /* DNSKEY/DS RRs; NULL: DNSCHECK_ROOT_ANCHOR */
	bool no_dnssec;                /* skip validation (dnssec "unchecked") */
	bool trust_ad;                 /* no validation here: ask with DO and take the
	                                * resolver's AD flag as "secure" (its absence as
	                                * "insecure"); a bogus answer is its SERVFAIL.
	                                * Every resolver must be a loopback address
	                                * (-EPERM otherwise), unless trust_ad_remote */
	bool trust_ad_remote;          /* the operator trusts the path to remote
	                                * resolvers (nothing authenticates the AD bit) */
	bool unbound;                  /* validate with libunbound (its key cache) instead
	                                * of getdns; only with validation on (not trust_ad) */
	uint64_t timeout_ms;           /* per question, all attempts and resolvers
	                                * included (see "Retries" above);
	                                * 0: DNSCHECK_DEFAULT_TIMEOUT_MS */
	unsigned max_inflight;         /* queries at once; 0: DNSCHECK_DEFAULT_INFLIGHT */
	uint16_t auth_port;            /* port of authoritative servers; 0: 53 */
	bool auth_ipv6;                /* also ask authoritative servers over IPv6 */
	uint64_t cache_ms;             /* how long a memoised lookup lives; 0:
	                                * DNSCHECK_CACHE_MS (tests wait less) */
};

struct dnscheck_request {
	const char *name;              /* copied: "www.example.com" or "*.example.com" */
	const char *const *issuers;    /* borrowed until the callback: lowercase issuer names */
	size_t n_issuers;
	const char *account_uri;       /* borrowed until the callback: the TXT accounturi */
	const char *caa_account_uri;   /* borrowed: CAA accounturi (account URL); NULL: account_uri */
	bool wildcard;                 /* needs wildcard coverage (implied by "*.") */
	int64_t now;
	bool caa;                      /* run the CAA pre-flight */
	bool authoritative;            /* ask every authoritative server */
	/* The last check of this name found it not signed (insecure or
	 * bogus): its TXT goes straight to the validator, without first
	 * looking for an RRSIG to check here (common/dnscheck_sigs). Only
	 * the cost differs, never the verdict. */
	bool unsigned_before;
};

/* One TXT RR, its strings joined (raw bytes, NUL-terminated, not counted). */
struct dnscheck_txt {
	char *text;                    /* owned */
	size_t len;
};

struct dnscheck_caa {
	bool checked;
	enum dnscheck_error error;     /* the climb failed: verdict unknown */
	char *error_name;              /* owned: where it failed */
	char *owner;                   /* owned: where the relevant RRset is; NULL if none */
	struct caa_verdict verdict;    /* when checked and error == OK */
	char **records;                /* owned: the relevant RRset, "flags tag \"value\"" */
	size_t n_records;
};

struct dnscheck_server {
	char *ns;                      /* owned: NS host name */
	char *address;                 /* owned: "192.0.2.1" or "2001:db8::1" */
	enum dnscheck_error error;
	enum record_status status;     /* when error == OK */
	char reason[320];
	struct dnscheck_txt *rrs;      /* owned */
	size_t n_rrs;
	uint64_t fingerprint;          /* of the CNAMEs and RRs; equal = same data */
};

struct dnscheck_result {
	const char *name;              /* as submitted */
	const char *base;              /* lowercase, without "*." */
	const char *owner;             /* _validation-persist.<base> */
	bool wildcard;
	enum dnscheck_error error;     /* OK: `verdict` says what a CA would conclude */
	char error_reason[320];
	struct record_verdict verdict;
	enum dnscheck_dnssec dnssec;
	struct record_verdict unvalidated; /* DNSCHECK_ERR_BOGUS: what the bogus data says */
	struct dnscheck_txt *rrs;      /* the TXT RRs found (after CNAMEs) */
	size_t n_rrs;
	char **cnames;                 /* the CNAME targets followed, in order */
	size_t n_cnames;
	struct dnscheck_caa caa;
	bool auth_checked;
	enum dnscheck_error auth_error; /* finding the zone or its servers failed */
	char auth_reason[200];
	const char *zone;              /* the zone apex asked about, NULL if unknown */
	struct dnscheck_server *servers;
	size_t n_servers;
	bool auth_disagree;            /* servers that answered did not all give the same data */
};

/* ---- raw TXT lookups (dns-01 propagation checks) ---- */

struct dnscheck_txt_request {
	const char *owner;             /* copied: the exact name, e.g. "_acme-challenge.example.com" */
	bool authoritative;            /* also ask every authoritative server of the zone */
};

/* What is at the name, without any record evaluation: the fields mean what
 * they mean in struct dnscheck_result (servers[].status and .fingerprint
 * are unset; .reason says how many RRs the server gave). No DNSSEC
 * validation (dnssec is "unchecked"). */
struct dnscheck_txt_result {
	const char *owner;             /* lowercase, no trailing dot */
	enum dnscheck_error error;
	const char *error_reason;      /* "" when error == OK */
	struct dnscheck_txt *rrs;
	size_t n_rrs;
	char **cnames;
	size_t n_cnames;
	bool auth_checked;
	enum dnscheck_error auth_error;
	const char *auth_reason;
	const char *zone;
	struct dnscheck_server *servers;
	size_t n_servers;
	bool auth_disagree;
};

/* "DNS_ERROR" or the record engine's outcome name. */
const char *dnscheck_result_status(const struct dnscheck_result *r);

/* The result is borrowed for the duration of the callback. */
typedef void (*dnscheck_done_fn)(const struct dnscheck_result *r, void *userdata);

struct dnscheck;

int dnscheck_new(uv_loop_t *loop, const struct dnscheck_options *o, struct dnscheck **ret);

/* Queues one name; -EINVAL if it is not a DNS name or the request lacks
 * issuers or an account URI, -E2BIG beyond DNSCHECK_MAX_QUEUED names. */
int dnscheck_submit(struct dnscheck *dc, const struct dnscheck_request *rq, dnscheck_done_fn cb,
		    void *userdata);

/* The TXT RRset at one owner name, as is (strings joined), through the same
 * window, timeouts, CNAME following and authoritative-server logic as
 * dnscheck_submit(). -EINVAL if owner is not a DNS name (letters, digits,
 * '-', '_', at most DNS_NAME_MAX_BYTES), -E2BIG with the queue full. */
typedef void (*dnscheck_txt_fn)(const struct dnscheck_txt_result *r, void *userdata);
int dnscheck_lookup_txt(struct dnscheck *dc, const struct dnscheck_txt_request *rq,
			dnscheck_txt_fn cb, void *userdata);

/* Names submitted and not yet delivered. */
size_t dnscheck_pending(const struct dnscheck *dc);

/* The effective window after clamping to RLIMIT_NOFILE. */
unsigned dnscheck_max_inflight(const struct dnscheck *dc);

struct dnscheck_stats {
	uint64_t queries;              /* handed to getdns */
	uint64_t cache_hits;
	unsigned peak_inflight;
	size_t cached;                 /* memoised lookups held now, running ones too */
	/* With validation on (not trust_ad): TXT answers shown secure here
	 * by their RRSIG and the zone's validated keys, how many of those
	 * needed no public-key operation (the memo), and TXT lookups the
	 * validator (getdns or libunbound) judged. */
	uint64_t sigs_secure;
	uint64_t sigs_memo_hits;
	uint64_t sigs_to_validator;
};

void dnscheck_get_stats(const struct dnscheck *dc, struct dnscheck_stats *ret);

/* Cancels everything: no further callbacks. Must not be called from inside a
 * getdns callback (it never is from a dnscheck_done_fn). Memory is released
 * once the loop has run the pending close callbacks, so keep running the
 * loop before uv_loop_close(). NULL is a no-op. */
void dnscheck_free(struct dnscheck *dc);

/* ---- pure helpers, exposed for tests and callers ---- */

struct dnscheck_addr {
	int family;                    /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

/* "192.0.2.1", "192.0.2.1@5353", "2001:db8::1", "2001:db8::1@53",
 * "[2001:db8::1]:53". -EINVAL otherwise. */
int dnscheck_parse_addr(const char *s, uint16_t default_port, struct dnscheck_addr *ret);

/* What a reply means, from the few facts that decide it. */
struct dnscheck_reply {
	bool answered;                 /* a reply came back (else: timeout) */
	unsigned rcode;
	bool aa, tc;
	bool has_data;                 /* RRs of the asked type at the final name */
	bool has_soa;                  /* an SOA in the authority section */
	bool has_ns;                   /* NS RRs in the authority section */
	bool require_aa;               /* asked an authoritative server directly */
	bool bogus;
};

enum dnscheck_reply_kind {
	DNSCHECK_REPLY_DATA,
	DNSCHECK_REPLY_NXDOMAIN,
	DNSCHECK_REPLY_NODATA,
	DNSCHECK_REPLY_ERROR,
};

enum dnscheck_reply_kind dnscheck_classify(const struct dnscheck_reply *r,
					   enum dnscheck_error *ret_error);

/* Whether a reply's question section answers the question asked: the same
 * name (compared case-insensitively, as DNS names are), type and class IN.
 * qname_wire is the reply's question name in wire format; name is the name
 * asked, in presentation form with or without the trailing dot. */
bool dnscheck_question_matches(const uint8_t *qname_wire, size_t qname_len, uint32_t qtype,
			       uint32_t qclass, const char *name, uint16_t type);

/* The timeout of attempt number `attempt` (0 first) of a question whose
 * whole budget is budget_ms, of which remaining_ms is left: min(1 s,
 * budget/3) doubled per attempt, at least 1 ms; all that is left when that
 * is less than twice as much; 0 when nothing is left. 5 s gives 1 s, 2 s,
 * 2 s; 300 ms gives 100 ms, 200 ms. */
uint64_t dnscheck_attempt_ms(uint64_t budget_ms, unsigned attempt, uint64_t remaining_ms);

/* Which of n resolvers to ask next, after resolver `cur`: the next one in
 * turn that is not in `failed` (a bit per resolver that gave a final
 * failure), `cur` itself last. -1 when every one has failed. */
int dnscheck_next_resolver(unsigned cur, unsigned n, uint32_t failed);

/* "a.b.example" -> "b.example"; NULL for a single label. Borrowed from name. */
const char *dnscheck_parent(const char *name);
