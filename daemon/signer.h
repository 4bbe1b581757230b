/* daemon/signer.h: the loop's side of the signer process (daemon/signer_proc.h).
 *
 * signer_start() forks the signer; call it before any thread exists and before the loop
 * process confines itself (daemon/confine.h). Until signer_attach() the fd is used with
 * blocking round trips (signer_load_now(), for start-up); after it, every request goes out on
 * a uv_pipe and its reply comes back on the loop, matched by id, so the loop never waits for
 * a signature, not even an RSA-4096 key generation.
 *
 * Callbacks: exactly once per request, always from the loop, never from inside the call that
 * made the request, unless signer_cancel() came first. A reply is the JSON object the signer
 * sent (see signer_proc.h), valid during the callback; r < 0 with `why` for a refusal or
 * when the signer is gone (-EPIPE: it exited, and why says how). Nothing here holds or sees a
 * private key.
 * Errors: -ENOMEM, -EINVAL, -E2BIG (a request over SIGNER_MAX_MSG_BYTES), -EPIPE. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>
#include <yajl/yajl_tree.h>

#include "common/config.h"
#include "daemon/acme/transport.h"

struct signer;

/* Forks the signer for state_dir/accounts; the CAs of cfg are its trusted start list. */
int signer_start(const char *state_dir, const struct config *cfg, struct signer **ret);
int signer_attach(struct signer *s, uv_loop_t *loop);
/* Closes the socket (the signer then exits) and reaps it. With a loop attached, run the loop
 * afterwards so the pipe's close callback can free it. NULL is a no-op. */
void signer_free(struct signer *s);
pid_t signer_get_pid(const struct signer *s);

typedef void (*signer_reply_fn)(int r, yajl_val reply, const char *why, void *ud);

/* op on ca with extra string members: kv is NULL or name, value, ..., NULL (a NULL value
 * leaves its member out). */
int signer_request(struct signer *s, const char *op, const char *ca, const char *const *kv,
		   signer_reply_fn cb, void *ud, uint64_t *ret_id);
void signer_cancel(struct signer *s, uint64_t id);

/* Before signer_attach() only: "load" as one blocking round trip. *ret (yajl_tree_free()) is
 * the reply, or an error with *ret NULL. */
int signer_load_now(struct signer *s, const char *ca, const char *directory,
		    const char *key_type, yajl_val *ret, char *why, size_t why_size);

/* One CA as an acme_conn signer (acme_conn_set_signer(conn, &signer_acme_ops, sca, kid)). */
struct signer_ca;
int signer_ca_new(struct signer *s, const char *ca, struct signer_ca **ret);
void signer_ca_free(struct signer_ca *sca); /* cancels what it started; NULL is a no-op */
DEFINE_FREEP(struct signer_ca, signer_ca_free)
extern const struct acme_signer_ops signer_acme_ops;

/* For tests: a frame's announced length from the byte stream in buf (len bytes): 1 and
 * *ret_len when a whole frame is there, 0 when more bytes are needed, -EPROTO for a frame
 * over max_bytes (or empty). */
int signer_frame_next(const uint8_t *buf, size_t len, size_t max_bytes, size_t *ret_len);
