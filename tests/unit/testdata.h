/* tests/unit/testdata.h: reads a file from tests/data for a unit test.
 * The directory is $PERSISTD_TESTDATA (scripts/run-unit sets it), else
 * tests/data relative to the working directory. Header-only: each test is
 * one translation unit. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/macro.h"

static inline int testdata_path(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("PERSISTD_TESTDATA");

	snprintf(buf, size, "%s/%s", dir ? dir : "tests/data", name);
	return 0;
}

static inline int testdata_read(const char *name, char **ret, size_t *retlen)
{
	char path[4096];
	FILE *f;

	testdata_path(name, path, sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			fclose(f);
			return -ENOMEM;
		}
		len += fread(buf + len, 1, cap - len - 1, f);
		if (len < cap - 1)
			break;
		cap *= 2;
		char *n = realloc(buf, cap);
		if (!n)
			free(buf);
		buf = n;
	}
	fclose(f);
	buf[len] = '\0';
	*ret = buf;
	*retlen = len;
	return 0;
}
