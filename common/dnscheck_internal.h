/* common/dnscheck_internal.h: the data that the pieces of the DNS checker
 * share. Internal to common/dnscheck*.c; nothing else includes it, and it
 * declares no functions (each piece has its own header for those).
 *
 * The pieces, bottom up (see common/dnscheck_api.c for how they fit):
 *   dnscheck         the pure half of common/dnscheck.h: name tables,
 *                    address parsing, reply classification, retry sums
 *   dnscheck_pure    pure helpers the pieces share (names, phrases, hash)
 *   dnscheck_rr      reading getdns' RR dicts
 *   dnscheck_ctx     one getdns context per server; teardown counting
 *   dnscheck_unbound the libunbound backend of validating lookups
 *   dnscheck_stub    our own UDP/TCP transport for lookups nobody here
 *                    validates
 *   dnscheck_lookup  one (name, type) resolution: attempts, retransmission,
 *                    the query window, reading the reply
 *   dnscheck_cache   memoised CAA, NS, address and DNSKEY lookups, shared by jobs
 *   dnscheck_sigs    a TXT answer's RRSIG checked here, against the zone's
 *                    keys the validator judged (common/rrsig, common/sigmemo)
 *   dnscheck_txt     the TXT part of a job and its evaluation
 *   dnscheck_caa     the CAA part: climbing towards the root
 *   dnscheck_auth    the authoritative part: zone, servers, fan-out
 *   dnscheck_job     the job queue: admission, parts, delivery
 *   dnscheck_api     dnscheck_new(), dnscheck_submit(), dnscheck_free(), ...
 * A piece calls only pieces listed above it. Calls upwards go through
 * function pointers: a part of a job ending through dc_job.part_done, a
 * lookup ending through dc_lookup.done, a memoised lookup telling those
 * that wait for it through dc_waiter.fn. */
#pragma once

/* macro.h before uv.h: see common/getdns_uv.h. */
#include "common/macro.h"

#include <assert.h>
#include <getdns/getdns_extra.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/dnscheck.h"
#include "common/getdns_uv.h"
#include "common/limits.h"
#include "common/list.h"
#include "common/strmap.h"

static_assert(DNSCHECK_MAX_RESOLVERS <= 32, "one bit per resolver in a uint32_t");

/* One getdns context per server: getdns neither retransmits nor fails over
 * on an error rcode, so dnscheck picks the server of every attempt. */
struct dc_ctx {
	struct dnscheck *dc;          /* borrowed */
	getdns_context *g;            /* owned */
	struct getdns_uv uv;          /* uv.data == this; outlives g until drained */
	bool attached;
	bool require_aa;              /* an authoritative server, asked directly */
	bool loopback;                /* its address is 127.0.0.0/8 or ::1 (trust-ad, the
					 * stub transport's socket reuse) */
	char address[INET6_ADDRSTRLEN]; /* authoritative: the address it is found by */
	char label[INET6_ADDRSTRLEN + 8]; /* "ADDR@PORT", for reasons */
	struct dnscheck_addr addr;    /* the server, for the stub transport */
	bool has_addr;                /* false: getdns' defaults, address unknown */
	struct list_link idle_socks;  /* common/dnscheck_stub's pool for it */
};

struct dc_blob {
	char *data;                   /* owned, NUL-terminated */
	size_t len;
};

struct dc_lookup;
struct dc_unbound;
struct sigmemo;
struct dc_sigkeys;

struct dc_waiter {
	struct list_link link;          /* on the lookup's waiters */
	void (*fn)(struct dc_waiter *w, struct dc_lookup *l);
};

struct dc_lookup {
	struct dnscheck *dc;          /* borrowed */
	struct dc_ctx *auth;          /* borrowed: the one server asked; NULL: the resolvers */
	uint16_t qtype;
	bool dnssec;
	/* Validation wanted, but checked by the caller (common/dnscheck_sigs):
	 * asked through the stub with DO set, the reply kept in wire. */
	bool want_sigs;
	uint8_t *wire;                /* owned: the last reply, with want_sigs */
	size_t wire_len;
	const char *cur;              /* the name asked now: qname or the last of chain */
	unsigned hops;
	/* attempts at the current question (cur, qtype) */
	uint64_t deadline_ms;         /* uv time its budget ends; 0: not asked yet */
	unsigned attempts;
	unsigned res;                 /* the resolver of the last attempt */
	uint32_t failed;              /* resolvers that gave a final failure (bit each) */
	enum dnscheck_error fail_error; /* the last final failure */
	char *why;                    /* owned: what each server did, NULL if nothing */
	/* the outcome */
	enum dnscheck_error error;
	enum dnscheck_reply_kind kind;
	enum dnscheck_dnssec dnssec_status;
	bool dnssec_seen;
	struct dc_blob *rrs;          /* owned */
	size_t n_rrs;
	char **chain;                 /* owned: CNAME targets */
	size_t n_chain;
	char *soa_owner;              /* owned: authority SOA of a negative answer */
	/* completion: the job part's for lookups owned by a job, the
	 * cache's for memoised ones (which then tells their waiters) */
	void (*done)(struct dc_lookup *l);
	void *owner;
	size_t index;
	/* the cache */
	bool complete;
	uint64_t hash;
	uint64_t done_at_ms;
	struct dc_lookup *hnext;
	struct list_link fifo;          /* complete cached lookups, oldest first */
	struct list_link waiters;
	char qname[];
};

