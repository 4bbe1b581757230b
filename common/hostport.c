/* common/hostport.c: see hostport.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/hostport.h"

static bool host_char_ok(char ch, bool bracketed)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	if (bracketed)
		return ch == ':' || ch == '.' || ch == '%';
	return ch == '-' || ch == '.' || ch == '_';
}

static int fail(const char **reterr, const char *why)
{
	if (reterr)
		*reterr = why;
	return -EINVAL;
}

int hostport_parse(const char *s, char **ret_host, uint16_t *ret_port, const char **reterr)
{
	const char *host = s, *host_end, *colon;
	bool bracketed = s[0] == '[';

	if (bracketed) {
		host = s + 1;
		host_end = strchr(host, ']');
		if (!host_end)
			return fail(reterr, "an IPv6 address needs its closing ']'");
		colon = host_end + 1;
		if (*colon != ':')
			return fail(reterr, "expected ':PORT' after ']'");
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return fail(reterr, "expected HOST:PORT (the port is required)");
		if (memchr(s, ':', (size_t)(colon - s)))
			return fail(reterr, "an IPv6 address goes in brackets: [ADDRESS]:PORT");
		host_end = colon;
	}
	size_t len = (size_t)(host_end - host);
	if (len == 0)
		return fail(reterr, "the host is empty");
	if (len > HOSTPORT_MAX_HOST_BYTES) {
		if (reterr)
			*reterr = "the host is too long";
		return -E2BIG;
	}
	for (size_t i = 0; i < len; i++)
		if (!host_char_ok(host[i], bracketed))
			return fail(reterr, "the host has a character that no name or address has");
	if (!bracketed && (host[0] == '-' || host[0] == '.'))
		return fail(reterr, "the host cannot start with '-' or '.'");

	const char *p = colon + 1;
	unsigned long port = 0;
	if (!*p)
		return fail(reterr, "the port is empty");
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(reterr, "the port is not a number");
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			return fail(reterr, "the port is over 65535");
	}
	if (port == 0)
		return fail(reterr, "the port is 0");
	char *h = strndup(host, len);
	if (!h)
		return -ENOMEM;
	*ret_host = h;
	*ret_port = (uint16_t)port;
	return 0;
}
