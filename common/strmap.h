/* common/strmap.h: a hash table from borrowed C strings to borrowed pointers.
 *
 * What 100,000 certs in one daemon need instead of a linear search per name
 * (config sections, state entries, certs by name): find, add and remove in
 * O(1) expected time. Open addressing with linear probing and backward-shift
 * removal (no tombstones), so the table never degrades after many removals;
 * it doubles at a load of 1/2 and never shrinks.
 * Keys are borrowed: each must stay valid and unchanged while it is in the
 * map (it is normally the owning object's own name). Values are borrowed too.
 * Pure: no I/O. Errors: -ENOMEM, -EEXIST (strmap_add of a present key).
 * A zeroed struct strmap is an empty map; strmap_done() frees the table. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* No hash kept beside the key: 16 bytes a slot, not 24 (a map of 100k certs has 262,144
 * slots). A lookup compares keys instead, and a grow or a removal hashes again. */
struct strmap_slot {
	const char *key;   /* borrowed; NULL: empty slot */
	void *value;       /* borrowed */
};

struct strmap {
	struct strmap_slot *slots; /* owned; NULL while empty */
	size_t cap;                /* 0 or a power of two */
	size_t n;
	uint64_t probes;           /* slots compared by lookups so far: lets tests check
				    * that a lookup costs O(1), not a count of entries */
};

void strmap_done(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
int strmap_add(struct strmap *m, const char *key, void *value);
/* Replaces the value of a present key, else adds it. */
int strmap_put(struct strmap *m, const char *key, void *value);
/* Returns the removed value, or NULL when the key was absent. */
void *strmap_remove(struct strmap *m, const char *key);
size_t strmap_size(const struct strmap *m);
