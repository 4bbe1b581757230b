/* common/config_errors.c: the error list of the config loader. See config_errors.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_errors.h"

void config_errors_done(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->items[i].file);
		e->items[i].file = NULL;
	}
	e->n = 0;
	e->dropped = 0;
}

void config_errors_add(struct config_errors *e, const char *file, unsigned line,
		       const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	if (e->n >= CONFIG_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	struct config_error *it = &e->items[e->n++];
	it->file = file ? strdup(file) : NULL;
	it->line = line;
	va_start(ap, fmt);
	vsnprintf(it->message, sizeof(it->message), fmt, ap);
	va_end(ap);
}
