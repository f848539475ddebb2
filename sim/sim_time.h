/* sim_time.h — simulated time: int64_t nanoseconds, and durations as text.
 *
 * Time never uses floating point. Durations are written as a sequence of
 * <integer><unit> parts, largest unit first ("1h30m", "250ms", "2d"), with
 * units d, h, m, s, ms, us, ns. Parsing also accepts a decimal fraction
 * ("1.5s") when it is an exact number of nanoseconds.
 */
#ifndef MAILSIM_SIM_TIME_H
#define MAILSIM_SIM_TIME_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef int64_t sim_time;

#define SIM_NS ((sim_time)1)
#define SIM_US ((sim_time)1000)
#define SIM_MS ((sim_time)1000000)
#define SIM_S ((sim_time)1000000000)
#define SIM_MIN (60 * SIM_S)
#define SIM_HOUR (60 * SIM_MIN)
#define SIM_DAY (24 * SIM_HOUR)
/* "Never": later than any event. */
#define SIM_TIME_NEVER INT64_MAX

#define SIM_TIME_ERROR (sim_time_error_quark())
GQuark sim_time_error_quark(void);
typedef enum { SIM_TIME_ERROR_SYNTAX, SIM_TIME_ERROR_UNIT, SIM_TIME_ERROR_RANGE } sim_time_error_code;

/* Parses a duration. Errors (with the text and what was expected): empty
 * text, a missing or unknown unit, a negative value, overflow of int64 ns,
 * a fraction finer than 1 ns. */
bool sim_time_parse(const char *text, sim_time *out, GError **err);

/* Enough for any sim_time written by sim_time_format. */
#define SIM_TIME_BUFSZ 64
/* Writes T as a duration ("1h30m", "250ms", "0s"; negative values get a
 * leading '-'). Returns BUF. */
char *sim_time_format(sim_time t, char buf[SIM_TIME_BUFSZ]);

/* Writes T for people, rounded to 4 significant digits in one unit
 * ("191ms", "1.461s", "2.5h", "0s"). Not exact: for summaries only; traces
 * carry integer ns. Returns BUF. */
char *sim_time_format_short(sim_time t, char buf[SIM_TIME_BUFSZ]);

/* Saturating add: never wraps past SIM_TIME_NEVER. */
static inline sim_time sim_time_add(sim_time a, sim_time b) {
  if (b > 0 && a > SIM_TIME_NEVER - b)
    return SIM_TIME_NEVER;
  return a + b;
}

#endif
