/* ctl/output.h: what persistctl commands share for printing results.
 *
 * Levels are common/level's; persistctl reports only OK, WARNING, CRITICAL
 * and UNKNOWN (the daemon's ERROR reads as CRITICAL, output_daemon_level), so
 * exit codes follow the monitoring-plugin convention: OK 0, WARNING 1,
 * CRITICAL 2, UNKNOWN 3, and level_merge makes CRITICAL win over UNKNOWN,
 * UNKNOWN over WARNING, WARNING over OK.
 * Colour only when the stream is a TTY and NO_COLOR is unset. Text from DNS
 * or a peer is printed escaped (output_escaped) or written to JSON with
 * output_json_bytes, which always yields valid UTF-8 JSON whatever the
 * bytes. The progress line is for a TTY on stderr only; it redraws at most
 * every OUTPUT_PROGRESS_MS and is cleared before normal output continues.
 * Tables collect rows and print them with aligned columns, one line a row
 * whatever the cells hold (line breaks in a cell print as " / "). No state outside
 * the structs the caller owns. Errors: -ENOMEM only. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/json.h"
#include "common/level.h"
#include "common/macro.h"

#define OUTPUT_PROGRESS_MS 200

/* v's string member key (v may be NULL), or dflt when it has none. */
static inline const char *str_or(yajl_val v, const char *key, const char *dflt)
{
	const char *s = json_get_string(v, key);
	return s ? s : dflt;
}

/* A level word from the daemon's status (NULL: none given) as persistctl
 * reports it: NULL and "OK" are OK, "WARNING" is WARNING, and anything else
 * (CRITICAL, ERROR, a word this persistctl does not know) is CRITICAL. */
enum level output_daemon_level(const char *word);

/* Colour for f: TTY and NO_COLOR unset (PERSISTD_COLOR=always forces it). */
bool output_use_color(FILE *f);
/* ANSI start sequence for a level ("" when !color); output_color_end(color)
 * resets. */
const char *output_color_start(enum level l, bool color);
const char *output_color_end(bool color);

/* Bytes as one printable line: printable ASCII as is, '"' and '\\' escaped,
 * anything else as \DDD (zone-file style). */
void output_escaped(FILE *f, const char *s, size_t len);

/* A JSON string of arbitrary bytes: valid UTF-8 passes unchanged; otherwise
 * every byte >= 0x80 is written as the code point of the same value
 * (Latin-1), so the output stays valid JSON and loses nothing. */
void output_json_bytes(struct json_writer *w, const char *s, size_t len);

struct output_progress {
	FILE *f;               /* borrowed: NULL when disabled */
	uint64_t last_ms;
	bool shown;
};

/* Enabled only when f is a TTY. */
void output_progress_init(struct output_progress *p, FILE *f);
/* Redraws "\r<text>" if OUTPUT_PROGRESS_MS passed since the last draw (or
 * force). now_ms from any monotonic clock. */
void output_progress_update(struct output_progress *p, uint64_t now_ms, bool force,
			    const char *fmt, ...) _printf_(4, 5);
/* Erases the line, so that other output starts on a clean line. */
void output_progress_clear(struct output_progress *p);

struct output_table;

/* ncols column headers, copied. NULL on out-of-memory. */
struct output_table *output_table_new(const char *const *headers, size_t ncols);
void output_table_free(struct output_table *t);
DEFINE_FREEP(struct output_table, output_table_free)
/* One row of ncols cells (NULL prints "-"), copied; the level colours the
 * row's first cell when printing in colour. */
int output_table_add(struct output_table *t, const char *const *cells, enum level level);
void output_table_print(const struct output_table *t, FILE *f, bool color);

/* Errors under --json: one line {"error":{"message","code","exit_code"}} on
 * f (stdout), besides the message on stderr, so that a script reading
 * --json output always gets JSON. rpc_code is a JSON-RPC error code, 0
 * (written as null) when there is none. */
void output_json_error(FILE *f, const char *message, int rpc_code, int exit_code);

/* An error for the person at the terminal: "<prefix>: <message>" on stderr
 * and, when json is set, the same as a JSON error object on stdout
 * (output_json_error). Returns exit_code. */
_printf_(5, 0) int output_verror(bool json, const char *prefix, int exit_code, int rpc_code,
				 const char *fmt, va_list ap);
/* Whether a command line asks for JSON output (--json before any "--"). */
bool output_wants_json(int argc, char **argv);
