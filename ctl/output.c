/* ctl/output.c: see output.h. */
#include "ctl/output.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strutil.h"

enum level output_daemon_level(const char *word)
{
	if (!word || streq(word, "OK"))
		return LEVEL_OK;
	if (streq(word, "WARNING"))
		return LEVEL_WARNING;
	return LEVEL_CRITICAL;
}

bool output_use_color(FILE *f)
{
	const char *force = getenv("PERSISTD_COLOR");

	if (force && streq(force, "always"))
		return true;
	if (force && streq(force, "never"))
		return false;
	if (getenv("NO_COLOR"))
		return false;
	const char *term = getenv("TERM");
	if (term && streq(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

const char *output_color_start(enum level l, bool color)
{
	if (!color)
		return "";
	switch (l) {
	case LEVEL_OK:
		return "\033[32m";
	case LEVEL_WARNING:
		return "\033[33m";
	case LEVEL_CRITICAL:
	case LEVEL_ERROR:
		return "\033[1;31m";
	default:
		return "\033[35m";
	}
}

const char *output_color_end(bool color)
{
	return color ? "\033[0m" : "";
}

void output_escaped(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\%03u", c);
	}
}

static bool utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n)
		if ((n = str_utf8_seq_len(s + i, len - i)) == 0)
			return false;
	return true;
}

void output_json_bytes(struct json_writer *w, const char *s, size_t len)
{
	if (!s) {
		json_null(w);
		return;
	}
	if (utf8_valid((const unsigned char *)s, len)) {
		json_string_n(w, s, len);
		return;
	}
	char *buf = malloc(len * 2 + 1);
	if (!buf) {
		/* json_writer latches errors; make this one visible there. */
		json_string_n(w, "", 0);
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80)
			buf[o++] = (char)c;
		else {
			buf[o++] = (char)(0xc0 | c >> 6);
			buf[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	json_string_n(w, buf, o);
	free(buf);
}

void output_progress_init(struct output_progress *p, FILE *f)
{
	*p = (struct output_progress){ .f = f && isatty(fileno(f)) ? f : NULL };
}

void output_progress_update(struct output_progress *p, uint64_t now_ms, bool force,
			    const char *fmt, ...)
{
	va_list ap;

	if (!p->f)
		return;
	if (!force && p->shown && now_ms - p->last_ms < OUTPUT_PROGRESS_MS)
		return;
	p->last_ms = now_ms;
	p->shown = true;
	fputs("\r\033[K", p->f);
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
	fflush(p->f);
}

void output_progress_clear(struct output_progress *p)
{
	if (!p->f || !p->shown)
		return;
	fputs("\r\033[K", p->f);
	fflush(p->f);
	p->shown = false;
}

struct output_table {
	size_t ncols;
	char **cells;                 /* owned: rows * ncols, headers first */
	enum level *levels;    /* owned: per row (index 0: headers) */
	size_t nrows;                 /* including the header row */
	size_t cap;
};

void output_table_free(struct output_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->levels);
	free(t);
}

/* A row is one line: a multi-line error (a CA's problem detail, a hook's
 * output) would otherwise break the table's columns. A line break (with
 * the blanks around it) becomes " / ", other control bytes a space; the
 * full text stays in --json. A new string, NULL on out-of-memory. */
static char *cell_one_line(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1);
	char *o = out;

	if (!out)
		return NULL;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r' || c == '\n') {
			while (p[1] == '\r' || p[1] == '\n' || p[1] == ' ' || p[1] == '\t')
				p++;
			while (o > out && (o[-1] == ' ' || o[-1] == '\t'))
				o--;
			if (p[1] && o > out) {
				memcpy(o, " / ", 3);
				o += 3;
			}
		} else {
			*o++ = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		}
	}
	*o = 0;
	return out;
}

static int table_push(struct output_table *t, const char *const *cells, enum level l)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		enum level *lv = realloc(t->levels, cap * sizeof(*lv));
		if (!lv)
			return -ENOMEM;
		t->levels = lv;
		t->cap = cap;
	}
	char **row = &t->cells[t->nrows * t->ncols];
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = cell_one_line(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			for (size_t k = 0; k < i; k++)
				free(row[k]);
			return -ENOMEM;
		}
	}
	t->levels[t->nrows++] = l;
	return 0;
}

struct output_table *output_table_new(const char *const *headers, size_t ncols)
{
	struct output_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	if (ncols == 0 || table_push(t, headers, LEVEL_OK) < 0) {
		output_table_free(t);
		return NULL;
	}
	return t;
}

int output_table_add(struct output_table *t, const char *const *cells, enum level level)
{
	return table_push(t, cells, level);
}

void output_table_print(const struct output_table *t, FILE *f, bool color)
{
	_cleanup_free_ size_t *width = calloc(t->ncols, sizeof(*width));

	if (!width)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			width[c] = MAX(width[c], strlen(t->cells[r * t->ncols + c]));
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			bool last = c + 1 == t->ncols;
			bool paint = color && r > 0 && c == 0;
			fprintf(f, "%s%s%s", paint ? output_color_start(t->levels[r], true) : "", cell,
				paint ? output_color_end(true) : "");
			if (!last)
				fprintf(f, "%*s", (int)(width[c] - strlen(cell) + 2), "");
		}
		fputc('\n', f);
	}
}

void output_json_error(FILE *f, const char *message, int rpc_code, int exit_code)
{
	_cleanup_(json_writer_freep) struct json_writer *w = json_writer_new(false);
	const char *out;
	size_t len;

	if (!w)
		return;
	json_begin_object(w);
	json_key(w, "error");
	json_begin_object(w);
	json_key(w, "message");
	output_json_bytes(w, message, strlen(message));
	json_key(w, "code");
	if (rpc_code)
		json_int(w, rpc_code);
	else
		json_null(w);
	json_kv_int(w, "exit_code", exit_code);
	json_end_object(w);
	json_end_object(w);
	if (json_writer_finish(w, &out, &len) == 0)
		fprintf(f, "%.*s\n", (int)len, out);
	fflush(f);
}

bool output_wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
		if (streq(argv[i], "--json"))
			return true;
	return false;
}

int output_verror(bool json, const char *prefix, int exit_code, int rpc_code, const char *fmt,
		  va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	fprintf(stderr, "%s: %s\n", prefix, msg ? msg : "out of memory");
	if (json)
		output_json_error(stdout, msg ? msg : "out of memory", rpc_code, exit_code);
	return exit_code;
}
