#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include "common/b64.h"
#include "common/fileio.h"
#include "common/key.h"
#include "common/key_ecdsa.h"
#include "common/limits.h"
#include "common/macro.h"
#include "common/mberr.h"
#include "common/x509.h"

/* Room for mbedtls_pk_write_key_pem(): an RSA 4096 PKCS#1 PEM is about 3.3 KiB. */
#define KEY_PEM_BUF_BYTES (16 * 1024)

struct key {
	enum key_type type;
	mbedtls_pk_context pk;
	struct key_ecdsa *ecdsa; /* EC keys: the same key in libcrypto, which signs */
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static const char *const key_type_names[] = {
	[KEY_EC_P256] = "ec-p256",
	[KEY_EC_P384] = "ec-p384",
	[KEY_RSA_2048] = "rsa2048",
	[KEY_RSA_3072] = "rsa3072",
	[KEY_RSA_4096] = "rsa4096",
};
static_assert(ELEMENTSOF(key_type_names) == _KEY_TYPE_MAX, "key_type_names");

/* A heap buffer that held or will hold secret bytes: wiped before it is freed. */
struct secret_buf {
	char *p;        /* owned */
	size_t size;
};

static void secret_buf_done(struct secret_buf *s)
{
	if (!s->p)
		return;
	mbedtls_platform_zeroize(s->p, s->size);
	free(s->p);
	s->p = NULL;
}

const char *key_type_to_string(enum key_type t)
{
	if ((unsigned)t >= _KEY_TYPE_MAX)
		return NULL;
	return key_type_names[t];
}

int key_type_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(key_type_names); i++)
		if (streq(s, key_type_names[i]))
			return (int)i;
	return -EINVAL;
}

void key_free(struct key *k)
{
	if (!k)
		return;
	mbedtls_pk_free(&k->pk);
	key_ecdsa_free(k->ecdsa);
	mbedtls_ctr_drbg_free(&k->drbg);
	mbedtls_entropy_free(&k->entropy);
	mbedtls_platform_zeroize(k, sizeof(*k));
	free(k);
}

/* A key with an empty pk context and a seeded DRBG of its own. */
static int key_new(struct key **ret)
{
	static const char pers[] = "persistd key";
	_cleanup_(key_freep) struct key *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	mbedtls_pk_init(&k->pk);
	mbedtls_entropy_init(&k->entropy);
	mbedtls_ctr_drbg_init(&k->drbg);
	r = mbedtls_ctr_drbg_seed(&k->drbg, mbedtls_entropy_func, &k->entropy,
				  (const unsigned char *)pers, sizeof(pers) - 1);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	*ret = TAKE_PTR(k);
	return 0;
}

int key_rng(void *p_rng, unsigned char *out, size_t len)
{
	struct key *k = p_rng;

	return mbedtls_ctr_drbg_random(&k->drbg, out, len);
}

struct mbedtls_pk_context *key_get_pk(const struct key *k)
{
	/* The key is never a const object: only our callers see it as one. */
	return (struct mbedtls_pk_context *)&k->pk;
}

/* Which of our key types pk is, or -EINVAL for anything we refuse. */
static int key_classify(const mbedtls_pk_context *pk)
{
	switch (mbedtls_pk_get_type(pk)) {
	case MBEDTLS_PK_ECKEY:
		switch (mbedtls_pk_ec(*pk)->grp.id) {
		case MBEDTLS_ECP_DP_SECP256R1:
			return KEY_EC_P256;
		case MBEDTLS_ECP_DP_SECP384R1:
			return KEY_EC_P384;
		default:
			return -EINVAL;
		}
	case MBEDTLS_PK_RSA:
		/* XXX: other sizes >= 2048 are valid RSA keys, but enum key_type has no name
		 * for them, so they are refused rather than misreported. */
		switch (mbedtls_pk_get_bitlen(pk)) {
		case 2048:
			return KEY_RSA_2048;
		case 3072:
			return KEY_RSA_3072;
		case 4096:
			return KEY_RSA_4096;
		default:
			return -EINVAL;
		}
	default:
		return -EINVAL;
	}
}

static size_t key_ec_width(enum key_type t)
{
	return t == KEY_EC_P384 ? 48 : t == KEY_EC_P256 ? 32 : 0;
}

