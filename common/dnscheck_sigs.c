/* common/dnscheck_sigs.c: see dnscheck_sigs.h. */
#include "common/dnscheck_sigs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/dnscheck_cache.h"
#include "common/dnscheck_pure.h"
#include "common/limits.h"
#include "common/rrsig.h"
#include "common/sigmemo.h"

#define SIGS_MAX_KEYS 16    /* DNSKEYs of one zone we try */
#define SIGS_PARSED_KEYS 64 /* zone keys kept parsed, most recently made first out last */
#define SIGS_MAX_PARENTS 4096 /* parents whose answers are counted */
#define SIGS_UNSIGNED_AFTER 8 /* insecure answers, and no secure one, before the stub is skipped */

/* What the answers under one parent name were: a guess at the zone (the
 * owner without _validation-persist and the name's first label). */
struct dc_sigparent {
	const char *key;              /* name, below: strmap's key */
	uint32_t insecure, secure;
	char name[];
};

/* Zone keys parsed once: libcrypto's decoders cost more than the
 * verification itself. Found by their RDATA, so a key that changed is
 * parsed anew; the oldest entry makes room. */
struct dc_sigkeys {
	struct {
		uint8_t *rdata;       /* owned */
		size_t len;
		uint64_t hash;
		struct rrsig_pubkey *pub; /* owned */
	} e[SIGS_PARSED_KEYS];
	size_t next;
};

static struct rrsig_pubkey *parsed_key(struct dnscheck *dc, const uint8_t *rdata, size_t len)
{
	struct dc_sigkeys *t = dc->sigkeys;
	uint64_t h = dnscheck_pure_fnv1a(DNSCHECK_FNV_OFFSET, rdata, len);

	for (size_t i = 0; i < SIGS_PARSED_KEYS; i++)
		if (t->e[i].rdata && t->e[i].hash == h && t->e[i].len == len &&
		    memcmp(t->e[i].rdata, rdata, len) == 0)
			return t->e[i].pub;
	struct rrsig_pubkey *pub = rrsig_pubkey_new(rdata, len);
	uint8_t *copy = pub ? malloc(len) : NULL;
	if (!copy) {
		rrsig_pubkey_free(pub);
		return NULL;
	}
	memcpy(copy, rdata, len);
	size_t i = t->next;
	t->next = (t->next + 1) % SIGS_PARSED_KEYS;
	free(t->e[i].rdata);
	rrsig_pubkey_free(t->e[i].pub);
	t->e[i].rdata = copy;
	t->e[i].len = len;
	t->e[i].hash = h;
	t->e[i].pub = pub;
	return pub;
}

/* The parent name of owner's base name: "_validation-persist.www.example.com"
 * gives "example.com". */
static const char *parent_of(const char *owner)
{
	const char *p = strchr(owner, '.');

	p = p ? strchr(p + 1, '.') : NULL;
	return p ? p + 1 : "";
}

bool dnscheck_sigs_worth_trying(const struct dnscheck *dc, const char *owner)
{
	const struct dc_sigparent *h = strmap_get(&dc->sigparents, parent_of(owner));

	return !h || h->secure > 0 || h->insecure < SIGS_UNSIGNED_AFTER;
}

void dnscheck_sigs_learn(struct dnscheck *dc, const char *owner, enum dnscheck_dnssec d)
{
	if (!dc->sigmemo || (d != DNSCHECK_DNSSEC_SECURE && d != DNSCHECK_DNSSEC_INSECURE))
		return;
	const char *parent = parent_of(owner);
	struct dc_sigparent *h = strmap_get(&dc->sigparents, parent);
	if (!h) {
		size_t n = strlen(parent);
		if (strmap_size(&dc->sigparents) >= SIGS_MAX_PARENTS ||
		    !(h = calloc(1, sizeof(*h) + n + 1)))
			return;
		memcpy(h->name, parent, n + 1);
		h->key = h->name;
		if (strmap_add(&dc->sigparents, h) < 0) {
			free(h);
			return;
		}
	}
	if (d == DNSCHECK_DNSSEC_SECURE)
		h->secure++;
	else
		h->insecure++;
}

