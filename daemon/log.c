#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "daemon/log.h"

static struct {
	bool journal;
	int max_level;
} log_target = { false, LOG_INFO };

/* Started by systemd with stderr connected to the journal: JOURNAL_STREAM
 * names stderr's device and inode (systemd.exec(5)). A daemon started by
 * hand on a systemd host keeps its terminal. */
static bool journal_available(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	return fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

int log_target_from_string(const char *s)
{
	if (streq(s, "auto"))
		return LOG_TARGET_AUTO;
	if (streq(s, "journal"))
		return LOG_TARGET_JOURNAL;
	if (streq(s, "stderr") || streq(s, "console"))
		return LOG_TARGET_STDERR;
	return -EINVAL;
}

void log_setup(enum log_target target, int max_level)
{
	log_target.journal = target == LOG_TARGET_JOURNAL ||
			     (target == LOG_TARGET_AUTO && journal_available());
	log_target.max_level = max_level;
}

void log_set_max_level(int level)
{
	log_target.max_level = level;
}

int log_get_max_level(void)
{
	return log_target.max_level;
}

bool log_to_journal(void)
{
	return log_target.journal;
}

int log_level_from_string(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO },	 { "notice", LOG_NOTICE },
		{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
		{ "crit", LOG_CRIT },
	};

	for (size_t i = 0; i < ELEMENTSOF(levels); i++)
		if (streq(s, levels[i].name))
			return levels[i].level;
	return -EINVAL;
}

static const char *level_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "critical";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg_full(int prio, int err, const char *file, int line, const char *func,
		  const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int saved = errno;

	if (prio > log_target.max_level)
		return;
	/* %m takes the error we were handed, not whatever errno is now. */
	errno = err ? err : saved;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_target.journal) {
		char code_line[32];

		snprintf(code_line, sizeof(code_line), "CODE_LINE=%d", line);
		(void)sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio,
				      "CODE_FILE=%s", file, "%s", code_line, "CODE_FUNC=%s", func,
				      "SYSLOG_IDENTIFIER=persistd", NULL);
	} else {
		fprintf(stderr, "persistd[%d]: %s: %s\n", (int)getpid(), level_name(prio), msg);
	}
	errno = saved;
}
