#include <errno.h>
#include <stdlib.h>

#include "daemon/sched.h"

struct sched {
	uv_timer_t timer;          /* timer.data == this */
	uv_loop_t *loop;           /* borrowed */
	sched_clock_fn clock;
	void *clock_userdata;      /* borrowed */
	struct sched_item **heap;  /* owned array of borrowed items */
	size_t n, cap;
	uint32_t next_seq;         /* wraps */
	bool running;              /* inside on_timer: re-arm once at the end */
};

/* Ties at one second go by seq in serial-number order (RFC 1982): right for any two
 * items scheduled fewer than 2^31 sched_at() calls apart. Past that only the order of
 * two items due at the same second can flip: due alone still orders the heap. */
static bool before(const struct sched_item *a, const struct sched_item *b)
{
	return a->due < b->due || (a->due == b->due && (int32_t)(a->seq - b->seq) < 0);
}

static void place(struct sched *s, size_t i, struct sched_item *it)
{
	s->heap[i] = it;
	it->index = (uint32_t)i;
}

static void sift_up(struct sched *s, size_t i)
{
	struct sched_item *it = s->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(it, s->heap[parent]))
			break;
		place(s, i, s->heap[parent]);
		i = parent;
	}
	place(s, i, it);
}

static void sift_down(struct sched *s, size_t i)
{
	struct sched_item *it = s->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, best = i;
		const struct sched_item *b = it;
		if (l < s->n && before(s->heap[l], b)) {
			best = l;
			b = s->heap[l];
		}
		if (l + 1 < s->n && before(s->heap[l + 1], b))
			best = l + 1;
		if (best == i)
			break;
		place(s, i, s->heap[best]);
		i = best;
	}
	place(s, i, it);
}

static void heap_remove(struct sched *s, struct sched_item *it)
{
	size_t i = it->index;

	it->index = UINT32_MAX;
	s->n--;
	if (i == s->n)
		return;
	place(s, i, s->heap[s->n]);
	sift_down(s, i);
	sift_up(s, s->heap[i]->index);
}

static void on_timer(uv_timer_t *t);

static void arm_min(struct sched *s, uint64_t min_ms)
{
	if (s->running)
		return;
	if (s->n == 0) {
		(void)uv_timer_stop(&s->timer);
		return;
	}
	int64_t now = s->clock(s->clock_userdata);
	int64_t due = s->heap[0]->due;
	uint64_t delay_ms = due <= now ? 0 : (uint64_t)(due - now) * 1000;
	if (delay_ms > SCHED_MAX_SLEEP_MS)
		delay_ms = SCHED_MAX_SLEEP_MS;
	if (delay_ms < min_ms)
		delay_ms = min_ms;
	uv_update_time(s->loop);
	(void)uv_timer_start(&s->timer, on_timer, delay_ms, 0);
}

static void arm(struct sched *s)
{
	arm_min(s, 0);
}

/* Whether it was given its seq at or after horizon: the window [horizon, next_seq) is a
 * few callbacks wide, so this holds however old the other items' seqs are. */
static bool scheduled_since(const struct sched *s, const struct sched_item *it,
			    uint32_t horizon)
{
	return (uint32_t)(it->seq - horizon) < (uint32_t)(s->next_seq - horizon);
}

static void on_timer(uv_timer_t *t)
{
	struct sched *s = t->data;
	int64_t now = s->clock(s->clock_userdata);

	s->running = true;
	/* Only what is due now: items a callback schedules for "now" wait for
	 * the next wake, so a callback that keeps rescheduling itself cannot
	 * starve the loop. */
	uint32_t horizon = s->next_seq;
	while (s->n > 0 && s->heap[0]->due <= now &&
	       !scheduled_since(s, s->heap[0], horizon)) {
		struct sched_item *it = s->heap[0];
		heap_remove(s, it);
		it->fn(it);
	}
	s->running = false;
	/* At least 1 ms: libuv would run a 0 ms timer restarted from its own
	 * callback again in the same iteration, starving everything else. */
	arm_min(s, 1);
}

int sched_new(uv_loop_t *loop, sched_clock_fn clock, void *clock_userdata, struct sched **ret)
{
	struct sched *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = uv_timer_init(loop, &s->timer);
	if (r < 0) {
		free(s);
		return r;
	}
	s->timer.data = s;
	s->loop = loop;
	s->clock = clock;
	s->clock_userdata = clock_userdata;
	*ret = s;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct sched *s = h->data;

	free(s->heap);
	free(s);
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		s->heap[i]->index = UINT32_MAX;
	s->n = 0;
	uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

void sched_item_init(struct sched_item *it, sched_fn fn)
{
	*it = (struct sched_item){ .index = UINT32_MAX, .fn = fn };
}

bool sched_item_pending(const struct sched_item *it)
{
	return it->index != UINT32_MAX;
}

int sched_at(struct sched *s, struct sched_item *it, int64_t due)
{
	if (sched_item_pending(it))
		heap_remove(s, it);
	if (s->n == s->cap) {
		if (s->cap >= UINT32_MAX / 2)
			return -ENOMEM; /* index is 32 bits */
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct sched_item **h = realloc(s->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->cap = cap;
	}
	it->due = due;
	it->seq = s->next_seq++;
	place(s, s->n++, it);
	sift_up(s, it->index);
	arm(s);
	return 0;
}

void sched_cancel(struct sched *s, struct sched_item *it)
{
	if (!sched_item_pending(it))
		return;
	heap_remove(s, it);
	arm(s);
}

size_t sched_count(const struct sched *s)
{
	return s->n;
}

int64_t sched_next_due(const struct sched *s)
{
	return s->n ? s->heap[0]->due : INT64_MAX;
}

void sched_kick(struct sched *s)
{
	arm(s);
}
