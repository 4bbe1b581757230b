/* common/mberr.h: mbedTLS error codes as negative errno values.
 * Pure. One mapping for every module that calls mbedTLS (key, x509, csr,
 * jws), so that an allocation failure anywhere inside mbedTLS reaches the
 * caller as -ENOMEM and every other failure as the caller's own errno. */
#pragma once

/* -ENOMEM for any mbedTLS allocation failure, else fallback (a negative errno). */
int mberr_to_errno(int err, int fallback);
