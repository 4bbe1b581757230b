/* common/config.h: the configuration model and its INI loader.
 *
 * Owns: /etc/persistd/persistd.conf plus <dir>/certs.d/NAME.conf drop-ins,
 * parsed with inih into a validated struct config. Sections: [daemon] (main
 * file only), [ca NAME], [cert NAME]. A key given twice is an error; a list
 * may continue on indented lines. Everything a later stage relies on is
 * checked here: unknown sections and keys, bad values, duplicate names,
 * certs naming an unknown CA, and any DNS-write setting on a
 * dns-persist-01 cert (persist mode needs no DNS write access and refuses
 * it).
 *
 * This header is the interface the rest of the tree includes. The pieces behind it:
 * common/config_model (struct config, defaults, look-ups), config_errors (the error
 * list), config_parse (the INI reader, config_parse_text, config_finish) and
 * config_keys (each section's keys and values). config.c itself reads the files:
 * the main file, the certs.d drop-ins, and the files the configuration names.
 *
 * Errors: every problem is collected with file:line and what was expected
 * (config_errors), and the load fails with -EINVAL. -E2BIG for over-limit
 * files, -ENOENT/-EACCES for files that cannot be read, -ENOMEM.
 * Pure apart from reading the files it is given; no logging, no clock. */
#pragma once

#include <stdint.h>

#include "common/config_errors.h"
#include "common/config_model.h"
#include "common/config_parse.h"

#define CONFIG_DEFAULT_PATH "/etc/persistd/persistd.conf"

/* Reads `path` and every <dirname(path)>/certs.d/NAME.conf in name order, then
 * validates the whole. On failure errs holds at least one error. Many drop-ins
 * are read on worker threads (common/workahead), all joined before it returns,
 * so the caller has no more threads afterwards than before (persistd forks
 * its signer after this, while it has none). */
int config_load(const char *path, struct config **ret, struct config_errors *errs);

/* The same, with one more drop-in that is not on disk yet: cand_text parsed
 * as the file cand_file (its name in errors), after the others. persistctl
 * add validates a new certs.d/NAME.conf this way before writing it. */
int config_load_candidate(const char *path, const char *cand_file, const char *cand_text,
			  size_t cand_len, struct config **ret, struct config_errors *errs);

/* What a valid config can still get wrong at run time, for persistd -t:
 * files it names that are missing, not regular files or unreadable for the
 * calling user (trust_anchor, ca_bundle, eab_hmac_file), hooks that are not
 * executable files (deploy_hook, dns01_hook), and a persist_until that is
 * not after `now`. Each problem is an error with file:line in errs; -EINVAL
 * when there was one. Reads nothing but the files' metadata. */
int config_check_runtime(const struct config *c, int64_t now, struct config_errors *errs);
