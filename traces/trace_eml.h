/* trace_eml.h — the messages a trace carries, for mail clients and DKIM
 * checkers: `mailsim export TRACE --eml DIR | --mbox FILE`.
 *
 * Bodies are in the trace only when the run kept them (`mailsim run
 * --keep-messages`): msg.store records carry the bytes a mailbox host
 * stored at each delivery, msg.kept records list the messages still
 * stored when the run ended (traces/FORMAT.md, hosts/mailbox_keep.h).
 *
 * Which messages:
 *  - TRACE_EML_AT_END (the default): one per msg.kept — what the mailboxes
 *    held at the end of the run; messages a client deleted (POP3 DELE, IMAP
 *    EXPUNGE) are not there;
 *  - TRACE_EML_EVER: one per stored copy ever made — each msg.deliver with a
 *    UID (not discards or redirects), with the bytes of the latest msg.store
 *    of the same node and message before it.
 * Order: the trace's (sorted by mailbox, folder, UID for msg.kept; the
 * delivery order for EVER).
 *
 * The bytes are exactly those stored (CRLF line ends, the mailbox host's
 * Received field on top, the MX's Authentication-Results and X-Spam-*
 * fields, the DKIM-Signature).
 */
#ifndef MAILSIM_TRACE_EML_H
#define MAILSIM_TRACE_EML_H

#include <glib.h>
#include <stdint.h>

#include "trace_read.h"

#define TRACE_EML_ERROR (trace_eml_error_quark())
GQuark trace_eml_error_quark(void);
typedef enum {
  TRACE_EML_ERROR_NO_BODIES, /* the run did not keep messages */
  TRACE_EML_ERROR_NOT_FOUND, /* no message matches */
} trace_eml_error_code;

typedef enum { TRACE_EML_AT_END, TRACE_EML_EVER } trace_eml_which;

/* One stored message; every field owned by the list it came in. */
typedef struct {
  char *node;    /* the mailbox host */
  char *mailbox; /* the account (an address) */
  char *folder;  /* "INBOX", "Junk", ... */
  uint32_t uid;
  char *msg;         /* the Message-ID without <> as the trace names it */
  char *env_from;    /* envelope sender; "" for the null reverse-path (a DSN) */
  int64_t date_unix; /* storing time (IMAP internal date), Unix seconds */
  GBytes *data;
} trace_eml_msg;

/* Reads the rest of R (NAME for messages) and returns the messages (a
 * GPtrArray of trace_eml_msg*, freed with g_ptr_array_unref) of WHICH whose
 * mailbox is MAILBOX (ASCII case-insensitive; NULL = every mailbox).
 * NULL with *ERR: TRACE_READ_ERROR for a bad trace (file:line), a record
 * lacking a key (TRACE_READ_ERROR_RECORD), TRACE_EML_ERROR_NO_BODIES when
 * the trace has no msg.store record, TRACE_EML_ERROR_NOT_FOUND when no
 * message matches. */
GPtrArray *trace_eml_collect(trace_reader *r, const char *name, trace_eml_which which,
                             const char *mailbox, GError **err);

/* Appends M to OUT as one mboxrd entry: the From_ line ("From SENDER
 * Www Mmm dd hh:mm:ss yyyy", UTC; MAILER-DAEMON for the null sender), the
 * message with CRLF turned into LF and every line matching ^>*"From " given
 * one more '>', a final newline if missing, and an empty line. */
void trace_eml_mbox_append(GString *out, const trace_eml_msg *m);

/* A file name for M, INDEX counting from 1: "NNN-MAILBOX-FOLDER-UID.eml"
 * with every octet outside [A-Za-z0-9@._+-] of MAILBOX and FOLDER as '_'.
 * New string. */
char *trace_eml_file_name(const trace_eml_msg *m, unsigned index);

#endif
