/* common/dnscheck_ctx.c: see dnscheck_ctx.h. */
#include "common/dnscheck_ctx.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/fileio.h"
#include "common/strutil.h"

void dnscheck_ctx_drain_one(struct dnscheck *dc)
{
	assert(dc->draining > 0);
	if (--dc->draining == 0) {
		free(dc->stub_buf);
		free(dc);
	}
}

static void on_ctx_drained(struct getdns_uv *a)
{
	struct dc_ctx *c = a->data;
	struct dnscheck *dc = c->dc;

	free(c);
	dnscheck_ctx_drain_one(dc);
}

/* Destroys c's getdns context; c itself goes when its adapter drained. */
void dnscheck_ctx_destroy(struct dc_ctx *c)
{
	if (!c)
		return;
	if (c->g)
		getdns_context_destroy(c->g);
	if (!c->attached || getdns_uv_drained(&c->uv)) {
		free(c);
		return;
	}
	c->dc->draining++;
	c->uv.on_drained = on_ctx_drained;
}

static int upstreams_from(const struct dnscheck_addr *addrs, size_t n, getdns_list **ret)
{
	getdns_list *l = getdns_list_create();

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		getdns_dict *u = getdns_dict_create();
		bool v4 = addrs[i].family == AF_INET;
		getdns_bindata type = { 4, (uint8_t *)(v4 ? "IPv4" : "IPv6") };
		getdns_bindata data = { v4 ? 4 : 16, (uint8_t *)addrs[i].addr };

		if (!u || getdns_dict_set_bindata(u, "address_type", &type) ||
		    getdns_dict_set_bindata(u, "address_data", &data) ||
		    getdns_dict_set_int(u, "port", addrs[i].port) || getdns_list_set_dict(l, i, u)) {
			getdns_dict_destroy(u);
			getdns_list_destroy(l);
			return -ENOMEM;
		}
		getdns_dict_destroy(u);
	}
	*ret = l;
	return 0;
}

/* "192.0.2.1@53", "[2001:db8::1]@53". */
static void addr_label(const struct dnscheck_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, host, sizeof(host)))
		str_printf(host, sizeof(host), "?");
	str_printf(buf, size, a->family == AF_INET6 ? "[%s]@%u" : "%s@%u", host, a->port);
}

/* The address and port of one upstream dict. */
static int upstream_addr(getdns_dict *u, struct dnscheck_addr *a)
{
	getdns_bindata *b;
	uint32_t port;

	*a = (struct dnscheck_addr){ .port = 53 };
	if (getdns_dict_get_bindata(u, "address_data", &b) != GETDNS_RETURN_GOOD ||
	    (b->size != 4 && b->size != 16))
		return -EINVAL;
	a->family = b->size == 4 ? AF_INET : AF_INET6;
	memcpy(a->addr, b->data, b->size);
	if (getdns_dict_get_int(u, "port", &port) == GETDNS_RETURN_GOOD && port > 0 &&
	    port <= 65535)
		a->port = (uint16_t)port;
	/* A link-local server needs its interface, which this form lacks. */
	if (getdns_dict_get_bindata(u, "scope_id", &b) == GETDNS_RETURN_GOOD)
		return -EADDRNOTAVAIL;
	return 0;
}

/* The label of one upstream dict as getdns lists the system's. */
static void upstream_label(getdns_dict *u, char *buf, size_t size)
{
	struct dnscheck_addr a;

	if (upstream_addr(u, &a) < 0)
		str_printf(buf, size, "?");
	else
		addr_label(&a, buf, size);
}

/* A context asking exactly the servers in ups (borrowed; NULL: the
 * system's). from_os: start from the system's settings (resolv.conf and
 * the hosts file), then replace its servers by ups. */
static struct dc_ctx *ctx_new(struct dnscheck *dc, getdns_list *ups, bool from_os, bool require_aa,
			      int *ret_r)
{
	struct dc_ctx *c = calloc(1, sizeof(*c));
	getdns_transport_list_t transports[] = { GETDNS_TRANSPORT_UDP, GETDNS_TRANSPORT_TCP };
	int r = -ENOMEM;

	if (!c)
		goto fail;
	c->dc = dc;
	c->require_aa = require_aa;
	list_init(&c->idle_socks);
	getdns_uv_init(&c->uv, dc->loop);
	c->uv.data = c;
	if (getdns_context_create(&c->g, from_os) != GETDNS_RETURN_GOOD) {
		c->g = NULL;
		r = -EIO;
		goto fail;
	}
	r = -EINVAL;
	if (getdns_context_set_resolution_type(c->g, GETDNS_RESOLUTION_STUB) ||
	    getdns_context_set_dns_transport_list(c->g, ELEMENTSOF(transports), transports) ||
	    getdns_context_set_timeout(c->g, dc->timeout_ms))
		goto fail;
	if (ups && getdns_context_set_upstream_recursive_servers(c->g, ups) != GETDNS_RETURN_GOOD)
		goto fail;
	r = getdns_uv_attach(&c->uv, c->g);
	if (r < 0)
		goto fail;
	c->attached = true;
	return c;

fail:
	if (c) {
		if (c->g)
			getdns_context_destroy(c->g);
		if (c->attached) {
			/* cleanup() ran; nothing was scheduled yet. */
			assert(getdns_uv_drained(&c->uv));
		}
		free(c);
	}
	*ret_r = r;
	return NULL;
}

