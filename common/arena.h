/* common/arena.h: memory handed out in order from a few large blocks, and freed all
 * at once.
 *
 * What a configuration of 100k drop-ins needs for the things it keeps as long as it
 * lives and never frees alone: each file's path and each cert's packed names. malloc()
 * gives each of those a chunk of its own, with a header and rounded up to 16 bytes (a
 * 41-byte path takes 64); from an arena they take their size and their alignment.
 *
 * Owns its blocks (the first 1 KiB, each next one twice the last, up to 64 KiB, or
 * one the size of a larger request). Promises: what it hands out stays where it is,
 * unchanged, until arena_done(); a zeroed struct arena is empty. Pure, and not for use
 * from two threads. Errors: NULL is out of memory. */
#pragma once

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* owned: the block handed out from now */
	size_t next_size;         /* of the next block */
};

/* size bytes aligned to align (a power of two, at most alignof(max_align_t)). */
void *arena_alloc(struct arena *a, size_t size, size_t align);
/* A copy of s in the arena. */
char *arena_strdup(struct arena *a, const char *s);
/* The bytes of the blocks held now. */
size_t arena_bytes(const struct arena *a);
/* Frees every block: what was handed out is gone. The arena is empty again. */
void arena_done(struct arena *a);
