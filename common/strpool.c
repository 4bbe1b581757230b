/* common/strpool.c: see strpool.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/strpool.h"

struct entry {
	size_t holders;
	char text[]; /* the map's key */
};

const char *strpool_hold(struct strpool *p, const char *s)
{
	struct entry *e = strmap_get(&p->map, s);

	if (e) {
		e->holders++;
		return e->text;
	}
	size_t len = strlen(s);
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->holders = 1;
	memcpy(e->text, s, len + 1);
	if (strmap_add(&p->map, e->text, e) < 0) {
		free(e);
		return NULL;
	}
	return e->text;
}

void strpool_drop(struct strpool *p, const char *held)
{
	if (!held)
		return;
	struct entry *e = (struct entry *)(held - offsetof(struct entry, text));
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
		if (p->map.slots[i].key)
			free(p->map.slots[i].value);
	strmap_done(&p->map);
}
