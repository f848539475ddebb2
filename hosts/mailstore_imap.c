/* mailstore_imap.c — imap_store_ops over a mailstore account (see
 * mailstore_imap.h): a thin mapping of names, flags and error codes. */
#include "mailstore_imap.h"

#include <string.h>

G_STATIC_ASSERT((int)IMAP_F_SEEN == (int)MAILSTORE_F_SEEN &&
                (int)IMAP_F_ANSWERED == (int)MAILSTORE_F_ANSWERED &&
                (int)IMAP_F_FLAGGED == (int)MAILSTORE_F_FLAGGED &&
                (int)IMAP_F_DELETED == (int)MAILSTORE_F_DELETED &&
                (int)IMAP_F_DRAFT == (int)MAILSTORE_F_DRAFT);

struct mailstore_imap {
  mailstore *s;
  char *user;
};

mailstore_imap *mailstore_imap_open(mailstore *s, const char *user) {
  if (!mailstore_user_exists(s, user))
    return NULL;
  mailstore_imap *h = g_new0(mailstore_imap, 1);
  h->s = s;
  h->user = g_strdup(user);
  return h;
}

static imap_store_err map(mailstore_err e) {
  switch (e) {
  case MAILSTORE_OK:
    return IMAP_ST_OK;
  case MAILSTORE_ERR_NOFOLDER:
    return IMAP_ST_NONEXISTENT;
  case MAILSTORE_ERR_EXISTS:
    return IMAP_ST_EXISTS;
  case MAILSTORE_ERR_INVALID:
    return IMAP_ST_INVALID;
  case MAILSTORE_ERR_NOMSG:
    return IMAP_ST_NOMSG;
  case MAILSTORE_ERR_OVERQUOTA:
    return IMAP_ST_OVERQUOTA;
  case MAILSTORE_ERR_RESYNC:
    return IMAP_ST_RESYNC;
  default:
    return IMAP_ST_FAIL;
  }
}

#define H ((mailstore_imap *)ud)

static GPtrArray *o_folders(void *ud) { return mailstore_folders(H->s, H->user); }

static imap_store_err o_status(void *ud, const char *name, imap_store_status *out) {
  mailstore_status st;
  mailstore_err e = mailstore_status_get(H->s, H->user, name, &st);
  if (e)
    return map(e);
  out->messages = st.messages;
  out->unseen = st.unseen;
  out->uidnext = st.uidnext;
  out->uidvalidity = st.uidvalidity;
  out->highest_modseq = st.highest_modseq;
  out->recent = st.recent;
  out->recent_from = st.recent_from;
  out->special_use = mailstore_use_name(st.use);
  out->subscribed = st.subscribed;
  return IMAP_ST_OK;
}

static imap_store_err o_create(void *ud, const char *name) {
  return map(mailstore_folder_create(H->s, H->user, name, MAILSTORE_USE_NONE));
}
static imap_store_err o_remove(void *ud, const char *name) {
  return map(mailstore_folder_delete(H->s, H->user, name));
}
static imap_store_err o_rename(void *ud, const char *from, const char *to) {
  return map(mailstore_folder_rename(H->s, H->user, from, to));
}
static imap_store_err o_subscribe(void *ud, const char *name, bool on) {
  return map(mailstore_subscribe(H->s, H->user, name, on));
}
static imap_store_err o_uids(void *ud, const char *name, GArray *out) {
  return map(mailstore_uids(H->s, H->user, name, out));
}
static imap_store_err o_msg(void *ud, const char *name, uint32_t uid, imap_store_msg *out) {
  mailstore_msg m;
  mailstore_err e = mailstore_msg_get(H->s, H->user, name, uid, &m);
  if (e)
    return map(e);
  out->uid = m.uid;
  out->flags = m.flags;
  out->keywords = m.keywords;
  out->internal_date = m.internal_date;
  out->data = m.data;
  return IMAP_ST_OK;
}
static const char *o_kwname(void *ud, const char *name, unsigned i) {
  return mailstore_keyword_name(H->s, H->user, name, i);
}
static int o_kwindex(void *ud, const char *name, const char *kw, bool create) {
  return mailstore_keyword_index(H->s, H->user, name, kw, create);
}
static imap_store_err o_flags(void *ud, const char *name, uint32_t uid, char mode, uint32_t f,
                              uint64_t kw) {
  return map(mailstore_flags_set(H->s, H->user, name, uid, mode, f, kw));
}
static imap_store_err o_append(void *ud, const char *name, GBytes *data, uint32_t f, uint64_t kw,
                               int64_t date, uint32_t *uid) {
  mailstore_err e = mailstore_append(H->s, H->user, name, data, f, date, uid);
  if (!e && kw)
    e = mailstore_flags_set(H->s, H->user, name, *uid, '+', 0, kw);
  return map(e);
}
static imap_store_err o_copy(void *ud, const char *from, uint32_t uid, const char *to,
                             uint32_t *nu) {
  return map(mailstore_copy(H->s, H->user, from, uid, to, nu));
}
static imap_store_err o_expunge(void *ud, const char *name, const uint32_t *uids, size_t n) {
  return map(mailstore_expunge_uids(H->s, H->user, name, uids, n, NULL));
}

static imap_store_err o_claim(void *ud, const char *name, uint32_t *from, uint32_t *to) {
  return map(mailstore_recent_claim(H->s, H->user, name, from, to));
}

G_STATIC_ASSERT(sizeof(imap_store_change) == sizeof(mailstore_change));

/* The store's changes are appended to OUT itself (elements of the same
 * size), then rewritten in place as imap_store_change: no array per poll. */
static imap_store_err o_changes(void *ud, const char *name, uint64_t since, GArray *out) {
  guint first = out->len;
  mailstore_err e = mailstore_changes(H->s, H->user, name, since, out);
  for (guint i = first; i < out->len; i++) {
    mailstore_change c;
    memcpy(&c, out->data + (gsize)i * sizeof c, sizeof c);
    imap_store_change o = {c.modseq,
                           c.kind == MAILSTORE_CH_APPEND    ? IMAP_CH_APPEND
                           : c.kind == MAILSTORE_CH_EXPUNGE ? IMAP_CH_EXPUNGE
                                                            : IMAP_CH_FLAGS,
                           c.uid};
    g_array_index(out, imap_store_change, i) = o;
  }
  return map(e);
}

static void o_release(void *ud) {
  g_free(H->user);
  g_free(H);
}

const imap_store_ops mailstore_imap_ops = {
    o_folders, o_status, o_create, o_remove, o_rename,  o_subscribe, o_uids,    o_msg,    o_kwname,
    o_kwindex, o_flags,  o_append, o_copy,   o_expunge, o_claim,     o_changes, o_release};
