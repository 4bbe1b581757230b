/* common/listen.h: the address of persistd's optional HTTP listener
 * (http_listen in [daemon]), parsed from its config spelling.
 *
 * Accepted: IPv4:PORT ("127.0.0.1:9108"), [IPv6]:PORT ("[::1]:9108"), or an
 * absolute path of a unix stream socket ("/run/persistd/http.sock"). Host
 * names are refused: resolving them is a lookup at start-up whose answer can
 * change, and a listener must know exactly which address it exposes.
 * Pure: no sockets are opened here. Errors: -EINVAL with a one-line reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct listen_addr {
	struct sockaddr_storage sa;
	socklen_t sa_len;
	bool is_unix;
	bool is_loopback;  /* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, or a unix socket */
	char path[108];    /* the unix socket path, "" otherwise */
};

/* why (may be NULL) gets the reason on -EINVAL. */
int listen_addr_parse(const char *s, struct listen_addr *ret, char *why, size_t why_size);
