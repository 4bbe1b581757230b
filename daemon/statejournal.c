/* daemon/statejournal.c: see statejournal.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "common/strutil.h"
#include "daemon/heaptrim.h"
#include "daemon/state.h"
#include "daemon/statejson.h"
#include "daemon/statejournal.h"
#include "daemon/store.h"

/* Below this a journal is never worth a snapshot of its own. */
#define JOURNAL_MIN_COMPACT_BYTES (1024 * 1024)

struct statejournal {
	bool snapshot_done;   /* a snapshot and its journal were written since start */
	bool no_journal;      /* the backend has none: every write is a snapshot */
	size_t min_snapshot_bytes;
	struct statejournal_stats stats;
};

static int replay(struct statejournal *j, struct state *s, const char *text, size_t len,
		  char *err, size_t err_size);

static int replay_line(struct state *s, const char *line, size_t len, char *err,
		       size_t err_size)
{
	yajl_val v = NULL;
	int r;

	r = json_parse(line, len, STATE_MAX_BYTES, &v, err, err_size);
	if (r < 0)
		return r;
	const char *name = json_get_string(v, "cert");
	yajl_val st = json_get_object(v, "state");
	if (!name || !st) {
		str_printf(err, err_size, "expected {\"cert\": NAME, \"state\": {...}}");
		r = -EINVAL;
	} else {
		r = state_read_cert(s, name, st, err, err_size);
	}
	yajl_tree_free(v);
	return r;
}

int statejournal_replay(struct state *s, const char *text, size_t len,
			struct statejournal_stats *stats, char *err, size_t err_size)
{
	struct statejournal j = { 0 };
	int r = replay(&j, s, text, len, err, err_size);

	*stats = j.stats;
	return r;
}

/* Replays text (the whole journal) over s when its header names s's generation. */
static int replay(struct statejournal *j, struct state *s, const char *text, size_t len,
		  char *err, size_t err_size)
{
	const char *end = text + len, *p = text;
	const char *nl = memchr(p, '\n', len);
	int64_t gen = -1;
	char why[200];
	int r;

	if (!nl) {
		/* Only a reset writes the header, atomically: no header is a
		 * journal with nothing in it. */
		j->stats.stale_journal = len > 0;
		return 0;
	}
	yajl_val h = NULL;
	if (json_parse(p, (size_t)(nl - p), 4096, &h, why, sizeof(why)) == 0)
		(void)json_get_int(h, "journal_gen", &gen);
	yajl_tree_free(h);
	if (gen != s->journal_gen) {
		j->stats.stale_journal = true;
		return 0;
	}
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			/* A crash cut the last append short: it was never reported
			 * written, so dropping it loses nothing anyone relied on. */
			j->stats.torn_tail = true;
			return 0;
		}
		r = replay_line(s, p, (size_t)(nl - p), why, sizeof(why));
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			/* A torn append can end in a newline of a later line too;
			 * only the very last line may be bad. */
			if (nl + 1 == end) {
				j->stats.torn_tail = true;
				return 0;
			}
			str_printf(err, err_size, "state.journal, line at byte %zu: %s",
				   (size_t)(p - text), why);
			return r;
		}
		j->stats.lines_replayed++;
	}
	return 0;
}

int statejournal_load(struct store *store, struct state **ret_state, struct statejournal **ret,
		      char *err, size_t err_size)
{
	_cleanup_(statejournal_freep) struct statejournal *j = calloc(1, sizeof(*j));
	_cleanup_(state_freep) struct state *s = NULL;
	_cleanup_free_ char *json = NULL, *journal = NULL;
	size_t len;
	int r;

	if (!j)
		return -ENOMEM;
	j->min_snapshot_bytes = STATEJOURNAL_MIN_SNAPSHOT_BYTES;
	r = store_state_load(store, &json, &len);
	if (r == -ENOENT) {
		s = state_new();
		if (!s)
			return -ENOMEM;
	} else if (r < 0) {
		str_printf(err, err_size, "reading state.json: %s", strerror(-r));
		return r;
	} else {
		r = state_from_json(json, len, &s, err, err_size);
		if (r < 0)
			return r;
		j->stats.snapshot_bytes = len;
	}
	r = store_journal_load(store, &journal, &len);
	if (r == -EOPNOTSUPP) {
		j->no_journal = true;
	} else if (r >= 0) {
		r = replay(j, s, journal, len, err, err_size);
		if (r < 0)
			return r;
	} else if (r != -ENOENT) {
		str_printf(err, err_size, "reading state.journal: %s", strerror(-r));
		return r;
	}
	*ret_state = TAKE_PTR(s);
	*ret = TAKE_PTR(j);
	return 0;
}