static bool addr_is_loopback(const struct dnscheck_addr *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	return a->family == AF_INET ? a->addr[0] == 127 : memcmp(a->addr, v6_loopback, 16) == 0;
}

struct dc_ctx *dnscheck_ctx_auth(struct dnscheck *dc, const char *address)
{
	for (size_t i = 0; i < dc->n_auth; i++)
		if (streq(dc->auth[i]->address, address))
			return dc->auth[i];
	if (dc->n_auth == DNSCHECK_MAX_AUTH_CONTEXTS)
		return NULL;

	struct dnscheck_addr a;
	getdns_list *ups = NULL;
	int r;
	if (dnscheck_parse_addr(address, dc->auth_port ? dc->auth_port : 53, &a) < 0 ||
	    upstreams_from(&a, 1, &ups) < 0)
		return NULL;
	struct dc_ctx *c = ctx_new(dc, ups, false, true, &r);
	getdns_list_destroy(ups);
	if (!c)
		return NULL;
	str_printf(c->address, sizeof(c->address), "%s", address);
	addr_label(&a, c->label, sizeof(c->label));
	c->addr = a;
	c->has_addr = true;
	c->loopback = addr_is_loopback(&a);
	dc->auth[dc->n_auth++] = c;
	return c;
}

int dnscheck_ctx_read_trust_anchors(const char *path, getdns_list **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t n;
	int r;

	/* Not fopen(): a FIFO named as the anchor would block the loop in open(). */
	r = file_read_bounded(path, TRUST_ANCHOR_MAX_BYTES, &buf, &n);
	if (r < 0)
		return r;

	FILE *m = fmemopen(buf, n ? n : 1, "r");
	if (!m)
		return -ENOMEM;
	getdns_list *l = NULL;
	getdns_return_t gr = getdns_fp2rr_list(m, &l, NULL, 3600);
	fclose(m);
	size_t len = 0;
	if (gr != GETDNS_RETURN_GOOD || getdns_list_get_length(l, &len) != GETDNS_RETURN_GOOD ||
	    len == 0) {
		getdns_list_destroy(l);
		return -EINVAL;
	}
	/* Only DNSKEY and DS RRs can anchor anything. */
	for (size_t i = 0; i < len; i++) {
		getdns_dict *rr;
		uint32_t t;
		if (getdns_list_get_dict(l, i, &rr) || getdns_dict_get_int(rr, "type", &t) ||
		    (t != GETDNS_RRTYPE_DNSKEY && t != GETDNS_RRTYPE_DS)) {
			getdns_list_destroy(l);
			return -EINVAL;
		}
	}
	*ret = l;
	return 0;
}

static int resolver_add(struct dnscheck *dc, getdns_list *ups, bool from_os, getdns_list *anchors,
			getdns_dict *label_from)
{
	int r;
	struct dc_ctx *c = ctx_new(dc, ups, from_os, false, &r);

	if (!c)
		return r;
	dc->res[dc->n_res++] = c;
	if (anchors && getdns_context_set_dnssec_trust_anchors(c->g, anchors) != GETDNS_RETURN_GOOD)
		return -EINVAL;
	if (label_from) {
		upstream_label(label_from, c->label, sizeof(c->label));
		c->has_addr = upstream_addr(label_from, &c->addr) == 0;
		c->loopback = c->has_addr && addr_is_loopback(&c->addr);
	}
	else
		str_printf(c->label, sizeof(c->label), "the system resolver");
	return 0;
}

/* One context per resolver: given addresses, or the system's (each server
 * resolv.conf names, at most DNSCHECK_MAX_RESOLVERS). */
int dnscheck_ctx_resolvers_new(struct dnscheck *dc, const struct dnscheck_addr *addrs, size_t n,
			       getdns_list *anchors)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		getdns_list *ups = NULL;
		getdns_dict *u = NULL;
		r = upstreams_from(&addrs[i], 1, &ups);
		if (r < 0)
			return r;
		(void)getdns_list_get_dict(ups, 0, &u);
		r = resolver_add(dc, ups, false, anchors, u);
		getdns_list_destroy(ups);
		if (r < 0)
			return r;
	}
	if (n > 0)
		return 0;

	getdns_context *os = NULL;
	getdns_list *all = NULL;
	size_t len = 0;
	if (getdns_context_create(&os, 1) != GETDNS_RETURN_GOOD)
		return -EIO;
	if (getdns_context_get_upstream_recursive_servers(os, &all) != GETDNS_RETURN_GOOD ||
	    getdns_list_get_length(all, &len) != GETDNS_RETURN_GOOD)
		len = 0;
	getdns_context_destroy(os);
	r = 0;
	for (size_t i = 0; i < MIN(len, (size_t)DNSCHECK_MAX_RESOLVERS) && r == 0; i++) {
		getdns_dict *u;
		getdns_list *one = getdns_list_create();
		if (!one || getdns_list_get_dict(all, i, &u) != GETDNS_RETURN_GOOD ||
		    getdns_list_set_dict(one, 0, u) != GETDNS_RETURN_GOOD)
			r = -ENOMEM;
		else
			r = resolver_add(dc, one, true, anchors, u);
		getdns_list_destroy(one);
	}
	getdns_list_destroy(all);
	/* resolv.conf names no server: getdns' own defaults, as they are. */
	if (r == 0 && dc->n_res == 0)
		r = resolver_add(dc, NULL, true, anchors, NULL);
	return r;
}
