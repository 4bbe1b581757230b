/* common/config_parse.h: the INI reader of the configuration.
 *
 * Owns: reading one file's text with inih into a struct config: sections ([daemon] in the
 * main file only, [ca NAME], [cert NAME]), duplicate sections and keys, lists continued on
 * indented lines, over-long lines and NUL bytes, and what each section needs once its keys
 * are in (a CA's directory, a cert's names, DNS-write settings refused on a dns-persist-01
 * cert). Each key's value goes to common/config_keys. Then config_finish() checks the whole:
 * certs naming an unknown CA, and limits that span sections.
 *
 * Errors: every problem goes to errs with file:line, and the call returns -EINVAL; -E2BIG
 * for text over CONFIG_MAX_BYTES, -ENOMEM. Pure: it reads only the text it is given; no
 * logging, no clock. Reading the files is common/config's (config_load in config.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/config_errors.h"
#include "common/config_model.h"

/* The two halves of config_load, for tests and the fuzzer: parse one file's
 * text into c (main_file allows [daemon]); then cross-check the whole. */
int config_parse_text(struct config *c, const char *file, const char *text, size_t len,
		      bool main_file, struct config_errors *errs);
int config_finish(struct config *c, struct config_errors *errs);
