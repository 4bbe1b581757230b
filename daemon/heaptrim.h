/* daemon/heaptrim.h: giving the heap's free memory back to the kernel.
 *
 * glibc keeps freed memory resident unless it lies at the top of the heap. After
 * loading 100k certs, a round of record checks, a large reply or a snapshot of
 * state.json, that is as much again as the daemon uses: at 10k certs, 74 MB resident
 * for 18 MB in use after start-up, 57 MB for 22 MB after a round.
 *
 * Owns nothing. Promises that a call costs one mallinfo2() when less than
 * HEAPTRIM_MIN_FREE bytes are free, and one malloc_trim(0) otherwise; the daemon calls
 * it after each of those events and once a minute. */
#pragma once

#define HEAPTRIM_MIN_FREE (1024 * 1024)
#define HEAPTRIM_INTERVAL_MS (60 * 1000)

void heaptrim_release(void);
