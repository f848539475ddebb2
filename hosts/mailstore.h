/* mailstore.h — the message store of a mailbox host.
 *
 * Per-user accounts, each with folders (INBOX, Sent, Drafts, Junk, Trash
 * carrying RFC 6154 SPECIAL-USE attributes, and user folders; hierarchy
 * delimiter "/"), UIDVALIDITY, UIDNEXT, strictly increasing UIDs
 * (RFC 3501 §2.3.1.1), system flags and keywords, internal date (simulated
 * time, int64 ns), size, and the message bytes as a GBytes shared (not
 * copied) by COPY.
 *
 * Durability model: the mailstore object *is* the host's disk. Every
 * mutating call is durable when it returns (as after an fsync); a host
 * crash frees only its sessions (engines, locks — call
 * mailstore_locks_reset() on restart), never the store. For checkpoints,
 * tests and moving a store between processes, mailstore_save() writes the
 * whole store as a byte blob and mailstore_load() reads it back; UIDNEXT,
 * UIDVALIDITY, the next UIDVALIDITY to hand out and the modification
 * sequences are part of the image, so UIDs stay strictly increasing within
 * a UIDVALIDITY across save/restore.
 *
 * Change notification (for concurrent IMAP/POP3 sessions): every folder
 * has a modification sequence (modseq) incremented by each change and a
 * bounded log of (modseq, kind, uid) entries. A session remembers the last
 * modseq it saw and polls mailstore_changes(); nothing calls back into
 * engines. When a session is so far behind that the log no longer reaches
 * its modseq, mailstore_changes() answers MAILSTORE_ERR_RESYNC and the
 * session diffs its UID list against mailstore_uids().
 *
 * \Recent (RFC 3501 §2.3.2): each folder remembers the lowest UID no
 * session has claimed yet; mailstore_recent_claim() hands the unclaimed
 * range to the first session that learns of it (kept in the image).
 *
 * Quota: per account (all folders), in bytes and/or messages (0 = none).
 * A delivery or append that would exceed it fails with
 * MAILSTORE_ERR_OVERQUOTA and changes nothing (SMTP turns it into
 * 452 4.2.2, RFC 3463).
 *
 * Names: users are case-sensitive; "INBOX" is case-insensitive
 * (RFC 3501 §5.1), other folder names are compared byte for byte. Folder
 * names are stored as given (modified UTF-7 on the IMAP side).
 *
 * Determinism: lists are returned sorted (folders by name, messages by
 * UID); no hash-table order reaches any output.
 */
#ifndef MAILSIM_MAILSTORE_H
#define MAILSIM_MAILSTORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct mailstore mailstore;

typedef enum {
  MAILSTORE_OK,
  MAILSTORE_ERR_NOUSER,    /* no such account */
  MAILSTORE_ERR_NOFOLDER,  /* no such folder */
  MAILSTORE_ERR_EXISTS,    /* user or folder already exists */
  MAILSTORE_ERR_INVALID,   /* bad name or argument (e.g. deleting INBOX) */
  MAILSTORE_ERR_NOMSG,     /* no message with that UID */
  MAILSTORE_ERR_OVERQUOTA, /* would exceed the account quota; nothing changed */
  MAILSTORE_ERR_LOCKED,    /* maildrop locked by another session */
  MAILSTORE_ERR_RESYNC,    /* change log no longer reaches the given modseq */
  MAILSTORE_ERR_CORRUPT,   /* mailstore_load: the blob is not a valid image */
  MAILSTORE_ERR_TOOMANY,   /* too many keywords in a folder */
  MAILSTORE_ERR_COUNT
} mailstore_err;

const char *mailstore_err_name(mailstore_err e);

/* System flags (RFC 3501 §2.3.2), a bit set. */
enum {
  MAILSTORE_F_SEEN = 1u << 0,
  MAILSTORE_F_ANSWERED = 1u << 1,
  MAILSTORE_F_FLAGGED = 1u << 2,
  MAILSTORE_F_DELETED = 1u << 3,
  MAILSTORE_F_DRAFT = 1u << 4,
  MAILSTORE_F_ALL = 0x1f,
};
/* "\Seen" ... for bit B (exactly one bit set), NULL otherwise. */
const char *mailstore_flag_name(uint32_t bit);
/* The bit for a system flag name (case-insensitive, with backslash), 0 if
 * NAME is not a system flag. */
uint32_t mailstore_flag_parse(const char *name);

/* RFC 6154 special-use attribute of a folder. */
typedef enum {
  MAILSTORE_USE_NONE,
  MAILSTORE_USE_SENT,
  MAILSTORE_USE_DRAFTS,
  MAILSTORE_USE_JUNK,
  MAILSTORE_USE_TRASH,
  MAILSTORE_USE_COUNT
} mailstore_use;
/* "", "\Sent", "\Drafts", "\Junk", "\Trash". */
const char *mailstore_use_name(mailstore_use u);

