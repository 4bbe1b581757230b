/* common/strmap.h: a hash table from borrowed C strings to borrowed pointers.
 *
 * What 100,000 certs in one daemon need instead of a linear search per name
 * (config sections, state entries, certs by name): find, add and remove in
 * O(1) expected time. Open addressing with linear probing and backward-shift
 * removal (no tombstones), so the table never degrades after many removals;
 * it doubles at a load of 1/2 and never shrinks.
 * Values are borrowed, and each carries its own key (normally the owning
 * object's own name), which must stay valid and unchanged while it is in the map.
 * Pure: no I/O. Errors: -ENOMEM, -EEXIST (strmap_add of a present key), -EINVAL (a NULL
 * value).
 * A zeroed struct strmap is an empty map of structs keyed by their first member;
 * strmap_done() frees the table (and keeps values_are_keys). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A slot is the value alone, 8 bytes: a map of 100k certs has 262,144 slots, and a key
 * kept beside each value would double that. No hash is kept either: a lookup compares
 * keys, and a grow or a removal hashes again. */
struct strmap {
	void **slots;              /* owned; NULL while empty; a NULL slot is empty */
	bool values_are_keys;      /* each value is its own key, a string (a set of strings);
				    * else a struct whose first member is its key, a
				    * const char * (config sections, state entries) */
	size_t cap;                /* 0 or a power of two */
	size_t n;
	uint64_t probes;           /* slots compared by lookups so far: lets tests check
				    * that a lookup costs O(1), not a count of entries */
};

void strmap_done(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* value's key must not change while the value is in the map. */
int strmap_add(struct strmap *m, void *value);
/* Replaces the value with the same key, else adds it. */
int strmap_put(struct strmap *m, void *value);
/* Returns the removed value, or NULL when the key was absent. */
void *strmap_remove(struct strmap *m, const char *key);
size_t strmap_size(const struct strmap *m);
