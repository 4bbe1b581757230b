#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "common/fleetkey.h"
#include "common/limits.h"
#include "common/macro.h"
#include "common/strutil.h"

int fleetkey_load(const char *path, uint8_t key[FLEETKEY_BYTES], char *why, size_t why_size)
{
	char dummy[1];
	struct stat st;
	int fd, r = 0;

	if (why && why_size)
		why[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (why)
			str_printf(why, why_size, "cannot open it: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != FLEETKEY_BYTES) {
		if (why)
			str_printf(why, why_size, "expected a file of exactly %d random bytes, found %s",
				   FLEETKEY_BYTES, S_ISREG(st.st_mode) ? "another size" : "no file");
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & 077) {
		if (why)
			str_printf(why, why_size, "its group or others may read it (mode %04o); "
						  "chmod 0600 it",
				   (unsigned)(st.st_mode & 07777));
		r = -EPERM;
		goto out;
	}
	ssize_t n = read(fd, key, FLEETKEY_BYTES);
	if (n != FLEETKEY_BYTES || read(fd, dummy, 1) != 0) {
		mbedtls_platform_zeroize(key, FLEETKEY_BYTES);
		if (why)
			str_printf(why, why_size, "expected exactly %d bytes", FLEETKEY_BYTES);
		r = n < 0 ? -errno : -EINVAL;
	}
out:
	if (r < 0 && why && !why[0])
		str_printf(why, why_size, "%s", strerror(-r));
	close(fd);
	return r;
}

int fleetkey_seal(const uint8_t key[FLEETKEY_BYTES], const uint8_t nonce[FLEETKEY_NONCE_BYTES],
		  const void *ad, size_t ad_len, const void *plain, size_t len, uint8_t **ret,
		  size_t *ret_len)
{
	mbedtls_gcm_context gcm;
	size_t total = FLEETKEY_NONCE_BYTES + len + FLEETKEY_TAG_BYTES;
	int r;

	if (len > KEY_MAX_BYTES)
		return -E2BIG;
	uint8_t *out = malloc(total);
	if (!out)
		return -ENOMEM;
	memcpy(out, nonce, FLEETKEY_NONCE_BYTES);
	mbedtls_gcm_init(&gcm);
	r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, FLEETKEY_BYTES * 8);
	if (r == 0)
		r = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
					      FLEETKEY_NONCE_BYTES, ad, ad_len, plain,
					      out + FLEETKEY_NONCE_BYTES, FLEETKEY_TAG_BYTES,
					      out + FLEETKEY_NONCE_BYTES + len);
	mbedtls_gcm_free(&gcm);
	if (r != 0) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	*ret_len = total;
	return 0;
}

int fleetkey_open(const uint8_t key[FLEETKEY_BYTES], const void *ad, size_t ad_len,
		  const uint8_t *sealed, size_t len, uint8_t **ret, size_t *ret_len)
{
	mbedtls_gcm_context gcm;
	int r;

	if (len < FLEETKEY_NONCE_BYTES + FLEETKEY_TAG_BYTES)
		return -EBADMSG;
	size_t plain_len = len - FLEETKEY_NONCE_BYTES - FLEETKEY_TAG_BYTES;
	if (plain_len > KEY_MAX_BYTES)
		return -E2BIG;
	uint8_t *out = malloc(plain_len + 1);
	if (!out)
		return -ENOMEM;
	mbedtls_gcm_init(&gcm);
	r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, FLEETKEY_BYTES * 8);
	if (r == 0)
		r = mbedtls_gcm_auth_decrypt(&gcm, plain_len, sealed, FLEETKEY_NONCE_BYTES, ad,
					     ad_len, sealed + len - FLEETKEY_TAG_BYTES,
					     FLEETKEY_TAG_BYTES, sealed + FLEETKEY_NONCE_BYTES,
					     out);
	mbedtls_gcm_free(&gcm);
	if (r != 0) {
		mbedtls_platform_zeroize(out, plain_len + 1);
		free(out);
		return -EBADMSG;
	}
	out[plain_len] = '\0';
	*ret = out;
	*ret_len = plain_len;
	return 0;
}
