/* common/dnscheck.c: the pure half of dnscheck.h: the name tables, address
 * parsing, reply classification and the retry arithmetic. No getdns, no
 * loop. The checker itself, dnscheck_new and the rest, is in
 * dnscheck_api.c and the pieces it lists; they all build on this file,
 * which calls none of them. */
#include "common/dnscheck.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/limits.h"
#include "common/macro.h"

/* ---- names and tables ---- */

static const char *const dnssec_names[] = {
	[DNSCHECK_DNSSEC_UNCHECKED] = "unchecked",
	[DNSCHECK_DNSSEC_SECURE] = "secure",
	[DNSCHECK_DNSSEC_INSECURE] = "insecure",
	[DNSCHECK_DNSSEC_BOGUS] = "bogus",
};
static_assert(ELEMENTSOF(dnssec_names) == _DNSCHECK_DNSSEC_MAX, "dnssec_names");

static const char *const error_names[] = {
	[DNSCHECK_OK] = "OK",
	[DNSCHECK_ERR_SERVFAIL] = "SERVFAIL",
	[DNSCHECK_ERR_REFUSED] = "REFUSED",
	[DNSCHECK_ERR_RCODE] = "RCODE",
	[DNSCHECK_ERR_TIMEOUT] = "TIMEOUT",
	[DNSCHECK_ERR_TRUNCATED] = "TRUNCATED",
	[DNSCHECK_ERR_QUESTION] = "WRONG_QUESTION",
	[DNSCHECK_ERR_MALFORMED] = "MALFORMED_REPLY",
	[DNSCHECK_ERR_NETWORK] = "NETWORK",
	[DNSCHECK_ERR_BOGUS] = "BOGUS",
	[DNSCHECK_ERR_REFERRAL] = "REFERRAL",
	[DNSCHECK_ERR_CNAME] = "CNAME_LOOP",
	[DNSCHECK_ERR_LIMIT] = "TOO_LARGE",
	[DNSCHECK_ERR_NO_ZONE] = "NO_ZONE",
	[DNSCHECK_ERR_INTERNAL] = "INTERNAL",
	[DNSCHECK_ERR_CANCELLED] = "CANCELLED",
};
static_assert(ELEMENTSOF(error_names) == _DNSCHECK_ERR_MAX, "error_names");

const char *dnscheck_dnssec_to_string(enum dnscheck_dnssec d)
{
	return (unsigned)d < _DNSCHECK_DNSSEC_MAX ? dnssec_names[d] : NULL;
}

const char *dnscheck_error_to_string(enum dnscheck_error e)
{
	return (unsigned)e < _DNSCHECK_ERR_MAX ? error_names[e] : NULL;
}

const char *dnscheck_result_status(const struct dnscheck_result *r)
{
	if (r->error != DNSCHECK_OK)
		return "DNS_ERROR";
	return record_status_to_string(r->verdict.status);
}

/* ---- pure helpers ---- */

int dnscheck_parse_addr(const char *s, uint16_t default_port, struct dnscheck_addr *ret)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hl;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return -EINVAL;
		hl = (size_t)(e - s - 1);
		s++;
		if (e[1] == ':' || e[1] == '@')
			port = e + 2;
		else if (e[1])
			return -EINVAL;
	} else {
		const char *at = strrchr(s, '@');
		hl = at ? (size_t)(at - s) : strlen(s);
		if (at)
			port = at + 1;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;

	struct dnscheck_addr a = { .port = default_port };
	if (inet_pton(AF_INET, host, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, host, a.addr) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	if (port) {
		char *end;
		errno = 0;
		unsigned long p = strtoul(port, &end, 10);
		if (!*port || *end || errno || p == 0 || p > 65535 || port[0] == '+' || port[0] == '-')
			return -EINVAL;
		a.port = (uint16_t)p;
	}
	*ret = a;
	return 0;
}

enum dnscheck_reply_kind dnscheck_classify(const struct dnscheck_reply *r,
					   enum dnscheck_error *ret_error)
{
	enum dnscheck_error e = DNSCHECK_OK;
	enum dnscheck_reply_kind k = DNSCHECK_REPLY_ERROR;

	if (!r->answered)
		e = DNSCHECK_ERR_TIMEOUT;
	else if (r->tc)
		e = DNSCHECK_ERR_TRUNCATED;
	else if (r->rcode == 2)
		e = DNSCHECK_ERR_SERVFAIL;
	else if (r->rcode == 5)
		e = DNSCHECK_ERR_REFUSED;
	else if (r->rcode != 0 && r->rcode != 3)
		e = DNSCHECK_ERR_RCODE;
	else if (r->require_aa && !r->aa)
		e = DNSCHECK_ERR_REFERRAL;
	else if (r->bogus)
		e = DNSCHECK_ERR_BOGUS;
	else if (r->has_data)
		k = DNSCHECK_REPLY_DATA;
	else if (r->rcode == 3)
		k = DNSCHECK_REPLY_NXDOMAIN;
	else if (!r->aa && !r->has_soa && r->has_ns)
		e = DNSCHECK_ERR_REFERRAL;
	else
		k = DNSCHECK_REPLY_NODATA;
	*ret_error = e;
	return k;
}

uint64_t dnscheck_attempt_ms(uint64_t budget_ms, unsigned attempt, uint64_t remaining_ms)
{
	uint64_t ms = MIN((uint64_t)DNSCHECK_FIRST_ATTEMPT_MS, budget_ms / 3);

	if (remaining_ms == 0)
		return 0;
	ms = MAX(ms, (uint64_t)1);
	for (unsigned i = 0; i < attempt && ms <= remaining_ms / 2; i++)
		ms *= 2;
	/* What this would leave is less than the attempt after it would
	 * want: give it all to this one rather than end on a sliver. */
	return remaining_ms / 2 < ms ? remaining_ms : ms;
}

int dnscheck_next_resolver(unsigned cur, unsigned n, uint32_t failed)
{
	for (unsigned k = 1; k <= n; k++) {
		unsigned i = (cur + k) % n;
		if (!(failed & (UINT32_C(1) << i)))
			return (int)i;
	}
	return -1;
}

const char *dnscheck_parent(const char *name)
{
	const char *dot = name;

	/* Skip escaped dots ("\.") inside a label. */
	for (;;) {
		dot = strchr(dot, '.');
		if (!dot)
			return NULL;
		if (dot > name && dot[-1] == '\\') {
			dot++;
			continue;
		}
		return dot[1] ? dot + 1 : NULL;
	}
}

