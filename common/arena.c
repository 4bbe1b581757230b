/* common/arena.c: see arena.h. */
#include "common/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"

#define ARENA_FIRST_BYTES 1024
#define ARENA_MAX_BYTES (64 * 1024)

struct arena_block {
	struct arena_block *next; /* owned: the blocks before this one */
	size_t used, size;        /* of data */
	alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t size, size_t align)
{
	struct arena_block *b = a->head;

	if (align == 0 || (align & (align - 1)) || align > alignof(max_align_t))
		return NULL;
	if (b) {
		size_t at = (b->used + align - 1) & ~(align - 1);
		if (at <= b->size && size <= b->size - at) {
			b->used = at + size;
			return b->data + at;
		}
	}
	size_t want = MAX(a->next_size, (size_t)ARENA_FIRST_BYTES);
	if (size > want)
		want = size; /* a block of its own, the size of the request */
	if (want > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + want);
	if (!b)
		return NULL;
	b->size = want;
	b->used = size;
	/* A request larger than the usual block goes behind the current one, which
	 * still has room for the small ones. */
	if (a->head && size > a->next_size) {
		b->next = a->head->next;
		a->head->next = b;
	} else {
		b->next = a->head;
		a->head = b;
		a->next_size = MIN(want * 2, (size_t)ARENA_MAX_BYTES);
	}
	return b->data;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = arena_alloc(a, len, 1);

	return copy ? memcpy(copy, s, len) : NULL;
}

size_t arena_bytes(const struct arena *a)
{
	size_t n = 0;

	for (const struct arena_block *b = a->head; b; b = b->next)
		n += b->size;
	return n;
}

void arena_done(struct arena *a)
{
	struct arena_block *b = a->head;

	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	*a = (struct arena){ 0 };
}
