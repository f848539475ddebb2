/* Tests for mailstore: accounts, folders, UIDs, flags, quota, change log,
 * locks, save/restore. */
#include <stdlib.h>
#include <string.h>

#include "mailstore.h"
#include "testutil.h"

static GBytes *B(const char *s) { return g_bytes_new(s, strlen(s)); }

static mailstore_err add(mailstore *s, const char *folder, const char *text, uint32_t *uid) {
  GBytes *b = B(text);
  mailstore_err e = mailstore_append(s, "bob", folder, b, 0, 1000, uid);
  g_bytes_unref(b);
  return e;
}

START_TEST(default_folders_special_use) {
  mailstore *s = mailstore_new(1);
  ck_assert_int_eq(mailstore_user_add(s, "bob", 0, 0), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_user_add(s, "bob", 0, 0), MAILSTORE_ERR_EXISTS);
  GPtrArray *f = mailstore_folders(s, "bob");
  const char *want[] = {"INBOX", "Drafts", "Junk", "Sent", "Trash"};
  ck_assert_uint_eq(f->len, G_N_ELEMENTS(want));
  for (guint i = 0; i < f->len; i++)
    ck_assert_msg(strcmp(g_ptr_array_index(f, i), want[i]) == 0, "folder %u: got %s want %s", i,
                  (char *)g_ptr_array_index(f, i), want[i]);
  g_ptr_array_unref(f);
  mailstore_status st;
  ck_assert_int_eq(mailstore_status_get(s, "bob", "Trash", &st), MAILSTORE_OK);
  ck_assert_str_eq(mailstore_use_name(st.use), "\\Trash");
  ck_assert(st.subscribed);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "inbox", &st), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "Nope", &st), MAILSTORE_ERR_NOFOLDER);
  ck_assert_int_eq(mailstore_status_get(s, "eve", "INBOX", &st), MAILSTORE_ERR_NOUSER);
  mailstore_free(s);
}
END_TEST

/* RFC 3501 §5.1: INBOX is case-insensitive, nothing else is. */
static const struct {
  const char *in, *want;
} canon_rows[] = {
    {"INBOX", "INBOX"}, {"inbox", "INBOX"}, {"iNbOx", "INBOX"}, {"INBOXES", "INBOXES"},
    {"inbo", "inbo"},   {"", ""},           {"Sent", "Sent"},   {"INBOX.Sub", "INBOX.Sub"},
    {"xinbox", "xinbox"},
};

START_TEST(canon_names) {
  const char *got = mailstore_canon(canon_rows[_i].in);
  ck_assert_msg(strcmp(got, canon_rows[_i].want) == 0, "[%s]: got [%s] want [%s]",
                canon_rows[_i].in, got, canon_rows[_i].want);
}
END_TEST

