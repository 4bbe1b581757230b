#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "common/key_ecdsa.h"

struct key_ecdsa {
	EVP_PKEY *pkey;
	size_t w;
};

static const char *curve_name(size_t w)
{
	return w == 32 ? "P-256" : w == 48 ? "P-384" : NULL;
}

void key_ecdsa_library_init(void)
{
	uint8_t b;

	(void)OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	(void)RAND_bytes(&b, 1);
	OPENSSL_cleanse(&b, 1);
}

void key_ecdsa_free(struct key_ecdsa *e)
{
	if (!e)
		return;
	EVP_PKEY_free(e->pkey);
	free(e);
}

static int key_ecdsa_wrap(EVP_PKEY *pkey, size_t w, struct key_ecdsa **ret)
{
	struct key_ecdsa *e = calloc(1, sizeof(*e));

	if (!e) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	e->pkey = pkey;
	e->w = w;
	*ret = e;
	return 0;
}

int key_ecdsa_generate(size_t w, uint8_t *d, uint8_t *point, struct key_ecdsa **ret)
{
	const char *curve = curve_name(w);
	BIGNUM *priv = NULL;
	size_t point_len = 0;
	EVP_PKEY *pkey;
	int ok;

	if (!curve)
		return -EINVAL;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	if (!pkey)
		return -EIO;
	/* PUB_KEY comes out uncompressed: that is the default point format of an EC key. */
	ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1 &&
	     BN_bn2binpad(priv, d, (int)w) == (int)w &&
	     EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * w,
					     &point_len) == 1 &&
	     point_len == 1 + 2 * w && point[0] == 0x04;
	BN_clear_free(priv);
	if (!ok) {
		OPENSSL_cleanse(d, w);
		EVP_PKEY_free(pkey);
		return -EIO;
	}
	return key_ecdsa_wrap(pkey, w, ret);
}

int key_ecdsa_from_raw(size_t w, const uint8_t *d, const uint8_t *point, struct key_ecdsa **ret)
{
	const char *curve = curve_name(w);
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *priv = NULL;
	int r = -EIO;

	if (!curve)
		return -EINVAL;
	bld = OSSL_PARAM_BLD_new();
	priv = BN_secure_new();
	if (!bld || !priv || !BN_bin2bn(d, (int)w, priv))
		goto out;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * w) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		r = -EINVAL; /* a point that is not on the curve */
		goto out;
	}
	/* Importing takes the point as given; a key file whose point is not its scalar's
	 * would sign what its own public key cannot verify, and common/key matches a
	 * certificate to a key by comparing points only. */
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!check)
		goto out;
	if (EVP_PKEY_pairwise_check(check) != 1) {
		r = -EINVAL;
		goto out;
	}
	r = key_ecdsa_wrap(pkey, w, ret);
	pkey = NULL;
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params); /* priv is a secure BN, so its copy sits in the block this wipes */
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(priv);
	return r;
}

int key_ecdsa_sign(struct key_ecdsa *e, const void *data, size_t len, uint8_t *out)
{
	uint8_t der[16 + 2 * (KEY_ECDSA_MAX_WIDTH + 1)];
	size_t der_len = sizeof(der);
	const unsigned char *p = der;
	const BIGNUM *sig_r, *sig_s;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig = NULL;
	int r = -EIO;

	if (!md)
		return -ENOMEM;
	if (EVP_DigestSignInit_ex(md, NULL, e->w == 48 ? "SHA384" : "SHA256", NULL, NULL,
				  e->pkey, NULL) != 1 ||
	    EVP_DigestSign(md, der, &der_len, data, len) != 1)
		goto out;
	/* libcrypto signs as DER SEQUENCE { INTEGER r, INTEGER s }, which drops leading
	 * zeros; JWS wants both full width. */
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!sig || p != der + der_len)
		goto out;
	ECDSA_SIG_get0(sig, &sig_r, &sig_s);
	if (BN_bn2binpad(sig_r, out, (int)e->w) != (int)e->w ||
	    BN_bn2binpad(sig_s, out + e->w, (int)e->w) != (int)e->w)
		goto out;
	r = 0;
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return r;
}