#define MAILSTORE_DELIM '/'
#define MAILSTORE_MAX_KEYWORDS 64
#define MAILSTORE_LOG_MAX 4096 /* change-log entries kept per folder */

/* A message as seen by readers: a snapshot copy of the metadata. DATA is
 * borrowed from the store (valid until the message is expunged or the
 * store changes it); g_bytes_ref() it to keep it. */
typedef struct {
  uint32_t uid;
  uint32_t flags;        /* MAILSTORE_F_* */
  uint64_t keywords;     /* bit i = mailstore_keyword_name(i) of the folder */
  int64_t internal_date; /* simulated ns */
  uint64_t modseq;       /* modseq of the last change to this message */
  GBytes *data;
} mailstore_msg;

/* Folder status (RFC 3501 §6.3.10 STATUS). */
typedef struct {
  uint32_t messages, recent, unseen;
  uint32_t uidnext, uidvalidity;
  uint32_t recent_from; /* lowest UID no session has claimed as \Recent */
  uint64_t highest_modseq;
  uint64_t size; /* bytes in the folder */
  mailstore_use use;
  bool subscribed;
} mailstore_status;

typedef enum {
  MAILSTORE_CH_APPEND,
  MAILSTORE_CH_EXPUNGE,
  MAILSTORE_CH_FLAGS
} mailstore_change_kind;
typedef struct {
  uint64_t modseq;
  mailstore_change_kind kind;
  uint32_t uid;
} mailstore_change;

/* A new, empty store. UIDVALIDITY values are handed out in increasing
 * order starting at FIRST_UIDVALIDITY (>= 1), so a recreated folder never
 * reuses one. */
mailstore *mailstore_new(uint32_t first_uidvalidity);
void mailstore_free(mailstore *s);

/* ---- accounts ---- */

/* Creates USER with INBOX, Sent, Drafts, Junk, Trash (subscribed).
 * QUOTA_BYTES / QUOTA_MSGS: 0 = unlimited. ERR_EXISTS, ERR_INVALID (empty
 * name). */
mailstore_err mailstore_user_add(mailstore *s, const char *user, uint64_t quota_bytes,
                                 uint64_t quota_msgs);
bool mailstore_user_exists(const mailstore *s, const char *user);
mailstore_err mailstore_quota_set(mailstore *s, const char *user, uint64_t quota_bytes,
                                  uint64_t quota_msgs);
/* Current usage of USER's account (all folders). */
mailstore_err mailstore_usage(const mailstore *s, const char *user, uint64_t *bytes,
                              uint64_t *msgs);
/* Account names, sorted; the caller g_ptr_array_unref()s (strings owned by
 * the array). */
GPtrArray *mailstore_users(const mailstore *s);

/* ---- folders ---- */

/* Creates NAME (with any missing parents, RFC 3501 §6.3.3). ERR_EXISTS,
 * ERR_INVALID (empty, leading/trailing/double delimiter, "INBOX/…" is
 * allowed), ERR_NOUSER. */
mailstore_err mailstore_folder_create(mailstore *s, const char *user, const char *name,
                                      mailstore_use use);
/* Deletes NAME and its messages (RFC 3501 §6.3.4; INBOX cannot be deleted:
 * ERR_INVALID). Children are kept. */
mailstore_err mailstore_folder_delete(mailstore *s, const char *user, const char *name);
/* Renames FROM (and its children) to TO. Renaming INBOX moves its messages
 * to TO and leaves INBOX empty (RFC 3501 §6.3.5). New UIDVALIDITY for the
 * target of an INBOX rename. */
mailstore_err mailstore_folder_rename(mailstore *s, const char *user, const char *from,
                                      const char *to);
bool mailstore_folder_exists(const mailstore *s, const char *user, const char *name);
/* The folder's UIDVALIDITY (RFC 9051 §2.3.1.1), or 0 when it does not exist. */
uint32_t mailstore_folder_uidvalidity(const mailstore *s, const char *user, const char *name);
mailstore_err mailstore_subscribe(mailstore *s, const char *user, const char *name, bool on);
/* Folder names of USER, sorted (INBOX first); NULL if no such user. The
 * caller g_ptr_array_unref()s. */
GPtrArray *mailstore_folders(const mailstore *s, const char *user);
mailstore_err mailstore_status_get(const mailstore *s, const char *user, const char *name,
                                   mailstore_status *out);
/* Canonical spelling of NAME ("inbox" → "INBOX"); borrowed from the store
 * or NAME itself. */
const char *mailstore_canon(const char *name);

/* ---- messages ---- */

