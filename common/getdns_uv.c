/* common/getdns_uv.c: see getdns_uv.h. Design rules: docs/notes/getdns-libuv.md
 * section 3. */
#include "common/getdns_uv.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "common/macro.h"

struct getdns_uv_reg {
	struct getdns_uv *owner;          /* borrowed */
	getdns_eventloop_event *ev;       /* borrowed; NULL once cleared */
	struct getdns_uv_reg *prev, *next; /* on owner->regs while live */
	uv_poll_t poll;                   /* poll.data == this */
	uv_timer_t timer;                 /* timer.data == this */
	bool has_poll;                    /* poll was initialised: must be closed */
	bool has_timer;
	bool dead;                        /* cleared or closed by cleanup */
	unsigned closing;                 /* handles whose close callback is pending */
};

static struct getdns_uv *to_adapter(getdns_eventloop *loop)
{
	return (struct getdns_uv *)loop;
}

static void report(struct getdns_uv *a, int r, const char *what)
{
	a->stats.errors++;
	if (a->on_error)
		a->on_error(a, r, what);
}

static void reg_unlink(struct getdns_uv_reg *g)
{
	struct getdns_uv *a = g->owner;

	if (g->prev)
		g->prev->next = g->next;
	else if (a->regs == g)
		a->regs = g->next;
	if (g->next)
		g->next->prev = g->prev;
	g->prev = g->next = NULL;
}

static void reg_free(struct getdns_uv_reg *g)
{
	struct getdns_uv *a = g->owner;

	assert(a->stats.allocated > 0);
	a->stats.allocated--;
	free(g);
	if (a->detached && a->stats.allocated == 0 && a->on_drained)
		a->on_drained(a);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct getdns_uv_reg *g = h->data;

	assert(g->closing > 0);
	if (--g->closing == 0)
		reg_free(g);
}

/* Detaches g from its event and from the fd at once (uv_close on a poll
 * handle removes the fd from epoll synchronously), and frees it when the
 * last handle has closed. Never touches the getdns event. */
static void reg_close(struct getdns_uv_reg *g)
{
	assert(!g->dead);
	g->dead = true;
	g->ev = NULL;
	reg_unlink(g);
	g->owner->stats.live--;
	if (g->has_poll) {
		g->closing++;
		uv_close((uv_handle_t *)&g->poll, on_handle_closed);
	}
	if (g->has_timer) {
		g->closing++;
		uv_close((uv_handle_t *)&g->timer, on_handle_closed);
	}
	if (g->closing == 0)
		reg_free(g);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct getdns_uv_reg *g = p->data;

	if (g->dead || !g->ev)
		return;
	getdns_eventloop_event *ev = g->ev;
	void *userarg = ev->userarg;

	if (status < 0) {
		/* libuv stopped the handle; let getdns' own recv/send see the
		 * error, as its poll loop does for POLLERR/POLLHUP. */
		if (ev->read_cb)
			ev->read_cb(userarg);
		else if (ev->write_cb)
			ev->write_cb(userarg);
		return;
	}
	if ((events & UV_WRITABLE) && ev->write_cb) {
		ev->write_cb(userarg);
		/* getdns may have cleared (and freed) ev: only g is known alive. */
		if (g->dead || !g->ev)
			return;
		ev = g->ev;
	}
	if ((events & UV_READABLE) && ev->read_cb)
		ev->read_cb(ev->userarg);
}

static void on_timer(uv_timer_t *t)
{
	struct getdns_uv_reg *g = t->data;

	if (g->dead || !g->ev || !g->ev->timeout_cb)
		return;
	g->ev->timeout_cb(g->ev->userarg);
}

static getdns_return_t vmt_clear(getdns_eventloop *loop, getdns_eventloop_event *ev)
{
	struct getdns_uv *a = to_adapter(loop);

	if (!ev || !ev->ev)
		return GETDNS_RETURN_GOOD;
	struct getdns_uv_reg *g = ev->ev;

	assert(g->owner == a);
	ev->ev = NULL;
	a->stats.clears++;
	reg_close(g);
	return GETDNS_RETURN_GOOD;
}