/* k->ecdsa for an EC key that mbedTLS parsed: its scalar and point handed to libcrypto,
 * which checks that they belong together. */
static int key_attach_ecdsa(struct key *k)
{
	const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
	size_t w = key_ec_width(k->type), point_len = 0;
	uint8_t d[KEY_ECDSA_MAX_WIDTH], point[KEY_ECDSA_MAX_POINT];
	int r;

	r = mbedtls_mpi_write_binary(&ec->d, d, w);
	if (r == 0)
		r = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
						   &point_len, point, sizeof(point));
	if (r != 0)
		r = mberr_to_errno(r, -EIO);
	else if (point_len != 1 + 2 * w)
		r = -EIO;
	else
		r = key_ecdsa_from_raw(w, d, point, &k->ecdsa);
	mbedtls_platform_zeroize(d, sizeof(d));
	return r;
}

/* An EC key made by libcrypto, then given to mbedTLS as scalar and point: libcrypto's
 * key generation is some 30 times faster than mbedtls_ecp_gen_key() here. */
static int key_generate_ec(struct key *k, mbedtls_ecp_group_id curve)
{
	size_t w = key_ec_width(k->type);
	uint8_t d[KEY_ECDSA_MAX_WIDTH], point[KEY_ECDSA_MAX_POINT];
	mbedtls_ecp_keypair *ec;
	int r;

	r = key_ecdsa_generate(w, d, point, &k->ecdsa);
	if (r < 0)
		return r;
	r = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (r == 0) {
		ec = mbedtls_pk_ec(k->pk);
		r = mbedtls_ecp_group_load(&ec->grp, curve);
		if (r == 0)
			r = mbedtls_mpi_read_binary(&ec->d, d, w);
		if (r == 0)
			r = mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, point, 1 + 2 * w);
		if (r == 0)
			r = mbedtls_ecp_check_privkey(&ec->grp, &ec->d);
		if (r == 0)
			r = mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q);
	}
	mbedtls_platform_zeroize(d, sizeof(d));
	return r == 0 ? 0 : mberr_to_errno(r, -EIO);
}

int key_generate(enum key_type t, struct key **ret)
{
	_cleanup_(key_freep) struct key *k = NULL;
	unsigned rsa_bits = 0;
	mbedtls_ecp_group_id curve = MBEDTLS_ECP_DP_NONE;
	int r;

	switch (t) {
	case KEY_EC_P256:
		curve = MBEDTLS_ECP_DP_SECP256R1;
		break;
	case KEY_EC_P384:
		curve = MBEDTLS_ECP_DP_SECP384R1;
		break;
	case KEY_RSA_2048:
		rsa_bits = 2048;
		break;
	case KEY_RSA_3072:
		rsa_bits = 3072;
		break;
	case KEY_RSA_4096:
		rsa_bits = 4096;
		break;
	default:
		return -EINVAL;
	}

	r = key_new(&k);
	if (r < 0)
		return r;
	k->type = t;
	if (rsa_bits) {
		r = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
		if (r == 0)
			r = mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), mbedtls_ctr_drbg_random,
						&k->drbg, rsa_bits, 65537);
		if (r != 0)
			return mberr_to_errno(r, -EIO);
	} else {
		r = key_generate_ec(k, curve);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(k);
	return 0;
}

