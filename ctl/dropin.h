/* ctl/dropin.h: the configuration files persistctl add and remove touch:
 * which configuration the daemon uses, loading it with the daemon's own
 * parser (common/config) and printing its errors as file:line, and the
 * drop-in certs.d/NAME.conf of one cert: its path, its text, its check
 * with the whole configuration, and writing it atomically.
 *
 * Messages go to stderr (and with --json as one JSON error object on stdout,
 * ctl/remotecall); every function returns 0 or an exit code (lifecycle.h). */
#pragma once

#include <stddef.h>

#include "common/config.h"
#include "ctl/remotecall.h"

/* What persistctl add writes, as given on its command line. */
struct dropin_cert {
	const char *name;           /* borrowed: NAME */
	const char *ca;             /* borrowed */
	const char **names;         /* borrowed array of FQDNs */
	size_t n_names;
	const char *key_type;       /* borrowed or NULL */
	const char *persist_until;  /* borrowed or NULL: as given */
	const char *deploy_hook;    /* borrowed or NULL */
};

/* The configuration file: -c, else the daemon's (config.path), else the
 * default. *ret is owned. 0, or 1 out of memory. */
int dropin_config_path(const struct remote_options *o, char **ret);

/* config_load() of path; on errors prints them (what says what was being
 * done) and returns 1. */
int dropin_load(const struct remote_options *o, const char *path, const char *what,
		struct config **ret);

/* <dir of path>/certs.d and <that>/NAME.conf, as config_load() names them. */
int dropin_dir(const char *config_path, char **ret);
int dropin_path(const char *config_path, const char *name, char **ret);

/* The drop-in's text for d, after checking what the INI syntax cannot carry
 * (line breaks, comment characters) and what the loader would skip (a name
 * starting with '.'): 0, or 2 with the message printed. */
int dropin_render(const struct remote_options *o, const struct dropin_cert *d, char **ret);

/* Loads the configuration at config_path with text as its drop-in file and
 * checks the new cert like persistd -t (its deploy hook, its persist_until):
 * 0, or 2 with each error printed as file:line. */
int dropin_validate(const struct remote_options *o, const char *config_path, const char *file,
		    const char *text);

/* Writes text to file atomically, 0644, creating certs.d if needed: 0 or 1. */
int dropin_write(const struct remote_options *o, const char *file, const char *text);
