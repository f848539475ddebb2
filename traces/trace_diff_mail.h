/* trace_diff_mail.h — two traces compared in mail terms.
 *
 * trace_diff() finds the first differing record; this module says what the
 * difference means for the mail. Each trace is read whole into one journey
 * per message (from its msg.* records): the hosts it went through, how
 * often MTAs deferred it, and per recipient whether and when it was
 * delivered, bounced or given up. Messages are aligned by identity, not by
 * position, so a difference early in a run does not shift everything
 * after it:
 *
 *   - a scenario message "KEY.<16 hex>@domain" is "KEY@domain" (the hex
 *     comes from the seed, so another seed still aligns);
 *   - a DSN is "DSN of X" where X is the identity of the message whose
 *     bounce named it (`msg.bounce` "dsn");
 *   - anything else is its Message-ID.
 *
 * For each identity in A's order (then those only in B), one line per
 * difference, B described against A:
 *
 *   m1@example.com to bob@example.org: delivered 38m later (at 48m 10s, not 10m 10s)
 *   m1@example.com: used mx2.example.org instead of mx1.example.org
 *   m1@example.com to dave@example.net: bounced instead of delivered
 *   m1@example.com: deferred 3 times instead of 1
 *   m2@example.com: only in B
 */
#ifndef MAILSIM_TRACE_DIFF_MAIL_H
#define MAILSIM_TRACE_DIFF_MAIL_H

#include <glib.h>

#include "trace_read.h"

/* Reads A and B (freshly opened: nothing read but the header) to their
 * ends and returns the summary lines (char*, owned by the array; empty
 * when the traces agree in mail terms). NULL with *ERR set when a trace
 * cannot be read. */
GPtrArray *trace_diff_mail(trace_reader *a, trace_reader *b, GError **err);

#endif
