/* daemon/served.h: one TLS handshake with a server, to see which certificate
 * it serves (check_served).
 *
 * Resolves HOST (uv_getaddrinfo, libuv's thread pool), connects to its first
 * address over libuv TCP and runs an mbedTLS client handshake over memory
 * callbacks fed by uv_read, so the loop never waits: a pure TLS handshake,
 * no HTTP request, so HTTPS, IMAPS, SMTPS and any other implicit-TLS port
 * work alike (not STARTTLS). SNI is `sni`. The peer is not verified: the
 * caller compares the leaf with what it installed, which is the point.
 * Bounded: SERVED_TIMEOUT_MS for everything, SERVED_MAX_BYTES read.
 * mbedTLS 2.28 speaks TLS 1.2 at most; a server that offers only TLS 1.3
 * fails with a message saying so.
 *
 * The done callback comes exactly once, from the loop, unless the probe is
 * cancelled first, after which none comes. r < 0 (-ETIMEDOUT, -ECONNREFUSED,
 * -EPROTO for a failed handshake, -E2BIG, -ENOENT for a name that does not
 * resolve, ...) comes with a one-line error; r == 0 with the served leaf's
 * DER, borrowed for the callback. The probe is gone once the callback
 * returns. An error from served_probe_start() means no callback. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct served_probe;

typedef void (*served_done_fn)(int r, const uint8_t *leaf_der, size_t leaf_len,
			       const char *error, void *userdata);

int served_probe_start(uv_loop_t *loop, const char *host, uint16_t port, const char *sni,
		       uint64_t timeout_ms, served_done_fn cb, void *userdata,
		       struct served_probe **ret);
/* NULL is a no-op. The memory goes once libuv has closed the handles. */
void served_probe_cancel(struct served_probe *p);