int dnscheck_sigs_init(struct dnscheck *dc)
{
	if (!dc->ext_dnssec || dc->trust_ad || dc->n_res == 0)
		return 0;
	for (size_t i = 0; i < dc->n_res; i++)
		if (!dc->res[i]->has_addr)
			return 0;
	dc->sigmemo = sigmemo_new(DNSCHECK_SIGMEMO_MAX);
	dc->sigkeys = calloc(1, sizeof(*dc->sigkeys));
	if (!dc->sigmemo || !dc->sigkeys) {
		dnscheck_sigs_free(dc);
		return -ENOMEM;
	}
	return 0;
}

void dnscheck_sigs_free(struct dnscheck *dc)
{
	if (dc->sigkeys)
		for (size_t i = 0; i < SIGS_PARSED_KEYS; i++) {
			free(dc->sigkeys->e[i].rdata);
			rrsig_pubkey_free(dc->sigkeys->e[i].pub);
		}
	free(dc->sigkeys);
	dc->sigkeys = NULL;
	for (size_t i = 0; i < dc->sigparents.cap; i++)
		free(dc->sigparents.slots[i]);
	strmap_done(&dc->sigparents);
	sigmemo_free(dc->sigmemo);
	dc->sigmemo = NULL;
}

bool dnscheck_sigs_wanted(const struct dnscheck *dc)
{
	return dc->sigmemo != NULL;
}

static enum dc_sigs judge(struct dnscheck *dc, const struct dc_lookup *l, struct dc_waiter *w,
			  bool may_wait)
{
	struct dnswire_msg m;
	uint8_t signer[DNSWIRE_MAX_NAME];
	size_t signer_len;
	char signer_text[DNSCHECK_NAME_BUF];

	if (!dc->sigmemo || !l->wire || l->error != DNSCHECK_OK || l->n_chain > 0 ||
	    l->n_rrs == 0 || dnswire_parse(l->wire, l->wire_len, &m) < 0 ||
	    rrsig_signer(&m, m.qname, m.qname_len, GETDNS_RRTYPE_TXT, signer, &signer_len) != 1 ||
	    dnscheck_pure_dname_to_str(signer, signer_len, signer_text, sizeof(signer_text)) < 0)
		return DC_SIGS_UNSURE;
	struct dc_lookup *k = dnscheck_cache_get(dc, GETDNS_RRTYPE_DNSKEY, signer_text);
	if (!k)
		return DC_SIGS_UNSURE;
	if (!k->complete) {
		if (!may_wait)
			return DC_SIGS_UNSURE;
		list_add_tail(&k->waiters, &w->link);
		return DC_SIGS_WAIT;
	}
	if (k->error != DNSCHECK_OK || !k->dnssec || !k->dnssec_seen ||
	    k->dnssec_status != DNSCHECK_DNSSEC_SECURE || k->n_rrs == 0)
		return DC_SIGS_UNSURE;
	struct rrsig_key keys[SIGS_MAX_KEYS];
	size_t n = MIN(k->n_rrs, ELEMENTSOF(keys));
	for (size_t i = 0; i < n; i++) {
		const uint8_t *rdata = (const uint8_t *)k->rrs[i].data;
		keys[i] = (struct rrsig_key){ rdata, k->rrs[i].len,
					      parsed_key(dc, rdata, k->rrs[i].len) };
	}
	struct rrsig_outcome out;
	if (rrsig_check(&m, m.qname, m.qname_len, GETDNS_RRTYPE_TXT, signer, signer_len, keys, n,
			(uint32_t)time(NULL), dc->sigmemo, &out) < 0 ||
	    out.verdict != RRSIG_SECURE)
		return DC_SIGS_UNSURE;
	if (out.memo_hit)
		dc->stats.sigs_memo_hits++;
	return DC_SIGS_SECURE;
}

enum dc_sigs dnscheck_sigs_judge(struct dnscheck *dc, const struct dc_lookup *l,
				 struct dc_waiter *w, bool may_wait)
{
	enum dc_sigs s = judge(dc, l, w, may_wait);

	if (s == DC_SIGS_SECURE)
		dc->stats.sigs_secure++;
	return s;
}
