/* tests/fuzz/fuzz_hostport.c: hostport_parse() (check_served's HOST:PORT) on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hostport.h"
#include "common/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = strndup((const char *)data, size);
	_cleanup_free_ char *host = NULL;
	uint16_t port;

	if (s)
		(void)hostport_parse(s, &host, &port, NULL);
	return 0;
}
