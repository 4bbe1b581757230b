/* common/strpool.c: see strpool.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/strpool.h"

struct entry {
	size_t holders;
	char text[]; /* what the map holds, as its own key */
};

static struct entry *entry_of(const char *held)
{
	return (struct entry *)(held - offsetof(struct entry, text));
}

const char *strpool_hold(struct strpool *p, const char *s)
{
	char *held = strmap_get(&p->map, s);
	struct entry *e;

	if (held) {
		entry_of(held)->holders++;
		return held;
	}
	size_t len = strlen(s);
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->holders = 1;
	memcpy(e->text, s, len + 1);
	/* Here, not at init: a zeroed pool is an empty one. */
	p->map.values_are_keys = true;
	if (strmap_add(&p->map, e->text) < 0) {
		free(e);
		return NULL;
	}
	return e->text;
}

void strpool_drop(struct strpool *p, const char *held)
{
	if (!held)
		return;
	struct entry *e = entry_of(held);
	if (--e->holders > 0)
		return;
	(void)strmap_remove(&p->map, e->text);
	free(e);
}

size_t strpool_size(const struct strpool *p)
{
	return strmap_size(&p->map);
}

void strpool_done(struct strpool *p)
{
	for (size_t i = 0; i < p->map.cap; i++)
		if (p->map.slots[i])
			free(entry_of(p->map.slots[i]));
	strmap_done(&p->map);
}
