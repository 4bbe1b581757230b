/* common/config_errors.h: the list of problems found while loading a configuration.
 *
 * Owns: up to CONFIG_MAX_ERRORS messages, each with the file and line it is about;
 * every stage of loading (common/config_parse, config_keys, config) appends to the same
 * list, so that one run reports every problem at once. Further errors are counted in
 * `dropped`, never lost silently.
 * Pure: no I/O, no logging. config_errors_add() on a NULL list does nothing, so a caller
 * that only wants the verdict may pass NULL. */
#pragma once

#include <stddef.h>

#include "common/macro.h"

#define CONFIG_MAX_ERRORS 50

struct config_error {
	char *file;                 /* owned */
	unsigned line;              /* 0 when the problem is not on one line */
	char message[320];
};

struct config_errors {
	struct config_error items[CONFIG_MAX_ERRORS];
	size_t n;
	size_t dropped;             /* errors beyond CONFIG_MAX_ERRORS */
};

void config_errors_done(struct config_errors *e);

/* Appends one error; the message is cut at sizeof(message). file may be NULL; it is
 * copied (an allocation failure leaves it NULL, the message still counts). */
_printf_(4, 5) void config_errors_add(struct config_errors *e, const char *file, unsigned line,
				      const char *fmt, ...);
