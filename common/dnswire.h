/* common/dnswire.h: DNS messages in wire format (RFC 1035 section 4,
 * RFC 6891 for EDNS): writing one query, reading a reply's header, its
 * question and its resource records.
 *
 * Owns nothing: every function reads or writes only the buffers it is
 * given, with no allocation, no loop and no clock.
 *
 * Promises: a reply is untrusted network input. Every read is checked
 * against the message's length; a compressed name may only point
 * backwards (so decompression ends) and expands to at most 255 bytes; a
 * reply that breaks any of this is -EINVAL, never a read past its end.
 * Names come out in uncompressed wire form; dnscheck_pure_dname_to_str()
 * makes them text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSWIRE_MAX_MESSAGE 65535   /* what TCP's length prefix can say */
#define DNSWIRE_MAX_NAME 255        /* a name in wire form, root label included */
#define DNSWIRE_UDP_PAYLOAD 1232    /* the EDNS buffer size we offer (DNS flag day 2020) */
#define DNSWIRE_MAX_QUERY 512       /* a query we write always fits */

enum dnswire_section {
	DNSWIRE_ANSWER,
	DNSWIRE_AUTHORITY,
	DNSWIRE_ADDITIONAL,
};

struct dnswire_msg {
	const uint8_t *buf;         /* borrowed: the whole message */
	size_t len;
	uint16_t id;
	bool qr, aa, tc, rd, ra, ad;
	unsigned opcode;
	unsigned rcode;             /* the header's 4 bits (EDNS' extension not applied) */
	uint16_t qdcount, ancount, nscount, arcount;
	uint8_t qname[DNSWIRE_MAX_NAME]; /* the first question; qname_len 0 without one */
	size_t qname_len;
	uint16_t qtype, qclass;
	size_t rr_at;               /* offset of the first RR after the questions */
};

struct dnswire_rr {
	enum dnswire_section section;
	uint8_t owner[DNSWIRE_MAX_NAME];
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rdata_at;            /* offset of the RDATA in the message */
	uint16_t rdlen;
};

/* Where an iteration over a message's RRs is. Zero it, then set nothing:
 * dnswire_rr_next() starts at m->rr_at. */
struct dnswire_iter {
	size_t pos;
	unsigned index;
};

/* Writes a query for (name, qtype), class IN: name in presentation form,
 * with or without the trailing dot, \DDD and \X escapes allowed. rd: ask
 * for recursion. With edns_size > 0 an OPT RR offers that buffer size,
 * with the DO bit when dnssec_ok. Returns its length; -EINVAL for a name
 * that is not one (an empty or over-long label, over 255 bytes), -E2BIG
 * when size is too small. */
int dnswire_query(uint8_t *buf, size_t size, uint16_t id, const char *name, uint16_t qtype,
		  bool rd, uint16_t edns_size, bool dnssec_ok);

/* Reads the header and the first question (the others are skipped, checked).
 * -EINVAL for a message that is malformed up to the first RR. */
int dnswire_parse(const uint8_t *buf, size_t len, struct dnswire_msg *m);

/* The next RR of the answer, authority and additional sections, in order:
 * 1 with *rr filled in, 0 after the last one, -EINVAL when the message is
 * malformed there (the RRs before it were fine). */
int dnswire_rr_next(const struct dnswire_msg *m, struct dnswire_iter *it, struct dnswire_rr *rr);

/* The name at offset `at` of the message (compression followed), in
 * uncompressed wire form into out[DNSWIRE_MAX_NAME]; *ret_end (may be
 * NULL) is the offset just after it in place. -EINVAL when malformed. */
int dnswire_name(const uint8_t *buf, size_t len, size_t at, uint8_t *out, size_t *ret_len,
		 size_t *ret_end);

/* Is the uncompressed wire name a equal to b, ignoring ASCII case? */
bool dnswire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
