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

int dnscheck_rr_owner(getdns_dict *rr, char *buf, size_t size)
{
	getdns_bindata *b;

	if (getdns_dict_get_bindata(rr, "name", &b) != GETDNS_RETURN_GOOD)
		return -EINVAL;
	return dnscheck_pure_dname_to_str(b->data, b->size, buf, size);
}

uint32_t dnscheck_rr_type(getdns_dict *rr)
{
	uint32_t t = 0;

	(void)getdns_dict_get_int(rr, "type", &t);
	return t;
}

/* The RR's data in the form the lookup keeps. */
int dnscheck_rr_blob(getdns_dict *rr, uint16_t qtype, struct dc_blob *ret)
{
	getdns_bindata *b;
	char buf[DNSCHECK_NAME_BUF];
	int r;

	switch (qtype) {
	case GETDNS_RRTYPE_TXT: {
		getdns_list *strs;
		size_t n;
		if (getdns_dict_get_list(rr, "/rdata/txt_strings", &strs) != GETDNS_RETURN_GOOD ||
		    getdns_list_get_length(strs, &n) != GETDNS_RETURN_GOOD)
			return -EINVAL;
		_cleanup_free_ const uint8_t **p = calloc(n ? n : 1, sizeof(*p));
		_cleanup_free_ size_t *lens = calloc(n ? n : 1, sizeof(*lens));
		if (!p || !lens)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			if (getdns_list_get_bindata(strs, i, &b) != GETDNS_RETURN_GOOD)
				return -EINVAL;
			p[i] = b->data;
			lens[i] = b->size;
		}
		return record_join(p, lens, n, &ret->data, &ret->len);
	}
	case GETDNS_RRTYPE_CAA:
		if (getdns_dict_get_bindata(rr, "/rdata/rdata_raw", &b) != GETDNS_RETURN_GOOD)
			return -EINVAL;
		ret->data = malloc(b->size + 1);
		if (!ret->data)
			return -ENOMEM;
		memcpy(ret->data, b->data, b->size);
		ret->data[b->size] = 0;
		ret->len = b->size;
		return 0;
	case GETDNS_RRTYPE_NS:
		if (getdns_dict_get_bindata(rr, "/rdata/nsdname", &b) != GETDNS_RETURN_GOOD)
			return -EINVAL;
		r = dnscheck_pure_dname_to_str(b->data, b->size, buf, sizeof(buf));
		if (r < 0)
			return r;
		break;
	case GETDNS_RRTYPE_A:
	case GETDNS_RRTYPE_AAAA: {
		int af = qtype == GETDNS_RRTYPE_A ? AF_INET : AF_INET6;
		const char *key = af == AF_INET ? "/rdata/ipv4_address" : "/rdata/ipv6_address";
		if (getdns_dict_get_bindata(rr, key, &b) != GETDNS_RETURN_GOOD ||
		    b->size != (af == AF_INET ? 4u : 16u) || !inet_ntop(af, b->data, buf, sizeof(buf)))
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
	default:
		str_printf(buf, size, "TYPE%" PRIu32, t);
		return buf;
	}
}