START_TEST(uids_increase_and_flags) {
  mailstore *s = mailstore_new(7);
  mailstore_user_add(s, "bob", 0, 0);
  uint32_t u1, u2, u3;
  ck_assert_int_eq(add(s, "INBOX", "a", &u1), MAILSTORE_OK);
  ck_assert_int_eq(add(s, "INBOX", "bb", &u2), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_expunge_uid(s, "bob", "INBOX", u2), MAILSTORE_OK);
  ck_assert_int_eq(add(s, "INBOX", "ccc", &u3), MAILSTORE_OK);
  ck_assert_uint_eq(u1, 1);
  ck_assert_uint_eq(u2, 2);
  ck_assert_uint_eq(u3, 3); /* never reused */
  mailstore_status st;
  mailstore_status_get(s, "bob", "INBOX", &st);
  ck_assert_uint_eq(st.messages, 2);
  ck_assert_uint_eq(st.uidnext, 4);
  ck_assert_uint_eq(st.unseen, 2);
  ck_assert_uint_eq(st.size, 4);
  ck_assert_int_eq(
      mailstore_flags_set(s, "bob", "INBOX", u1, '+', MAILSTORE_F_SEEN | MAILSTORE_F_FLAGGED, 0),
      MAILSTORE_OK);
  ck_assert_int_eq(mailstore_flags_set(s, "bob", "INBOX", u1, '-', MAILSTORE_F_FLAGGED, 0),
                   MAILSTORE_OK);
  int kw = mailstore_keyword_index(s, "bob", "INBOX", "$Forwarded", true);
  ck_assert_int_eq(kw, 0);
  ck_assert_int_eq(mailstore_keyword_index(s, "bob", "INBOX", "$forwarded", false), 0);
  mailstore_flags_set(s, "bob", "INBOX", u3, '=', MAILSTORE_F_DRAFT, UINT64_C(1) << kw);
  mailstore_msg m;
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "INBOX", u1, &m), MAILSTORE_OK);
  ck_assert_uint_eq(m.flags, MAILSTORE_F_SEEN);
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "INBOX", u3, &m), MAILSTORE_OK);
  ck_assert_uint_eq(m.flags, MAILSTORE_F_DRAFT);
  ck_assert_uint_eq(m.keywords, 1);
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "INBOX", u2, &m), MAILSTORE_ERR_NOMSG);
  ck_assert_uint_eq(mailstore_flag_parse("\\seen"), MAILSTORE_F_SEEN);
  ck_assert_uint_eq(mailstore_flag_parse("seen"), 0);
  mailstore_free(s);
}
END_TEST

START_TEST(copy_shares_bytes) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  uint32_t u, nu;
  add(s, "INBOX", "hello", &u);
  mailstore_keyword_index(s, "bob", "INBOX", "work", true);
  mailstore_flags_set(s, "bob", "INBOX", u, '+', MAILSTORE_F_SEEN, 1);
  ck_assert_int_eq(mailstore_copy(s, "bob", "INBOX", u, "Trash", &nu), MAILSTORE_OK);
  mailstore_msg a, b;
  mailstore_msg_get(s, "bob", "INBOX", u, &a);
  mailstore_msg_get(s, "bob", "Trash", nu, &b);
  ck_assert_ptr_eq(a.data, b.data);
  ck_assert_uint_eq(b.flags, MAILSTORE_F_SEEN);
  ck_assert_str_eq(mailstore_keyword_name(s, "bob", "Trash", 0), "work");
  ck_assert_uint_eq(b.keywords, 1);
  mailstore_free(s);
}
END_TEST

START_TEST(folders_create_delete_rename) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  ck_assert_int_eq(mailstore_folder_create(s, "bob", "a/b/c", 0), MAILSTORE_OK);
  ck_assert(mailstore_folder_exists(s, "bob", "a"));
  ck_assert(mailstore_folder_exists(s, "bob", "a/b"));
  ck_assert_int_eq(mailstore_folder_create(s, "bob", "a/b", 0), MAILSTORE_ERR_EXISTS);
  static const char *bad[] = {"", "/x", "x/", "x//y", "a*", "b%"};
  for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
    ck_assert_msg(mailstore_folder_create(s, "bob", bad[i], 0) == MAILSTORE_ERR_INVALID,
                  "name '%s' accepted", bad[i]);
  ck_assert_int_eq(mailstore_folder_rename(s, "bob", "a", "z"), MAILSTORE_OK);
  ck_assert(mailstore_folder_exists(s, "bob", "z/b/c"));
  ck_assert(!mailstore_folder_exists(s, "bob", "a/b"));
  ck_assert_int_eq(mailstore_folder_rename(s, "bob", "z", "z/q"), MAILSTORE_ERR_INVALID);
  ck_assert_int_eq(mailstore_folder_delete(s, "bob", "INBOX"), MAILSTORE_ERR_INVALID);
  mailstore_status st1, st2;
  mailstore_status_get(s, "bob", "z/b", &st1);
  ck_assert_int_eq(mailstore_folder_delete(s, "bob", "z/b"), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_folder_create(s, "bob", "z/b", 0), MAILSTORE_OK);
  mailstore_status_get(s, "bob", "z/b", &st2);
  ck_assert_uint_gt(st2.uidvalidity, st1.uidvalidity);
  /* INBOX rename moves messages. */
  add(s, "INBOX", "m1", NULL);
  add(s, "INBOX", "m2", NULL);
  ck_assert_int_eq(mailstore_folder_rename(s, "bob", "INBOX", "Old"), MAILSTORE_OK);
  mailstore_status_get(s, "bob", "INBOX", &st1);
  mailstore_status_get(s, "bob", "Old", &st2);
  ck_assert_uint_eq(st1.messages, 0);
  ck_assert_uint_eq(st2.messages, 2);
  mailstore_free(s);
}
END_TEST

