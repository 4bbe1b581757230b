/* common/config_keys.h: the keys of [daemon], [ca NAME] and [cert NAME], and their values.
 *
 * Owns: which keys each section takes, the grammar of each value (paths, durations,
 * numbers, lists of names, contacts, issuers and resolvers) and its limits, and the list
 * of DNS-write settings that a dns-persist-01 cert refuses. common/config_parse reads the
 * INI text and hands each key here, one at a time, with the struct its section fills.
 *
 * Errors: a bad value is reported in kc->errs at kc->file:kc->line with what was expected,
 * and the call returns < 0 (-EINVAL; -ENOMEM with no report). 1 means the key is not one
 * of the section's, and the caller reports it (config_keys_hint() lists the right ones).
 * Pure: no I/O, no logging, no clock. */
#pragma once

#include <stdbool.h>

#include "common/config_errors.h"
#include "common/config_model.h"

/* Where the INI reader is: before any header, in a section, or after a bad header. */
enum config_section {
	CONFIG_SECTION_NONE,
	CONFIG_SECTION_DAEMON,
	CONFIG_SECTION_CA,
	CONFIG_SECTION_CERT,
	CONFIG_SECTION_IGNORED, /* after a bad header: its keys are not checked again */
};

/* One key = value line. */
struct config_key_ctx {
	struct config_errors *errs; /* borrowed; NULL: nothing is recorded */
	const char *file;           /* borrowed */
	unsigned line;
	void *target;               /* borrowed: the config_daemon, config_ca or config_cert */
};

/* append: an indented line continuing the previous key's list. Returns 0, 1 (unknown key)
 * or < 0 as above. */
int config_keys_daemon(struct config_key_ctx *kc, const char *k, const char *v, bool append);
int config_keys_ca(struct config_key_ctx *kc, const char *k, const char *v, bool append);
int config_keys_cert(struct config_key_ctx *kc, const char *k, const char *v, bool append);

/* The keys a section takes, comma-separated, for an error message; "" for none. */
const char *config_keys_hint(enum config_section s);

/* A setting that would give persistd write access to DNS (dns01_*, tsig_*, credentials...).
 * config_keys_cert() accepts these so that the end of the section can say why they are
 * refused, or that credentials belong to the dns01_hook. */
bool config_keys_is_dns_write(const char *k);
