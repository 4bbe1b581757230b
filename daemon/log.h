/* daemon/log.h: the daemon's one logging function.
 * Under systemd (JOURNAL_STREAM names our stderr), or when asked with
 * --log-target=journal, lines go to the journal with CODE_FILE/CODE_LINE/
 * CODE_FUNC; otherwise to stderr as "persistd[pid]: <level>: message".
 * The log target is the only file-scope state besides struct daemon; it is
 * set once at startup by log_setup(). Messages above the max level are
 * dropped before they are formatted. %m in a format is the text of the
 * errno passed to log_errno() (or of errno for the others). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

#include "common/macro.h"

enum log_target {
	LOG_TARGET_AUTO,    /* journal when systemd connected stderr to it, else stderr */
	LOG_TARGET_JOURNAL,
	LOG_TARGET_STDERR,
};

void log_setup(enum log_target target, int max_level);
int log_target_from_string(const char *s); /* "auto", "journal", "stderr"; -EINVAL */
void log_set_max_level(int level);
int log_get_max_level(void);
bool log_to_journal(void);
/* "debug", "info", "notice", "warning", "err"/"error"; -EINVAL otherwise. */
int log_level_from_string(const char *s);

void log_msg_full(int prio, int err, const char *file, int line, const char *func,
		  const char *fmt, ...) _printf_(6, 7);

#define log_msg(prio, ...) log_msg_full((prio), 0, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Logs with %m = strerror(-r) and returns r, so callers can
 * `return log_errno(LOG_ERR, r, "loading '%s': %m", path);` */
#define log_errno(prio, r, ...)                                                        \
	({                                                                             \
		int _log_r_ = (r);                                                     \
		log_msg_full((prio), _log_r_ < 0 ? -_log_r_ : _log_r_, __FILE__, __LINE__, \
			     __func__, __VA_ARGS__);                                   \
		_log_r_ < 0 ? _log_r_ : -_log_r_;                                      \
	})
