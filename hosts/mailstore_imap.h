/* mailstore_imap.h — the IMAP server's store interface (imap_store_ops)
 * over one mailstore account.
 *
 * mailstore_imap_open() gives the per-session handle to pass with
 * &mailstore_imap_ops to imap_srv_auth_answer(); the engine calls
 * ops->release() once at the end of the session, which frees it. Several
 * sessions of one user share the store and see each other's changes
 * through the store's change log.
 */
#ifndef MAILSIM_MAILSTORE_IMAP_H
#define MAILSIM_MAILSTORE_IMAP_H

#include "imap_store.h"
#include "mailstore.h"

typedef struct mailstore_imap mailstore_imap;

extern const imap_store_ops mailstore_imap_ops;

/* NULL if USER does not exist. The store must outlive the handle. */
mailstore_imap *mailstore_imap_open(mailstore *s, const char *user);

#endif
