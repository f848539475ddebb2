/* mailbox_keep.h — the message bodies of a mailbox host in the trace, for
 * `mailsim run --keep-messages` and `mailsim export --eml/--mbox`.
 *
 * Off by default: bodies make a trace as large as the mail it carries (the
 * load scenario would grow by its whole payload). When on, the mailbox host
 * writes at messages detail:
 *
 *   msg.store {"node","msg","queue_id","env_from","size","date_unix","data"}
 *     once per accepted delivery transaction, after msg.relay and before its
 *     msg.deliver records: DATA (bytes) is exactly what the store keeps for
 *     every recipient and folder of that transaction (with the mailbox host's
 *     Received field on top); ENV_FROM the envelope sender ("" for <>);
 *     DATE_UNIX the storing time in Unix seconds (the scenario's epoch).
 *   msg.kept  {"node","mailbox","folder","uid","msg","flags","date_unix",
 *              "store","data"?}
 *     at the end of the run, just before the end record: one per message
 *     still in the store, sorted by mailbox, folder, UID. STORE is the id
 *     of the msg.store record with the same bytes (an IMAP COPY shares
 *     them); 0 when the message never came by delivery (IMAP APPEND), and
 *     then DATA carries the bytes. FLAGS: the system flags ("\\Seen", ...).
 *
 * Messages removed before the end (POP3 DELE + QUIT, IMAP EXPUNGE, a
 * deleted folder) have a msg.store record but no msg.kept record.
 */
#ifndef MAILSIM_MAILBOX_KEEP_H
#define MAILSIM_MAILBOX_KEEP_H

#include <glib.h>

#include "host.h"
#include "mailstore.h"

typedef struct mailbox_keep mailbox_keep;

/* A keeper for host H (borrowed) whose dates count from EPOCH_UNIX. */
mailbox_keep *mailbox_keep_new(host *h, int64_t epoch_unix);
/* NULL is a no-op. Drops the references it holds on stored bytes. */
void mailbox_keep_free(mailbox_keep *k);

/* Writes msg.store for DATA (a reference is kept, so the bytes can be
 * named by msg.kept later). MSG, QUEUE_ID, ENV_FROM (NULL = "") borrowed. */
void mailbox_keep_stored(mailbox_keep *k, const char *msg, const char *queue_id,
                         const char *env_from, GBytes *data);
/* Writes one msg.kept per message of STORE, in order (see above). */
void mailbox_keep_write_kept(mailbox_keep *k, const mailstore *store);

#endif
