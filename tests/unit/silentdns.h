/* tests/unit/silentdns.h: a DNS "server" on loopback that answers nothing, for the
 * dnscheck unit tests of timeouts. Header-only: each test is one translation unit,
 * which includes cmocka before this. */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

/* A UDP socket that reads nothing and answers nothing; its address goes to buf in the
 * resolver syntax. The caller closes the socket. */
static inline int silent_server(char *buf, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(buf, size, "127.0.0.1@%u", ntohs(sa.sin_port));
	return fd;
}
