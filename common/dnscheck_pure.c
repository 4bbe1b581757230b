/* common/dnscheck_pure.c: see dnscheck_pure.h. */
#include "common/dnscheck_pure.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *dnscheck_pure_error_text(enum dnscheck_error e)
{
	switch (e) {
	case DNSCHECK_ERR_SERVFAIL:
		return "SERVFAIL";
	case DNSCHECK_ERR_REFUSED:
		return "REFUSED";
	case DNSCHECK_ERR_RCODE:
		return "an error rcode";
	case DNSCHECK_ERR_TIMEOUT:
		return "no answer before the timeout";
	case DNSCHECK_ERR_TRUNCATED:
		return "a truncated answer (TCP retry failed)";
	case DNSCHECK_ERR_QUESTION:
		return "a reply to a different question";
	case DNSCHECK_ERR_MALFORMED:
		return "a reply without a readable question section";
	case DNSCHECK_ERR_NETWORK:
		return "the connection to the server failed";
	case DNSCHECK_ERR_BOGUS:
		return "DNSSEC validation failure (bogus)";
	case DNSCHECK_ERR_REFERRAL:
		return "a referral instead of an answer (lame server?)";
	case DNSCHECK_ERR_CNAME:
		return "a CNAME loop or a CNAME chain that is too long";
	case DNSCHECK_ERR_LIMIT:
		return "more or larger RRs than the checker evaluates";
	case DNSCHECK_ERR_NO_ZONE:
		return "no zone or name server found";
	case DNSCHECK_ERR_INTERNAL:
		return "an internal error (getdns refused the query)";
	case DNSCHECK_ERR_CANCELLED:
		return "no answer: the checker was shut down first";
	default:
		return "no error";
	}
}

bool dnscheck_question_matches(const uint8_t *qname_wire, size_t qname_len, uint32_t qtype,
			       uint32_t qclass, const char *name, uint16_t type)
{
	char got[DNSCHECK_NAME_BUF];
	size_t n = strlen(name);

	if (qtype != type || qclass != 1 /* IN */)
		return false;
	if (!qname_wire || dnscheck_pure_dname_to_str(qname_wire, qname_len, got, sizeof(got)) < 0)
		return false;
	if (n > 0 && name[n - 1] == '.')
		n--;
	/* That lowercased what it got; the name asked may not be. */
	return strlen(got) == n && strncasecmp(got, name, n) == 0;
}

/* Wire-format name to lowercase presentation form without the trailing dot
 * ("" for the root). Bytes outside [a-z0-9-_*] are written as \DDD. */
int dnscheck_pure_dname_to_str(const uint8_t *w, size_t len, char *buf, size_t size)
{
	size_t i = 0, o = 0;

	for (;;) {
		if (i >= len)
			return -EINVAL;
		uint8_t ll = w[i++];
		if (ll == 0)
			break;
		if (ll > 63 || i + ll > len)
			return -EINVAL;
		if (o) {
			if (o + 1 >= size)
				return -E2BIG;
			buf[o++] = '.';
		}
		for (size_t k = 0; k < ll; k++) {
			uint8_t c = w[i + k];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c - 'A' + 'a');
			bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
				     c == '_' || c == '*';
			if (o + (plain ? 1 : 4) >= size)
				return -E2BIG;
			if (plain)
				buf[o++] = (char)c;
			else
				o += (size_t)snprintf(buf + o, size - o, "\\%03u", c);
		}
		i += ll;
	}
	if (o >= size)
		return -E2BIG;
	buf[o] = 0;
	return 0;
}

/* Is `name` equal to `zone` or below it? */
bool dnscheck_pure_name_under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (z == 0)
		return true;
	if (n < z || strcmp(name + n - z, zone) != 0)
		return false;
	return n == z || name[n - z - 1] == '.';
}

uint64_t dnscheck_pure_fnv1a(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
