#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>
#include <mbedtls/platform_util.h>

#include "common/fleetkey.h"
#include "common/strutil.h"
#include "daemon/fleetconfig.h"

int fleet_key_path(const struct config *c, char *buf, size_t size)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");

	if (c->daemon.fleet_key_file)
		str_printf(buf, size, "%s", c->daemon.fleet_key_file);
	else if (creds && creds[0] == '/')
		str_printf(buf, size, "%s/fleet-key", creds);
	else
		return -ENOENT;
	return 0;
}

static bool account_key_exists(const struct config *c, const char *ca)
{
	char path[4200];
	struct stat st;

	str_printf(path, sizeof(path), "%s/accounts/%s/account.key", c->daemon.state_dir, ca);
	return lstat(path, &st) == 0;
}

int fleet_check_config(const struct config *c, char *why, size_t why_size, unsigned *ret_line)
{
	const struct config_daemon *dc = &c->daemon;
	uint8_t key[FLEETKEY_BYTES];
	char path[4200], err[256];
	char *pq_err = NULL;

	*ret_line = dc->store_line;
	if (!dc->store_uri)
		return 0;
	PQconninfoOption *opts = PQconninfoParse(dc->store_uri, &pq_err);
	if (!opts) {
		str_printf(why, why_size, "store: not a PostgreSQL connection URI: %s",
			   pq_err ? pq_err : "out of memory");
		why[strcspn(why, "\n")] = '\0';
		PQfreemem(pq_err);
		return -EINVAL;
	}
	PQconninfoFree(opts);
	if (fleet_key_path(c, path, sizeof(path)) < 0) {
		str_printf(why, why_size, "store = postgresql needs the fleet key: fleet_key_file = "
					  "PATH (32 random bytes, mode 0600) or a 'fleet-key' systemd "
					  "credential (LoadCredential=)");
		return -EINVAL;
	}
	if (fleetkey_load(path, key, err, sizeof(err)) < 0) {
		str_printf(why, why_size, "fleet key %s: %s", path, err);
		return -EINVAL;
	}
	mbedtls_platform_zeroize(key, sizeof(key));
	*ret_line = 0;
	for (size_t i = 0; i < c->n_cas; i++) {
		const char *ca = c->cas[i]->name;
		bool used = false;
		for (size_t k = 0; k < c->n_certs && !used; k++)
			used = streq(c->certs[k]->ca_name, ca);
		bool have = account_key_exists(c, ca);
		if (dc->follower && have) {
			str_printf(why, why_size,
				   "role = follower, but %s/accounts/%s/account.key is an account "
				   "key: a follower holds none (remove it, or make this host an "
				   "issuer)",
				   dc->state_dir, ca);
			return -EINVAL;
		}
		if (!dc->follower && used && !have) {
			str_printf(why, why_size,
				   "role = issuer in fleet mode, but CA '%s' has no account key for "
				   "its signer (%s/accounts/%s/account.key): every issuer signs with "
				   "the fleet's one account; copy accounts/%s/ from the first issuer "
				   "(docs/fleet.md)",
				   ca, dc->state_dir, ca, ca);
			return -EINVAL;
		}
	}
	return 0;
}

