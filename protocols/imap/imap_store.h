/* imap_store.h — what the IMAP server engine needs from a message store.
 *
 * The owner (the mailbox host) implements imap_store_ops over its store
 * for one logged-in user and hands it to imap_srv_auth_answer(). Calls are
 * synchronous reads and writes of the owner's data (no waiting): the
 * engine stays sans-I/O. Folder names are as the client spells them
 * (modified UTF-7), with "INBOX" canonical. Change notification is pulled:
 * the engine asks changes() for everything after the last modseq it saw,
 * so nothing ever calls back into the engine.
 */
#ifndef MAILSIM_IMAP_STORE_H
#define MAILSIM_IMAP_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* System flags (RFC 3501 §2.3.2), same bits as the store's. */
enum {
  IMAP_F_SEEN = 1u << 0,
  IMAP_F_ANSWERED = 1u << 1,
  IMAP_F_FLAGGED = 1u << 2,
  IMAP_F_DELETED = 1u << 3,
  IMAP_F_DRAFT = 1u << 4,
  IMAP_F_ALL = 0x1f,
};

typedef enum {
  IMAP_ST_OK,
  IMAP_ST_NONEXISTENT, /* no such folder */
  IMAP_ST_EXISTS,      /* folder already exists */
  IMAP_ST_INVALID,     /* bad name / operation not permitted */
  IMAP_ST_NOMSG,       /* message gone */
  IMAP_ST_OVERQUOTA,
  IMAP_ST_RESYNC, /* changes(): log no longer reaches SINCE */
  IMAP_ST_FAIL,   /* anything else */
  IMAP_ST_COUNT
} imap_store_err;

typedef struct {
  uint32_t uid, flags;
  uint64_t keywords;     /* bit i = keyword_name(folder, i) */
  int64_t internal_date; /* simulated ns */
  GBytes *data;          /* borrowed; ref to keep */
} imap_store_msg;

typedef struct {
  /* unseen: the messages without \Seen */
  uint32_t messages, unseen, uidnext, uidvalidity;
  uint32_t recent;      /* messages no session has claimed as \Recent */
  uint32_t recent_from; /* lowest unclaimed UID */
  uint64_t highest_modseq;
  const char *special_use; /* "\\Sent", ... or "" (static) */
  bool subscribed;
} imap_store_status;

typedef enum { IMAP_CH_APPEND, IMAP_CH_EXPUNGE, IMAP_CH_FLAGS } imap_store_change_kind;
typedef struct {
  uint64_t modseq;
  imap_store_change_kind kind;
  uint32_t uid;
} imap_store_change;

typedef struct {
  /* Folder names, sorted, INBOX first; the caller unrefs the array. */
  GPtrArray *(*folders)(void *ud);
  imap_store_err (*status)(void *ud, const char *name, imap_store_status *out);
  imap_store_err (*create)(void *ud, const char *name);
  imap_store_err (*remove)(void *ud, const char *name);
  imap_store_err (*rename)(void *ud, const char *from, const char *to);
  imap_store_err (*subscribe)(void *ud, const char *name, bool on);
  /* UIDs of NAME, increasing (OUT is a cleared GArray of uint32_t). */
  imap_store_err (*uids)(void *ud, const char *name, GArray *out);
  imap_store_err (*msg)(void *ud, const char *name, uint32_t uid, imap_store_msg *out);
  /* Keyword I of the folder, NULL past the end. */
  const char *(*keyword_name)(void *ud, const char *name, unsigned i);
  /* Index of keyword KW (created when CREATE); -1 if unknown or full. */
  int (*keyword_index)(void *ud, const char *name, const char *kw, bool create);
  /* MODE '+', '-', '='. */
  imap_store_err (*set_flags)(void *ud, const char *name, uint32_t uid, char mode, uint32_t flags,
                              uint64_t keywords);
  imap_store_err (*append)(void *ud, const char *name, GBytes *data, uint32_t flags,
                           uint64_t keywords, int64_t date, uint32_t *uid_out);
  imap_store_err (*copy)(void *ud, const char *from, uint32_t uid, const char *to,
                         uint32_t *uid_out);
  /* Removes the messages of UIDS (N, increasing) in one pass; missing
   * ones are ignored. */
  imap_store_err (*expunge)(void *ud, const char *name, const uint32_t *uids, size_t n);
  /* RFC 3501 §2.3.2: claims \Recent for every UID in [*FROM, *TO) that no
   * session has claimed yet (the first session to learn of a message). */
  imap_store_err (*claim_recent)(void *ud, const char *name, uint32_t *from, uint32_t *to);
  /* Appends to OUT (GArray of imap_store_change) every change after SINCE. */
  imap_store_err (*changes)(void *ud, const char *name, uint64_t since, GArray *out);
  /* End of the session. Called exactly once. */
  void (*release)(void *ud);
} imap_store_ops;

#endif
