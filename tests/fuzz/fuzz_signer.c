/* libFuzzer harness: one request to the signer process (daemon/signer_proc), as the loop
 * process (which parses the network) could send it, and the frame header parser. The
 * signer's state directory is a temp dir made once; requests that create keys write there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/signer.h"
#include "daemon/signer_proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct signer_proc *proc;
static char dir[] = "/tmp/persistd-fuzz-signer-XXXXXX";

static void cleanup(void)
{
	char cmd[64];

	signer_proc_free(proc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_signer: could not remove %s\n", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply = NULL;
	size_t len;

	if (!proc) {
		if (!mkdtemp(dir) || signer_proc_new(dir, &proc) < 0 ||
		    signer_proc_add_ca(proc, "test", "https://ca.example:14000/dir", KEY_EC_P256) < 0)
			abort();
		atexit(cleanup);
	}
	(void)signer_frame_next(data, size, SIGNER_MAX_MSG_BYTES, &len);
	if (signer_proc_handle(proc, (const char *)data, size, &reply) == 0) {
		/* Every reply is one JSON object with the id. */
		if (!reply || reply[0] != '{' || !strstr(reply, "\"id\":"))
			abort();
		free(reply);
	}
	return 0;
}