int key_load_pem(const char *pem, size_t len, struct key **ret)
{
	_cleanup_(secret_buf_done) struct secret_buf copy = { 0 };
	_cleanup_(key_freep) struct key *k = NULL;
	int r;

	if (len > KEY_MAX_BYTES)
		return -E2BIG;
	/* mbedTLS reads PEM as a C string: a NUL inside would hide the rest. */
	if (len == 0 || memchr(pem, '\0', len))
		return -EINVAL;
	copy.size = len + 1;
	copy.p = malloc(copy.size);
	if (!copy.p)
		return -ENOMEM;
	memcpy(copy.p, pem, len);
	copy.p[len] = '\0';
	/* Without a PEM header mbedTLS would try the bytes as DER; we promise PEM. */
	if (!strstr(copy.p, "-----BEGIN "))
		return -EINVAL;

	r = key_new(&k);
	if (r < 0)
		return r;
	/* For PEM the length must count the NUL, or mbedTLS takes the buffer for DER. */
	r = mbedtls_pk_parse_key(&k->pk, (const unsigned char *)copy.p, copy.size, NULL, 0);
	if (r != 0)
		return mberr_to_errno(r, -EINVAL);
	r = key_classify(&k->pk);
	if (r < 0)
		return r;
	k->type = (enum key_type)r;
	if (key_ec_width(k->type)) {
		r = key_attach_ecdsa(k);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(k);
	return 0;
}

int key_load_file(const char *path, struct key **ret)
{
	_cleanup_(secret_buf_done) struct secret_buf buf = { 0 };
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len = 0;

	fd = file_open_regular(path, &st);
	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > KEY_MAX_BYTES)
		return -E2BIG;
	/* Not common/fileio: one fixed buffer, so no realloc() leaves key bytes behind
	 * unwiped. One byte more than the limit tells a file that grew past it. */
	buf.size = KEY_MAX_BYTES + 1;
	buf.p = malloc(buf.size);
	if (!buf.p)
		return -ENOMEM;
	while (len < buf.size) {
		ssize_t n = read(fd, buf.p + len, buf.size - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KEY_MAX_BYTES)
		return -E2BIG;
	return key_load_pem(buf.p, len, ret);
}

int key_write_pem(const struct key *k, char **ret_pem)
{
	_cleanup_(secret_buf_done) struct secret_buf buf = { 0 };
	int r;

	buf.size = KEY_PEM_BUF_BYTES;
	buf.p = malloc(buf.size);
	if (!buf.p)
		return -ENOMEM;
	r = mbedtls_pk_write_key_pem(key_get_pk(k), (unsigned char *)buf.p, buf.size);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	char *pem = strdup(buf.p);
	if (!pem)
		return -ENOMEM;
	*ret_pem = pem;
	return 0;
}

void key_pem_free(char *pem)
{
	if (!pem)
		return;
	mbedtls_platform_zeroize(pem, strlen(pem));
	free(pem);
}

enum key_type key_get_type(const struct key *k)
{
	return k->type;
}

const char *key_jws_alg(const struct key *k)
{
	switch (k->type) {
	case KEY_EC_P256:
		return "ES256";
	case KEY_EC_P384:
		return "ES384";
	default:
		return "RS256";
	}
}

static int key_jwk_ec(const struct key *k, char **ret_json)
{
	const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
	uint8_t point[1 + 2 * 48];
	char x[65], y[65];
	size_t w = (ec->grp.pbits + 7) / 8, point_len;
	char *json;
	int r;

	/* 04 || X || Y, each coordinate full width: RFC 7518 section 6.2.1.2 keeps leading
	 * zeros, and dropping them would change the thumbprint. */
	r = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
					   &point_len, point, sizeof(point));
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	if (point_len != 1 + 2 * w)
		return -EIO;
	r = b64url_encode_buf(point + 1, w, x, sizeof(x));
	if (r < 0)
		return r;
	r = b64url_encode_buf(point + 1 + w, w, y, sizeof(y));
	if (r < 0)
		return r;
	r = asprintf(&json, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		     k->type == KEY_EC_P384 ? "P-384" : "P-256", x, y);
	if (r < 0)
		return -ENOMEM;
	*ret_json = json;
	return 0;
}

