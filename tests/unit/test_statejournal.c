/* Unit tests for daemon/statejournal on the files store in a temp dir: a
 * change to one cert is one appended line, not a new state.json; a restart
 * replays the journal; a torn last line is dropped; a journal older than
 * state.json (a crash between the two writes) is ignored; a bad line in the
 * middle is refused; the journal is compacted once it outgrows the
 * snapshot; and a state.json from before the journal migrates. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "common/limits.h"
#include "daemon/state.h"
#include "daemon/statejournal.h"
#include "daemon/store.h"

struct fixture {
	char dir[64], sub[128];
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/persistd-journal-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sub, sizeof(f->sub), "%s/state", f->dir);
	assert_int_equal(store_open(f->sub, &f->s), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	store_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static off_t file_size(const struct fixture *f, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->sub, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void append_raw(const struct fixture *f, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/state.journal", f->sub);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static struct state *load(struct fixture *f, struct statejournal **ret_j)
{
	struct state *s = NULL;
	char err[256] = "";

	assert_int_equal(statejournal_load(f->s, &s, ret_j, err, sizeof(err)), 0);
	statejournal_set_min_snapshot(*ret_j, 0);
	return s;
}

/* Many certs; one changes: one line appended, state.json untouched; a
 * restart sees the change. */
static void test_append_and_replay(void **state)
{
	struct fixture *f = *state;
	struct statejournal *j = NULL;
	struct state *s = load(f, &j);
	char name[16];

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "c%04d", i);
		struct state_cert *c = state_get_cert(s, name, true);
		assert_non_null(c);
		c->next_renewal = 1000 + i;
		/* Something besides defaults (left out), for a state.json past
		 * STATEJOURNAL_MIN_SNAPSHOT_BYTES. */
		assert_int_equal(state_set_str(&c->last_error, "the CA said no, and said so at "
							       "length, in a message a hundred "
							       "bytes long"),
				 0);
		assert_int_equal(state_mark_dirty(s, c), 0);
	}
	/* The first write after a start is a snapshot. */
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	assert_int_equal(statejournal_get_stats(j)->snapshots, 1);
	assert_int_equal(s->n_dirty, 0);
	off_t snap = file_size(f, "state.json");
	assert_true(snap > 100000);

	struct state_cert *c = state_get_cert(s, "c0500", false);
	c->next_renewal = 77;
	assert_int_equal(state_mark_dirty(s, c), 0);
	assert_int_equal(state_mark_dirty(s, c), 0); /* once */
	assert_int_equal(s->n_dirty, 1);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	const struct statejournal_stats *st = statejournal_get_stats(j);
	assert_int_equal(st->snapshots, 1);
	assert_int_equal(st->appends, 1);
	assert_int_equal(st->lines_appended, 1);
	assert_int_equal(file_size(f, "state.json"), snap);
	assert_true(file_size(f, "state.journal") < 2000);
	/* Nothing changed: nothing written. */
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	assert_int_equal(st->appends, 1);
	statejournal_free(j);
	state_free(s);

	s = load(f, &j);
	assert_int_equal(statejournal_get_stats(j)->lines_replayed, 1);
	assert_int_equal(s->n_certs, 1000);
	assert_int_equal(state_get_cert(s, "c0500", false)->next_renewal, 77);
	assert_int_equal(state_get_cert(s, "c0501", false)->next_renewal, 1501);
	/* Replayed in place: the entry keeps its position. */
	assert_string_equal(s->certs[500]->name, "c0500");
	statejournal_free(j);
	state_free(s);
}

static void test_torn_tail_stale_and_corrupt(void **state)
{
	struct fixture *f = *state;
	struct statejournal *j = NULL;
	struct state *s = load(f, &j);
	char err[256];

	struct state_cert *c = state_get_cert(s, "www", true);
	c->failures = 1;
	assert_int_equal(state_mark_dirty(s, c), 0);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	c->failures = 2;
	assert_int_equal(state_mark_dirty(s, c), 0);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	statejournal_free(j);
	state_free(s);

	/* A crash in the middle of an append: the cut line is dropped. */
	append_raw(f, "{\"cert\":\"www\",\"state\":{\"failures\":9");
	s = load(f, &j);
	assert_true(statejournal_get_stats(j)->torn_tail);
	assert_int_equal(state_get_cert(s, "www", false)->failures, 2);
	/* The first write after it is a snapshot with a new journal. */
	int64_t gen = s->journal_gen;
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	assert_int_equal(s->journal_gen, gen + 1);
	statejournal_free(j);
	state_free(s);
	s = load(f, &j);
	assert_false(statejournal_get_stats(j)->torn_tail);
	assert_int_equal(state_get_cert(s, "www", false)->failures, 2);

	/* A crash between a new state.json and its journal: the old journal
	 * (generation - 1) is not replayed over the newer snapshot. */
	c = state_get_cert(s, "www", false);
	c->failures = 3;
	assert_int_equal(state_mark_dirty(s, c), 0);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	_cleanup_free_ char *old = NULL;
	size_t old_len;
	assert_int_equal(store_journal_load(f->s, &old, &old_len), 0);
	c->failures = 4;
	assert_int_equal(statejournal_save(j, s, f->s, true), 0); /* a snapshot */
	assert_int_equal(store_journal_reset(f->s, old, old_len), 0);
	statejournal_free(j);
	state_free(s);
	s = load(f, &j);
	assert_true(statejournal_get_stats(j)->stale_journal);
	assert_int_equal(statejournal_get_stats(j)->lines_replayed, 0);
	assert_int_equal(state_get_cert(s, "www", false)->failures, 4);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	statejournal_free(j);
	state_free(s);

	/* Garbage in the middle is not a torn tail: refused, like a bad state.json. */
	append_raw(f, "{\"cert\":\"www\",\"state\":{\"failures\":\"many\"}}\n");
	append_raw(f, "{\"cert\":\"www\",\"state\":{\"failures\":5}}\n");
	s = NULL;
	j = NULL;
	assert_int_equal(statejournal_load(f->s, &s, &j, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "state.journal"));
	assert_null(s);
	assert_null(j);
}

