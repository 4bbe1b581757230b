/* daemon/certfiles.c: see certfiles.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "common/fileio.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/x509.h"
#include "daemon/certfiles.h"
#include "daemon/store.h"

static void kv_path(struct json_writer *w, const char *key, const char *path)
{
	struct stat st;

	json_kv_string(w, key, path && stat(path, &st) == 0 ? path : NULL);
}

/* "ECDSA P-256", "RSA" and the size in bits, from the leaf's public key. */
static void write_key(struct json_writer *w, const char *cert_path)
{
	_cleanup_free_ char *pem = NULL;
	_cleanup_free_ uint8_t *der = NULL;
	size_t len, der_len;
	mbedtls_x509_crt crt;

	json_key(w, "key");
	if (!cert_path || file_read_bounded(cert_path, CERT_MAX_BYTES, &pem, &len) < 0 ||
	    x509_leaf_der(pem, len, &der, &der_len) < 0) {
		json_null(w);
		return;
	}
	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_der(&crt, der, der_len) != 0) {
		mbedtls_x509_crt_free(&crt);
		json_null(w);
		return;
	}
	char type[40];
	size_t bits = mbedtls_pk_get_bitlen(&crt.pk);
	mbedtls_pk_type_t t = mbedtls_pk_get_type(&crt.pk);
	if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECDSA) {
		const mbedtls_ecp_curve_info *ci =
			mbedtls_ecp_curve_info_from_grp_id(mbedtls_pk_ec(crt.pk)->grp.id);
		const char *curve = "unknown curve";
		if (ci && ci->grp_id == MBEDTLS_ECP_DP_SECP256R1)
			curve = "P-256";
		else if (ci && ci->grp_id == MBEDTLS_ECP_DP_SECP384R1)
			curve = "P-384";
		else if (ci && ci->grp_id == MBEDTLS_ECP_DP_SECP521R1)
			curve = "P-521";
		else if (ci)
			curve = ci->name;
		snprintf(type, sizeof(type), "ECDSA %s", curve);
	} else if (t == MBEDTLS_PK_RSA) {
		snprintf(type, sizeof(type), "RSA");
	} else {
		snprintf(type, sizeof(type), "%s", mbedtls_pk_get_name(&crt.pk));
	}
	mbedtls_x509_crt_free(&crt);
	json_begin_object(w);
	json_kv_string(w, "type", type);
	json_kv_int(w, "bits", (int64_t)bits);
	json_end_object(w);
}

void certfiles_write_json(struct json_writer *w, struct store *s, const char *cert)
{
	static const struct {
		const char *key, *file;
	} files[] = {
		{ "cert", "cert.pem" },		  { "chain", "chain.pem" },
		{ "fullchain", "fullchain.pem" }, { "privkey", "privkey.pem" },
		{ "domains", "domains" },
	};
	_cleanup_free_ char *dir = NULL, *current = NULL, *target = NULL, *cert_path = NULL;
	_cleanup_free_ unsigned *versions = NULL;
	size_t n_versions = 0;
	char link[64];

	if (!store_name_is_safe(cert) ||
	    asprintf(&dir, "%s/certs/%s", store_get_dir(s), cert) < 0) {
		dir = NULL;
		return;
	}
	if (asprintf(&current, "%s/current", dir) < 0)
		current = NULL;
	ssize_t l = current ? readlink(current, link, sizeof(link) - 1) : -1;
	if (l > 0) {
		link[l] = '\0';
		if (asprintf(&target, "%s/%s", dir, link) < 0)
			target = NULL;
	}
	json_key(w, "files");
	json_begin_object(w);
	json_kv_string(w, "dir", dir);
	kv_path(w, "current", l > 0 ? current : NULL);
	kv_path(w, "current_target", target);
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *path = NULL;
		if (l <= 0 || asprintf(&path, "%s/%s", current, files[i].file) < 0)
			path = NULL;
		kv_path(w, files[i].key, path);
		if (path && streq(files[i].key, "cert"))
			cert_path = TAKE_PTR(path);
	}
	json_end_object(w);
	json_key(w, "archive_versions");
	json_begin_array(w);
	if (store_cert_versions(s, cert, &versions, &n_versions) == 0)
		for (size_t i = 0; i < n_versions; i++)
			json_int(w, versions[i]);
	json_end_array(w);
	write_key(w, cert_path);
}
