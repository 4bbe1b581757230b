/* daemon/fleetconfig.h: what fleet mode needs of the configuration (docs/fleet.md).
 *
 * Owns the checks `persistd -t` and the start make before any connection, and where the
 * fleet key is read from. Reads files only (the key, state_dir/accounts), never the
 * database. Errors: -errno, one line in why. */
#pragma once

#include <stddef.h>

#include "common/config.h"

/* What `persistd -t` and the start refuse in fleet mode: store=postgresql without a
 * usable fleet key, a bad URI, a follower with an account key (configured or present in
 * state_dir/accounts), an issuer with no account key for a CA its certs use. One line in
 * why, with *ret_line the config line it is about (0: none). NULL store_uri: 0. */
int fleet_check_config(const struct config *c, char *why, size_t why_size, unsigned *ret_line);
/* The fleet key's path: fleet_key_file, else $CREDENTIALS_DIRECTORY/fleet-key; -ENOENT. */
int fleet_key_path(const struct config *c, char *buf, size_t size);
