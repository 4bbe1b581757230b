/* common/macro.h: small language helpers shared by every module.
 * Cleanup attributes (systemd style), ownership transfer, array sizes and
 * printf checking. Header-only; no state, no I/O. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _packed_ __attribute__((packed))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
/* The struct of type that holds member at ptr. */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
/* A macro's value as a string literal: STRINGIFY(FOO) is "1000" for #define FOO 1000. */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Hand a pointer over: returns the value and leaves NULL behind, so a
 * _cleanup_ on the old owner does nothing. */
#define TAKE_PTR(p)                            \
	({                                     \
		__typeof__(p) _take_ptr_ = (p); \
		(p) = NULL;                    \
		_take_ptr_;                    \
	})

#define TAKE_FD(fd)                     \
	({                              \
		int _take_fd_ = (fd);   \
		(fd) = -1;              \
		_take_fd_;              \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* DEFINE_FREEP(struct foo, foo_free) defines foo_freep() for _cleanup_. */
#define DEFINE_FREEP(type, func)                   \
	static inline void func##p(type **p)       \
	{                                          \
		if (*p)                            \
			func(*p);                  \
	}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		(void)close(*fd);
		errno = saved;
	}
}

#define _cleanup_close_ _cleanup_(closep)

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

#define streq(a, b) (strcmp((a), (b)) == 0)

/* <sys/param.h> (pulled in by uv.h) has its own; theirs is the same. */
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