START_TEST(quota_refuses_without_loss) {
  static const struct {
    uint64_t qb, qm;
    int accepted; /* of 5 messages of 10 bytes */
  } rows[] = {{0, 0, 5}, {25, 0, 2}, {0, 3, 3}, {100, 4, 4}, {30, 0, 3}};
  for (unsigned r = 0; r < G_N_ELEMENTS(rows); r++) {
    mailstore *s = mailstore_new(1);
    mailstore_user_add(s, "bob", rows[r].qb, rows[r].qm);
    int ok = 0;
    for (int i = 0; i < 5; i++) {
      GBytes *b = B("0123456789");
      mailstore_err e = mailstore_deliver(s, "bob", NULL, b, 0, NULL);
      g_bytes_unref(b);
      if (e == MAILSTORE_OK)
        ok++;
      else
        ck_assert_int_eq(e, MAILSTORE_ERR_OVERQUOTA);
    }
    uint64_t bytes, msgs;
    mailstore_usage(s, "bob", &bytes, &msgs);
    ck_assert_msg(ok == rows[r].accepted, "row %u: got %d accepted want %d", r, ok,
                  rows[r].accepted);
    ck_assert_uint_eq(msgs, (uint64_t)ok);
    ck_assert_uint_eq(bytes, (uint64_t)ok * 10);
    mailstore_free(s);
  }
}
END_TEST

/* mailstore_deliver_uv: to a folder that exists, to one that does not
 * (INBOX then), with no folder, for no such user: the same outcome and
 * UID as mailstore_deliver on a twin store, and the UIDVALIDITY of the
 * folder the copy went to. */
START_TEST(deliver_reports_uidvalidity) {
  static const struct {
    const char *user, *folder, *went;
  } rows[] = {{"bob", "Junk", "Junk"},    {"bob", "Nope", "INBOX"}, {"bob", NULL, "INBOX"},
              {"bob", "INBOX", "INBOX"},  {"eve", "INBOX", NULL},   {"bob", "inbox", "INBOX"},
              {"bob", "junk", "INBOX"}}; /* only INBOX is case-insensitive */
  mailstore *s = mailstore_new(3), *twin = mailstore_new(3);
  mailstore_user_add(s, "bob", 0, 0);
  mailstore_user_add(twin, "bob", 0, 0);
  for (unsigned r = 0; r < G_N_ELEMENTS(rows); r++) {
    GBytes *b = B("Subject: x\r\n\r\nbody\r\n");
    uint32_t uid = 0, uv = 0, tuid = 0;
    mailstore_err e = mailstore_deliver_uv(s, rows[r].user, rows[r].folder, b, 5, &uid, &uv);
    mailstore_err te = mailstore_deliver(twin, rows[r].user, rows[r].folder, b, 5, &tuid);
    g_bytes_unref(b);
    ck_assert_msg(e == te && uid == tuid, "row %u: got %d/%u want %d/%u", r, e, uid, te, tuid);
    if (!rows[r].went) {
      ck_assert_int_eq(e, MAILSTORE_ERR_NOUSER);
      continue;
    }
    ck_assert_int_eq(e, MAILSTORE_OK);
    ck_assert_uint_eq(uv, mailstore_folder_uidvalidity(s, "bob", rows[r].went));
    mailstore_msg m;
    ck_assert_int_eq(mailstore_msg_get(s, "bob", rows[r].went, uid, &m), MAILSTORE_OK);
  }
  GArray *u = g_array_new(FALSE, FALSE, sizeof(uint32_t)), *tu = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  ck_assert_int_eq(mailstore_uids(s, "bob", "INBOX", u), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_uids(twin, "bob", "INBOX", tu), MAILSTORE_OK);
  ck_assert_uint_eq(u->len, 5);
  ck_assert_uint_eq(u->len, tu->len);
  for (guint i = 0; i < u->len; i++)
    ck_assert_uint_eq(g_array_index(u, uint32_t, i), g_array_index(tu, uint32_t, i));
  g_array_free(u, TRUE);
  g_array_free(tu, TRUE);
  mailstore_free(s);
  mailstore_free(twin);
}
END_TEST