struct dc_pending {
	struct list_link link;          /* on dc->queued */
	dnscheck_done_fn cb;          /* NULL for a raw lookup */
	dnscheck_txt_fn raw_cb;
	void *userdata;
	struct dnscheck_request rq;   /* rq.name points at name */
	char name[];
};

struct dc_job;

struct dc_nswait {
	struct dc_waiter w;
	struct dc_job *job;           /* borrowed */
	char *ns;                     /* owned */
	uint16_t qtype;
};

struct dc_job {
	struct list_link link;          /* on dc->active, then dc->done */
	struct dnscheck *dc;          /* borrowed */
	dnscheck_done_fn cb;          /* NULL: a raw lookup, raw_cb gets the result */
	dnscheck_txt_fn raw_cb;
	void *userdata;
	struct dnscheck_request rq;   /* strings borrowed from the caller, name from name */
	char *name;                   /* owned */
	char *base;                   /* owned */
	char *owner;                  /* owned */
	char *zone;                   /* owned */
	struct dnscheck_result res;
	unsigned parts;               /* TXT, CAA, authoritative parts still running */
	void (*part_done)(struct dc_job *j); /* the job queue's: ends one part */
	struct dc_lookup *txt;        /* owned while the TXT part runs */
	/* CAA climb */
	char *caa_name;               /* owned: where the climb is; only ever shortened */
	struct dc_waiter caa_wait;
	bool caa_waiting;
	/* the TXT answer's signer keys (common/dnscheck_sigs) */
	struct dc_waiter keys_wait;
	bool keys_waiting;
	/* authoritative */
	char *auth_name;              /* owned: likewise */
	struct dc_waiter auth_wait;
	bool auth_waiting;
	struct dc_nswait *nsw;        /* owned */
	size_t n_nsw;
	unsigned auth_outstanding;
	struct dc_lookup **server_lookups; /* owned, parallel to res.servers */
	size_t servers_cap;
};

struct dnscheck {
	uv_loop_t *loop;              /* borrowed */
	struct dc_ctx *res[DNSCHECK_MAX_RESOLVERS]; /* owned: one per resolver */
	size_t n_res;
	struct dc_ctx *auth[DNSCHECK_MAX_AUTH_CONTEXTS]; /* owned */
	size_t n_auth;
	getdns_dict *ext_dnssec;      /* owned; NULL with validation off */
	bool trust_ad;                /* ext_dnssec only sets DO: read the AD flag */
	struct dc_unbound *ub;        /* owned: validating lookups go to libunbound */
	uint64_t timeout_ms;
	uint64_t cache_ms;
	unsigned max_inflight;
	uint16_t auth_port;
	bool auth_ipv6;
	/* names */
	struct list_link queued;
	size_t n_queued;
	struct list_link active;
	size_t n_active;
	struct list_link done;
	size_t n_done;
	uv_idle_t dispatch;           /* dispatch.data == this */
	bool dispatching;
	/* queries */
	struct list_link waiting;
	struct list_link inflight;
	unsigned n_inflight;
	bool pumping;
	bool cancelling;              /* inside our own getdns_cancel_callback() */
	/* cache */
	struct dc_lookup **buckets;   /* owned */
	size_t n_buckets;
	size_t n_entries;
	struct list_link fifo;
	uv_timer_t cache_timer;       /* the oldest complete lookup expires; data == this */
	struct dnscheck_stats stats;
	/* validated here against keys the validator judged (dnscheck_sigs) */
	struct sigmemo *sigmemo;      /* owned; NULL: every TXT goes to the validator */
	struct dc_sigkeys *sigkeys;   /* owned: zone keys parsed once */
	struct strmap sigparents;     /* owned: struct dc_sigparent by parent name */
	/* the stub transport (common/dnscheck_stub) */
	uint8_t *stub_buf;            /* owned: one UDP datagram, DNSWIRE_MAX_MESSAGE */
	uint8_t stub_rand[512];        /* query ids to come */
	size_t stub_rand_left;
	/* teardown */
	bool freeing;
	unsigned draining;            /* contexts and handles still closing */
};
