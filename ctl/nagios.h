/* ctl/nagios.h: `persistctl status --nagios`, the daemon's status as one
 * monitoring-plugin line (the Monitoring Plugins Development Guidelines):
 *
 *   PERSISTD OK - 1 certs, 0 warning, 0 critical, 0 error | 'www_cert_days'=89;30;7 ...
 *
 * The status word and the exit code follow the worst level (OK 0, WARNING 1,
 * CRITICAL 2; persistd's ERROR counts as CRITICAL; UNKNOWN 3 when the daemon
 * cannot be asked). A non-OK line names its first problem. Performance data
 * has the days left of each certificate ('CERT_cert_days') and of each
 * record's persistUntil ('NAME_record_days'; U when there is none), with the
 * daemon's warn_before and critical_before in days as thresholds. Labels are
 * quoted, a quote doubled and '=' replaced by '_', as the guidelines ask. */
#pragma once

#include <yajl/yajl_tree.h>

#include "ctl/output.h"

/* The line (no newline) for a status answer, owned by the caller. -ENOMEM. */
int nagios_format(yajl_val status, char **ret_line, enum level *ret_level);

/* Asks the daemon at socket, prints the line; returns the exit code. */
int nagios_status(const char *socket);
