/* common/dnscheck_rr.c: see dnscheck_rr.h. */
#include "common/dnscheck_rr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/dnscheck_pure.h"
#include "common/record.h"
#include "common/strutil.h"

enum dnscheck_dnssec dnscheck_rr_dnssec(uint32_t s)
{
	switch (s) {
	case GETDNS_DNSSEC_SECURE:
		return DNSCHECK_DNSSEC_SECURE;
	case GETDNS_DNSSEC_BOGUS:
		return DNSCHECK_DNSSEC_BOGUS;
	case GETDNS_DNSSEC_INSECURE:
	case GETDNS_DNSSEC_INDETERMINATE: /* no trust anchor covers the name */
		return DNSCHECK_DNSSEC_INSECURE;
	default:
		return DNSCHECK_DNSSEC_UNCHECKED;
	}
}

int dnscheck_rr_owner(const struct dnswire_rr *rr, char *buf, size_t size)
{
	return dnscheck_pure_dname_to_str(rr->owner, rr->owner_len, buf, size);
}

/* TXT: the character-strings, which must fill the RDATA exactly, joined
 * as the record grammar joins them (record_join). */
static int txt_join(const uint8_t *p, size_t len, struct dc_blob *ret)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i += 1 + (size_t)p[i], n++)
		if (i + 1 + p[i] > len)
			return -EINVAL;
	_cleanup_free_ const uint8_t **strs = calloc(n ? n : 1, sizeof(*strs));
	_cleanup_free_ size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	if (!strs || !lens)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < len; i += 1 + (size_t)p[i], n++) {
		strs[n] = p + i + 1;
		lens[n] = p[i];
	}
	return record_join(strs, lens, n, &ret->data, &ret->len);
}

int dnscheck_rr_blob(const struct dnswire_msg *m, const struct dnswire_rr *rr, uint16_t qtype,
		     struct dc_blob *ret)
{
	const uint8_t *rd = m->buf + rr->rdata_at;
	char buf[DNSCHECK_NAME_BUF];
	int r;

	switch (qtype) {
	case GETDNS_RRTYPE_TXT:
		return txt_join(rd, rr->rdlen, ret);
	case GETDNS_RRTYPE_CAA:
	case GETDNS_RRTYPE_DNSKEY:
		ret->data = malloc((size_t)rr->rdlen + 1);
		if (!ret->data)
			return -ENOMEM;
		memcpy(ret->data, rd, rr->rdlen);
		ret->data[rr->rdlen] = 0;
		ret->len = rr->rdlen;
		return 0;
	case GETDNS_RRTYPE_NS:
	case GETDNS_RRTYPE_CNAME: {
		uint8_t name[DNSWIRE_MAX_NAME];
		size_t nlen, end;
		/* The name may point anywhere before it (compression), but
		 * must end inside the RDATA and fill it. */
		if (dnswire_name(m->buf, rr->rdata_at + rr->rdlen, rr->rdata_at, name, &nlen, &end) <
			    0 ||
		    end != rr->rdata_at + rr->rdlen)
			return -EINVAL;
		r = dnscheck_pure_dname_to_str(name, nlen, buf, sizeof(buf));
		if (r < 0)
			return r;
		break;
	}
	case GETDNS_RRTYPE_A:
	case GETDNS_RRTYPE_AAAA: {
		int af = qtype == GETDNS_RRTYPE_A ? AF_INET : AF_INET6;
		if (rr->rdlen != (af == AF_INET ? 4u : 16u) || !inet_ntop(af, rd, buf, sizeof(buf)))
			return -EINVAL;
		break;
	}
	default:
		return -EINVAL;
	}
	ret->data = strdup(buf);
	if (!ret->data)
		return -ENOMEM;
	ret->len = strlen(buf);
	return 0;
}

const char *dnscheck_rr_type_name(uint32_t t, char *buf, size_t size)
{
	switch (t) {
	case GETDNS_RRTYPE_A:
		return "A";
	case GETDNS_RRTYPE_NS:
		return "NS";
	case GETDNS_RRTYPE_CNAME:
		return "CNAME";
	case GETDNS_RRTYPE_SOA:
		return "SOA";
	case GETDNS_RRTYPE_TXT:
		return "TXT";
	case GETDNS_RRTYPE_AAAA:
		return "AAAA";
	case GETDNS_RRTYPE_CAA:
		return "CAA";
	case GETDNS_RRTYPE_DNSKEY:
		return "DNSKEY";
	default:
		str_printf(buf, size, "TYPE%" PRIu32, t);
		return buf;
	}
}
