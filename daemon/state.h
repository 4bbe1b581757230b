/* daemon/state.h: what persistd remembers between runs, as state.json.
 *
 * Per CA: the account URL and what the CA told us (issuer names, accounturi
 * mode, whether it offers dns-persist-01). Per cert: the current
 * certificate's facts, the renewal schedule and its failures, the ARI
 * window, an order in flight (its URL, so a restart resumes it), and per
 * name the last record check and its alert level.
 *
 * The model is plain structs, owned here; daemon/statejson converts it to
 * and from the file. Errors: -ENOMEM. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/level.h"
#include "common/macro.h"
#include "common/record.h"
#include "common/strmap.h"

#define STATE_VERSION 1
#define STATE_MAX_ORDER_TIMES 100 /* the highest max_orders_per_hour */

/* A name's or cert's level is one of LEVEL_OK to LEVEL_ERROR (common/level.h),
 * stored by its word; the daemon never computes LEVEL_UNKNOWN, and a file
 * that says UNKNOWN has the wrong type. */

/* A name's check outcome is mostly the same words for every name of an account: its
 * strings marked "shared" are held in one pool (common/strpool), set only by
 * state_set_shared() and let go only by this module. */
struct state_name {
	char *name;              /* owned: as configured ("*.example.com" kept) */
	int64_t checked_at;
	const char *status;      /* shared: record outcome name or "DNS_ERROR" */
	const char *reason;      /* shared: one line */
	const char *record;      /* shared: the record text that decided, if any */
	const char *dnssec;      /* shared: "secure", "insecure", "bogus", "unchecked" */
	int64_t persist_until;   /* when has_until */
	const char *caa;         /* shared: CAA verdict line, or NULL */
	const char *level_reason; /* shared */
	int64_t alerted_at;
	int64_t next_check;      /* 0: not scheduled */
	/* the small fields together, so the struct has no holes (100k of them) */
	unsigned dns_failures;   /* consecutive DNS_ERROR results */
	enum level level;        /* computed at the last check */
	enum level alerted_level; /* last level written to the journal */
	bool checked;            /* a check has completed at least once */
	bool dns_error;          /* the last check could not tell */
	bool policy_wildcard;
	bool wildcard_needed;
	bool has_until;
};

/* A cert's orders and its revocation: what a cert has only now and then (an order in
 * flight, orders of the last hour, a revocation), so 100k certs keep it apart and most
 * keep none. Read it through state_cert_orders(), which is never NULL; change it through
 * state_cert_orders_mut(), which makes it. Once all of it is back to nothing, the entry
 * lets it go when its change is journaled (state_clear_dirty()), not before: a pointer
 * to it stays valid while the loop runs one callback. */
struct state_cert_orders {
	/* the issuance circuit breaker: when the last new orders were placed (Unix
	 * seconds, oldest first, at most STATE_MAX_ORDER_TIMES) */
	int64_t *order_times;    /* owned */
	size_t n_order_times;
	/* an order in flight */
	char *order_url;         /* owned or NULL */
	int64_t order_started;
	int64_t order_requested_at; /* newOrder went out and no URL came back yet: the CA
				     * may hold an order to find after a restart; 0: none */
	char *order_replaces;    /* owned: ARI cert id sent with it */
	/* the last revocation asked for (persistctl revoke): the current certificate
	 * is revoked while its serial is revoked_serial (state_cert_is_revoked) */
	char *revoked_serial;    /* owned or NULL */
	int64_t revoked_at;
	char *revoked_reason;    /* owned: the RFC 5280 reason name, or NULL for none */
};

/* RFC 5280 4.1.2.2: a conforming CA's serial has at most 20 octets (leading zeros dropped,
 * as x509_info's serial_hex has it). Kept inline: 100k certs, no allocation each. */
#define STATE_SERIAL_MAX 20

struct state_cert {
	const char *name;        /* part of the entry's own allocation: never freed alone */
	struct state_name *names; /* owned array */
	/* the current certificate */
	int64_t not_before, not_after;
	char *ari_cert_id;       /* owned or NULL */
	const char *issuer_cn;   /* shared (state_set_shared): one issuer for many certs */
	/* renewal */
	int64_t ari_start, ari_end;  /* 0: no window known */
	int64_t ari_next_fetch;
	int64_t next_renewal;    /* when the renewal is due */
	int64_t last_renewal;    /* last successful issuance */
	int64_t last_attempt;
	char *last_error;        /* owned: last failure, one line; NULL after success */
	int64_t retry_at;        /* backoff: not before this */
	int64_t ca_retry_until;  /* the CA's Retry-After: no request for this cert before it,
				  * even when forced; 0: none */
	struct state_cert_orders *orders; /* owned or NULL: see state_cert_orders() */
	int64_t orders_held_until; /* the order limit was reached: no new order before it;
				    * here, not in orders, so that a hold needs no memory */
	char *records_hint;      /* owned: the record(s) to publish when a precheck refused */
	/* waiting for the record: a new cert (no certificate yet) is WARNING, not ERROR,
	 * for record_grace from when it was first seen */
	int64_t first_seen;
	int64_t record_grace_until; /* not saved: first_seen + record_grace, set by
				     * daemon/certbase while there is no certificate; else 0 */
	char *level_reason;      /* owned: why the cert's own level is what it is */
	int64_t alerted_at;
	/* the small fields together, so the struct has no holes (100k of them) */
	unsigned n_names;
	unsigned version;        /* archive/<N> of the current certificate */
	unsigned failures;       /* consecutive failed renewals */
	uint8_t serial[STATE_SERIAL_MAX]; /* the current certificate's, serial_len bytes of
					   * it (0: none): through state_cert_serial_*() */
	/* the cert's own alert level (expiry, failing renewals) */
	enum level level;
	enum level alerted_level;
	uint8_t serial_len;
	bool has_cert;
	bool cert_rejected;      /* the last failure was a certificate the CA issued that
				  * certcheck refused to install */
	/* the deploy hook: pending from a new certificate until the hook ends
	 * (so a stop or crash in between runs it again at the next start);
	 * failed when it last ended badly (last_error says how) */
	bool deploy_pending;
	bool deploy_failed;
	bool dirty;              /* not saved: in state.dirty, to be journaled (statejournal) */
};

