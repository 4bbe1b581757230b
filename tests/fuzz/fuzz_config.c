/* libFuzzer harness: the config parser (main-file rules) and cross-checks. */
#include <stdint.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = config_new();
	struct config_errors errs = { 0 };

	if (!c)
		return 0;
	if (config_parse_text(c, "fuzz.conf", (const char *)data, size, true, &errs) == 0)
		(void)config_finish(c, &errs);
	config_errors_done(&errs);
	config_free(c);
	return 0;
}
