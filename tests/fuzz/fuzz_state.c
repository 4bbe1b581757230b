/* libFuzzer harness: state.json as read at start-up, then written back. */
#include <stdint.h>
#include <stdlib.h>

#include "daemon/state.h"
#include "daemon/statejson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = NULL;
	char err[128], *json = NULL;
	size_t len;

	if (state_from_json((const char *)data, size, &s, err, sizeof(err)) < 0)
		return 0;
	if (state_to_json(s, &json, &len) == 0)
		free(json);
	state_free(s);
	return 0;
}
