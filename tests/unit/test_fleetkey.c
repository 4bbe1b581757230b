/* Unit tests for common/fleetkey: the fleet key file's rules (exact size, not readable by
 * others) and the sealing of private keys: a round trip, and a blob that must not open with
 * another key, for another cert or version (additional data), or after tampering. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fleetkey.h"

static char dir[] = "/tmp/test_fleetkey.XXXXXX";

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	(void)unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_load(void **state)
{
	uint8_t bytes[40], key[FLEETKEY_BYTES];
	char path[256], why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7 + 1);
	snprintf(path, sizeof(path), "%s/key", dir);
	write_file(path, bytes, FLEETKEY_BYTES, 0600);
	assert_int_equal(fleetkey_load(path, key, why, sizeof(why)), 0);
	assert_memory_equal(key, bytes, FLEETKEY_BYTES);

	write_file(path, bytes, FLEETKEY_BYTES - 1, 0600);
	assert_int_equal(fleetkey_load(path, key, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "exactly 32"));
	write_file(path, bytes, FLEETKEY_BYTES + 1, 0600);
	assert_int_equal(fleetkey_load(path, key, why, sizeof(why)), -EINVAL);
	write_file(path, bytes, FLEETKEY_BYTES, 0640);
	assert_int_equal(fleetkey_load(path, key, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "0640"));
	write_file(path, bytes, FLEETKEY_BYTES, 0604);
	assert_int_equal(fleetkey_load(path, key, why, sizeof(why)), -EPERM);
	(void)unlink(path);
	assert_int_equal(fleetkey_load(path, key, why, sizeof(why)), -ENOENT);
	assert_int_equal(fleetkey_load(dir, key, why, sizeof(why)), -EINVAL);
}

static void test_seal_open(void **state)
{
	uint8_t key[FLEETKEY_BYTES], other[FLEETKEY_BYTES], nonce[FLEETKEY_NONCE_BYTES];
	const char *pem = "-----BEGIN EC PRIVATE KEY-----\nsecret\n-----END EC PRIVATE KEY-----\n";
	uint8_t *sealed = NULL, *plain = NULL;
	size_t sealed_len, plain_len;

	(void)state;
	memset(key, 0x11, sizeof(key));
	memset(other, 0x22, sizeof(other));
	memset(nonce, 0x33, sizeof(nonce));
	assert_int_equal(fleetkey_seal(key, nonce, "www\n0a", 6, pem, strlen(pem), &sealed,
				       &sealed_len),
			 0);
	assert_int_equal(sealed_len, strlen(pem) + FLEETKEY_NONCE_BYTES + FLEETKEY_TAG_BYTES);
	assert_null(memmem(sealed, sealed_len, "secret", 6));
	assert_int_equal(fleetkey_open(key, "www\n0a", 6, sealed, sealed_len, &plain, &plain_len),
			 0);
	assert_int_equal(plain_len, strlen(pem));
	assert_string_equal((char *)plain, pem);
	free(plain);

	assert_int_equal(fleetkey_open(other, "www\n0a", 6, sealed, sealed_len, &plain,
				       &plain_len),
			 -EBADMSG);
	assert_int_equal(fleetkey_open(key, "api\n0a", 6, sealed, sealed_len, &plain, &plain_len),
			 -EBADMSG);
	assert_int_equal(fleetkey_open(key, "www\n0b", 6, sealed, sealed_len, &plain, &plain_len),
			 -EBADMSG);
	sealed[FLEETKEY_NONCE_BYTES + 3] ^= 1;
	assert_int_equal(fleetkey_open(key, "www\n0a", 6, sealed, sealed_len, &plain, &plain_len),
			 -EBADMSG);
	assert_int_equal(fleetkey_open(key, "www\n0a", 6, sealed, 10, &plain, &plain_len),
			 -EBADMSG);
	free(sealed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_seal_open),
	};
	assert_non_null(mkdtemp(dir));
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	(void)rmdir(dir);
	return r;
}
