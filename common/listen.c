/* common/listen.c: see listen.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/listen.h"
#include "common/macro.h"

static int bad(char *why, size_t why_size, const char *fmt, ...) _printf_(3, 4);
static int bad(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why && why_size) {
		va_start(ap, fmt);
		(void)vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_port(const char *p, unsigned *ret)
{
	char *end;
	long port;

	if (!*p || *p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	port = strtol(p, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EINVAL;
	*ret = (unsigned)port;
	return 0;
}

int listen_addr_parse(const char *s, struct listen_addr *ret, char *why, size_t why_size)
{
	struct listen_addr a;
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port_text;
	unsigned port;

	memset(&a, 0, sizeof(a));
	if (!s || !*s)
		return bad(why, why_size, "empty address%s", "");
	if (s[0] == '/') {
		struct sockaddr_un *un = (struct sockaddr_un *)&a.sa;
		if (strlen(s) >= sizeof(un->sun_path) || strlen(s) >= sizeof(a.path))
			return bad(why, why_size, "'%s': a unix socket path must be shorter than 108 "
						  "bytes", s);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, s, strlen(s) + 1);
		memcpy(a.path, s, strlen(s) + 1);
		a.sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(s) + 1);
		a.is_unix = true;
		a.is_loopback = true;
		*ret = a;
		return 0;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return bad(why, why_size, "'%s': expected [IPv6]:PORT", s);
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port_text = close + 2;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.sa;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return bad(why, why_size, "'%s': not an IPv6 address in brackets", s);
		if (parse_port(port_text, &port) < 0)
			return bad(why, why_size, "'%s': expected a port from 1 to 65535", s);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a.sa_len = sizeof(*in6);
		a.is_loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
				(IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
				 in6->sin6_addr.s6_addr[12] == 127);
		*ret = a;
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || strchr(s, ':') != colon || (size_t)(colon - s) >= sizeof(host))
		return bad(why, why_size,
			   "'%s': expected IPv4:PORT, [IPv6]:PORT or an absolute unix socket path", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a.sa;
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return bad(why, why_size, "'%s': not an IPv4 address (host names are not accepted)",
			   s);
	if (parse_port(colon + 1, &port) < 0)
		return bad(why, why_size, "'%s': expected a port from 1 to 65535", s);
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	a.sa_len = sizeof(*in4);
	a.is_loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	*ret = a;
	return 0;
}
