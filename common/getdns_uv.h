/* common/getdns_uv.h: getdns' event-loop interface (getdns_eventloop_vmt)
 * on a libuv loop, written to libuv's handle rules. Replaces Debian's broken
 * libgetdns_ex_uv (see docs/notes/getdns-libuv.md; never link that library).
 *
 * Owns: one epoll set of its own (Linux, EPOLLONESHOT), watched by one
 * uv_poll_t, holding the fds getdns asks about; a table of those fds, keyed
 * by fd number, each with the union of the directions its registrations
 * want; and one registration per schedule() call, holding at most one
 * uv_timer_t, pooled for reuse. A fired one-shot entry stays in the set
 * disabled and can never fire again, whatever happens to its file (closed
 * and its number reused by the next socket(), or kept open by a forked
 * child): so getdns' clear-then-close needs no DEL, and switching a socket
 * from write to read is one MOD. An entry cleared while still armed is
 * deleted at once, before getdns can close the fd. Events carry a
 * generation per fd, so that an event fetched before a clear() is never
 * delivered to a later socket on the reused number. A UDP query costs two
 * epoll_ctl calls and no ioctl; libuv's uv_poll_t per registration cost ten
 * and two (init probes with ADD+DEL and sets O_NONBLOCK, every start
 * deletes first, close deletes). docs/notes/getdns-libuv.md section 7.
 *
 * A dead registration is retired (pooled, or freed once its timer has
 * closed) only when no dispatch is running: a callback may clear other
 * registrations of the same fd. A closed handle is never restarted. run()
 * and run_once() are no-ops: the caller drives uv_run(), and must never call
 * getdns_context_run(). The poll handle is referenced only while some fd is
 * wanted, so the loop ends when getdns waits for nothing.
 *
 * Lifetime: struct getdns_uv is owned by the caller and attached to exactly
 * one getdns context. After getdns_context_destroy() (which calls cleanup()
 * and closes anything getdns forgot), close callbacks are still pending: the
 * struct must stay alive until getdns_uv_drained() is true, which happens in
 * a close callback that then calls on_drained (if set), or immediately if
 * nothing was open. Run the loop to get there.
 *
 * Errors: schedule() fails only on out-of-memory or a kernel or libuv
 * refusal; getdns ignores that code, so the adapter counts it in
 * stats.errors and reports it to on_error (if set) so the owner can log it.
 * One loop, one thread. */
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
struct getdns_uv_fd;

struct getdns_uv_stats {
	uint64_t schedules;        /* successful schedule() calls */
	uint64_t clears;           /* clear() calls that detached a registration */
	uint64_t cleanup_closed;   /* registrations getdns left behind, closed by cleanup() */
	uint64_t breaches;         /* schedule() of an event that was still scheduled */
	uint64_t errors;           /* schedule() failures */
	uint64_t live;             /* registrations scheduled and not yet cleared */
	uint64_t allocated;        /* registrations not yet freed or pooled (live + closing) */
	uint64_t pooled;           /* retired registrations kept for reuse */
	uint64_t epoll_ctls;       /* epoll_ctl calls on the adapter's set */
	uint64_t stale;            /* events dropped: their fd was cleared meanwhile */
};

struct getdns_uv {
	getdns_eventloop base;           /* first: getdns sees &base */
	uv_loop_t *loop;                 /* borrowed */
	struct getdns_uv_reg *regs;      /* owned: live registrations, doubly linked */
	struct getdns_uv_reg *grave;     /* owned: dead, retired after the dispatch */
	struct getdns_uv_reg *pool;      /* owned: retired, for reuse */
	struct getdns_uv_fd *fds;        /* owned: indexed by fd number */
	int n_fds;
	int watched;                     /* fds in the epoll set */
	int epfd;                        /* -1 until the first fd is scheduled */
	uv_poll_t ep;                    /* ep.data == this; watches epfd */
	bool ep_open;                    /* ep initialised, its close not yet done */
	unsigned dispatching;            /* depth of our callbacks into getdns */
	int dispatch_fd;                 /* the fd whose callbacks run; -1: none */
	uint64_t round;                  /* fd dispatches so far */
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

/* True once cleanup() ran and every registration and handle has been freed. */
bool getdns_uv_drained(const struct getdns_uv *a);
