/* trace_mermaid.h — Mermaid sequence diagrams from a trace: a message's
 * journey or one connection's dialogue, ready to paste into Markdown
 * (```mermaid fences are the caller's).
 *
 * Message journey: participants are the hosts in order of appearance; one
 * arrow per protocol line (smtp/imap/pop3 .cmd solid "->>", .reply dashed
 * "-->>") of the connections that carried the message, one open arrow
 * "-)" per hop (msg.submit, msg.relay, msg.fetch), and notes for
 * msg.compose, msg.defer, msg.bounce, msg.fail, msg.deliver and
 * msg.display, all in trace order. Which lines belong to the message:
 *  - an SMTP connection is cut into transactions at each "MAIL FROM"
 *    command (the lines before the first one, greeting, EHLO, STARTTLS,
 *    AUTH, go with the first transaction; QUIT goes with the last);
 *  - a transaction belongs to the message whose msg.submit/msg.relay names
 *    that connection and was written during the transaction;
 *  - a transaction without one (an attempt that was refused) belongs to
 *    the message if it has a msg.defer/msg.bounce at the connection's
 *    client node for one of the transaction's RCPT TO addresses, written
 *    after the transaction began and after the message reached that node
 *    (a heuristic: the trace does not name the message of a failed try);
 *  - an IMAP/POP3 connection belongs to the message when a msg.fetch of it
 *    by the connection's client from its server falls within the
 *    connection's lines (the whole session is shown).
 * Connection dialogue: the lines of both ends (paired through tcp.accept's
 * "peer"), DNS queries over it, and notes for TLS, the hops it carried and
 * how it ended.
 *
 * Escaping: text goes through trace_mermaid_escape: characters that
 * Mermaid gives a meaning to ('#', ';', '<', '>', '"', '&', '%', '{', '}',
 * '`', '\', '|') become entity codes "#NN;"; octets outside printable ASCII
 * in protocol lines become "#92;xHH" (shown as \xHH), control characters
 * in text likewise; ':' stays (Mermaid splits a statement at its first
 * colon only, and the text comes after it). No trace content can end a
 * statement, open a comment or inject markup.
 */
#ifndef MAILSIM_TRACE_MERMAID_H
#define MAILSIM_TRACE_MERMAID_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "trace_read.h"

#define TRACE_MERMAID_ERROR (trace_mermaid_error_quark())
GQuark trace_mermaid_error_quark(void);

typedef enum {
  TRACE_MERMAID_ERROR_NOT_FOUND, /* no such message / connection in the trace */
} trace_mermaid_error_code;

/* Reads R (named NAME in messages) to its end and appends the diagram of
 * message ID (its Message-ID, or the start of it, e.g. "m1"; an exact
 * match wins; NULL = the first message of the trace) to OUT. False with
 * *ERR: TRACE_READ_ERROR for a bad trace, TRACE_MERMAID_ERROR_NOT_FOUND
 * when no message matches. */
bool trace_mermaid_message(trace_reader *r, const char *name, const char *id, GString *out,
                           GError **err);
/* The same for connection CONN (either end's id). */
bool trace_mermaid_connection(trace_reader *r, const char *name, uint64_t conn, GString *out,
                              GError **err);

/* Appends S[0..N) escaped for a Mermaid message or note text. BYTES: S is
 * an octet string (protocol line), else UTF-8 text. */
void trace_mermaid_escape(GString *out, const char *s, size_t n, bool bytes);

#endif
