/* common/getdns_uv.c: see getdns_uv.h. Design rules: docs/notes/getdns-libuv.md
 * sections 3 and 7. */
#include "common/getdns_uv.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/macro.h"

/* Events fetched per wake-up; the set is level-triggered, so what is left
 * wakes the loop again. */
#define EP_BATCH 128

/* Registrations kept for reuse (their timer still initialised): a UDP
 * query schedules twice, and a uv_close per timer costs a trip through the
 * loop's closing queue. */
#define POOL_MAX 1024

struct getdns_uv_fd {
	uint32_t gen;                     /* bumped on every ADD: tells reuse apart */
	uint32_t interest;                /* EPOLLIN|EPOLLOUT its registrations want */
	uint32_t last;                    /* interest before the last drop to nothing */
	bool in_set;                      /* this fd's file is in the set (as far as we know) */
	bool armed;                       /* ...and armed: EPOLLONESHOT has not fired since */
	struct getdns_uv_reg *regs;       /* registrations on this fd */
};

struct getdns_uv_reg {
	struct getdns_uv *owner;          /* borrowed */
	getdns_eventloop_event *ev;       /* borrowed; NULL once cleared */
	struct getdns_uv_reg *prev, *next; /* on owner->regs while live */
	struct getdns_uv_reg *fprev, *fnext; /* on owner->fds[fd].regs while live */
	struct getdns_uv_reg *gnext;      /* on owner->grave or owner->pool */
	int fd;                           /* -1: a timer only */
	uint32_t events;                  /* EPOLLIN|EPOLLOUT it wants */
	uint64_t round;                   /* the fd dispatch that last visited it */
	uv_timer_t timer;                 /* timer.data == this */
	bool timer_init;                  /* timer initialised (kept across reuse) */
	bool timer_closing;
	bool dead;                        /* cleared or closed by cleanup */
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

/* Last thing a caller does: on_drained may free a. */
static void maybe_drained(struct getdns_uv *a)
{
	if (getdns_uv_drained(a) && a->on_drained)
		a->on_drained(a);
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

static void on_timer_closed(uv_handle_t *h);

/* Retires g once nothing can reach it (no dispatch running: the dispatch
 * loop re-reads g->dead after each callback): into the pool, or freed. */
static void reg_maybe_free(struct getdns_uv_reg *g)
{
	struct getdns_uv *a = g->owner;

	if (g->timer_closing)
		return;
	if (a->dispatching) {
		g->gnext = a->grave;
		a->grave = g;
		return;
	}
	assert(a->stats.allocated > 0);
	a->stats.allocated--;
	if (!a->detached && a->stats.pooled < POOL_MAX) {
		g->gnext = a->pool;
		a->pool = g;
		a->stats.pooled++;
		return;
	}
	if (g->timer_init) {
		/* Counted again until its close callback frees it. */
		a->stats.allocated++;
		g->timer_init = false;
		g->timer_closing = true;
		uv_close((uv_handle_t *)&g->timer, on_timer_closed);
		return;
	}
	free(g);
}

static void grave_flush(struct getdns_uv *a)
{
	while (a->grave) {
		struct getdns_uv_reg *g = a->grave;
		a->grave = g->gnext;
		reg_maybe_free(g);
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	struct getdns_uv_reg *g = h->data;
	struct getdns_uv *a = g->owner;

	assert(a->stats.allocated > 0);
	a->stats.allocated--;
	free(g);
	maybe_drained(a);
}

static int ep_ctl(struct getdns_uv *a, int op, int fd, uint32_t events, uint32_t gen)
{
	struct epoll_event e = { .events = events, .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd };

	a->stats.epoll_ctls++;
	return epoll_ctl(a->epfd, op, fd, &e) < 0 ? -errno : 0;
}

/* Brings the set in line with what fd's registrations want. The set is
 * EPOLLONESHOT: a fired entry stays in the set disabled, so it never fires
 * again whatever happens to the file (closed and its number reused, or
 * kept open by a forked child), and getdns' usual clear-close needs no
 * DEL; switching a socket from write to read is one MOD. Inside the
 * dispatch of fd itself, dropping to nothing waits for fd_settle(). */
static int fd_update(struct getdns_uv *a, int fd)
{
	struct getdns_uv_fd *s = &a->fds[fd];
	uint32_t want = 0;
	int r;

	for (struct getdns_uv_reg *g = s->regs; g; g = g->fnext)
		want |= g->events;
	if (want && !s->interest)
		a->watched++;
	else if (!want && s->interest)
		a->watched--;
	if (a->watched == 0)
		uv_unref((uv_handle_t *)&a->ep);
	else
		uv_ref((uv_handle_t *)&a->ep);
	if (!want) {
		if (s->interest)
			s->last = s->interest;
		s->interest = 0;
		if (s->in_set && a->dispatch_fd != fd) {
			if (s->armed) {
				/* Armed and unwanted: it could still fire. */
				r = ep_ctl(a, EPOLL_CTL_DEL, fd, 0, s->gen);
				if (r < 0 && r != -EBADF && r != -ENOENT)
					report(a, r, "clear: epoll_ctl DEL");
			}
			s->in_set = s->armed = false;
		}
		return 0;
	}
	if (want == s->interest && s->armed)
		return 0;
	uint32_t ev = want | EPOLLONESHOT;
	/* Dropped to nothing in this fd's dispatch and wanted again: after a
	 * write, getdns switches the same socket to read (MOD); after a read it
	 * closes it, and the next socket() may get the number (ADD). A wrong
	 * guess costs one failed call. */
	if (s->in_set && (s->interest || s->last == EPOLLOUT)) {
		r = ep_ctl(a, EPOLL_CTL_MOD, fd, ev, s->gen);
		if (r == -ENOENT || r == -EBADF) {
			/* Closed (and the number reused) since: a new file. */
			s->gen++;
			r = ep_ctl(a, EPOLL_CTL_ADD, fd, ev, s->gen);
		}
	} else {
		s->gen++;
		r = ep_ctl(a, EPOLL_CTL_ADD, fd, ev, s->gen);
		if (r == -EEXIST) /* still in the set, disabled: the same file */
			r = ep_ctl(a, EPOLL_CTL_MOD, fd, ev, s->gen);
	}
	if (r < 0) {
		s->in_set = s->armed = false;
		s->interest = 0;
		if (--a->watched == 0)
			uv_unref((uv_handle_t *)&a->ep);
		return r;
	}
	s->in_set = s->armed = true;
	s->interest = want;
	return 0;
}

/* After fd's dispatch: re-arm what is still wanted (a registration getdns
 * kept), forget what is not (disabled, or closed already). */
static void fd_settle(struct getdns_uv *a, int fd)
{
	if (fd >= a->n_fds)
		return;
	struct getdns_uv_fd *s = &a->fds[fd];
	if (s->interest) {
		int r = fd_update(a, fd);
		if (r < 0)
			report(a, r, "re-arming: epoll_ctl");
	} else if (s->in_set) {
		if (s->armed) {
			int r = ep_ctl(a, EPOLL_CTL_DEL, fd, 0, s->gen);
			if (r < 0 && r != -EBADF && r != -ENOENT)
				report(a, r, "clear: epoll_ctl DEL");
		}
		s->in_set = s->armed = false;
	}
}

static void fd_detach(struct getdns_uv_reg *g)
{
	struct getdns_uv *a = g->owner;
	int fd = g->fd;

	if (fd < 0 || fd >= a->n_fds)
		return;
	if (g->fprev)
		g->fprev->fnext = g->fnext;
	else if (a->fds[fd].regs == g)
		a->fds[fd].regs = g->fnext;
	if (g->fnext)
		g->fnext->fprev = g->fprev;
	g->fprev = g->fnext = NULL;
	g->fd = -1;
	(void)fd_update(a, fd);
}

static int fd_attach(struct getdns_uv *a, struct getdns_uv_reg *g, int fd, uint32_t events)
{
	if (fd >= a->n_fds) {
		int n = MAX(MAX(fd + 1, 64), a->n_fds * 2);
		struct getdns_uv_fd *t = realloc(a->fds, (size_t)n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + a->n_fds, 0, (size_t)(n - a->n_fds) * sizeof(*t));
		a->fds = t;
		a->n_fds = n;
	}
	struct getdns_uv_fd *s = &a->fds[fd];
	g->fd = fd;
	g->events = events;
	g->fnext = s->regs;
	if (s->regs)
		s->regs->fprev = g;
	s->regs = g;
	int r = fd_update(a, fd);
	if (r < 0)
		fd_detach(g);
	return r;
}

/* Detaches g from its event, its fd (synchronously: getdns may close the fd
 * right after) and its timer. Never touches the getdns event. */
static void reg_close(struct getdns_uv_reg *g)
{
	assert(!g->dead);
	g->dead = true;
	g->ev = NULL;
	reg_unlink(g);
	g->owner->stats.live--;
	fd_detach(g);
	if (g->timer_init)
		uv_timer_stop(&g->timer);
	reg_maybe_free(g);
}

/* Calls the callbacks of fd's registrations for what is ready. Each may
 * clear any registration, close fd, or schedule a new one (which waits for
 * the next wake-up: it is stamped with this round). An error or hang-up
 * counts as ready for whatever a registration wants, so that getdns' own
 * recv/send sees the error, as in its poll loop. */
static void dispatch_fd(struct getdns_uv *a, int fd, uint32_t events)
{
	uint64_t round = ++a->round;

	a->fds[fd].armed = false; /* EPOLLONESHOT fired */
	if (events & (EPOLLERR | EPOLLHUP))
		events |= EPOLLIN | EPOLLOUT;
	a->dispatch_fd = fd;
	for (;;) {
		if (a->detached || fd >= a->n_fds)
			break;
		struct getdns_uv_reg *g = a->fds[fd].regs;
		while (g && g->round == round)
			g = g->fnext;
		if (!g)
			break;
		g->round = round;
		getdns_eventloop_event *ev = g->ev;
		uint32_t ready = events & g->events;
		if ((ready & EPOLLOUT) && ev->write_cb) {
			ev->write_cb(ev->userarg);
			/* getdns may have cleared (and freed) ev: only g is
			 * known alive, until the dispatch ends. */
			if (g->dead)
				continue;
			ev = g->ev;
		}
		if ((ready & EPOLLIN) && ev->read_cb)
			ev->read_cb(ev->userarg);
	}
	a->dispatch_fd = -1;
	if (!a->detached)
		fd_settle(a, fd);
}

static void on_ep(uv_poll_t *p, int status, int uv_events)
{
	struct getdns_uv *a = p->data;
	struct epoll_event evs[EP_BATCH];

	(void)uv_events;
	if (status < 0) {
		/* An epoll fd does not fail; if it ever does, say so loudly:
		 * every query would hang on its timeout. */
		report(a, status, "poll on the epoll set");
		return;
	}
	int n = epoll_wait(a->epfd, evs, EP_BATCH, 0);
	if (n <= 0)
		return;
	a->dispatching++;
	for (int i = 0; i < n && !a->detached; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		if (fd >= a->n_fds || a->fds[fd].gen != gen || a->fds[fd].interest == 0) {
			a->stats.stale++;
			continue;
		}
		dispatch_fd(a, fd, evs[i].events);
	}
	if (--a->dispatching == 0)
		grave_flush(a);
}

static void on_ep_closed(uv_handle_t *h)
{
	struct getdns_uv *a = h->data;

	close(a->epfd);
	a->epfd = -1;
	a->ep_open = false;
	maybe_drained(a);
}

static int ep_ensure(struct getdns_uv *a)
{
	int r;

	if (a->ep_open)
		return uv_is_closing((uv_handle_t *)&a->ep) ? -ESHUTDOWN : 0;
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		return -errno;
	r = uv_poll_init(a->loop, &a->ep, a->epfd);
	if (r < 0) {
		close(a->epfd);
		a->epfd = -1;
		return r;
	}
	a->ep.data = a;
	a->ep_open = true;
	r = uv_poll_start(&a->ep, UV_READABLE, on_ep);
	/* Referenced only while an fd is watched (fd_update). */
	uv_unref((uv_handle_t *)&a->ep);
	return r;
}

static void on_timer(uv_timer_t *t)
{
	struct getdns_uv_reg *g = t->data;
	struct getdns_uv *a = g->owner;

	if (g->dead || !g->ev || !g->ev->timeout_cb)
		return;
	a->dispatching++;
	g->ev->timeout_cb(g->ev->userarg);
	if (--a->dispatching == 0)
		grave_flush(a);
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

	struct getdns_uv_reg *g = a->pool;
	if (g) {
		a->pool = g->gnext;
		a->stats.pooled--;
		/* The timer stays initialised (and stopped) at this address. */
		g->ev = NULL;
		g->prev = g->next = g->fprev = g->fnext = g->gnext = NULL;
		g->events = 0;
		g->dead = g->timer_closing = false;
	} else {
		g = calloc(1, sizeof(*g));
		if (!g) {
			report(a, -ENOMEM, "schedule: allocating a registration");
			return GETDNS_RETURN_MEMORY_ERROR;
		}
	}
	g->owner = a;
	g->fd = -1;
	g->round = a->round;
	a->stats.allocated++;
	/* Linked first: every failure below goes through reg_close. */
	g->next = a->regs;
	if (a->regs)
		a->regs->prev = g;
	a->regs = g;
	a->stats.live++;

	uint32_t events = 0;
	if (fd >= 0) {
		if (ev->read_cb)
			events |= EPOLLIN;
		if (ev->write_cb)
			events |= EPOLLOUT;
	}
	if (events) {
		r = ep_ensure(a);
		if (r < 0) {
			report(a, r, "schedule: creating the epoll set");
			goto fail;
		}
		r = fd_attach(a, g, fd, events);
		if (r < 0) {
			report(a, r, "schedule: epoll_ctl");
			goto fail;
		}
	}
	if (ev->timeout_cb && timeout != UINT64_MAX) {
		if (!g->timer_init) {
			r = uv_timer_init(a->loop, &g->timer);
			if (r < 0) {
				report(a, r, "schedule: uv_timer_init");
				goto fail;
			}
			g->timer_init = true;
		}
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
	a->stats.schedules++;
	ev->ev = g;
	return GETDNS_RETURN_GOOD;

fail:
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
	while (a->pool) {
		struct getdns_uv_reg *g = a->pool;
		a->pool = g->gnext;
		a->stats.pooled--;
		a->stats.allocated++; /* reg_maybe_free counts it out again */
		reg_maybe_free(g);
	}
	free(a->fds);
	a->fds = NULL;
	a->n_fds = 0;
	a->watched = 0;
	if (a->ep_open && !uv_is_closing((uv_handle_t *)&a->ep))
		uv_close((uv_handle_t *)&a->ep, on_ep_closed);
	maybe_drained(a);
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
		.epfd = -1,
		.dispatch_fd = -1,
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
	return a->detached && a->stats.allocated == 0 && !a->ep_open;
}
