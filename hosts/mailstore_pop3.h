/* mailstore_pop3.h — a POP3 maildrop (pop3_drop_ops) over a mailstore
 * account's INBOX.
 *
 * mailstore_pop3_open() takes the account's exclusive lock (RFC 1939 §8)
 * and snapshots the INBOX UIDs; message I of the POP3 session is the I-th
 * UID of the snapshot. UIDLs are "<uidvalidity><uid>" as 16 hex digits:
 * stable across sessions for as long as the folder keeps its UIDVALIDITY.
 * The POP3 engine calls ops->release() exactly once, which unlocks and frees
 * the maildrop.
 */
#ifndef MAILSIM_MAILSTORE_POP3_H
#define MAILSIM_MAILSTORE_POP3_H

#include "mailstore.h"
#include "pop3_srv.h"

typedef struct mailstore_pop3 mailstore_pop3;

/* The operations table to give pop3_srv_auth_answer() with the maildrop. */
extern const pop3_drop_ops mailstore_pop3_ops;

/* Opens USER's maildrop for session OWNER (non-zero). NULL with *ERR =
 * MAILSTORE_ERR_LOCKED (answer POP3_AUTH_IN_USE) or ERR_NOUSER. The store
 * must outlive the maildrop. */
mailstore_pop3 *mailstore_pop3_open(mailstore *s, const char *user, uint64_t owner,
                                    mailstore_err *err);

#endif