static int key_jwk_rsa(const struct key *k, char **ret_json)
{
	const mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
	size_t n_len = mbedtls_rsa_get_len(rsa);
	uint8_t n[512], e[16];
	_cleanup_free_ char *n_b64 = NULL;
	char e_b64[32];
	mbedtls_mpi big_e;
	size_t e_len;
	char *json;
	int r;

	if (n_len == 0 || n_len > sizeof(n))
		return -EINVAL;
	r = mbedtls_rsa_export_raw(rsa, n, n_len, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	/* e in its minimal length (01 00 01 -> AQAB): a padded e is another thumbprint. */
	mbedtls_mpi_init(&big_e);
	r = mbedtls_rsa_export(rsa, NULL, NULL, NULL, NULL, &big_e);
	e_len = mbedtls_mpi_size(&big_e);
	if (r == 0 && (e_len == 0 || e_len > sizeof(e)))
		r = MBEDTLS_ERR_RSA_BAD_INPUT_DATA;
	if (r == 0)
		r = mbedtls_mpi_write_binary(&big_e, e, e_len);
	mbedtls_mpi_free(&big_e);
	if (r != 0)
		return mberr_to_errno(r, -EIO);

	r = b64url_encode(n, n_len, &n_b64);
	if (r < 0)
		return r;
	r = b64url_encode_buf(e, e_len, e_b64, sizeof(e_b64));
	if (r < 0)
		return r;
	r = asprintf(&json, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e_b64, n_b64);
	if (r < 0)
		return -ENOMEM;
	*ret_json = json;
	return 0;
}

int key_jwk(const struct key *k, char **ret_json)
{
	if (k->type == KEY_EC_P256 || k->type == KEY_EC_P384)
		return key_jwk_ec(k, ret_json);
	return key_jwk_rsa(k, ret_json);
}

int key_jwk_thumbprint_from_json(const char *canonical_jwk, char **ret_b64)
{
	uint8_t hash[32];
	int r;

	r = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
		       (const unsigned char *)canonical_jwk, strlen(canonical_jwk), hash);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	return b64url_encode(hash, sizeof(hash), ret_b64);
}

int key_thumbprint(const struct key *k, char **ret_b64)
{
	_cleanup_free_ char *jwk = NULL;
	int r;

	r = key_jwk(k, &jwk);
	if (r < 0)
		return r;
	return key_jwk_thumbprint_from_json(jwk, ret_b64);
}

int key_sign(const struct key *k, const void *data, size_t len, uint8_t **ret_sig,
	     size_t *ret_len)
{
	struct key *mk = (struct key *)k;      /* the DRBG advances; see key_get_pk() */
	uint8_t hash[MBEDTLS_MD_MAX_SIZE];
	uint8_t sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t sig_len = 0, w = key_ec_width(k->type);
	_cleanup_free_ uint8_t *out = NULL;
	int r;

	if (w) {
		out = malloc(2 * w);
		if (!out)
			return -ENOMEM;
		r = key_ecdsa_sign(k->ecdsa, data, len, out);
		if (r < 0)
			return r;
		*ret_sig = TAKE_PTR(out);
		*ret_len = 2 * w;
		return 0;
	}

	r = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), data, len, hash);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	/* PKCS#1 v1.5 needs no randomness; mbedTLS uses the DRBG to blind the private op. */
	r = mbedtls_pk_sign(&mk->pk, MBEDTLS_MD_SHA256, hash, 0, sig, &sig_len,
			    mbedtls_ctr_drbg_random, &mk->drbg);
	if (r != 0)
		return mberr_to_errno(r, -EIO);
	out = malloc(sig_len);
	if (!out)
		return -ENOMEM;
	memcpy(out, sig, sig_len);
	*ret_sig = TAKE_PTR(out);
	*ret_len = sig_len;
	return 0;
}

int key_pem_matches(const struct key *k, const char *cert_pem, size_t len)
{
	mbedtls_x509_crt chain;
	int r;

	mbedtls_x509_crt_init(&chain);
	r = x509_chain_parse(cert_pem, len, &chain);
	if (r == 0) {
		if (key_ec_width(k->type)) {
			/* The point is enough: libcrypto checked at load or generation that it
			 * is the scalar's, which mbedtls_pk_check_pair() would redo (a point
			 * multiplication) on every call. */
			const mbedtls_ecp_keypair *ours = mbedtls_pk_ec(k->pk);

			r = mbedtls_pk_get_type(&chain.pk) == MBEDTLS_PK_ECKEY &&
			    mbedtls_pk_ec(chain.pk)->grp.id == ours->grp.id &&
			    mbedtls_ecp_point_cmp(&mbedtls_pk_ec(chain.pk)->Q, &ours->Q) == 0;
		} else {
			/* 2.28 takes (public, private) and no RNG. Mismatch and "cannot
			 * check" (another key type) both mean: not this key. */
			r = mbedtls_pk_check_pair(&chain.pk, &k->pk);
			r = r == 0 ? 1 : mberr_to_errno(r, 0);
		}
	}
	mbedtls_x509_crt_free(&chain);
	return r;
}
