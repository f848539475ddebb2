/* imap_fmt.h — response and command lines formatted without printf.
 *
 * The engines build their lines from a handful of formats ("%u EXISTS",
 * "[%s] %s completed", "UID FETCH %s (...)"); going through vasprintf for
 * each cost more than the rest of the line's work. imap_fmt_append()
 * expands the conversions those formats use — %s, %u, %zu, %lu and %% —
 * itself, and hands any other format to g_string_append_vprintf whole, so
 * the result is always what printf would have written.
 */
#ifndef MAILSIM_IMAP_FMT_H
#define MAILSIM_IMAP_FMT_H

#include <glib.h>
#include <stdarg.h>

/* Appends FMT formatted with AP to OUT (no terminating NUL). */
void imap_fmt_append(GByteArray *out, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

/* Writes the command tag of number N to OUT, as printf's "C%03u" would
 * (at most 12 octets with the NUL); returns its length. */
size_t imap_fmt_tag(char out[static 12], unsigned n);

#endif
