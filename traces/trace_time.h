/* trace_time.h — durations as text, in exact integer nanoseconds.
 *
 * The trace library's own duration parser and printer, for the tools that
 * read traces (the viewer, the command line) and must not link the
 * simulator. Same grammar as the scenario files: one or more
 * <integer><unit> parts ("1h30m", "250ms", "2d"), units d, h, m, s, ms, us,
 * ns; a decimal fraction ("1.5s") is accepted when it is a whole number of
 * nanoseconds. No floating point anywhere.
 */
#ifndef MAILSIM_TRACE_TIME_H
#define MAILSIM_TRACE_TIME_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TRACE_TIME_ERROR (trace_time_error_quark())
GQuark trace_time_error_quark(void);
typedef enum {
  TRACE_TIME_ERROR_SYNTAX, /* not <number><unit>... */
  TRACE_TIME_ERROR_UNIT,   /* a missing or unknown unit */
  TRACE_TIME_ERROR_RANGE,  /* negative, above INT64_MAX ns, or finer than 1 ns */
} trace_time_error_code;

/* Parses TEXT into *OUT (ns). On error returns false, leaves *OUT alone and
 * sets *ERR with the text and what was expected. */
bool trace_time_parse(const char *text, int64_t *out, GError **err);

/* Enough for anything the printers below write. */
#define TRACE_TIME_BUFSZ 64
/* Exact duration in the parser's grammar ("1h30m", "250ms", "0s"; a
 * negative value gets a leading '-'); parses back to T. Returns BUF. */
char *trace_time_format(int64_t t, char buf[TRACE_TIME_BUFSZ]);
/* Clock form for displays, truncated to milliseconds: "1:05.120" (m:ss.mmm),
 * "2:01:05.120" past an hour, "3d 2:01:05.120" past a day. Returns BUF. */
char *trace_time_format_clock(int64_t t, char buf[TRACE_TIME_BUFSZ]);
/* Short approximate form for gaps and spans: the two largest units
 * ("4m 59s", "1.25s" style is not used: "1s 250ms", "850us"). Returns BUF. */
char *trace_time_format_short(int64_t t, char buf[TRACE_TIME_BUFSZ]);

#endif