void statejournal_free(struct statejournal *j)
{
	free(j);
}

void statejournal_set_min_snapshot(struct statejournal *j, size_t bytes)
{
	j->min_snapshot_bytes = bytes;
}

const struct statejournal_stats *statejournal_get_stats(const struct statejournal *j)
{
	return &j->stats;
}

static int snapshot(struct statejournal *j, struct state *s, struct store *store)
{
	_cleanup_free_ char *json = NULL;
	char header[64];
	size_t len;
	int r;

	/* From here until the new journal is in place nothing may be
	 * appended: a line in the old journal would be read with neither. */
	j->snapshot_done = false;
	s->journal_gen++;
	r = state_to_json(s, &json, &len);
	if (r < 0)
		return r;
	r = store_state_save(store, json, len);
	if (r < 0)
		return r;
	/* Megabytes at 100k certs: given back, not kept resident until the next one. */
	free(TAKE_PTR(json));
	heaptrim_release();
	j->stats.snapshots++;
	j->stats.snapshot_bytes = len;
	state_clear_dirty(s);
	if (j->no_journal)
		return 0;
	str_printf(header, sizeof(header), "{\"journal_gen\":%lld}\n", (long long)s->journal_gen);
	r = store_journal_reset(store, header, strlen(header));
	if (r == -EOPNOTSUPP) {
		j->no_journal = true;
		return 0;
	}
	if (r < 0)
		return r;
	j->stats.journal_bytes = strlen(header);
	j->snapshot_done = true;
	return 0;
}

static int append_dirty(struct statejournal *j, struct state *s, struct store *store)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_dirty; i++) {
		const struct state_cert *c = s->dirty[i];
		const char *out;
		size_t n;
		json_writer_reset(w);
		json_begin_object(w);
		json_kv_string(w, "cert", c->name);
		json_key(w, "state");
		state_write_cert(w, c);
		json_end_object(w);
		r = json_writer_finish(w, &out, &n);
		if (r < 0)
			return r;
		if (len + n + 1 > cap) {
			size_t ncap = MAX(2 * cap, len + n + 1);
			char *nb = realloc(buf, ncap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = ncap;
		}
		memcpy(buf + len, out, n);
		buf[len + n] = '\n';
		len += n + 1;
	}
	if (j->stats.journal_bytes + len > STATE_MAX_BYTES / 2)
		return -E2BIG;
	r = store_journal_append(store, buf, len);
	if (r < 0)
		return r;
	j->stats.appends++;
	j->stats.lines_appended += s->n_dirty;
	j->stats.journal_bytes += len;
	state_clear_dirty(s);
	return 0;
}

int statejournal_save(struct statejournal *j, struct state *s, struct store *store, bool full)
{
	size_t compact_at = MAX((size_t)JOURNAL_MIN_COMPACT_BYTES, j->stats.snapshot_bytes);
	int r;

	if (full || !j->snapshot_done || j->no_journal ||
	    j->stats.snapshot_bytes < j->min_snapshot_bytes || j->stats.journal_bytes > compact_at)
		return snapshot(j, s, store);
	if (s->n_dirty == 0)
		return 0;
	r = append_dirty(j, s, store);
	if (r == -ENOMEM)
		return r;
	/* Grown too big, or the journal went away: a snapshot holds it all. */
	if (r < 0)
		return snapshot(j, s, store);
	return 0;
}
