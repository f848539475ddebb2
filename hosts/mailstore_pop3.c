/* mailstore_pop3.c — POP3 maildrop view of a mailstore INBOX (see
 * mailstore_pop3.h). RFC 1939 §8: one session holds the maildrop at a
 * time; RFC 1939 §7: UIDLs persist across sessions. */
#include "mailstore_pop3.h"

struct mailstore_pop3 {
  mailstore *store;
  char *user;
  uint64_t owner;
  GArray *uids; /* uint32_t snapshot */
  GPtrArray *uidls;
};

/* The UIDL of a message: UIDVALIDITY and UID as 16 lower-case hex digits
 * (was "%08x%08x"; written by hand, one per message per session). */
static char *uidl_of(uint32_t validity, uint32_t uid) {
  static const char hex[] = "0123456789abcdef";
  uint64_t v = (uint64_t)validity << 32 | uid;
  char *s = g_malloc(17);
  for (int i = 15; i >= 0; i--, v >>= 4)
    s[i] = hex[v & 15];
  s[16] = '\0';
  return s;
}

mailstore_pop3 *mailstore_pop3_open(mailstore *s, const char *user, uint64_t owner,
                                    mailstore_err *err) {
  mailstore_err e = mailstore_lock(s, user, owner);
  if (e) {
    if (err)
      *err = e;
    return NULL;
  }
  mailstore_pop3 *d = g_new0(mailstore_pop3, 1);
  d->store = s;
  d->user = g_strdup(user);
  d->owner = owner;
  d->uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  mailstore_uids(s, user, "INBOX", d->uids);
  mailstore_status st;
  mailstore_status_get(s, user, "INBOX", &st);
  d->uidls = g_ptr_array_new_full(d->uids->len, g_free);
  for (guint i = 0; i < d->uids->len; i++)
    g_ptr_array_add(d->uidls, uidl_of(st.uidvalidity, g_array_index(d->uids, uint32_t, i)));
  if (err)
    *err = MAILSTORE_OK;
  return d;
}

static size_t d_count(void *ud) { return ((mailstore_pop3 *)ud)->uids->len; }

static uint64_t d_size(void *ud, size_t i) {
  mailstore_pop3 *d = ud;
  mailstore_msg m;
  if (mailstore_msg_get(d->store, d->user, "INBOX", g_array_index(d->uids, uint32_t, i), &m))
    return 0;
  return g_bytes_get_size(m.data);
}

static const char *d_uidl(void *ud, size_t i) {
  return g_ptr_array_index(((mailstore_pop3 *)ud)->uidls, i);
}

static GBytes *d_get(void *ud, size_t i) {
  mailstore_pop3 *d = ud;
  mailstore_msg m;
  if (mailstore_msg_get(d->store, d->user, "INBOX", g_array_index(d->uids, uint32_t, i), &m))
    return NULL;
  return g_bytes_ref(m.data);
}

static bool d_commit(void *ud, const size_t *del, size_t n) {
  mailstore_pop3 *d = ud;
  uint32_t *uids = g_new(uint32_t, n + 1);
  for (size_t k = 0; k < n; k++)
    uids[k] = g_array_index(d->uids, uint32_t, del[k]);
  /* messages already gone (expunged over IMAP meanwhile) count as removed */
  mailstore_err e = mailstore_expunge_uids(d->store, d->user, "INBOX", uids, n, NULL);
  g_free(uids);
  return e == MAILSTORE_OK;
}

static void d_release(void *ud) {
  mailstore_pop3 *d = ud;
  mailstore_unlock(d->store, d->user, d->owner);
  g_array_free(d->uids, TRUE);
  g_ptr_array_unref(d->uidls);
  g_free(d->user);
  g_free(d);
}

const pop3_drop_ops mailstore_pop3_ops = {d_count, d_size, d_uidl, d_get, d_commit, d_release};
