/* common/level.c: see level.h. */
#include "common/level.h"

#include <assert.h>
#include <errno.h>

#include "common/macro.h"

static const char *const level_names[] = {
	[LEVEL_OK] = "OK",
	[LEVEL_WARNING] = "WARNING",
	[LEVEL_CRITICAL] = "CRITICAL",
	[LEVEL_ERROR] = "ERROR",
	[LEVEL_UNKNOWN] = "UNKNOWN",
};
static_assert(ELEMENTSOF(level_names) == _LEVEL_MAX, "level_names");

static const char *const level_lower_names[] = {
	[LEVEL_OK] = "ok",
	[LEVEL_WARNING] = "warning",
	[LEVEL_CRITICAL] = "critical",
	[LEVEL_ERROR] = "error",
	[LEVEL_UNKNOWN] = "unknown",
};
static_assert(ELEMENTSOF(level_lower_names) == _LEVEL_MAX, "level_lower_names");

/* Position in the worst-first order, higher is worse. */
static const unsigned level_rank[] = {
	[LEVEL_OK] = 0,
	[LEVEL_WARNING] = 1,
	[LEVEL_UNKNOWN] = 2,
	[LEVEL_CRITICAL] = 3,
	[LEVEL_ERROR] = 4,
};
static_assert(ELEMENTSOF(level_rank) == _LEVEL_MAX, "level_rank");

const char *level_to_string(enum level l)
{
	return (unsigned)l < _LEVEL_MAX ? level_names[l] : level_names[LEVEL_UNKNOWN];
}

const char *level_to_lower_string(enum level l)
{
	return (unsigned)l < _LEVEL_MAX ? level_lower_names[l] : level_lower_names[LEVEL_UNKNOWN];
}

int level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (streq(s, level_names[i]))
			return (int)i;
	return -EINVAL;
}

enum level level_merge(enum level a, enum level b)
{
	/* Out of range counts as UNKNOWN, so a corrupt value is never hidden
	 * behind OK nor indexes past the table. */
	enum level ra = (unsigned)a < _LEVEL_MAX ? a : LEVEL_UNKNOWN;
	enum level rb = (unsigned)b < _LEVEL_MAX ? b : LEVEL_UNKNOWN;

	return level_rank[ra] >= level_rank[rb] ? ra : rb;
}

int level_exit_code(enum level l)
{
	switch (l) {
	case LEVEL_OK:
		return 0;
	case LEVEL_WARNING:
		return 1;
	case LEVEL_CRITICAL:
	case LEVEL_ERROR:
		return 2;
	default:
		return 3;
	}
}
