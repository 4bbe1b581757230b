#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/platform_util.h>

#include "common/certcheck.h"
#include "common/fleetkey.h"
#include "common/key.h"
#include "common/strutil.h"
#include "common/x509.h"
#include "daemon/fleetcopy.h"
#include "daemon/log.h"
#include "daemon/store.h"

/* The serial and expiry this host serves for cert; false when it has none. */
bool fleetcopy_local_version(const struct fleetcopy *fc, const char *name, char **ret_serial,
			     int64_t *ret_not_after)
{
	_cleanup_free_ char *pem = NULL;
	struct x509_info info;
	size_t len;

	if (store_cert_load_current(fc->store, name, &pem, &len) < 0 ||
	    x509_parse_leaf(pem, len, &info) < 0)
		return false;
	*ret_serial = TAKE_PTR(info.serial_hex);
	*ret_not_after = info.not_after;
	x509_info_done(&info);
	return true;
}

/* Which version wins: the later notAfter; on a tie the one that replaced the other, as
 * far as this host knows, else the stored one, which the lock holder stored. So every
 * host converges on one version, and no host's copy ever moves to an earlier notAfter. */
bool fleetcopy_stored_wins(const char *serial, int64_t not_after, const char *local_serial,
			   int64_t local_not_after, bool replaced_here)
{
	if (!serial || !serial[0])
		return false;
	if (!local_serial)
		return true;
	if (streq(serial, local_serial))
		return false;
	return not_after > local_not_after || (not_after == local_not_after && !replaced_here);
}

bool fleetcopy_local_wins(const char *local_serial, int64_t local_not_after, const char *serial,
			  int64_t not_after, bool replaced_here)
{
	if (!local_serial)
		return false;
	if (!serial || !serial[0])
		return true;
	if (streq(serial, local_serial))
		return false;
	return local_not_after > not_after || (local_not_after == not_after && replaced_here);
}

bool fleetcopy_replaced_here(const struct fleetcopy *fc, const char *name, const char *serial)
{
	_cleanup_free_ unsigned *v = NULL;
	unsigned current;
	size_t n;

	if (!serial || store_cert_current_version(fc->store, name, &current) < 0 ||
	    store_cert_versions(fc->store, name, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *pem = NULL;
		struct x509_info info;
		size_t len;
		if (v[i] >= current)
			continue;
		if (store_cert_load_version(fc->store, name, v[i], &pem, &len) < 0 ||
		    x509_parse_leaf(pem, len, &info) < 0)
			continue;
		bool same = streq(info.serial_hex, serial);
		x509_info_done(&info);
		if (same)
			return true;
	}
	return false;
}

static void make_ad(char *buf, size_t size, const char *name, const char *what)
{
	str_printf(buf, size, "%s\n%s", name, what);
}

int fleetcopy_seal_key(const struct fleetcopy *fc, const char *name, const char *what,
		       const struct key *k, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ char *pem = NULL;
	uint8_t nonce[FLEETKEY_NONCE_BYTES];
	char ad[600];
	int r;

	r = key_write_pem(k, &pem);
	if (r < 0)
		return r;
	r = getrandom(nonce, sizeof(nonce), 0) == (ssize_t)sizeof(nonce) ? 0 : -EIO;
	if (r == 0) {
		make_ad(ad, sizeof(ad), name, what);
		r = fleetkey_seal(fc->key, nonce, ad, strlen(ad), pem, strlen(pem), ret, ret_len);
	}
	mbedtls_platform_zeroize(pem, strlen(pem));
	return r;
}

int fleetcopy_open_key(const struct fleetcopy *fc, const char *name, const char *what,
		       const uint8_t *sealed, size_t len, struct key **ret)
{
	uint8_t *pem = NULL;
	size_t pem_len;
	char ad[600];
	int r;

	make_ad(ad, sizeof(ad), name, what);
	r = fleetkey_open(fc->key, ad, strlen(ad), sealed, len, &pem, &pem_len);
	if (r < 0)
		return r;
	r = key_load_pem((const char *)pem, pem_len, ret);
	mbedtls_platform_zeroize(pem, pem_len);
	free(pem);
	return r;
}

void fleetcopy_on_job_logged(struct fleet_db_job *job, void *userdata)
{
	(void)userdata;
	if (job->error < 0)
		log_warning("fleet: cert '%s': %s: %s%s", job->cert,
			    job->op == FLEET_DB_UPLOAD ? "storing the new version" : "updating the "
										    "database",
			    job->why,
			    job->op == FLEET_DB_UPLOAD ? "; it is stored after the reconnect" : "");
	else if (job->op == FLEET_DB_UPLOAD && job->stored)
		log_info("fleet: cert '%s': version with serial %s stored for the fleet", job->cert,
			 job->row.serial);
}

void fleetcopy_note_installed(const struct fleetcopy *fc, const char *name, const char *serial)
{
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_INSTALLED, name);

	if (!job)
		return;
	job->row.serial = strdup(serial);
	if (!job->row.serial) {
		free(job->cert);
		free(job);
		return;
	}
	fleet_db_submit(fc->db, job, fleetcopy_on_job_logged, NULL);
}

