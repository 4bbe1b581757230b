/* common/dnscheck_unbound.c: see dnscheck_unbound.h. */
#include "common/dnscheck_unbound.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/dnscheck_ctx.h"
#include "common/strutil.h"

/* Seconds any answer, key or verdict stays in libunbound's caches. */
#define UNBOUND_CACHE_S 1
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct dc_unbound {
	struct ub_ctx *ub;            /* owned */
	uv_poll_t poll;               /* poll.data == dc; on ub_fd */
	bool poll_open;
	unsigned outstanding;         /* queries not yet released: the poll is referenced */
	struct dc_ctx ctx;            /* a label for reasons; no getdns context */
};

enum dnscheck_dnssec dnscheck_unbound_dnssec(int secure, int bogus)
{
	if (bogus)
		return DNSCHECK_DNSSEC_BOGUS;
	return secure ? DNSCHECK_DNSSEC_SECURE : DNSCHECK_DNSSEC_INSECURE;
}

enum dnscheck_error dnscheck_unbound_error(int rcode, int bogus, bool have_packet)
{
	if (bogus)
		return DNSCHECK_ERR_BOGUS;
	if (!have_packet || rcode == 2)
		return DNSCHECK_ERR_SERVFAIL;
	if (rcode == 5)
		return DNSCHECK_ERR_REFUSED;
	if (rcode != 0 && rcode != 3)
		return DNSCHECK_ERR_RCODE;
	return DNSCHECK_OK;
}

struct dc_ctx *dnscheck_unbound_ctx(struct dnscheck *dc)
{
	return &dc->ub->ctx;
}

static void on_ub_readable(uv_poll_t *p, int status, int events)
{
	struct dnscheck *dc = p->data;

	(void)status;
	(void)events;
	/* Runs the callbacks of every result the thread has handed over. */
	(void)ub_process(dc->ub->ub);
}

/* "127.0.0.1@53" as ub_ctx_set_fwd() wants it (also for IPv6). */
static void fwd_string(const struct dnscheck_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, host, sizeof(host)))
		str_printf(host, sizeof(host), "?");
	str_printf(buf, size, "%s@%u", host, a->port);
}

/* The anchor file read once, bounded (a FIFO must not block the loop), and
 * handed over RR by RR: only DNSKEY and DS RRs, as with getdns. */
static int add_anchors(struct ub_ctx *ub, const char *path)
{
	getdns_list *l = NULL;
	size_t n = 0;
	int r = dnscheck_ctx_read_trust_anchors(path, &l);

	if (r < 0)
		return r;
	(void)getdns_list_get_length(l, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		getdns_dict *rr;
		char *s = NULL;
		if (getdns_list_get_dict(l, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_rr_dict2str(rr, &s) != GETDNS_RETURN_GOOD)
			r = -EINVAL;
		else if (ub_ctx_add_ta(ub, s) != 0)
			r = -EINVAL;
		free(s);
	}
	getdns_list_destroy(l);
	return r;
}

static int configure(struct dnscheck *dc, struct dc_unbound *u, const struct dnscheck_addr *addrs,
		     size_t n, const char *anchor_file)
{
	static const char *const opts[][2] = {
		/* The forwarders are often on this host (a local unbound). */
		{ "do-not-query-localhost:", "no" },
		/* why_bogus says why; the library must not log on its own. */
		{ "val-log-level:", "2" },
		{ "val-log-squelch:", "yes" },
		{ "verbosity:", "0" },
		{ "use-syslog:", "no" },
		/* Freshness as with getdns, which caches no answer: a record
		 * just published, changed or fixed is seen at the next check
		 * (a daemon keeps its ub_ctx for months), not after its TTL.
		 * The cap also bounds the key cache: keys are validated once
		 * per zone per UNBOUND_CACHE_S during a round, not per name. */
		{ "cache-max-ttl:", STRINGIFY(UNBOUND_CACHE_S) },
		{ "cache-max-negative-ttl:", STRINGIFY(UNBOUND_CACHE_S) },
		{ "val-bogus-ttl:", STRINGIFY(UNBOUND_CACHE_S) },
		/* getdns asks the resolvers for every name; unbound would answer
		 * these special-use zones (RFC 6761 and later) itself.
		 * ("nodefault" set through ub_ctx_set_option() does not take in
		 * 1.17; "transparent" without local data asks the forwarders.) */
		{ "local-zone:", "test. transparent" },
		{ "local-zone:", "invalid. transparent" },
		{ "local-zone:", "onion. transparent" },
		{ "local-zone:", "home.arpa. transparent" },
	};
	char fwd[INET6_ADDRSTRLEN + 8];
	int r;

	for (size_t i = 0; i < ELEMENTSOF(opts); i++)
		if (ub_ctx_set_option(u->ub, opts[i][0], opts[i][1]) != 0)
			return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		fwd_string(&addrs[i], fwd, sizeof(fwd));
		if (ub_ctx_set_fwd(u->ub, fwd) != 0)
			return -EINVAL;
	}
	if (n == 0 && ub_ctx_resolvconf(u->ub, NULL) != 0)
		return -EIO;
	if (n > 0) {
		fwd_string(&addrs[0], fwd, sizeof(fwd));
		str_printf(u->ctx.label, sizeof(u->ctx.label), "unbound>%s%s", fwd,
			   n > 1 ? "+" : "");
	} else
		str_printf(u->ctx.label, sizeof(u->ctx.label), "unbound>the system resolver");
	r = add_anchors(u->ub, anchor_file);
	if (r < 0)
		return r;
	if (ub_ctx_async(u->ub, 1) != 0)
		return -EINVAL;
	(void)dc;
	return 0;
}

