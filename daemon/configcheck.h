/* daemon/configcheck.h: the configuration as persistd's command line meets
 * it. Loading it with every error printed to stderr as FILE:LINE: message
 * and a verdict line; fleet mode's own refusals (daemon/fleetconfig); and
 * --check-config (-t), which also fails what would fail at run time and
 * otherwise prints a summary, like nginx -t. Prints; no loop, no state. */
#pragma once

struct config;

/* config_load(), its errors printed. 0, or <0 (printed). */
int configcheck_load(const char *path, struct config **ret);

/* fleet_check_config(), its refusal printed with the main file's line.
 * 0, or -EINVAL (printed). */
int configcheck_fleet(const struct config *c, const char *path);

/* -t: the exit status, 0 valid (summary on stdout) or 1 (errors on stderr). */
int configcheck_run(const char *path);
