/* common/dnscheck_stub.h: the DNS checker's own stub transport (internal
 * to common/dnscheck*.c): one query to one server, over UDP on a socket of
 * its own, again over TCP when the answer is truncated.
 *
 * Why: when nobody in persistd validates (trust_anchor = none, or
 * dnssec = trust-ad), getdns only sends and receives, and builds a dict
 * of every reply that nothing reads: most of the CPU of a re-check round
 * (issue 12). This sends the query common/dnswire writes and hands back
 * the reply's bytes, which the lookup reads as it reads getdns' and
 * libunbound's. Validating lookups stay with getdns or libunbound.
 *
 * Owns: each struct dc_stub, its UDP socket while the query waits, its
 * TCP connection, and each server's pool of idle sockets
 * (ctx->idle_socks). A stub is freed once its handles let go of it; no
 * callback touches the checker after dnscheck_stub_cancel(), so a
 * checker may be freed with handles still closing.
 *
 * Promises: spoofing is made as hard as a resolver makes it. A socket is
 * connected to its server (the kernel drops datagrams from anywhere
 * else) from a port the kernel picks at random, and each query has a
 * random id; a datagram with another id, or that is not a response, is
 * dropped and the wait goes on. A remote server gets a new socket (a new
 * port) for every query. A server on loopback, where nobody off this host
 * can send as the server, gets its sockets reused: one query at a time
 * each, from a pool no larger than the most queries ever in flight to it. A reply is at most DNSWIRE_MAX_MESSAGE
 * bytes. No retransmission: the lookup's attempt timer decides, and
 * cancels. done runs at most once, from the loop, never from inside
 * dnscheck_stub_send(), and not after dnscheck_stub_cancel(). */
#pragma once

#include "common/dnscheck_internal.h"

#include <stddef.h>
#include <stdint.h>

struct dc_stub;

/* The reply (wire form, borrowed for the call), or e: DNSCHECK_ERR_NETWORK
 * when the server refused or reset, or the TCP reply was cut short. */
typedef void (*dc_stub_done_fn)(void *arg, const uint8_t *wire, size_t len,
				enum dnscheck_error e);

/* Asks `server` (name, qtype) with RD set, an EDNS buffer of
 * DNSWIRE_UDP_PAYLOAD and the DO bit when dnssec_ok. -EINVAL a name that
 * cannot be written, -ENOMEM, or the socket's errno (no descriptor, an
 * unreachable family): then no stub is made and done never runs. */
int dnscheck_stub_send(struct dnscheck *dc, struct dc_ctx *server, const char *name,
		       uint16_t qtype, bool dnssec_ok, dc_stub_done_fn done, void *arg,
		       struct dc_stub **ret);

/* Stops waiting: done does not run; the stub frees itself once closed. */
void dnscheck_stub_cancel(struct dc_stub *s);

/* Closes the idle sockets of server's pool: before its context goes. */
void dnscheck_stub_pool_close(struct dc_ctx *server);
