/* daemon/statejournal.h: how the state reaches the store without rewriting
 * all of it after every change (issue 12: state.json is 10 MB at 10k certs,
 * 100 MB at 100k).
 *
 * On disk (files backend): state.json, a whole snapshot as before, with
 * "journal_gen": G; and state.journal, whose first line is {"journal_gen": G}
 * and each further line {"cert": NAME, "state": {...}}, one cert's whole
 * entry as in state.json's "certs", newer than the snapshot's. Loading
 * replays the journal's lines in order over the snapshot, only when its
 * generation is the snapshot's: a journal left from before the last
 * snapshot is stale and ignored.
 *
 * Writing: the certs marked changed (state_mark_dirty) are appended as lines
 * and fdatasync()ed, one small write. A new snapshot (generation G+1, written
 * atomically: temp, fsync, rename, fsync of the directory) followed by a
 * fresh journal of generation G+1 is written instead when asked (a change
 * not tied to one cert: a CA's account, a reload dropping certs), on the
 * first write after start (so a torn tail of a crash is dropped with it),
 * when the journal has grown past the snapshot's size (so it stays bounded
 * by it and by STATE_MAX_BYTES), and always with a backend without a
 * journal, and while state.json is under STATEJOURNAL_MIN_SNAPSHOT_BYTES
 * (then a whole write costs what an append does, and state.json alone
 * stays the whole truth for a person or a script reading it). Crash-safety
 * at any instant: a crash during an append loses at
 * most that append's lines, the last one maybe torn (ignored when read); a
 * crash between a new snapshot and its journal leaves the old journal with
 * the old generation, ignored, and the snapshot holds everything.
 * A state.json from before the journal (no journal_gen) loads as
 * generation 0 and the first write migrates it.
 *
 * Errors: -errno. statejournal_load() fills err (the caller refuses to
 * start: forgetting orders in flight is worse); a line that does not parse
 * in the middle of the journal is an error, the same as a bad state.json.
 * Uses the loop's thread only; does not log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define STATEJOURNAL_MIN_SNAPSHOT_BYTES (64 * 1024)

struct state;
struct store;
struct statejournal;

struct statejournal_stats {
	uint64_t snapshots;       /* whole state.json writes */
	uint64_t appends;         /* journal appends */
	uint64_t lines_appended;  /* cert entries in them */
	size_t snapshot_bytes;    /* the last snapshot's size */
	size_t journal_bytes;     /* the journal's size now */
	size_t lines_replayed;    /* at load */
	bool torn_tail;           /* at load: a last line cut short was dropped */
	bool stale_journal;       /* at load: a journal of another generation was ignored */
};

int statejournal_load(struct store *store, struct state **ret_state, struct statejournal **ret,
		      char *err, size_t err_size);
void statejournal_free(struct statejournal *j);
DEFINE_FREEP(struct statejournal, statejournal_free)

/* The replay of statejournal_load() alone, on a journal's text (for the
 * fuzzer): stats gets lines_replayed, torn_tail and stale_journal. */
int statejournal_replay(struct state *s, const char *text, size_t len,
			struct statejournal_stats *stats, char *err, size_t err_size);

/* Writes what changed in s since the last write; whole when full. */
int statejournal_save(struct statejournal *j, struct state *s, struct store *store, bool full);

const struct statejournal_stats *statejournal_get_stats(const struct statejournal *j);
/* Tests: journal even a state.json smaller than STATEJOURNAL_MIN_SNAPSHOT_BYTES. */
void statejournal_set_min_snapshot(struct statejournal *j, size_t bytes);
