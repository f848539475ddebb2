/* imap_srv_int.h — internals shared by imap_srv*.c (not for other modules). */
#ifndef MAILSIM_IMAP_SRV_INT_H
#define MAILSIM_IMAP_SRV_INT_H

#include "imap_framer.h"
#include "imap_srv.h"

typedef struct {
  imap_srv_event ev;
  char *text; /* owned */
  /* AUTH: user and pass in the engine's AUTH buffer (not owned); FETCH:
   * the selected mailbox's name, a GRefString reference (owned). */
  const char *user, *pass;
  char *mailbox;
} imap_srv__qev;

struct imap_srv {
  imap_srv_config cfg;
  imap_mime_provider mime;
  bool has_mime;
  char *hostname;
  imap_env env;
  imap_srv_state state;
  imap_framer *fr;
  GByteArray *out;
  GArray *events; /* imap_srv__qev */
  guint ev_head;
  imap_srv__qev cur;
  uint64_t next_id, pending_id;
  /* Tag of the command waiting (auth, SASL, IDLE, TLS); "" when none. */
  char pending_tag[65];
  /* The AUTH decision's "user\0pass\0" (AUTH_LEN octets; the queued
   * event points into it): one block, wiped and freed at the answer. */
  char *auth;
  size_t auth_len;
  imap_srv_state idle_from;
  int64_t now, last_activity, last_poll;
  /* logged in */
  const imap_store_ops *ops;
  void *st;
  /* selected mailbox */
  char *mbox; /* a GRefString: FETCH events hold references */
  bool readonly;
  uint32_t uidvalidity;
  GArray *view; /* uint32_t UIDs: message sequence number i+1 */
  uint64_t modseq_seen;
  GArray *pend_new;     /* uint32_t UIDs appended, not yet announced */
  GArray *pend_expunge; /* uint32_t UIDs gone, not yet announced */
  GArray *pend_flags;   /* uint32_t UIDs whose flags changed */
  GArray *recent;       /* uint32_t UIDs (sorted) that are \Recent in this session */
  GArray *changes;      /* imap_store_change: absorb's scratch, empty between calls */
  GByteArray *tail;     /* command's scratch for the tagged reply, empty between calls */
  GArray *idx;          /* guint: a command's message indexes (imap_srv__idx) */
  imap_cmd *spare_cmd;  /* the last command's storage, for the next (imap_cmd_recycle) */
  bool grown;           /* OUT or the view held more than a renewed engine keeps */
  imap_srv *next_spare; /* kept (imap_srv_keep): the next spare in the list */
  guint nspares;        /* kept: the length of the list from here */
};

/* The most spares imap_srv_keep holds in one list. */
#define SRV_SPARES_MAX 16

/* The largest buffer imap_srv_renew keeps, in octets. */
#define SRV_KEEP_MAX (64u << 10)

/* The engine's index scratch, emptied: FETCH/STORE/COPY's messages (one
 * command at a time). */
GArray *imap_srv__idx(imap_srv *s);

/* Output helpers (imap_srv.c). */
void imap_srv__out(imap_srv *s, const char *data, size_t n);
G_GNUC_PRINTF(2, 3) void imap_srv__untagged(imap_srv *s, const char *fmt, ...);
G_GNUC_PRINTF(4, 5)
void imap_srv__tagged(imap_srv *s, const char *tag, const char *status, const char *fmt, ...);
void imap_srv__push_fetch_event(imap_srv *s, uint32_t uid);
void imap_srv__enter(imap_srv *s, imap_srv_state to);
/* Appends S as an IMAP quoted string, or a literal if it cannot be quoted. */
void imap_srv__astring(GString *g, const char *s);
const char *imap_srv__err_text(imap_store_err e);

/* Selected-mailbox bookkeeping (imap_srv.c). */
void imap_srv__deselect(imap_srv *s);
/* Reads the store's change log into the pending sets. OWN: the changes
 * come from this session's command (its own flag changes are not echoed). */
void imap_srv__absorb(imap_srv *s, bool own);
/* Writes pending EXISTS / FETCH, and EXPUNGE when ALLOW_EXPUNGE. */
void imap_srv__flush(imap_srv *s, bool allow_expunge);
/* Removes the UIDS (sorted and deduplicated in place) from the view in one
 * pass, writing "* n EXPUNGE" for each unless SILENT. */
void imap_srv__expunge_view(imap_srv *s, GArray *uids, bool silent);
/* Flags of message UID as "(\Seen \Recent kw ...)" into G. */
void imap_srv__flags(imap_srv *s, GString *g, uint32_t uid, uint32_t flags, uint64_t keywords);
/* Whether UID is \Recent in this session (RFC 3501 §2.3.2). */
bool imap_srv__is_recent(const imap_srv *s, uint32_t uid);
/* UIDS (N, increasing, all above the session's known ones) were added to
 * the view: the session claims their \Recent flag when read-write, or
 * sees the unclaimed ones as recent when read-only. */
void imap_srv__take_recent(imap_srv *s, const uint32_t *uids, size_t n);
/* Converts a flag list to system bits and keyword bits (creating keywords
 * when CREATE). False on an invalid system flag. */
bool imap_srv__parse_flags(imap_srv *s, const char *mbox, const GPtrArray *list, bool create,
                           uint32_t *flags, uint64_t *kw);

/* Mailbox commands (imap_srv_mbox.c). */
void imap_srv__select(imap_srv *s, imap_cmd *c);
void imap_srv__create(imap_srv *s, imap_cmd *c);
void imap_srv__delete(imap_srv *s, imap_cmd *c);
void imap_srv__rename(imap_srv *s, imap_cmd *c);
void imap_srv__subscribe(imap_srv *s, imap_cmd *c);
void imap_srv__list(imap_srv *s, imap_cmd *c);
void imap_srv__status(imap_srv *s, imap_cmd *c);
void imap_srv__append(imap_srv *s, imap_cmd *c);
void imap_srv__close(imap_srv *s, imap_cmd *c);

/* Message commands (imap_srv_msg.c). */
void imap_srv__fetch(imap_srv *s, imap_cmd *c);
void imap_srv__store(imap_srv *s, imap_cmd *c);
void imap_srv__copy(imap_srv *s, imap_cmd *c);
void imap_srv__expunge(imap_srv *s, imap_cmd *c);
void imap_srv__search(imap_srv *s, imap_cmd *c);
/* Expunges every \Deleted message (in SET of UIDs if non-NULL); with
 * SILENT no responses (CLOSE). */
void imap_srv__do_expunge(imap_srv *s, const GArray *uid_set, bool silent);

#endif