/* The UPLOAD job of this host's current version of name, sealed, not yet submitted. */
int fleetcopy_upload_job(const struct fleetcopy *fc, const char *name, bool locked,
			 const char *replaces, struct fleet_db_job **ret)
{
	_cleanup_free_ char *pem = NULL;
	_cleanup_(key_freep) struct key *k = NULL;
	struct x509_info info;
	size_t len;
	int r;

	r = store_cert_load_current(fc->store, name, &pem, &len);
	if (r < 0)
		return r;
	r = store_cert_load_current_key(fc->store, name, &k);
	if (r < 0)
		return r;
	r = x509_parse_leaf(pem, len, &info);
	if (r < 0)
		return r;
	struct fleet_db_job *job = fleet_db_job_new(FLEET_DB_UPLOAD, name);
	const char *end = strstr(pem, "-----END CERTIFICATE-----");
	if (!job || !end) {
		x509_info_done(&info);
		if (job)
			free(job->cert);
		free(job);
		return job ? -EINVAL : -ENOMEM;
	}
	end += strlen("-----END CERTIFICATE-----");
	if (*end == '\r')
		end++;
	if (*end == '\n')
		end++;
	job->row.serial = TAKE_PTR(info.serial_hex);
	job->row.not_after = info.not_after;
	job->locked = locked;
	x509_info_done(&info);
	/* A serial too long to hold (RFC 5280 allows 20 octets) replaces nothing. */
	if (replaces && strlen(replaces) < sizeof(job->replaces))
		str_printf(job->replaces, sizeof(job->replaces), "%s", replaces);
	job->row.leaf_pem = strndup(pem, (size_t)(end - pem));
	job->row.chain_pem = strdup(end);
	if (job->row.serial && job->row.leaf_pem && job->row.chain_pem)
		r = fleetcopy_seal_key(fc, name, job->row.serial, k, &job->row.key_sealed,
			     &job->row.key_sealed_len);
	else
		r = -ENOMEM;
	if (r < 0) {
		fleet_sql_row_done(&job->row);
		free(job->cert);
		free(job);
		return r;
	}
	*ret = job;
	return 0;
}

int fleetcopy_upload(const struct fleetcopy *fc, const char *name, bool locked,
		     const char *replaces)
{
	struct fleet_db_job *job = NULL;
	int r;

	r = fleetcopy_upload_job(fc, name, locked, replaces, &job);
	if (r < 0)
		return r;
	_cleanup_free_ char *serial = strdup(job->row.serial);
	fleet_db_submit(fc->db, job, fleetcopy_on_job_logged, NULL);
	if (serial)
		fleetcopy_note_installed(fc, name, serial); /* this host serves it */
	return 0;
}

/* Installs the stored version in row after the checks a single host makes on what a CA
 * sends. */
int fleetcopy_install(const struct fleetcopy *fc, const struct config_cert *cfg,
		      const struct fleet_row *row, int64_t now, unsigned *ret_version, char *why,
		      size_t why_size)
{
	_cleanup_(key_freep) struct key *k = NULL;
	_cleanup_free_ char *full = NULL;
	struct certcheck_result res = { 0 };
	struct x509_info info;
	int r;

	if (!row->leaf_pem || !row->chain_pem || !row->key_sealed) {
		str_printf(why, why_size, "the stored version is incomplete");
		return -EINVAL;
	}
	r = fleetcopy_open_key(fc, cfg->name, row->serial, row->key_sealed, row->key_sealed_len, &k);
	if (r < 0) {
		str_printf(why, why_size, "the stored private key does not open with this host's "
					  "fleet key (%s)",
			   r == -EBADMSG ? "another fleet key, or a row moved or altered"
					 : strerror(-r));
		return r;
	}
	if (asprintf(&full, "%s%s", row->leaf_pem, row->chain_pem) < 0)
		return -ENOMEM;
	r = x509_parse_leaf(full, strlen(full), &info);
	if (r < 0 || !info.serial_hex || !streq(info.serial_hex, row->serial)) {
		if (r == 0)
			x509_info_done(&info);
		str_printf(why, why_size, "the stored certificate is not the one its row names");
		return -EINVAL;
	}
	x509_info_done(&info);
	r = certcheck_chain(full, strlen(full), (const char *const *)cfg->names, cfg->n_names, k,
			    now, &res);
	if (r < 0)
		return r;
	if (res.verdict != CERTCHECK_OK) {
		str_printf(why, why_size, "the stored certificate is not fit to install (%s): %s",
			   certcheck_verdict_to_string(res.verdict), res.reason);
		certcheck_result_done(&res);
		return -EINVAL;
	}
	certcheck_result_done(&res);
	r = store_cert_install(fc->store, cfg->name, k, row->leaf_pem, strlen(row->leaf_pem),
			       row->chain_pem, strlen(row->chain_pem), ret_version);
	if (r < 0) {
		str_printf(why, why_size, "installing the stored version: %s", strerror(-r));
		return r;
	}
	fleetcopy_note_installed(fc, cfg->name, row->serial);
	return 0;
}
