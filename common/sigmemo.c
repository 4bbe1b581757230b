/* common/sigmemo.c: see sigmemo.h. Open addressing with linear probing;
 * an entry with expires == 0 and no digest is empty (a real expiry of 0,
 * 1970, is stored as 1). */
#include "common/sigmemo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/timeutil.h"

#define SIGMEMO_MIN_SLOTS 1024

struct sigmemo_entry {
	uint8_t digest[SIGMEMO_DIGEST];
	uint32_t expires;             /* 0: empty */
};

struct sigmemo {
	struct sigmemo_entry *slots;  /* owned; n_slots a power of two */
	size_t n_slots;
	size_t count;
	size_t max_entries;
};

struct sigmemo *sigmemo_new(size_t max_entries)
{
	struct sigmemo *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max_entries = max_entries ? max_entries : 1;
	return m;
}

void sigmemo_free(struct sigmemo *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

size_t sigmemo_count(const struct sigmemo *m)
{
	return m->count;
}

static void put_len(EVP_MD_CTX *c, size_t n)
{
	uint8_t b[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	(void)EVP_DigestUpdate(c, b, sizeof(b));
}

int sigmemo_digest(const uint8_t *data, size_t data_len, const uint8_t *sig, size_t sig_len,
		   const uint8_t *key, size_t key_len, uint8_t out[SIGMEMO_DIGEST])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	int ok;

	if (!c)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	put_len(c, data_len);
	ok = ok && EVP_DigestUpdate(c, data, data_len);
	put_len(c, sig_len);
	ok = ok && EVP_DigestUpdate(c, sig, sig_len);
	put_len(c, key_len);
	ok = ok && EVP_DigestUpdate(c, key, key_len);
	ok = ok && EVP_DigestFinal_ex(c, full, &n);
	EVP_MD_CTX_free(c);
	if (!ok || n < SIGMEMO_DIGEST)
		return -ENOMEM;
	memcpy(out, full, SIGMEMO_DIGEST);
	return 0;
}

_Static_assert(sizeof(struct sigmemo_entry) == 16, "an entry is 16 bytes");

static size_t slot_of(const struct sigmemo *m, const uint8_t *d)
{
	size_t h;

	/* The digest is already uniform: its first bytes are the hash. */
	memcpy(&h, d, sizeof(h));
	return h & (m->n_slots - 1);
}

static struct sigmemo_entry *find(const struct sigmemo *m, const uint8_t *d)
{
	if (!m->slots)
		return NULL;
	for (size_t i = slot_of(m, d);; i = (i + 1) & (m->n_slots - 1)) {
		struct sigmemo_entry *e = &m->slots[i];
		if (e->expires == 0)
			return NULL;
		if (memcmp(e->digest, d, SIGMEMO_DIGEST) == 0)
			return e;
	}
}

bool sigmemo_has(const struct sigmemo *m, const uint8_t digest[SIGMEMO_DIGEST], uint32_t now)
{
	const struct sigmemo_entry *e = find(m, digest);

	return e && time32_not_before(e->expires, now);
}

static void insert(struct sigmemo *m, const struct sigmemo_entry *src)
{
	size_t i = slot_of(m, src->digest);

	while (m->slots[i].expires != 0)
		i = (i + 1) & (m->n_slots - 1);
	m->slots[i] = *src;
	m->count++;
}

/* Rebuilds the table at n slots, keeping the entries that have not expired
 * (all of them with keep_expired). */
static int rebuild(struct sigmemo *m, size_t n, uint32_t now, bool keep_expired)
{
	struct sigmemo_entry *old = m->slots;
	size_t old_n = m->n_slots;
	struct sigmemo_entry *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	m->slots = s;
	m->n_slots = n;
	m->count = 0;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].expires != 0 && (keep_expired || time32_not_before(old[i].expires, now)))
			insert(m, &old[i]);
	free(old);
	return 0;
}

int sigmemo_add(struct sigmemo *m, const uint8_t digest[SIGMEMO_DIGEST], uint32_t expires,
		uint32_t now)
{
	struct sigmemo_entry e;
	struct sigmemo_entry *have = find(m, digest);

	memcpy(e.digest, digest, SIGMEMO_DIGEST);
	e.expires = expires ? expires : 1;
	if (have) {
		have->expires = e.expires;
		return 0;
	}
	if (m->count >= m->max_entries) {
		/* Full: forget what has expired, else start afresh (the next
		 * round fills it again). */
		int r = rebuild(m, m->n_slots, now, false);
		if (r < 0)
			return r;
		if (m->count >= m->max_entries) {
			memset(m->slots, 0, m->n_slots * sizeof(*m->slots));
			m->count = 0;
		}
	}
	/* At most 85% full: linear probing's hits stay under 4 probes on
	 * average, and 100k entries fit in 128k slots. */
	if (!m->slots || (m->count + 1) * 20 > m->n_slots * 17) {
		size_t n = m->n_slots ? m->n_slots * 2 : SIGMEMO_MIN_SLOTS;
		int r = rebuild(m, n, now, true);
		if (r < 0)
			return r;
	}
	insert(m, &e);
	return 0;
}
