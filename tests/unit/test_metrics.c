/* Unit tests for daemon/metrics' writer: the Prometheus text exposition
 * format (HELP/TYPE lines, label escaping, counter names) and the misuse it
 * refuses so that /metrics always passes promtool. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/metrics.h"

static char *take(struct metrics_writer *w, int expect)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(metrics_writer_take(w, &out, &len), expect);
	if (expect == 0)
		assert_int_equal(strlen(out), len);
	return out;
}

static void test_format(void **state)
{
	(void)state;
	struct metrics_writer *w = metrics_writer_new();
	const char *labels[] = { "cert", "www", "name", "*.example.test", NULL };

	assert_non_null(w);
	metrics_family(w, "persistd_name_level", METRICS_GAUGE, "Level: 0 OK.");
	metrics_sample(w, labels, 2);
	metrics_sample(w, NULL, -5);
	metrics_family(w, "persistd_ca_requests_total", METRICS_COUNTER, "Requests.");
	const char *ca[] = { "ca", "le", NULL };
	metrics_sample(w, ca, 1796281540);
	char *out = take(w, 0);
	assert_string_equal(out,
			    "# HELP persistd_name_level Level: 0 OK.\n"
			    "# TYPE persistd_name_level gauge\n"
			    "persistd_name_level{cert=\"www\",name=\"*.example.test\"} 2\n"
			    "persistd_name_level -5\n"
			    "# HELP persistd_ca_requests_total Requests.\n"
			    "# TYPE persistd_ca_requests_total counter\n"
			    "persistd_ca_requests_total{ca=\"le\"} 1796281540\n");
	free(out);
	metrics_writer_free(w);
}

static void test_escaping(void **state)
{
	(void)state;
	struct metrics_writer *w = metrics_writer_new();
	const char *labels[] = { "name", "a\"b\\c\nd", NULL };

	metrics_family(w, "x_y", METRICS_GAUGE, "back\\slash \"quoted\"\nnext line");
	metrics_sample(w, labels, 1);
	char *out = take(w, 0);
	/* HELP escapes backslash and newline only; label values also the quote. */
	assert_string_equal(out, "# HELP x_y back\\\\slash \"quoted\"\\nnext line\n"
				 "# TYPE x_y gauge\n"
				 "x_y{name=\"a\\\"b\\\\c\\nd\"} 1\n");
	free(out);
	metrics_writer_free(w);
}

static void test_misuse(void **state)
{
	(void)state;
	struct metrics_writer *w;
	const char *bad_label[] = { "bad-label", "v", NULL };
	const char *reserved[] = { "__name__", "v", NULL };
	const char *no_value[] = { "k", NULL };

	/* A counter must end in _total. */
	w = metrics_writer_new();
	metrics_family(w, "persistd_requests", METRICS_COUNTER, "x");
	free(take(w, -EINVAL));
	metrics_writer_free(w);
	/* A sample before any family. */
	w = metrics_writer_new();
	metrics_sample(w, NULL, 1);
	free(take(w, -EINVAL));
	metrics_writer_free(w);
	/* The same family twice would be two TYPE lines: promtool refuses it. */
	w = metrics_writer_new();
	metrics_family(w, "a", METRICS_GAUGE, "x");
	metrics_family(w, "a", METRICS_GAUGE, "x");
	free(take(w, -EINVAL));
	metrics_writer_free(w);
	/* Names outside the grammar. */
	const char *const bad_names[] = { "", "1abc", "a-b", "a b", "é" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		w = metrics_writer_new();
		metrics_family(w, bad_names[i], METRICS_GAUGE, "x");
		free(take(w, -EINVAL));
		metrics_writer_free(w);
	}
	const char *const *bad_labels[] = { bad_label, reserved, no_value };
	for (size_t i = 0; i < 3; i++) {
		w = metrics_writer_new();
		metrics_family(w, "ok_name:sub", METRICS_GAUGE, "x");
		metrics_sample(w, bad_labels[i], 1);
		free(take(w, -EINVAL));
		metrics_writer_free(w);
	}
	/* The first error latches: what follows is not written. */
	w = metrics_writer_new();
	metrics_family(w, "a", METRICS_COUNTER, "x");
	metrics_family(w, "b", METRICS_GAUGE, "x");
	metrics_sample(w, NULL, 1);
	free(take(w, -EINVAL));
	metrics_writer_free(w);
	metrics_writer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