START_TEST(change_log_and_resync) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  uint32_t u1, u2;
  add(s, "INBOX", "a", &u1);
  mailstore_status st;
  mailstore_status_get(s, "bob", "INBOX", &st);
  uint64_t since = st.highest_modseq;
  add(s, "INBOX", "b", &u2);
  mailstore_flags_set(s, "bob", "INBOX", u1, '+', MAILSTORE_F_SEEN, 0);
  mailstore_flags_set(s, "bob", "INBOX", u1, '+', MAILSTORE_F_SEEN, 0); /* no change */
  mailstore_expunge_uid(s, "bob", "INBOX", u2);
  GArray *ch = g_array_new(FALSE, FALSE, sizeof(mailstore_change));
  ck_assert_int_eq(mailstore_changes(s, "bob", "INBOX", since, ch), MAILSTORE_OK);
  mailstore_change_kind want[] = {MAILSTORE_CH_APPEND, MAILSTORE_CH_FLAGS, MAILSTORE_CH_EXPUNGE};
  uint32_t wuid[] = {u2, u1, u2};
  ck_assert_uint_eq(ch->len, 3);
  for (guint i = 0; i < ch->len; i++) {
    mailstore_change *c = &g_array_index(ch, mailstore_change, i);
    ck_assert_msg(c->kind == want[i] && c->uid == wuid[i], "change %u: got %d/%u want %d/%u", i,
                  c->kind, c->uid, want[i], wuid[i]);
  }
  /* Since any modseq: the entries after it, in order, appended after
   * what OUT held. */
  GArray *all = g_array_new(FALSE, FALSE, sizeof(mailstore_change));
  ck_assert_int_eq(mailstore_changes(s, "bob", "INBOX", 0, all), MAILSTORE_OK);
  mailstore_status_get(s, "bob", "INBOX", &st);
  for (uint64_t from = 0; from <= st.highest_modseq + 1; from++) {
    g_array_set_size(ch, 1); /* kept */
    ck_assert_int_eq(mailstore_changes(s, "bob", "INBOX", from, ch), MAILSTORE_OK);
    guint k = 1;
    for (guint i = 0; i < all->len; i++) {
      mailstore_change *w = &g_array_index(all, mailstore_change, i);
      if (w->modseq <= from)
        continue;
      ck_assert_msg(k < ch->len, "since %" G_GUINT64_FORMAT ": too few", from);
      mailstore_change *g = &g_array_index(ch, mailstore_change, k++);
      ck_assert_msg(g->modseq == w->modseq && g->kind == w->kind && g->uid == w->uid,
                    "since %" G_GUINT64_FORMAT ": got %" G_GUINT64_FORMAT " want %" G_GUINT64_FORMAT,
                    from, g->modseq, w->modseq);
    }
    ck_assert_uint_eq(k, ch->len);
  }
  g_array_free(all, TRUE);
  for (int i = 0; i < MAILSTORE_LOG_MAX + 10; i++)
    mailstore_flags_set(s, "bob", "INBOX", u1, i % 2 ? '+' : '-', MAILSTORE_F_FLAGGED, 0);
  g_array_set_size(ch, 0);
  ck_assert_int_eq(mailstore_changes(s, "bob", "INBOX", since, ch), MAILSTORE_ERR_RESYNC);
  g_array_free(ch, TRUE);
  mailstore_free(s);
}
END_TEST