static getdns_return_t vmt_schedule(getdns_eventloop *loop, int fd, uint64_t timeout,
				    getdns_eventloop_event *ev)
{
	struct getdns_uv *a = to_adapter(loop);
	int r;

	if (!ev)
		return GETDNS_RETURN_INVALID_PARAMETER;
	if (ev->ev) {
		/* Never seen in practice; the old registration would leak its
		 * handles otherwise. */
		a->stats.breaches++;
		(void)vmt_clear(loop, ev);
	}
	if (a->detached) {
		report(a, -ESHUTDOWN, "schedule after cleanup");
		return GETDNS_RETURN_GENERIC_ERROR;
	}

	struct getdns_uv_reg *g = calloc(1, sizeof(*g));
	if (!g) {
		report(a, -ENOMEM, "schedule: allocating a registration");
		return GETDNS_RETURN_MEMORY_ERROR;
	}
	g->owner = a;
	a->stats.allocated++;

	int events = 0;
	if (fd >= 0) {
		if (ev->read_cb)
			events |= UV_READABLE;
		if (ev->write_cb)
			events |= UV_WRITABLE;
	}
	if (events) {
		r = uv_poll_init(a->loop, &g->poll, fd);
		if (r < 0) {
			/* UV_EEXIST: two live registrations on one fd, a bug. */
			report(a, r, "schedule: uv_poll_init");
			reg_free(g);
			return GETDNS_RETURN_GENERIC_ERROR;
		}
		g->has_poll = true;
		g->poll.data = g;
		r = uv_poll_start(&g->poll, events, on_poll);
		if (r < 0) {
			report(a, r, "schedule: uv_poll_start");
			goto fail;
		}
	}
	if (ev->timeout_cb && timeout != UINT64_MAX) {
		r = uv_timer_init(a->loop, &g->timer);
		if (r < 0) {
			report(a, r, "schedule: uv_timer_init");
			goto fail;
		}
		g->has_timer = true;
		g->timer.data = g;
		/* getdns may schedule long after the loop last woke up. */
		uv_update_time(a->loop);
		r = uv_timer_start(&g->timer, on_timer, timeout, 0);
		if (r < 0) {
			report(a, r, "schedule: uv_timer_start");
			goto fail;
		}
	}

	g->ev = ev;
	g->next = a->regs;
	if (a->regs)
		a->regs->prev = g;
	a->regs = g;
	a->stats.live++;
	a->stats.schedules++;
	ev->ev = g;
	return GETDNS_RETURN_GOOD;

fail:
	/* Not linked yet: count it live so reg_close's bookkeeping balances. */
	a->stats.live++;
	reg_close(g);
	return GETDNS_RETURN_GENERIC_ERROR;
}

static void vmt_cleanup(getdns_eventloop *loop)
{
	struct getdns_uv *a = to_adapter(loop);

	/* Whatever getdns did not clear (the limit_outstanding_queries timer,
	 * for one) must not fire into a destroyed context. Its getdns event may
	 * already be freed: reg_close never touches it. */
	while (a->regs) {
		a->stats.cleanup_closed++;
		reg_close(a->regs);
	}
	a->detached = true;
}

static void vmt_run(getdns_eventloop *loop)
{
	(void)loop;
}

static void vmt_run_once(getdns_eventloop *loop, int blocking)
{
	(void)loop;
	(void)blocking;
}

static getdns_eventloop_vmt getdns_uv_vmt = {
	.cleanup = vmt_cleanup,
	.schedule = vmt_schedule,
	.clear = vmt_clear,
	.run = vmt_run,
	.run_once = vmt_run_once,
};

void getdns_uv_init(struct getdns_uv *a, uv_loop_t *loop)
{
	*a = (struct getdns_uv){
		.base.vmt = &getdns_uv_vmt,
		.loop = loop,
	};
}

int getdns_uv_attach(struct getdns_uv *a, getdns_context *ctx)
{
	if (getdns_context_set_eventloop(ctx, &a->base) != GETDNS_RETURN_GOOD)
		return -EINVAL;
	a->detached = false;
	return 0;
}

bool getdns_uv_drained(const struct getdns_uv *a)
{
	return a->detached && a->stats.allocated == 0;
}
