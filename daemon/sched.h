/* daemon/sched.h: one min-heap of due times behind one uv timer.
 *
 * Owners embed a struct sched_item and (re)schedule it with sched_at(); the
 * item's callback runs on the loop once its due time (Unix seconds, from the
 * daemon's clock) has come. Due times are wall-clock instants, but the uv
 * timer never sleeps longer than SCHED_MAX_SLEEP_MS, so a wall-clock jump
 * (suspend, NTP step) is noticed within that bound: work that became due is
 * run once on the next wake (not missed, not repeated), and work pushed into
 * the future simply waits. Items due at the same second run in the order
 * they were scheduled.
 * No allocation per item; the heap grows by doubling (-ENOMEM from
 * sched_at only when that fails). A callback may reschedule or cancel any
 * item, itself included. */
#pragma once

#include "common/macro.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SCHED_MAX_SLEEP_MS (5 * 60 * 1000)

struct sched;
struct sched_item;

/* The owner of it finds itself with container_of(): an item carries no pointer back, as
 * 100k certs hold three items each. */
typedef void (*sched_fn)(struct sched_item *it);
typedef int64_t (*sched_clock_fn)(void *userdata);

/* 24 bytes: 100k certs embed three. seq wraps at 2^32; sched.c says why that is safe. */
struct sched_item {
	int64_t due;      /* Unix seconds */
	uint32_t seq;     /* tie-breaker: scheduling order */
	uint32_t index;   /* position in the heap; UINT32_MAX when not scheduled */
	sched_fn fn;
};

int sched_new(uv_loop_t *loop, sched_clock_fn clock, void *clock_userdata, struct sched **ret);
/* Closes the timer; memory goes in its close callback. Items are forgotten. */
void sched_free(struct sched *s);

void sched_item_init(struct sched_item *it, sched_fn fn);
int sched_at(struct sched *s, struct sched_item *it, int64_t due);
void sched_cancel(struct sched *s, struct sched_item *it);
bool sched_item_pending(const struct sched_item *it);

size_t sched_count(const struct sched *s);
/* Earliest due time, or INT64_MAX when nothing is scheduled. */
int64_t sched_next_due(const struct sched *s);
/* Re-reads the clock and re-arms the timer: call after the clock moved (tests). */
void sched_kick(struct sched *s);
