/* daemon/keygen.h: key generation off the loop thread.
 * RSA 4096 takes seconds, so every key is made on libuv's thread pool; the
 * callback runs on the loop with the new key (owned by the callback) or an
 * error. A job can be abandoned (keygen_abandon): its callback is then never
 * called and the key, once made, is freed. Each job makes its key with the
 * key's own DRBG (common/key), so threads share no RNG state. */
#pragma once

#include "common/macro.h"

#include <uv.h>

#include "common/key.h"

struct keygen;

typedef void (*keygen_fn)(int r, struct key *k, void *userdata);

int keygen_start(uv_loop_t *loop, enum key_type type, keygen_fn cb, void *userdata,
		 struct keygen **ret);
void keygen_abandon(struct keygen *job); /* NULL is a no-op */
