/* daemon/fleetcopy.h: between a host's local copy of a cert and its row in the database.
 *
 * Part of fleet mode (daemon/fleet): what this host serves (its local files store), which
 * of two versions wins, the sealing of private keys with the fleet key (common/fleetkey,
 * the cert's name and serial as additional data), storing the local version for the fleet,
 * and installing a stored one after the checks a single host makes on what a CA sends
 * (common/certcheck) plus: the key opens for exactly this cert and serial, and the
 * certificate is the one the row names. Installs go through store_cert_install(),
 * atomically. Database writes are queued on daemon/fleet_db and logged when they fail.
 * Runs on the loop; blocking only on small local files, like the store. Errors: -errno,
 * -EBADMSG a sealed key that does not open, -EINVAL a stored version that fails a check. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "daemon/fleet_db.h"

struct store;
struct key;

struct fleetcopy {
	struct store *store;       /* borrowed: the host's local store */
	struct fleet_db *db;       /* borrowed */
	const uint8_t *key;        /* borrowed: the fleet key, FLEETKEY_BYTES */
};

/* The serial (*ret_serial, owned) and notAfter this host serves; false when none. */
bool fleetcopy_local_version(const struct fleetcopy *fc, const char *name, char **ret_serial,
			     int64_t *ret_not_after);
/* Which version wins: the later notAfter. On a tie (a renewal within the second of the
 * version before it) the version that replaced the other: replaced_here says that the
 * stored serial is one of this host's older local versions (fleetcopy_replaced_here), so
 * the local one was made after it (an order finished while the database was away).
 * Otherwise the stored one, which the lock holder stored. So every host converges on one
 * version and no copy ever moves to an earlier notAfter. NULL serial: no such version. */
bool fleetcopy_stored_wins(const char *serial, int64_t not_after, const char *local_serial,
			   int64_t local_not_after, bool replaced_here);
bool fleetcopy_local_wins(const char *local_serial, int64_t local_not_after, const char *serial,
			  int64_t not_after, bool replaced_here);
/* Is serial one of the local archive's versions before the current one? Reads at most
 * the archive's cert.pem files; false on any error (the tie then goes to the stored one). */
bool fleetcopy_replaced_here(const struct fleetcopy *fc, const char *name, const char *serial);

/* k sealed for cert name and what (its serial, or "pending" for an order's CSR key). */
int fleetcopy_seal_key(const struct fleetcopy *fc, const char *name, const char *what,
		       const struct key *k, uint8_t **ret, size_t *ret_len);
int fleetcopy_open_key(const struct fleetcopy *fc, const char *name, const char *what,
		       const uint8_t *sealed, size_t len, struct key **ret);

/* Stores this host's current version, unless the database has it or a later one; locked
 * (the lock holder's new version): also over one that expires in the same second, as over
 * the stored serial replaces (may be NULL), a version this host replaced. */
int fleetcopy_upload(const struct fleetcopy *fc, const char *name, bool locked,
		     const char *replaces);
/* The same version as an UPLOAD job (*ret, owned by the caller until submitted or run by
 * fleet_sql_run_job), for persistd --store-migrate, which runs it on its own connection. */
int fleetcopy_upload_job(const struct fleetcopy *fc, const char *name, bool locked,
			 const char *replaces, struct fleet_db_job **ret);
/* Records that this host serves serial (persistd_cert_hosts). */
void fleetcopy_note_installed(const struct fleetcopy *fc, const char *name, const char *serial);
/* Installs the stored version in row; why says in one line what failed. */
int fleetcopy_install(const struct fleetcopy *fc, const struct config_cert *cfg,
		      const struct fleet_row *row, int64_t now, unsigned *ret_version, char *why,
		      size_t why_size);

/* A fleet_db_job_fn that logs a failed write (and a stored upload at info). */
void fleetcopy_on_job_logged(struct fleet_db_job *job, void *userdata);
