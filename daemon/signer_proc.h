/* daemon/signer_proc.h: the signer process, the only holder of the ACME account keys.
 *
 * persistd forks it at start, before any thread exists (daemon/signer.h does the fork). It
 * closes every fd but stdio and its end of a socketpair, becomes non-dumpable, confines
 * itself (Landlock: the key directory <state_dir>/accounts only; seccomp: a short list of
 * system calls, anything else kills it) and then serves requests in a plain blocking
 * read/compute/write loop: no libuv, no curl, no getdns, no threads.
 *
 * Wire format, both ways: a 4-byte big-endian length, then that many bytes of one JSON
 * object, at most SIGNER_MAX_MSG_BYTES (a reply: SIGNER_MAX_REPLY_BYTES). Every request carries "id" (an integer the reply
 * repeats), "op" and "ca"; a reply is {"id":N,"ok":true,...} or {"id":N,"error":"why",
 * "errno":E}. Requests are answered in order.
 *
 *   load     {ca, directory, key_type}   registers a CA; the first directory seen for a name
 *                                        pins its origin (a later load with another origin
 *                                        is refused). Reply: the public key, if one exists.
 *   key      {ca}                        loads account.key or creates it (0600, atomically).
 *   sign     {ca, url, nonce, kid?, payload?}  the flattened JWS; url and kid must be on
 *                                        the CA's origin (scheme://host:port), else refused.
 *   rollover {ca, url, account}          makes a new key, saves account.key.next, replies
 *                                        with the inner keyChange JWS and the new public key.
 *   commit   {ca}                        account.key.next over account.key; signs with it.
 *   abort    {ca}                        drops account.key.next.
 *   info     {ca, json}                  writes account.json (public facts, at most 64 KiB).
 * A public key reply carries "jwk" (the canonical JWK), "thumbprint" and "key_type".
 *
 * Private key bytes never leave this process. Errors of the functions here: -ENOMEM,
 * -EINVAL, -E2BIG, -errno from the system. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/key.h"

#define SIGNER_MAX_MSG_BYTES (256u * 1024u)
/* A reply is a JWS over at most a request's bytes: 4/3 of it, plus headers. */
#define SIGNER_MAX_REPLY_BYTES (512u * 1024u)
#define SIGNER_MAX_INFO_BYTES (64u * 1024u)

struct signer_proc;

int signer_proc_new(const char *state_dir, struct signer_proc **ret);
void signer_proc_free(struct signer_proc *p); /* NULL is a no-op; wipes the keys */

/* A CA from the configuration read at start, before any network input: trusted. */
int signer_proc_add_ca(struct signer_proc *p, const char *name, const char *directory_url,
		       enum key_type type);

/* One request of len bytes (no NUL needed) into one reply (NUL-terminated, the caller's to
 * free). Bad requests get error replies; the return value is negative only for -ENOMEM. */
int signer_proc_handle(struct signer_proc *p, const char *req, size_t len, char **ret_reply);

/* Serves fd until the peer closes it (0) or the framing breaks (-EPROTO). */
int signer_proc_serve(struct signer_proc *p, int fd);

/* "scheme://host:port" of an http(s) URL, lower-cased, with the default port made explicit.
 * -EINVAL for anything else (userinfo, no host, other schemes). */
int signer_url_origin(const char *url, char **ret);

/* The length a 4-byte frame header announces. */
uint32_t signer_frame_len(const uint8_t hdr[4]);
void signer_frame_put(uint8_t hdr[4], uint32_t len);
