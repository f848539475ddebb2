/* mime_date.h — RFC 5322 §3.3 date-time: formatting from simulated time
 * and parsing (with the obsolete forms of §4.3), locale-free. */
#ifndef MAILSIM_MIME_DATE_H
#define MAILSIM_MIME_DATE_H

#include <glib.h>
#include <stdint.h>

/* The default epoch: simulated time 0 is 2026-01-01T00:00:00Z, expressed
 * in Unix seconds. Callers that keep another epoch pass it explicitly. */
#define MIME_DATE_EPOCH_DEFAULT INT64_C(1767225600)

/* Formats "Thu, 01 Jan 2026 00:00:00 +0000" for SIM_NS nanoseconds of
 * simulated time after EPOCH_UNIX (Unix seconds), shown in the zone
 * TZ_MIN minutes east of UTC (-1439..1439). Sub-second time is truncated
 * toward the past. Returns a new string, or NULL when the date falls
 * outside years 1..9999 or TZ_MIN is out of range. */
char *mime_date_format(int64_t sim_ns, int64_t epoch_unix, int tz_min);

/* Parses an RFC 5322 date-time (also obsolete forms: no day name, 2- and
 * 3-digit years, missing seconds, named zones UT/GMT/EST.., military
 * zones read as -0000, comments and extra whitespace). On success stores
 * the instant as Unix seconds in *UNIX_S and the zone offset in *TZ_MIN
 * (either may be NULL) and returns TRUE. Anything else returns FALSE. */
gboolean mime_date_parse(const char *text, int64_t *unix_s, int *tz_min);

/* Unix seconds → simulated nanoseconds after EPOCH_UNIX; saturates at the
 * int64 range. */
int64_t mime_date_to_sim(int64_t unix_s, int64_t epoch_unix);

#endif