START_TEST(batch_expunge) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  for (int i = 0; i < 6; i++)
    add(s, "INBOX", "0123456789", NULL);
  mailstore_status st;
  mailstore_status_get(s, "bob", "INBOX", &st);
  uint64_t since = st.highest_modseq;
  const uint32_t del[] = {5, 2, 9, 2, 6}; /* unsorted, a duplicate, a missing one */
  size_t removed;
  ck_assert_int_eq(mailstore_expunge_uids(s, "bob", "INBOX", del, 5, &removed), MAILSTORE_OK);
  ck_assert_uint_eq(removed, 3);
  GArray *u = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  mailstore_uids(s, "bob", "INBOX", u);
  uint32_t want[] = {1, 3, 4};
  ck_assert_uint_eq(u->len, 3);
  for (guint i = 0; i < u->len; i++)
    ck_assert_msg(g_array_index(u, uint32_t, i) == want[i], "uid %u: got %u want %u", i,
                  g_array_index(u, uint32_t, i), want[i]);
  mailstore_status_get(s, "bob", "INBOX", &st);
  ck_assert_uint_eq(st.size, 30);
  GArray *ch = g_array_new(FALSE, FALSE, sizeof(mailstore_change));
  mailstore_changes(s, "bob", "INBOX", since, ch);
  ck_assert_uint_eq(ch->len, 3);
  const uint32_t wlog[] = {2, 5, 6};
  for (guint i = 0; i < ch->len; i++) {
    mailstore_change *c = &g_array_index(ch, mailstore_change, i);
    ck_assert_int_eq(c->kind, MAILSTORE_CH_EXPUNGE);
    ck_assert_uint_eq(c->uid, wlog[i]);
  }
  ck_assert_int_eq(mailstore_expunge_uids(s, "bob", "Nope", del, 5, NULL), MAILSTORE_ERR_NOFOLDER);
  ck_assert_int_eq(mailstore_expunge_uids(s, "bob", "INBOX", NULL, 0, &removed), MAILSTORE_OK);
  ck_assert_uint_eq(removed, 0);
  g_array_free(u, TRUE);
  g_array_free(ch, TRUE);
  mailstore_free(s);
}
END_TEST

START_TEST(recent_claims) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  add(s, "INBOX", "a", NULL);
  add(s, "INBOX", "b", NULL);
  mailstore_status st;
  mailstore_status_get(s, "bob", "INBOX", &st);
  ck_assert_uint_eq(st.recent, 2);
  uint32_t from, to;
  ck_assert_int_eq(mailstore_recent_claim(s, "bob", "INBOX", &from, &to), MAILSTORE_OK);
  ck_assert_uint_eq(from, 1);
  ck_assert_uint_eq(to, 3);
  mailstore_status_get(s, "bob", "INBOX", &st);
  ck_assert_uint_eq(st.recent, 0);
  add(s, "INBOX", "c", NULL);
  GBytes *img = mailstore_save(s);
  mailstore_free(s);
  s = mailstore_load(img, NULL);
  g_bytes_unref(img);
  mailstore_status_get(s, "bob", "INBOX", &st);
  ck_assert_uint_eq(st.recent, 1);
  ck_assert_uint_eq(st.recent_from, 3);
  mailstore_recent_claim(s, "bob", "INBOX", &from, &to);
  ck_assert_uint_eq(from, 3);
  ck_assert_uint_eq(to, 4);
  mailstore_recent_claim(s, "bob", "INBOX", &from, &to);
  ck_assert_uint_eq(from, to); /* nothing left to claim */
  mailstore_free(s);
}
END_TEST

