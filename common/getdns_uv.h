/* common/getdns_uv.h: getdns' event-loop interface (getdns_eventloop_vmt)
 * on a libuv loop, written to libuv's handle rules. Replaces Debian's broken
 * libgetdns_ex_uv (see docs/notes/getdns-libuv.md; never link that library).
 *
 * Owns: one registration per schedule() call, holding at most one uv_poll_t
 * (read and write together) and one uv_timer_t. A registration is freed only
 * in the close callback of its last handle; a closed handle is never
 * restarted or reused. run() and run_once() are no-ops: the caller drives
 * uv_run(), and must never call getdns_context_run().
 *
 * Lifetime: struct getdns_uv is owned by the caller and attached to exactly
 * one getdns context. After getdns_context_destroy() (which calls cleanup()
 * and closes anything getdns forgot), close callbacks are still pending: the
 * struct must stay alive until getdns_uv_drained() is true, which happens in
 * a close callback that then calls on_drained (if set), or immediately if
 * nothing was open. Run the loop to get there.
 *
 * Errors: schedule() fails only on out-of-memory or a libuv refusal; getdns
 * ignores that code, so the adapter counts it in stats.errors and reports it
 * to on_error (if set) so the owner can log it. One loop, one thread. */
#pragma once

/* macro.h before uv.h: <sys/param.h> (via uv.h) also defines MIN/MAX, and
 * a redefinition is only silent when the system header comes second. */
#include "common/macro.h"

#include <getdns/getdns_extra.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct getdns_uv;
struct getdns_uv_reg;

struct getdns_uv_stats {
	uint64_t schedules;        /* successful schedule() calls */
	uint64_t clears;           /* clear() calls that detached a registration */
	uint64_t cleanup_closed;   /* registrations getdns left behind, closed by cleanup() */
	uint64_t breaches;         /* schedule() of an event that was still scheduled */
	uint64_t errors;           /* schedule() failures */
	uint64_t live;             /* registrations scheduled and not yet cleared */
	uint64_t allocated;        /* registrations not yet freed (live + closing) */
};

struct getdns_uv {
	getdns_eventloop base;           /* first: getdns sees &base */
	uv_loop_t *loop;                 /* borrowed */
	struct getdns_uv_reg *regs;      /* owned: live registrations, doubly linked */
	bool detached;                   /* cleanup() ran */
	struct getdns_uv_stats stats;
	void *data;                      /* the owner's, untouched */
	void (*on_drained)(struct getdns_uv *a);                /* optional */
	void (*on_error)(struct getdns_uv *a, int r, const char *what); /* optional; r is -errno */
};

/* Prepares a (zeroed or not) struct for `loop`; attach it with
 * getdns_uv_attach(). */
void getdns_uv_init(struct getdns_uv *a, uv_loop_t *loop);

/* getdns_context_set_eventloop(); -EINVAL if getdns refuses. */
int getdns_uv_attach(struct getdns_uv *a, getdns_context *ctx);

/* True once cleanup() ran and every registration has been freed. */
bool getdns_uv_drained(const struct getdns_uv *a);
