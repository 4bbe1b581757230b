/* Unit tests for common/dnswire: the queries the stub transport sends and
 * the bounds every reply is read within. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/dnswire.h"

static void test_query(void **state)
{
	uint8_t b[DNSWIRE_MAX_QUERY];
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,       /* id, RD, 1 q, 1 ar */
		3, 'w', 'w', 'w', 4, 'T', 'e', '.', 't', 0, 0, 16, 0, 1, /* www.Te\.t TXT IN */
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,            /* OPT 1232, DO */
	};
	(void)state;
	int n = dnswire_query(b, sizeof(b), 0x1234, "www.Te\\.t.", 16, true, 1232, true);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(b, want, sizeof(want));

	/* No EDNS, no RD, \DDD, the root. */
	n = dnswire_query(b, sizeof(b), 7, "a\\000b", 257, false, 0, false);
	assert_int_equal(n, 12 + 5 + 4);
	assert_int_equal(b[2], 0);
	assert_int_equal(b[11], 0);
	assert_memory_equal(b + 12, "\3a\0b\0", 5);
	assert_int_equal(dnswire_query(b, sizeof(b), 7, ".", 2, true, 0, false), 12 + 1 + 4);
	assert_int_equal(dnswire_query(b, sizeof(b), 7, "", 2, true, 0, false), 12 + 1 + 4);
}

static void test_query_bad_names(void **state)
{
	uint8_t b[DNSWIRE_MAX_QUERY];
	char label64[80], long_name[4 * 80 + 4];

	(void)state;
	assert_int_equal(dnswire_query(b, sizeof(b), 1, "a..b", 16, true, 0, false), -EINVAL);
	assert_int_equal(dnswire_query(b, sizeof(b), 1, ".a", 16, true, 0, false), -EINVAL);
	assert_int_equal(dnswire_query(b, sizeof(b), 1, "a\\25", 16, true, 0, false), -EINVAL);
	assert_int_equal(dnswire_query(b, sizeof(b), 1, "a\\256", 16, true, 0, false), -EINVAL);
	assert_int_equal(dnswire_query(b, sizeof(b), 1, "a\\", 16, true, 0, false), -EINVAL);
	memset(label64, 'a', 64);
	label64[64] = 0;
	assert_int_equal(dnswire_query(b, sizeof(b), 1, label64, 16, true, 0, false), -EINVAL);
	label64[63] = 0;
	assert_true(dnswire_query(b, sizeof(b), 1, label64, 16, true, 0, false) > 0);
	/* 4 labels of 63: 257 bytes in wire form with the root; 256; then
	 * 255, the longest name there is. */
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s", label64, label64, label64, label64);
	assert_int_equal(dnswire_query(b, sizeof(b), 1, long_name, 16, true, 0, false), -EINVAL);
	long_name[strlen(long_name) - 1] = 0;
	assert_int_equal(dnswire_query(b, sizeof(b), 1, long_name, 16, true, 0, false), -EINVAL);
	long_name[strlen(long_name) - 1] = 0;
	assert_int_equal(dnswire_query(b, sizeof(b), 1, long_name, 16, true, 0, false),
			 12 + 255 + 4);
	assert_int_equal(dnswire_query(b, 20, 1, "www.test", 16, true, 1232, false), -E2BIG);
}

/* A reply to www.test TXT: a CNAME to x.test, compressed, the TXT at
 * x.test, an SOA in authority, an A in additional. */
static const uint8_t reply[] = {
	0xab, 0xcd, 0x84, 0xa0, 0, 1, 0, 2, 0, 1, 0, 1,
	/* 12: question, "test" at 16 */ 3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0, 0, 16, 0, 1,
	/* 26: CNAME, its target x.test at 38 */
	0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'x', 0xc0, 16,
	/* 42: TXT at x.test */ 0xc0, 38, 0, 16, 0, 1, 0, 1, 0, 0, 0, 6,
	2, 'h', 'i', 2, 'y', 'o',
	/* 60: SOA owner test (16), rdata 2 bytes of junk (not read here) */
	0xc0, 16, 0, 6, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0,
	/* 74: additional A */ 0xc0, 38, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 127, 0, 0, 1,
};