int dnscheck_unbound_new(struct dnscheck *dc, const struct dnscheck_addr *addrs, size_t n,
			 const char *anchor_file)
{
	struct dc_unbound *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->ctx.dc = dc;
	u->ub = ub_ctx_create();
	if (!u->ub) {
		free(u);
		return -EIO;
	}
	r = configure(dc, u, addrs, n, anchor_file);
	if (r == 0 && uv_poll_init(dc->loop, &u->poll, ub_fd(u->ub)) != 0)
		r = -EIO;
	if (r < 0) {
		ub_ctx_delete(u->ub);
		free(u);
		return r;
	}
	u->poll.data = dc;
	u->poll_open = true;
	(void)uv_poll_start(&u->poll, UV_READABLE, on_ub_readable);
	uv_unref((uv_handle_t *)&u->poll);
	dc->ub = u;
	return 0;
}

int dnscheck_unbound_resolve(struct dnscheck *dc, const char *name, uint16_t qtype, void *arg,
			     ub_callback_type cb, int *ret_id)
{
	struct dc_unbound *u = dc->ub;

	if (ub_resolve_async(u->ub, name, qtype, 1 /* IN */, arg, cb, ret_id) != 0)
		return -EIO;
	if (u->outstanding++ == 0)
		uv_ref((uv_handle_t *)&u->poll);
	return 0;
}

void dnscheck_unbound_cancel(struct dnscheck *dc, int id)
{
	(void)ub_cancel(dc->ub->ub, id);
}

void dnscheck_unbound_release(struct dnscheck *dc)
{
	struct dc_unbound *u = dc->ub;

	assert(u->outstanding > 0);
	if (--u->outstanding == 0)
		uv_unref((uv_handle_t *)&u->poll);
}

static void on_poll_closed(uv_handle_t *h)
{
	struct dnscheck *dc = h->data;
	struct dc_unbound *u = container_of((uv_poll_t *)h, struct dc_unbound, poll);

	free(u);
	dnscheck_ctx_drain_one(dc);
}

void dnscheck_unbound_free(struct dnscheck *dc)
{
	struct dc_unbound *u = dc->ub;

	if (!u)
		return;
	dc->ub = NULL;
	/* The poll first: its fd must leave the epoll set while it is open. */
	dc->draining++;
	uv_close((uv_handle_t *)&u->poll, on_poll_closed);
	/* Stops the thread; callbacks of what was in flight never run. */
	ub_ctx_delete(u->ub);
	u->ub = NULL;
}
