/* common/dnswire.c: see dnswire.h. */
#include "common/dnswire.h"

#include <errno.h>
#include <string.h>

#define HEADER_BYTES 12
#define MAX_POINTERS 64 /* a name of 127 labels needs fewer; more is a loop */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Presentation form to uncompressed wire form into out[DNSWIRE_MAX_NAME]. */
static int name_from_text(const char *s, uint8_t *out, size_t *ret_len)
{
	size_t o = 0;

	if (s[0] == 0 || (s[0] == '.' && s[1] == 0))
		goto root;
	while (*s) {
		size_t len_at = o++;
		size_t ll = 0;
		if (*s == '.')
			return -EINVAL; /* an empty label */
		while (*s && *s != '.') {
			unsigned c = (unsigned char)*s++;
			if (c == '\\') {
				if (s[0] >= '0' && s[0] <= '9') {
					if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
						return -EINVAL;
					c = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
					if (c > 255)
						return -EINVAL;
					s += 3;
				} else if (*s) {
					c = (unsigned char)*s++;
				} else
					return -EINVAL;
			}
			if (++ll > 63 || o + 1 >= DNSWIRE_MAX_NAME)
				return -EINVAL;
			out[o++] = (uint8_t)c;
		}
		out[len_at] = (uint8_t)ll;
		if (*s == '.')
			s++;
	}
root:
	if (o + 1 > DNSWIRE_MAX_NAME)
		return -EINVAL;
	out[o++] = 0;
	*ret_len = o;
	return 0;
}

int dnswire_query(uint8_t *buf, size_t size, uint16_t id, const char *name, uint16_t qtype,
		  bool rd, uint16_t edns_size, bool dnssec_ok)
{
	uint8_t qname[DNSWIRE_MAX_NAME];
	size_t qlen;
	int r = name_from_text(name, qname, &qlen);

	if (r < 0)
		return r;
	size_t need = HEADER_BYTES + qlen + 4 + (edns_size ? 11 : 0);
	if (need > size)
		return -E2BIG;
	memset(buf, 0, HEADER_BYTES);
	put16(buf, id);
	buf[2] = rd ? 0x01 : 0x00;
	put16(buf + 4, 1);            /* qdcount */
	put16(buf + 10, edns_size ? 1 : 0); /* arcount */
	uint8_t *p = buf + HEADER_BYTES;
	memcpy(p, qname, qlen);
	p += qlen;
	put16(p, qtype);
	put16(p + 2, 1); /* IN */
	p += 4;
	if (edns_size) {
		*p++ = 0;                     /* the root owns the OPT RR */
		put16(p, 41);                 /* OPT */
		put16(p + 2, edns_size);      /* its class: the buffer size */
		p[4] = 0;                     /* extended rcode */
		p[5] = 0;                     /* version 0 */
		put16(p + 6, dnssec_ok ? 0x8000 : 0);
		put16(p + 8, 0);              /* no options */
		p += 10;
	}
	return (int)(p - buf);
}

int dnswire_name(const uint8_t *buf, size_t len, size_t at, uint8_t *out, size_t *ret_len,
		 size_t *ret_end)
{
	size_t o = 0, end = 0, pos = at;
	unsigned pointers = 0;

	for (;;) {
		if (pos >= len)
			return -EINVAL;
		uint8_t ll = buf[pos];
		if ((ll & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++pointers > MAX_POINTERS)
				return -EINVAL;
			size_t target = (size_t)(ll & 0x3f) << 8 | buf[pos + 1];
			/* Only backwards: every jump then makes progress towards
			 * the start, and a loop is impossible. */
			if (target >= pos)
				return -EINVAL;
			if (!end)
				end = pos + 2;
			pos = target;
			continue;
		}
		if (ll & 0xc0)
			return -EINVAL; /* the extended label types (RFC 6891 6.2) */
		if (pos + 1 + ll > len || o + 1 + ll > DNSWIRE_MAX_NAME)
			return -EINVAL;
		memcpy(out + o, buf + pos, (size_t)ll + 1);
		o += (size_t)ll + 1;
		pos += (size_t)ll + 1;
		if (ll == 0)
			break;
	}
	*ret_len = o;
	if (ret_end)
		*ret_end = end ? end : pos;
	return 0;
}

bool dnswire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		uint8_t x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

int dnswire_parse(const uint8_t *buf, size_t len, struct dnswire_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (!buf || len < HEADER_BYTES || len > DNSWIRE_MAX_MESSAGE)
		return -EINVAL;
	m->buf = buf;
	m->len = len;
	m->id = get16(buf);
	m->qr = buf[2] & 0x80;
	m->opcode = (buf[2] >> 3) & 0x0f;
	m->aa = buf[2] & 0x04;
	m->tc = buf[2] & 0x02;
	m->rd = buf[2] & 0x01;
	m->ra = buf[3] & 0x80;
	m->ad = buf[3] & 0x20;
	m->rcode = buf[3] & 0x0f;
	m->qdcount = get16(buf + 4);
	m->ancount = get16(buf + 6);
	m->nscount = get16(buf + 8);
	m->arcount = get16(buf + 10);
	size_t pos = HEADER_BYTES;
	for (unsigned i = 0; i < m->qdcount; i++) {
		uint8_t name[DNSWIRE_MAX_NAME];
		size_t nlen, end;
		if (dnswire_name(buf, len, pos, name, &nlen, &end) < 0 || end + 4 > len)
			return -EINVAL;
		if (i == 0) {
			memcpy(m->qname, name, nlen);
			m->qname_len = nlen;
			m->qtype = get16(buf + end);
			m->qclass = get16(buf + end + 2);
		}
		pos = end + 4;
	}
	m->rr_at = pos;
	return 0;
}

int dnswire_rr_next(const struct dnswire_msg *m, struct dnswire_iter *it, struct dnswire_rr *rr)
{
	unsigned total = (unsigned)m->ancount + m->nscount + m->arcount;
	size_t end;

	if (it->index >= total)
		return 0;
	if (it->pos == 0)
		it->pos = m->rr_at;
	if (dnswire_name(m->buf, m->len, it->pos, rr->owner, &rr->owner_len, &end) < 0 ||
	    end + 10 > m->len)
		return -EINVAL;
	rr->type = get16(m->buf + end);
	rr->rclass = get16(m->buf + end + 2);
	rr->ttl = (uint32_t)get16(m->buf + end + 4) << 16 | get16(m->buf + end + 6);
	rr->rdlen = get16(m->buf + end + 8);
	rr->rdata_at = end + 10;
	if (rr->rdata_at + rr->rdlen > m->len)
		return -EINVAL;
	rr->section = it->index < m->ancount			 ? DNSWIRE_ANSWER
		      : it->index < (unsigned)m->ancount + m->nscount ? DNSWIRE_AUTHORITY
								     : DNSWIRE_ADDITIONAL;
	it->pos = rr->rdata_at + rr->rdlen;
	it->index++;
	return 1;
}
