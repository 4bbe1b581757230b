/* common/workahead.c: see workahead.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/workahead.h"

#define WORKAHEAD_MAX_THREADS 16

/* Item i lives in slot i % WORKAHEAD_SLOTS. A worker takes i from `next` and
 * fills the slot once i < released + WORKAHEAD_SLOTS (the caller is done with
 * i - WORKAHEAD_SLOTS). Each side sleeps only when the other has not caught
 * up; who makes progress then announces it (a seq_cst store) and looks for a
 * sleeper (a seq_cst load), and a sleeper announces itself (seq_cst) before it
 * looks again under the lock, so either the sleeper sees the progress or the
 * other side sees the sleeper. */
struct workahead {
	struct workahead_ops ops;
	void *ctx;
	size_t n;
	size_t stride;
	char *slots;
	atomic_bool ready[WORKAHEAD_SLOTS]; /* the slot holds its current item's result */
	atomic_size_t next;                 /* the next item a worker takes */
	atomic_size_t released;             /* items below it are the caller's no more */
	atomic_bool stop;
	atomic_int caller_waiting;
	atomic_int workers_waiting;
	pthread_mutex_t lock;
	pthread_cond_t ready_cond; /* a slot became ready */
	pthread_cond_t space_cond; /* released moved, or stop */
	size_t cur;                /* the caller's next item */
	bool held;                 /* the caller holds item cur - 1 */
	pthread_t threads[WORKAHEAD_MAX_THREADS];
	size_t n_threads;
};

static void *slot_of(struct workahead *w, size_t i)
{
	return w->slots + (i % WORKAHEAD_SLOTS) * w->stride;
}

static void wake(struct workahead *w, atomic_int *waiting, pthread_cond_t *cond)
{
	if (atomic_load(waiting) == 0)
		return;
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(cond);
	pthread_mutex_unlock(&w->lock);
}

static bool has_space(struct workahead *w, size_t i)
{
	return i < atomic_load(&w->released) + WORKAHEAD_SLOTS;
}

static void *work(void *arg)
{
	struct workahead *w = arg;

	while (!atomic_load(&w->stop)) {
		size_t i = atomic_fetch_add(&w->next, 1);
		if (i >= w->n)
			break;
		if (!has_space(w, i)) {
			pthread_mutex_lock(&w->lock);
			atomic_fetch_add(&w->workers_waiting, 1);
			while (!atomic_load(&w->stop) && !has_space(w, i))
				pthread_cond_wait(&w->space_cond, &w->lock);
			atomic_fetch_sub(&w->workers_waiting, 1);
			pthread_mutex_unlock(&w->lock);
			if (atomic_load(&w->stop))
				break;
		}
		void *slot = slot_of(w, i);
		memset(slot, 0, w->ops.slot_size);
		w->ops.work(w->ctx, i, slot);
		atomic_store(&w->ready[i % WORKAHEAD_SLOTS], true);
		wake(w, &w->caller_waiting, &w->ready_cond);
	}
	return NULL;
}

int workahead_start(const struct workahead_ops *ops, void *ctx, size_t n, unsigned threads,
		    struct workahead **ret)
{
	struct workahead *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int r = 0;

	if (!w)
		return -ENOMEM;
	w->ops = *ops;
	w->ctx = ctx;
	w->n = n;
	w->stride = (MAX(ops->slot_size, (size_t)1) + alignof(max_align_t) - 1) /
		    alignof(max_align_t) * alignof(max_align_t);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->ready_cond, NULL);
	pthread_cond_init(&w->space_cond, NULL);
	w->slots = calloc(WORKAHEAD_SLOTS, w->stride);
	if (!w->slots) {
		workahead_finish(w);
		return -ENOMEM;
	}
	/* The workers inherit the mask: signals stay with the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (w->n_threads < MIN((size_t)MAX(threads, 1u), (size_t)WORKAHEAD_MAX_THREADS)) {
		r = -pthread_create(&w->threads[w->n_threads], NULL, work, w);
		if (r < 0)
			break;
		w->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->n_threads == 0) {
		workahead_finish(w);
		return r;
	}
	*ret = w;
	return 0;
}

void *workahead_next(struct workahead *w)
{
	if (w->held) {
		size_t i = w->cur - 1;
		if (w->ops.release)
			w->ops.release(w->ctx, slot_of(w, i));
		atomic_store(&w->ready[i % WORKAHEAD_SLOTS], false);
		w->held = false;
		atomic_store(&w->released, w->cur);
		wake(w, &w->workers_waiting, &w->space_cond);
	}
	if (w->cur >= w->n)
		return NULL;
	atomic_bool *ready = &w->ready[w->cur % WORKAHEAD_SLOTS];
	if (!atomic_load(ready)) {
		pthread_mutex_lock(&w->lock);
		atomic_fetch_add(&w->caller_waiting, 1);
		while (!atomic_load(ready))
			pthread_cond_wait(&w->ready_cond, &w->lock);
		atomic_fetch_sub(&w->caller_waiting, 1);
		pthread_mutex_unlock(&w->lock);
	}
	void *slot = slot_of(w, w->cur);
	w->cur++;
	w->held = true;
	return slot;
}

void workahead_finish(struct workahead *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->space_cond);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	/* What the caller held or never took. */
	for (size_t i = 0; w->slots && i < WORKAHEAD_SLOTS; i++)
		if (atomic_load(&w->ready[i]) && w->ops.release)
			w->ops.release(w->ctx, w->slots + i * w->stride);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->ready_cond);
	pthread_cond_destroy(&w->space_cond);
	free(w->slots);
	free(w);
}
