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

static const char *key_of(const struct strmap *m, const void *value)
{
	return m->values_are_keys ? value : *(const char *const *)value;
}

void strmap_done(struct strmap *m)
{
	free(m->slots);
	*m = (struct strmap){ .values_are_keys = m->values_are_keys };
}

/* The slot holding key, or the empty slot where it would go. cap > 0. */
static size_t find_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	uint64_t *probes = (uint64_t *)&m->probes; /* a statistic, not the map's value */

	for (;;) {
		const void *v = m->slots[i];
		(*probes)++;
		if (!v || strcmp(key_of(m, v), key) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	return m->slots[find_slot(m, key, hash_of(key))];
}

static int grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	void **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	void **old = m->slots;
	size_t old_cap = m->cap;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i]) {
			size_t mask = cap - 1, k = (size_t)hash_of(key_of(m, old[i])) & mask;
			while (slots[k])
				k = (k + 1) & mask;
			slots[k] = old[i];
		}
	free(old);
	return 0;
}

static int insert(struct strmap *m, void *value, bool replace)
{
	int r;

	if (!value)
		return -EINVAL;
	if ((m->n + 1) * 2 > m->cap) {
		r = grow(m);
		if (r < 0)
			return r;
	}
	const char *key = key_of(m, value);
	void **s = &m->slots[find_slot(m, key, hash_of(key))];
	if (*s) {
		if (!replace)
			return -EEXIST;
		*s = value;
		return 0;
	}
	*s = value;
	m->n++;
	return 0;
}

int strmap_add(struct strmap *m, void *value)
{
	return insert(m, value, false);
}

int strmap_put(struct strmap *m, void *value)
{
	return insert(m, value, true);
}

void *strmap_remove(struct strmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	size_t mask = m->cap - 1, i = find_slot(m, key, hash_of(key));
	void *value = m->slots[i];
	if (!value)
		return NULL;
	/* Backward shift: pull later members of the probe run into the hole, so
	 * every remaining key stays reachable from its home slot. */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->slots[j])
			break;
		size_t home = (size_t)hash_of(key_of(m, m->slots[j])) & mask;
		/* j's entry may move to i only if its home is not in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i] = NULL;
	m->n--;
	return value;
}

size_t strmap_size(const struct strmap *m)
{
	return m->n;
}