/* The journal never grows much past its snapshot: it is folded in. */
static void test_compaction(void **state)
{
	struct fixture *f = *state;
	struct statejournal *j = NULL;
	struct state *s = load(f, &j);

	struct state_cert *c = state_get_cert(s, "big", true);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	assert_int_equal(state_set_str(&c->last_error, "x"), 0);
	char *msg = malloc(4000);
	memset(msg, 'e', 3999);
	msg[3999] = '\0';
	assert_int_equal(state_set_str(&c->last_error, msg), 0);
	free(msg);
	const struct statejournal_stats *st = statejournal_get_stats(j);
	for (int i = 0; i < 600; i++) {
		c->failures = (unsigned)i;
		assert_int_equal(state_mark_dirty(s, c), 0);
		assert_int_equal(statejournal_save(j, s, f->s, false), 0);
		assert_true(st->journal_bytes <= 1024 * 1024 + 8192);
	}
	assert_true(st->snapshots >= 2);
	assert_true(st->appends >= 500);
	statejournal_free(j);
	state_free(s);
	s = load(f, &j);
	assert_int_equal(state_get_cert(s, "big", false)->failures, 599);
	statejournal_free(j);
	state_free(s);
}

/* A state.json written before the journal existed (no journal_gen, no
 * state.journal) loads whole, and the first write adds the journal. */
static void test_migration(void **state)
{
	struct fixture *f = *state;
	const char *old = "{\"version\":1,\"cas\":{},\"certs\":{\"www\":{\"failures\":3,"
			  "\"names\":{\"www.example.test\":{\"checked\":true}}}}}\n";
	struct statejournal *j = NULL;

	assert_int_equal(store_state_save(f->s, old, strlen(old)), 0);
	assert_int_equal(file_size(f, "state.journal"), -1);
	struct state *s = load(f, &j);
	assert_int_equal(s->journal_gen, 0);
	struct state_cert *c = state_get_cert(s, "www", false);
	assert_non_null(c);
	assert_int_equal(c->failures, 3);
	assert_true(state_cert_get_name(c, "www.example.test", false)->checked);
	c->failures = 4;
	assert_int_equal(state_mark_dirty(s, c), 0);
	assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	assert_int_equal(s->journal_gen, 1);
	assert_true(file_size(f, "state.journal") > 0);
	statejournal_free(j);
	state_free(s);
	s = load(f, &j);
	assert_int_equal(state_get_cert(s, "www", false)->failures, 4);
	statejournal_free(j);
	state_free(s);
}

/* A cert dropped from the configuration leaves the list of changed ones. */
static void test_retain_drops_dirty(void **state)
{
	(void)state;
	struct state *s = state_new();
	const char *keep[] = { "a" };

	assert_int_equal(state_mark_dirty(s, state_get_cert(s, "a", true)), 0);
	assert_int_equal(state_mark_dirty(s, state_get_cert(s, "b", true)), 0);
	state_retain_certs(s, keep, 1);
	assert_int_equal(s->n_dirty, 1);
	assert_string_equal(s->dirty[0]->name, "a");
	assert_null(state_get_cert(s, "b", false));
	state_free(s);
}

/* A small state.json (a few certs) is rewritten whole, never journaled:
 * it stays the whole truth for whoever reads it. */
static void test_small_state_stays_whole(void **state)
{
	struct fixture *f = *state;
	struct statejournal *j = NULL;
	struct state *s = NULL;
	char err[256];

	assert_int_equal(statejournal_load(f->s, &s, &j, err, sizeof(err)), 0);
	struct state_cert *c = state_get_cert(s, "www", true);
	for (int i = 0; i < 3; i++) {
		c->failures = (unsigned)i;
		assert_int_equal(state_mark_dirty(s, c), 0);
		assert_int_equal(statejournal_save(j, s, f->s, false), 0);
	}
	assert_int_equal(statejournal_get_stats(j)->snapshots, 3);
	assert_int_equal(statejournal_get_stats(j)->appends, 0);
	statejournal_free(j);
	state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_stale_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test(test_retain_drops_dirty),
		cmocka_unit_test_setup_teardown(test_small_state_stays_whole, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
