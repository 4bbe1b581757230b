#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"

/* FNV-1a: keys are names from the operator's own config and state, not from
 * the network, so flooding is not a concern and speed is. */
static uint64_t hash_of(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

void strmap_done(struct strmap *m)
{
	free(m->slots);
	*m = (struct strmap){ 0 };
}

/* The slot holding key, or the empty slot where it would go. cap > 0. */
static size_t find_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	uint64_t *probes = (uint64_t *)&m->probes; /* a statistic, not the map's value */

	for (;;) {
		const struct strmap_slot *s = &m->slots[i];
		(*probes)++;
		if (!s->key || strcmp(s->key, key) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	uint64_t h = hash_of(key);
	const struct strmap_slot *s = &m->slots[find_slot(m, key, h)];
	return s->key ? s->value : NULL;
}

static int grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	struct strmap old = *m;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key) {
			size_t mask = cap - 1, k = (size_t)hash_of(old.slots[i].key) & mask;
			while (slots[k].key)
				k = (k + 1) & mask;
			slots[k] = old.slots[i];
		}
	free(old.slots);
	return 0;
}

static int insert(struct strmap *m, const char *key, void *value, bool replace)
{
	int r;

	if ((m->n + 1) * 2 > m->cap) {
		r = grow(m);
		if (r < 0)
			return r;
	}
	uint64_t h = hash_of(key);
	struct strmap_slot *s = &m->slots[find_slot(m, key, h)];
	if (s->key) {
		if (!replace)
			return -EEXIST;
		s->key = key;
		s->value = value;
		return 0;
	}
	*s = (struct strmap_slot){ .key = key, .value = value };
	m->n++;
	return 0;
}

int strmap_add(struct strmap *m, const char *key, void *value)
{
	return insert(m, key, value, false);
}

int strmap_put(struct strmap *m, const char *key, void *value)
{
	return insert(m, key, value, true);
}

void *strmap_remove(struct strmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	size_t mask = m->cap - 1, i = find_slot(m, key, hash_of(key));
	if (!m->slots[i].key)
		return NULL;
	void *value = m->slots[i].value;
	/* Backward shift: pull later members of the probe run into the hole, so
	 * every remaining key stays reachable from its home slot. */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->slots[j].key)
			break;
		size_t home = (size_t)hash_of(m->slots[j].key) & mask;
		/* j's entry may move to i only if its home is not in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i] = (struct strmap_slot){ 0 };
	m->n--;
	return value;
}

size_t strmap_size(const struct strmap *m)
{
	return m->n;
}