static void test_parse_reply(void **state)
{
	struct dnswire_msg m;
	struct dnswire_rr rr;
	struct dnswire_iter it = { 0 };
	uint8_t name[DNSWIRE_MAX_NAME];
	size_t nlen, end;

	(void)state;
	assert_int_equal(dnswire_parse(reply, sizeof(reply), &m), 0);
	assert_int_equal(m.id, 0xabcd);
	assert_true(m.qr && m.aa && m.ra && m.ad);
	assert_false(m.tc || m.rd);
	assert_int_equal(m.rcode, 0);
	assert_int_equal(m.qtype, 16);
	assert_int_equal(m.qclass, 1);
	assert_int_equal(m.qname_len, 10);
	assert_memory_equal(m.qname, "\3www\4test\0", 10);
	assert_int_equal(m.rr_at, 26);

	assert_int_equal(dnswire_rr_next(&m, &it, &rr), 1);
	assert_int_equal(rr.section, DNSWIRE_ANSWER);
	assert_int_equal(rr.type, 5);
	assert_int_equal(rr.ttl, 60);
	assert_true(dnswire_name_equal(rr.owner, rr.owner_len, (const uint8_t *)"\3WWW\4Test\0", 10));
	assert_int_equal(dnswire_name(reply, sizeof(reply), rr.rdata_at, name, &nlen, &end), 0);
	assert_memory_equal(name, "\1x\4test\0", nlen);
	assert_int_equal(end, rr.rdata_at + rr.rdlen);

	assert_int_equal(dnswire_rr_next(&m, &it, &rr), 1);
	assert_int_equal(rr.type, 16);
	assert_int_equal(rr.ttl, 65536);
	assert_memory_equal(rr.owner, "\1x\4test\0", rr.owner_len);
	assert_memory_equal(reply + rr.rdata_at, "\2hi\2yo", 6);

	assert_int_equal(dnswire_rr_next(&m, &it, &rr), 1);
	assert_int_equal(rr.section, DNSWIRE_AUTHORITY);
	assert_int_equal(rr.type, 6);
	assert_int_equal(dnswire_rr_next(&m, &it, &rr), 1);
	assert_int_equal(rr.section, DNSWIRE_ADDITIONAL);
	assert_int_equal(dnswire_rr_next(&m, &it, &rr), 0);
	assert_int_equal(dnswire_rr_next(&m, &it, &rr), 0);
}

static void test_parse_bounds(void **state)
{
	struct dnswire_msg m;
	struct dnswire_rr rr;
	uint8_t b[sizeof(reply)];

	(void)state;
	assert_int_equal(dnswire_parse(reply, 11, &m), -EINVAL);
	assert_int_equal(dnswire_parse(NULL, 0, &m), -EINVAL);
	/* Cut anywhere: the header and question parse or are refused, and the
	 * RRs are read up to where the cut is, never past it. */
	for (size_t len = 12; len < sizeof(reply); len++) {
		if (dnswire_parse(reply, len, &m) < 0) {
			assert_true(len < 26);
			continue;
		}
		struct dnswire_iter it = { 0 };
		int r, n = 0;
		while ((r = dnswire_rr_next(&m, &it, &rr)) > 0) {
			assert_true(rr.rdata_at + rr.rdlen <= len);
			n++;
		}
		assert_int_equal(r, -EINVAL);
		assert_true(n < 4);
	}

	/* A pointer forwards, or to itself, is refused (no loops). */
	memcpy(b, reply, sizeof(b));
	b[27] = 26;
	assert_int_equal(dnswire_parse(b, sizeof(b), &m), 0);
	struct dnswire_iter it = { 0 };
	assert_int_equal(dnswire_rr_next(&m, &it, &rr), -EINVAL);
	b[27] = 40;
	memset(&it, 0, sizeof(it));
	assert_int_equal(dnswire_rr_next(&m, &it, &rr), -EINVAL);
	/* The extended label types (0x40, 0x80) are not names. */
	b[12] = 0x43;
	assert_int_equal(dnswire_parse(b, sizeof(b), &m), -EINVAL);
}

static void test_name_limits(void **state)
{
	/* 128 labels of one byte each: 257 bytes, over 255. */
	uint8_t b[12 + 300] = { 0 };
	uint8_t name[DNSWIRE_MAX_NAME];
	size_t nlen;

	(void)state;
	for (size_t i = 0; i < 128; i++) {
		b[12 + 2 * i] = 1;
		b[12 + 2 * i + 1] = 'a';
	}
	assert_int_equal(dnswire_name(b, sizeof(b), 12, name, &nlen, NULL), -EINVAL);
	b[12 + 2 * 127] = 0; /* 127 labels: 255 bytes */
	assert_int_equal(dnswire_name(b, sizeof(b), 12, name, &nlen, NULL), 0);
	assert_int_equal(nlen, 255);

	/* A chain of backward pointers is followed, and ends. */
	uint8_t c[] = { 1, 'a', 0, 0xc0, 0, 0xc0, 3, 0xc0, 5 };
	size_t end;
	assert_int_equal(dnswire_name(c, sizeof(c), 7, name, &nlen, &end), 0);
	assert_int_equal(end, 9);
	assert_memory_equal(name, "\1a\0", 3);
	assert_false(dnswire_name_equal(name, nlen, (const uint8_t *)"\1b\0", 3));
	assert_false(dnswire_name_equal(name, nlen, (const uint8_t *)"\2aa\0", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_bad_names),
		cmocka_unit_test(test_parse_reply),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_name_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
