/* common/dnscheck_job.h: the DNS checker's job queue (internal to
 * common/dnscheck*.c). A job is one submitted name; its TXT, CAA and
 * authoritative parts run side by side.
 *
 * Owns: the names waiting in dc->queued (a few bytes each) until one of
 * dc->max_inflight job slots is free, so memory stays flat however many
 * names are submitted; the running jobs in dc->active; the finished ones
 * in dc->done, whose callbacks run from the dc->dispatch idle handle,
 * never from inside getdns or a submit call.
 *
 * Promises: every queued name gets exactly one callback: its result, or
 * (out of memory) an INTERNAL error, or CANCELLED at teardown. A name that
 * could not even get a job goes back on the queue and is tried again when
 * the next job ends. */
#pragma once

#include "common/dnscheck_internal.h"

/* Starts queued names while there are free slots. */
void dnscheck_job_admit(struct dnscheck *dc);

/* Delivers j's result as CANCELLED to its owner (j may be a stack copy
 * made for a name that never got a job). */
void dnscheck_job_cancel_deliver(struct dc_job *j);

/* Frees j and everything it owns. NULL is a no-op. */
void dnscheck_job_free(struct dc_job *j);
