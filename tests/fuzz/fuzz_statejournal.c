/* libFuzzer harness: state.journal replayed over an empty state of
 * generation 1 (as read at start-up), then the state written back. */
#include <stdint.h>
#include <stdlib.h>

#include "daemon/state.h"
#include "daemon/statejson.h"
#include "daemon/statejournal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct statejournal_stats stats;
	struct state *s = state_new();
	char err[128], *json = NULL;
	size_t len;

	if (!s)
		return 0;
	s->journal_gen = 1;
	if (statejournal_replay(s, (const char *)data, size, &stats, err, sizeof(err)) == 0 &&
	    state_to_json(s, &json, &len) == 0)
		free(json);
	state_free(s);
	return 0;
}
