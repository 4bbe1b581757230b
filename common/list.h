/* common/list.h: a minimal intrusive doubly linked list (header-only).
 * Embed a struct list_link in the element, keep a struct list_link as the
 * head, and get the element back with container_of(). An unlinked node
 * points at itself, so list_del() of it is harmless. No allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct list_link {
	struct list_link *prev, *next;
};

#ifndef container_of
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

static inline void list_init(struct list_link *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list_link *l)
{
	return l->next == l;
}

static inline void list_add_tail(struct list_link *head, struct list_link *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void list_del(struct list_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* The first node, unlinked; NULL when empty. */
static inline struct list_link *list_pop(struct list_link *head)
{
	if (list_empty(head))
		return NULL;
	struct list_link *n = head->next;
	list_del(n);
	return n;
}