struct state_ca {
	char *name;              /* owned */
	char *directory;         /* owned: the URL the account belongs to */
	char *account_url;       /* owned or NULL */
	char *uri_mode;          /* owned: "url" or "hashed", as last used */
	char *hash_prefix;       /* owned or NULL */
	char **issuers;          /* owned, NULL-terminated */
	size_t n_issuers;
	int offers_persist;      /* -1 unknown, 0 no, 1 yes (seen in an authz) */
	int64_t probed_at;
};

struct state {
	struct state_ca **cas;   /* owned */
	size_t n_cas;
	struct state_cert **certs; /* owned */
	size_t n_certs;
	struct strmap cert_map;  /* name -> certs[i]: lookups stay O(1) at 100k certs */
	/* daemon/statejournal: the journal that goes with this snapshot (saved as
	 * "journal_gen"; 0 in a state.json from before the journal), and the
	 * certs changed since the last write */
	int64_t journal_gen;
	struct state_cert **dirty; /* owned array of borrowed certs */
	size_t n_dirty, dirty_cap;
};

struct state *state_new(void);
void state_free(struct state *s);
DEFINE_FREEP(struct state, state_free)

/* Find or (create=true) add. NULL only on out-of-memory or when absent. */
struct state_ca *state_get_ca(struct state *s, const char *name, bool create);
struct state_cert *state_get_cert(struct state *s, const char *name, bool create);
struct state_name *state_cert_get_name(struct state_cert *c, const char *name, bool create);

/* Drops certs and names that are no longer configured; keeps the rest. */
void state_cert_retain_names(struct state_cert *c, char *const *names, size_t n);
void state_retain_certs(struct state *s, const char *const *names, size_t n);

/* The serial of the certificate in use, as lowercase hex (x509_info's serial_hex). set:
 * NULL clears it; -EINVAL (and none kept) when hex is not an even run of hex digits
 * of at most STATE_SERIAL_MAX bytes. hex: "" when none. is: equal to a hex serial
 * (letter case ignored); false when either is none. */
#define STATE_SERIAL_HEX_MAX (2 * STATE_SERIAL_MAX + 1)
int state_cert_set_serial(struct state_cert *c, const char *hex);
const char *state_cert_serial_hex(const struct state_cert *c, char buf[STATE_SERIAL_HEX_MAX]);
bool state_cert_serial_is(const struct state_cert *c, const char *hex);

/* Is the certificate in use the one revoked last (then it must be replaced)? */
bool state_cert_is_revoked(const struct state_cert *c);
/* c's orders part, or an empty one shared by all (read only). */
const struct state_cert_orders *state_cert_orders(const struct state_cert *c);
/* c's own orders part, made empty the first time. NULL: out of memory. */
struct state_cert_orders *state_cert_orders_mut(struct state_cert *c);
/* Empties c of everything but its name and its dirty mark, in place
 * (daemon/statejson reads a cert again into the same entry). */
void state_cert_clear(struct state_cert *c);
/* Does an orders part hold nothing? And lets go of what it holds, not of o. */
bool state_orders_empty(const struct state_cert_orders *o);
void state_orders_done(struct state_cert_orders *o);

/* Notes c as changed since the last write (once). -ENOMEM: the caller must
 * then write everything. state_clear_dirty() after a write. Certs dropped by
 * state_retain_certs() leave the list. */
int state_mark_dirty(struct state *s, struct state_cert *c);
void state_clear_dirty(struct state *s);
/* Lets go of the orders parts of dirty entries that hold nothing any more. Only for a
 * callback of its own (the state timer): whoever changes an entry may hold its part. */
void state_trim_dirty(struct state *s);

/* Replaces *slot with a copy of v (NULL clears). -ENOMEM. */
int state_set_str(char **slot, const char *v);
/* The same for a shared field (a state_name's outcome, a state_cert's issuer): v's one
 * shared copy (NULL clears). */
int state_set_shared(const char **slot, const char *v);