/* Appends DATA (ref taken, not copied) to folder NAME with FLAGS and
 * internal date DATE. On success *UID_OUT (may be NULL) gets the new UID.
 * ERR_OVERQUOTA leaves everything unchanged. */
mailstore_err mailstore_append(mailstore *s, const char *user, const char *name, GBytes *data,
                               uint32_t flags, int64_t date, uint32_t *uid_out);
/* Delivery into INBOX (or FOLDER if non-NULL and existing, else INBOX). */
mailstore_err mailstore_deliver(mailstore *s, const char *user, const char *folder, GBytes *data,
                                int64_t date, uint32_t *uid_out);
/* The same, also giving the UIDVALIDITY of the folder it went to (each
 * folder looked up once; UIDVALIDITY_OUT may be NULL). */
mailstore_err mailstore_deliver_uv(mailstore *s, const char *user, const char *folder, GBytes *data,
                                   int64_t date, uint32_t *uid_out, uint32_t *uidvalidity_out);
/* UIDs of the folder, increasing, into OUT (GArray of uint32_t, cleared
 * first). */
mailstore_err mailstore_uids(const mailstore *s, const char *user, const char *name, GArray *out);
/* Fills *OUT for UID. */
mailstore_err mailstore_msg_get(const mailstore *s, const char *user, const char *name,
                                uint32_t uid, mailstore_msg *out);
/* Keyword I of the folder (NULL if none). */
const char *mailstore_keyword_name(const mailstore *s, const char *user, const char *name,
                                   unsigned i);
/* Index of keyword KW in the folder, created if missing when CREATE.
 * Returns -1 if unknown (and !CREATE) or on ERR_TOOMANY. Keywords are
 * compared case-insensitively (RFC 3501 §2.3.2). */
int mailstore_keyword_index(mailstore *s, const char *user, const char *name, const char *kw,
                            bool create);
/* Sets flags of UID: MODE '+' adds, '-' removes, '=' replaces (both system
 * FLAGS and KEYWORDS). A change bumps the modseq and logs MAILSTORE_CH_FLAGS;
 * no change, no log. */
mailstore_err mailstore_flags_set(mailstore *s, const char *user, const char *name, uint32_t uid,
                                  char mode, uint32_t flags, uint64_t keywords);
/* Copies UID of FROM into TO (bytes shared, flags and keywords kept by name,
 * internal date kept). *NEW_UID gets the UID in TO (RFC 4315 COPYUID).
 * ERR_OVERQUOTA. */
mailstore_err mailstore_copy(mailstore *s, const char *user, const char *from, uint32_t uid,
                             const char *to, uint32_t *new_uid);
/* Removes UID (RFC 3501 §6.4.3 for one message). */
mailstore_err mailstore_expunge_uid(mailstore *s, const char *user, const char *name, uint32_t uid);

/* Removes the messages of UIDS (any order, duplicates and missing UIDs
 * ignored) in one pass; logs one MAILSTORE_CH_EXPUNGE per removed message,
 * in increasing UID order. *REMOVED (may be NULL) gets the count. */
mailstore_err mailstore_expunge_uids(mailstore *s, const char *user, const char *name,
                                     const uint32_t *uids, size_t n, size_t *removed);

/* RFC 3501 §2.3.2 \Recent: the first session to learn of a message owns
 * its \Recent flag. Claims [*FROM, *TO) — every UID not yet claimed — for
 * the caller and advances the folder's mark to UIDNEXT. */
mailstore_err mailstore_recent_claim(mailstore *s, const char *user, const char *name,
                                     uint32_t *from, uint32_t *to);

/* ---- change notification ---- */

/* Appends to OUT (GArray of mailstore_change, not cleared) every change with
 * modseq > SINCE, in order. ERR_RESYNC when the log was trimmed past SINCE. */
mailstore_err mailstore_changes(const mailstore *s, const char *user, const char *name,
                                uint64_t since, GArray *out);

/* ---- POP3 maildrop lock (RFC 1939 §8: exclusive access) ---- */

/* Takes the lock of USER for OWNER (non-zero id). ERR_LOCKED if another
 * owner holds it. Locks are memory, not disk: not saved. */
mailstore_err mailstore_lock(mailstore *s, const char *user, uint64_t owner);
void mailstore_unlock(mailstore *s, const char *user, uint64_t owner);
/* Drops every lock (the host restarted). */
void mailstore_locks_reset(mailstore *s);

/* ---- persistence ---- */

/* A byte image of the whole store (deterministic: same store, same bytes). */
GBytes *mailstore_save(const mailstore *s);
/* A store from an image; NULL and *ERR = ERR_CORRUPT on a bad blob (never
 * aborts on bad input). */
mailstore *mailstore_load(GBytes *blob, mailstore_err *err);

#endif
