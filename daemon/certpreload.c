/* daemon/certpreload.c: see certpreload.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/macro.h"
#include "daemon/certpreload.h"
#include "daemon/store.h"

#define CERTPRELOAD_MAX_THREADS 16

void certpreload_one(struct store *store, const char *name, struct cert_preloaded *ret)
{
	_cleanup_free_ char *pem = NULL;
	size_t len;

	*ret = (struct cert_preloaded){ 0 };
	ret->load_r = store_cert_load_current(store, name, &pem, &len);
	if (ret->load_r < 0)
		return;
	ret->parse_r = x509_parse_leaf(pem, len, &ret->info);
	if (ret->parse_r < 0)
		return;
	ret->has_version = store_cert_current_version(store, name, &ret->version) == 0;
}

struct slot {
	struct cert_preloaded r;
	atomic_bool ready; /* r holds names[i]'s result for the i this slot has now */
};

/* Slot i % CERTPRELOAD_AHEAD holds names[i]. A worker takes i from `next` and
 * writes the slot once i < released + AHEAD (the caller is done with i - AHEAD).
 * Each side sleeps only when the other has not caught up; who makes progress
 * then announces it (seq_cst store) and looks for a sleeper (seq_cst load), and
 * a sleeper announces itself (seq_cst) before it looks again under the lock, so
 * either the sleeper sees the progress or the other side sees the sleeper. */
struct certpreload {
	struct store *store;
	const char *const *names;
	size_t n;
	struct slot ring[CERTPRELOAD_AHEAD];
	atomic_size_t next;     /* the next index a worker takes */
	atomic_size_t released; /* indices below it are the caller's no more */
	atomic_bool stop;
	atomic_int caller_waiting;
	atomic_int workers_waiting;
	pthread_mutex_t lock;
	pthread_cond_t ready_cond; /* a slot became ready */
	pthread_cond_t space_cond; /* released moved, or stop */
	size_t cur;                /* the caller's next index */
	bool held;                 /* the caller holds cur - 1's result */
	pthread_t threads[CERTPRELOAD_MAX_THREADS];
	size_t n_threads;
};

static void wake(struct certpreload *p, atomic_int *waiting, pthread_cond_t *cond)
{
	if (atomic_load(waiting) == 0)
		return;
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(cond);
	pthread_mutex_unlock(&p->lock);
}

static bool has_space(struct certpreload *p, size_t i)
{
	return i < atomic_load(&p->released) + CERTPRELOAD_AHEAD;
}

static void *work(void *arg)
{
	struct certpreload *p = arg;

	while (!atomic_load(&p->stop)) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		if (!has_space(p, i)) {
			pthread_mutex_lock(&p->lock);
			atomic_fetch_add(&p->workers_waiting, 1);
			while (!atomic_load(&p->stop) && !has_space(p, i))
				pthread_cond_wait(&p->space_cond, &p->lock);
			atomic_fetch_sub(&p->workers_waiting, 1);
			pthread_mutex_unlock(&p->lock);
			if (atomic_load(&p->stop))
				break;
		}
		struct slot *s = &p->ring[i % CERTPRELOAD_AHEAD];
		certpreload_one(p->store, p->names[i], &s->r);
		atomic_store(&s->ready, true);
		wake(p, &p->caller_waiting, &p->ready_cond);
	}
	return NULL;
}

int certpreload_start(struct store *store, const char *const *names, size_t n, unsigned threads,
		      struct certpreload **ret)
{
	struct certpreload *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	int r = 0;

	if (!p)
		return -ENOMEM;
	p->store = store;
	p->names = names;
	p->n = n;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready_cond, NULL);
	pthread_cond_init(&p->space_cond, NULL);
	/* The workers inherit the mask: signals stay with the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (p->n_threads < MIN((size_t)threads, (size_t)CERTPRELOAD_MAX_THREADS)) {
		r = -pthread_create(&p->threads[p->n_threads], NULL, work, p);
		if (r < 0)
			break;
		p->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->n_threads == 0) {
		certpreload_finish(p);
		return r < 0 ? r : -EINVAL;
	}
	*ret = p;
	return 0;
}

const struct cert_preloaded *certpreload_next(struct certpreload *p)
{
	if (p->held) {
		struct slot *s = &p->ring[(p->cur - 1) % CERTPRELOAD_AHEAD];
		x509_info_done(&s->r.info);
		atomic_store(&s->ready, false);
		p->held = false;
		atomic_store(&p->released, p->cur);
		wake(p, &p->workers_waiting, &p->space_cond);
	}
	if (p->cur >= p->n)
		return NULL;
	struct slot *s = &p->ring[p->cur % CERTPRELOAD_AHEAD];
	if (!atomic_load(&s->ready)) {
		pthread_mutex_lock(&p->lock);
		atomic_fetch_add(&p->caller_waiting, 1);
		while (!atomic_load(&s->ready))
			pthread_cond_wait(&p->ready_cond, &p->lock);
		atomic_fetch_sub(&p->caller_waiting, 1);
		pthread_mutex_unlock(&p->lock);
	}
	p->cur++;
	p->held = true;
	return &s->r;
}

void certpreload_finish(struct certpreload *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->space_cond);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	/* What the caller held or never took. */
	for (size_t i = 0; i < CERTPRELOAD_AHEAD; i++)
		if (atomic_load(&p->ring[i].ready))
			x509_info_done(&p->ring[i].r.info);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->ready_cond);
	pthread_cond_destroy(&p->space_cond);
	free(p);
}