START_TEST(locks) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  ck_assert_int_eq(mailstore_lock(s, "bob", 1), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_lock(s, "bob", 2), MAILSTORE_ERR_LOCKED);
  mailstore_unlock(s, "bob", 2); /* not the owner: no effect */
  ck_assert_int_eq(mailstore_lock(s, "bob", 2), MAILSTORE_ERR_LOCKED);
  mailstore_locks_reset(s);
  ck_assert_int_eq(mailstore_lock(s, "bob", 2), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_lock(s, "eve", 2), MAILSTORE_ERR_NOUSER);
  mailstore_free(s);
}
END_TEST

START_TEST(save_restore_keeps_uids_increasing) {
  mailstore *s = mailstore_new(100);
  mailstore_user_add(s, "bob", 1000, 0);
  mailstore_user_add(s, "carol", 0, 0);
  uint32_t last = 0, u;
  for (int i = 0; i < 5; i++) {
    add(s, "INBOX", "message", &u);
    last = u;
  }
  mailstore_expunge_uid(s, "bob", "INBOX", last); /* the highest UID is gone */
  mailstore_copy(s, "bob", "INBOX", 1, "Sent", NULL);
  mailstore_keyword_index(s, "bob", "INBOX", "kw", true);
  mailstore_status before;
  mailstore_status_get(s, "bob", "INBOX", &before);
  GBytes *img = mailstore_save(s);
  GBytes *img2 = mailstore_save(s);
  ck_assert(g_bytes_equal(img, img2)); /* deterministic */
  mailstore_free(s);                   /* crash: memory gone */
  mailstore_err e;
  mailstore *r = mailstore_load(img, &e);
  ck_assert_int_eq(e, MAILSTORE_OK);
  ck_assert_ptr_nonnull(r);
  mailstore_status after;
  mailstore_status_get(r, "bob", "INBOX", &after);
  ck_assert_uint_eq(after.uidvalidity, before.uidvalidity);
  ck_assert_uint_eq(after.uidnext, before.uidnext);
  ck_assert_uint_eq(after.messages, before.messages);
  ck_assert_uint_eq(after.highest_modseq, before.highest_modseq);
  add(r, "INBOX", "after restart", &u);
  ck_assert_uint_gt(u, last);
  mailstore_msg a, b;
  mailstore_msg_get(r, "bob", "INBOX", 1, &a);
  mailstore_msg_get(r, "bob", "Sent", 1, &b);
  ck_assert_ptr_eq(a.data, b.data); /* sharing survives */
  ck_assert_str_eq(mailstore_keyword_name(r, "bob", "INBOX", 0), "kw");
  /* a new folder never reuses a UIDVALIDITY */
  mailstore_folder_create(r, "carol", "New", 0);
  mailstore_status ns;
  mailstore_status_get(r, "carol", "New", &ns);
  ck_assert_uint_gt(ns.uidvalidity, before.uidvalidity);
  uint64_t qb;
  mailstore_usage(r, "bob", &qb, NULL);
  GBytes *img3 = mailstore_save(r);
  mailstore_free(r);
  /* Every truncation and a few corruptions are rejected, never crash. */
  gsize n;
  const guint8 *d = g_bytes_get_data(img, &n);
  for (gsize cut = 0; cut < n; cut++) {
    GBytes *t = g_bytes_new(d, cut);
    mailstore *x = mailstore_load(t, &e);
    ck_assert_msg(x == NULL && e == MAILSTORE_ERR_CORRUPT, "truncated at %zu accepted", cut);
    g_bytes_unref(t);
  }
  guint8 *mut = g_memdup2(d, n);
  for (gsize i = 8; i < n; i += 3) {
    guint8 old = mut[i];
    mut[i] ^= 0xff;
    GBytes *t = g_bytes_new_static(mut, n);
    mailstore *x = mailstore_load(t, &e); /* may or may not be valid; must not crash */
    mailstore_free(x);
    g_bytes_unref(t);
    mut[i] = old;
  }
  g_free(mut);
  g_bytes_unref(img);
  g_bytes_unref(img2);
  g_bytes_unref(img3);
}
END_TEST

