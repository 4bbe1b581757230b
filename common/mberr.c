/* common/mberr.c: see mberr.h. */
#include "common/mberr.h"

#include <errno.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509.h>

int mberr_to_errno(int err, int fallback)
{
	/* mbedTLS adds a high-level code (module of the call) to a low-level one
	 * (the primitive that failed); either may say "out of memory". */
	int code = err < 0 ? -err : err;
	int high = code & 0x7f80, low = code & 0x007f;

	if (high == -MBEDTLS_ERR_PK_ALLOC_FAILED || high == -MBEDTLS_ERR_X509_ALLOC_FAILED ||
	    high == -MBEDTLS_ERR_ECP_ALLOC_FAILED || high == -MBEDTLS_ERR_PEM_ALLOC_FAILED ||
	    high == -MBEDTLS_ERR_MD_ALLOC_FAILED || high == -MBEDTLS_ERR_CIPHER_ALLOC_FAILED)
		return -ENOMEM;
	if (low == -MBEDTLS_ERR_MPI_ALLOC_FAILED || low == -MBEDTLS_ERR_ASN1_ALLOC_FAILED)
		return -ENOMEM;
	return fallback;
}
