/* libFuzzer harness: private key PEM as read from account.key / privkey.pem. */
#include <stdint.h>
#include <stdlib.h>

#include "common/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct key *k = NULL;
	char *thumb = NULL;

	if (key_load_pem((const char *)data, size, &k) < 0)
		return 0;
	if (key_thumbprint(k, &thumb) == 0)
		free(thumb);
	key_free(k);
	return 0;
}