/* Lookups remember the account and folder found last: each step below
 * asks again right after a change to them, for two users in turn. */
START_TEST(lookups_after_changes) {
  mailstore *s = mailstore_new(1);
  mailstore_user_add(s, "bob", 0, 0);
  mailstore_user_add(s, "carol", 0, 0);
  mailstore_status st;
  uint32_t uid = 0;
  ck_assert_int_eq(mailstore_folder_create(s, "bob", "x", 0), MAILSTORE_OK);
  ck_assert_int_eq(add(s, "x", "m1", &uid), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "x", &st), MAILSTORE_OK);
  ck_assert_uint_eq(st.messages, 1);
  /* another user's folder of the same name is another folder */
  ck_assert_int_eq(mailstore_status_get(s, "carol", "x", &st), MAILSTORE_ERR_NOFOLDER);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "x", &st), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "inbox", &st), MAILSTORE_OK);
  ck_assert_uint_eq(st.messages, 0);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "x", &st), MAILSTORE_OK);
  /* deleted: not found, then found again once made anew (empty) */
  ck_assert_int_eq(mailstore_folder_delete(s, "bob", "x"), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "x", &st), MAILSTORE_ERR_NOFOLDER);
  mailstore_msg m;
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "x", uid, &m), MAILSTORE_ERR_NOFOLDER);
  ck_assert_int_eq(mailstore_folder_create(s, "bob", "x", 0), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "x", &st), MAILSTORE_OK);
  ck_assert_uint_eq(st.messages, 0);
  /* renamed: the old name is gone, the new one holds the messages */
  ck_assert_int_eq(add(s, "x", "m2", &uid), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "x", uid, &m), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_folder_rename(s, "bob", "x", "y"), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "x", uid, &m), MAILSTORE_ERR_NOFOLDER);
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "y", uid, &m), MAILSTORE_OK);
  ck_assert_int_eq(mailstore_status_get(s, "bob", "y", &st), MAILSTORE_OK);
  ck_assert_uint_eq(st.messages, 1);
  ck_assert_int_eq(mailstore_msg_get(s, "nobody", "y", uid, &m), MAILSTORE_ERR_NOUSER);
  ck_assert_int_eq(mailstore_msg_get(s, "bob", "y", uid, &m), MAILSTORE_OK);
  mailstore_free(s);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mailstore");
  TCase *tc = tcase_create("folders");
  tcase_add_test(tc, default_folders_special_use);
  tcase_add_loop_test(tc, canon_names, 0, G_N_ELEMENTS(canon_rows));
  tcase_add_test(tc, folders_create_delete_rename);
  tcase_add_test(tc, lookups_after_changes);
  suite_add_tcase(s, tc);
  tc = tcase_create("messages");
  tcase_add_test(tc, uids_increase_and_flags);
  tcase_add_test(tc, copy_shares_bytes);
  tcase_add_test(tc, quota_refuses_without_loss);
  tcase_add_test(tc, deliver_reports_uidvalidity);
  tcase_add_test(tc, batch_expunge);
  suite_add_tcase(s, tc);
  tc = tcase_create("sessions");
  tcase_add_test(tc, change_log_and_resync);
  tcase_add_test(tc, locks);
  tcase_add_test(tc, recent_claims);
  suite_add_tcase(s, tc);
  tc = tcase_create("persistence");
  tcase_add_test(tc, save_restore_keeps_uids_increasing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
