/* mailstore.c — the message store of a mailbox host (see mailstore.h).
 *
 * Accounts and folders live in GTrees (ordered: iteration is sorted, so no
 * hash order reaches output); the messages of a folder are a GArray sorted
 * by UID (UIDs only ever grow, RFC 3501 §2.3.1.1, so appends stay sorted and
 * lookups are binary searches). Message bytes are GBytes shared between
 * copies. The change log is a bounded GArray per folder; log_floor records
 * the newest modseq that was trimmed away.
 *
 * Image format (mailstore_save): "MSTORE2\n", then little-endian integers
 * and length-prefixed strings; message bodies are written once in a blob
 * table and referenced by index, so COPY sharing survives a reload.
 */
#include "mailstore.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  uint32_t uid, flags;
  uint64_t kw;
  int64_t date;
  uint64_t modseq;
  GBytes *data;
} msg;

typedef struct {
  char *name;
  mailstore_use use;
  bool subscribed;
  uint32_t uidvalidity, uidnext;
  uint32_t recent_from; /* UIDs >= this are unclaimed \Recent */
  uint64_t modseq, log_floor, bytes;
  GArray *msgs;   /* of msg, by uid */
  GPtrArray *kws; /* keyword names */
  GArray *log;    /* of mailstore_change */
} folder;

typedef struct {
  char *name;
  uint64_t qbytes, qmsgs;
  uint64_t lock_owner;
  GTree *folders; /* name -> folder* */
} account;

struct mailstore {
  uint32_t next_uidvalidity;
  GTree *users; /* name -> account* */
  /* The account and folder found last: the IMAP and POP3 sessions of one
   * user ask for the same ones many times in a row. Compared by the names
   * they hold (a rename is seen), cleared when a folder is freed. Not part
   * of the store's value: lookups on a const store update it. */
  account *hot_a;
  folder *hot_f; /* a folder of hot_a, or NULL */
};

static const char *const err_names[MAILSTORE_ERR_COUNT] = {
    "ok",         "no-user", "no-folder", "exists",  "invalid",          "no-message",
    "over-quota", "locked",  "resync",    "corrupt", "too-many-keywords"};

const char *mailstore_err_name(mailstore_err e) {
  g_assert((unsigned)e < MAILSTORE_ERR_COUNT);
  return err_names[e];
}

static const char *const flag_names[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                         "\\Draft"};

const char *mailstore_flag_name(uint32_t bit) {
  for (unsigned i = 0; i < G_N_ELEMENTS(flag_names); i++)
    if (bit == (1u << i))
      return flag_names[i];
  return NULL;
}

uint32_t mailstore_flag_parse(const char *name) {
  for (unsigned i = 0; i < G_N_ELEMENTS(flag_names); i++)
    if (g_ascii_strcasecmp(name, flag_names[i]) == 0)
      return 1u << i;
  return 0;
}

static const char *const use_names[MAILSTORE_USE_COUNT] = {"", "\\Sent", "\\Drafts", "\\Junk",
                                                           "\\Trash"};
const char *mailstore_use_name(mailstore_use u) {
  g_assert((unsigned)u < MAILSTORE_USE_COUNT);
  return use_names[u];
}

/* RFC 3501 §5.1: "INBOX" in any case is the INBOX. Tested octet by octet:
 * every message look-up names its folder. */
const char *mailstore_canon(const char *name) {
  static const char inbox[] = "inbox";
  if ((name[0] | 0x20) != 'i') /* most names, at once */
    return name;
  if (strcmp(name, "INBOX") == 0) /* the usual spelling */
    return "INBOX";
  for (int i = 0; i < 5; i++)
    if ((name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]) != inbox[i])
      return name;
  return name[5] ? name : "INBOX";
}

static bool is_inbox(const char *s) { return s[0] == 'I' && strcmp(s, "INBOX") == 0; }

/* INBOX sorts first, then byte order. */
static int folder_cmp(gconstpointer a, gconstpointer b, gpointer ud) {
  (void)ud;
  bool ia = is_inbox(a), ib = is_inbox(b);
  if (ia || ib)
    return ia && ib ? 0 : ia ? -1 : 1;
  return strcmp(a, b);
}
static int str_cmp(gconstpointer a, gconstpointer b, gpointer ud) {
  (void)ud;
  return strcmp(a, b);
}

static void folder_free(gpointer p) {
  folder *f = p;
  if (!f)
    return;
  for (guint i = 0; i < f->msgs->len; i++)
    g_bytes_unref(g_array_index(f->msgs, msg, i).data);
  g_array_free(f->msgs, TRUE);
  g_ptr_array_unref(f->kws);
  g_array_free(f->log, TRUE);
  g_free(f->name);
  g_free(f);
}

static folder *folder_alloc(const char *name, mailstore_use use, uint32_t uidvalidity) {
  folder *f = g_new0(folder, 1);
  f->name = g_strdup(name);
  f->use = use;
  f->uidvalidity = uidvalidity;
  f->uidnext = 1;
  f->recent_from = 1;
  f->msgs = g_array_new(FALSE, FALSE, sizeof(msg));
  f->kws = g_ptr_array_new_with_free_func(g_free);
  f->log = g_array_new(FALSE, FALSE, sizeof(mailstore_change));
  return f;
}

static void account_free(gpointer p) {
  account *a = p;
  if (!a)
    return;
  g_tree_destroy(a->folders);
  g_free(a->name);
  g_free(a);
}

static account *account_alloc(const char *name) {
  account *a = g_new0(account, 1);
  a->name = g_strdup(name);
  a->folders = g_tree_new_full(folder_cmp, NULL, NULL, folder_free);
  return a;
}

mailstore *mailstore_new(uint32_t first_uidvalidity) {
  g_assert(first_uidvalidity >= 1);
  mailstore *s = g_new0(mailstore, 1);
  s->next_uidvalidity = first_uidvalidity;
  s->users = g_tree_new_full(str_cmp, NULL, NULL, account_free);
  return s;
}

void mailstore_free(mailstore *s) {
  if (!s)
    return;
  g_tree_destroy(s->users);
  g_free(s);
}

static account *acct(const mailstore *cs, const char *user) {
  if (!user)
    return NULL;
  mailstore *s = (mailstore *)cs; /* the lookup cache only (see struct mailstore) */
  if (s->hot_a && strcmp(s->hot_a->name, user) == 0)
    return s->hot_a;
  account *a = g_tree_lookup(s->users, user);
  if (a) {
    s->hot_a = a;
    s->hot_f = NULL;
  }
  return a;
}

static mailstore_err find(const mailstore *cs, const char *user, const char *name, account **ap,
                          folder **fp) {
  account *a = acct(cs, user);
  if (!a)
    return MAILSTORE_ERR_NOUSER;
  if (ap)
    *ap = a;
  if (!fp)
    return MAILSTORE_OK;
  if (!name)
    return MAILSTORE_ERR_NOFOLDER;
  mailstore *s = (mailstore *)cs; /* acct made A the hot account */
  const char *key = mailstore_canon(name);
  folder *f =
      s->hot_f && strcmp(s->hot_f->name, key) == 0 ? s->hot_f : g_tree_lookup(a->folders, key);
  if (!f)
    return MAILSTORE_ERR_NOFOLDER;
  s->hot_f = f;
  *fp = f;
  return MAILSTORE_OK;
}

static bool name_valid(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 1000 || name[0] == MAILSTORE_DELIM || name[n - 1] == MAILSTORE_DELIM)
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7f || c == '*' || c == '%')
      return false;
    if (c == MAILSTORE_DELIM && name[i + 1] == MAILSTORE_DELIM)
      return false;
  }
  return true;
}

static folder *folder_add(mailstore *s, account *a, const char *name, mailstore_use use,
                          bool subscribed) {
  folder *f = folder_alloc(name, use, s->next_uidvalidity++);
  f->subscribed = subscribed;
  g_tree_insert(a->folders, f->name, f);
  return f;
}

mailstore_err mailstore_user_add(mailstore *s, const char *user, uint64_t quota_bytes,
                                 uint64_t quota_msgs) {
  if (!user || !*user)
    return MAILSTORE_ERR_INVALID;
  if (acct(s, user))
    return MAILSTORE_ERR_EXISTS;
  account *a = account_alloc(user);
  a->qbytes = quota_bytes;
  a->qmsgs = quota_msgs;
  g_tree_insert(s->users, a->name, a);
  static const struct {
    const char *name;
    mailstore_use use;
  } defaults[] = {{"INBOX", MAILSTORE_USE_NONE},
                  {"Sent", MAILSTORE_USE_SENT},
                  {"Drafts", MAILSTORE_USE_DRAFTS},
                  {"Junk", MAILSTORE_USE_JUNK},
                  {"Trash", MAILSTORE_USE_TRASH}};
  for (unsigned i = 0; i < G_N_ELEMENTS(defaults); i++)
    folder_add(s, a, defaults[i].name, defaults[i].use, true);
  return MAILSTORE_OK;
}

bool mailstore_user_exists(const mailstore *s, const char *user) { return acct(s, user) != NULL; }

mailstore_err mailstore_quota_set(mailstore *s, const char *user, uint64_t quota_bytes,
                                  uint64_t quota_msgs) {
  account *a = acct(s, user);
  if (!a)
    return MAILSTORE_ERR_NOUSER;
  a->qbytes = quota_bytes;
  a->qmsgs = quota_msgs;
  return MAILSTORE_OK;
}

typedef struct {
  uint64_t bytes, msgs;
} usage;

static gboolean usage_add(gpointer k, gpointer v, gpointer ud) {
  (void)k;
  folder *f = v;
  usage *u = ud;
  u->bytes += f->bytes;
  u->msgs += f->msgs->len;
  return FALSE;
}

static usage account_usage(const account *a) {
  usage u = {0, 0};
  g_tree_foreach(a->folders, usage_add, &u);
  return u;
}

mailstore_err mailstore_usage(const mailstore *s, const char *user, uint64_t *bytes,
                              uint64_t *msgs) {
  account *a = acct(s, user);
  if (!a)
    return MAILSTORE_ERR_NOUSER;
  usage u = account_usage(a);
  if (bytes)
    *bytes = u.bytes;
  if (msgs)
    *msgs = u.msgs;
  return MAILSTORE_OK;
}

static gboolean collect_key(gpointer k, gpointer v, gpointer ud) {
  (void)v;
  g_ptr_array_add(ud, g_strdup(k));
  return FALSE;
}

GPtrArray *mailstore_users(const mailstore *s) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  g_tree_foreach(s->users, collect_key, out);
  return out;
}

/* ---- folders ---- */

mailstore_err mailstore_folder_create(mailstore *s, const char *user, const char *name,
                                      mailstore_use use) {
  account *a = acct(s, user);
  if (!a)
    return MAILSTORE_ERR_NOUSER;
  if (!name || !name_valid(name) || (unsigned)use >= MAILSTORE_USE_COUNT)
    return MAILSTORE_ERR_INVALID;
  name = mailstore_canon(name);
  if (g_tree_lookup(a->folders, name))
    return MAILSTORE_ERR_EXISTS;
  /* RFC 3501 §6.3.3: create the superior hierarchical names as needed. */
  for (const char *p = strchr(name, MAILSTORE_DELIM); p; p = strchr(p + 1, MAILSTORE_DELIM)) {
    char *parent = g_strndup(name, (gsize)(p - name));
    if (!g_tree_lookup(a->folders, mailstore_canon(parent)))
      folder_add(s, a, mailstore_canon(parent), MAILSTORE_USE_NONE, false);
    g_free(parent);
  }
  folder_add(s, a, name, use, false);
  return MAILSTORE_OK;
}

mailstore_err mailstore_folder_delete(mailstore *s, const char *user, const char *name) {
  account *a;
  folder *f;
  mailstore_err e = find(s, user, name, &a, &f);
  if (e)
    return e;
  if (strcmp(f->name, "INBOX") == 0)
    return MAILSTORE_ERR_INVALID;
  if (s->hot_f == f)
    s->hot_f = NULL;
  g_tree_remove(a->folders, f->name);
  return MAILSTORE_OK;
}

static gboolean collect_folder(gpointer k, gpointer v, gpointer ud) {
  (void)k;
  g_ptr_array_add(ud, v);
  return FALSE;
}

static void folder_log(folder *f, mailstore_change_kind kind, uint32_t uid) {
  mailstore_change c = {++f->modseq, kind, uid};
  if (f->log->len >= MAILSTORE_LOG_MAX) {
    guint drop = MAILSTORE_LOG_MAX / 4;
    f->log_floor = g_array_index(f->log, mailstore_change, drop - 1).modseq;
    g_array_remove_range(f->log, 0, drop);
  }
  g_array_append_val(f->log, c);
}

mailstore_err mailstore_folder_rename(mailstore *s, const char *user, const char *from,
                                      const char *to) {
  account *a;
  folder *f;
  mailstore_err e = find(s, user, from, &a, &f);
  if (e)
    return e;
  if (!to || !name_valid(to))
    return MAILSTORE_ERR_INVALID;
  to = mailstore_canon(to);
  if (g_tree_lookup(a->folders, to))
    return MAILSTORE_ERR_EXISTS;
  if (strcmp(f->name, "INBOX") == 0) {
    /* RFC 3501 §6.3.5: renaming INBOX moves its messages to a new folder
     * and leaves INBOX empty; inferiors of INBOX are not renamed. */
    mailstore_err ce = mailstore_folder_create(s, user, to, MAILSTORE_USE_NONE);
    if (ce)
      return ce;
    folder *t = g_tree_lookup(a->folders, to);
    for (guint i = 0; i < f->msgs->len; i++) {
      msg m = g_array_index(f->msgs, msg, i);
      folder_log(f, MAILSTORE_CH_EXPUNGE, m.uid);
      m.uid = t->uidnext++;
      m.modseq = t->modseq + 1;
      folder_log(t, MAILSTORE_CH_APPEND, m.uid);
      g_array_append_val(t->msgs, m);
    }
    for (guint i = 0; i < f->kws->len; i++)
      g_ptr_array_add(t->kws, g_strdup(g_ptr_array_index(f->kws, i)));
    t->bytes = f->bytes;
    f->bytes = 0;
    g_array_set_size(f->msgs, 0);
    g_ptr_array_set_size(f->kws, 0);
    return MAILSTORE_OK;
  }
  if (g_str_has_prefix(to, f->name) && to[strlen(f->name)] == MAILSTORE_DELIM)
    return MAILSTORE_ERR_INVALID; /* into itself */
  /* Collect FROM and its children, then re-key them. */
  GPtrArray *all = g_ptr_array_new();
  g_tree_foreach(a->folders, collect_folder, all);
  size_t flen = strlen(f->name);
  char *oldname = g_strdup(f->name);
  for (guint i = 0; i < all->len; i++) {
    folder *c = g_ptr_array_index(all, i);
    bool self = strcmp(c->name, oldname) == 0;
    bool child = strncmp(c->name, oldname, flen) == 0 && c->name[flen] == MAILSTORE_DELIM;
    if (!self && !child)
      continue;
    char *nn = g_strconcat(to, c->name + flen, NULL);
    g_tree_steal(a->folders, c->name);
    g_free(c->name);
    c->name = nn;
    g_tree_insert(a->folders, c->name, c);
  }
  g_free(oldname);
  g_ptr_array_unref(all);
  /* Missing parents of the new name. */
  for (const char *p = strchr(to, MAILSTORE_DELIM); p; p = strchr(p + 1, MAILSTORE_DELIM)) {
    char *parent = g_strndup(to, (gsize)(p - to));
    if (!g_tree_lookup(a->folders, mailstore_canon(parent)))
      folder_add(s, a, mailstore_canon(parent), MAILSTORE_USE_NONE, false);
    g_free(parent);
  }
  return MAILSTORE_OK;
}

bool mailstore_folder_exists(const mailstore *s, const char *user, const char *name) {
  folder *f;
  return find(s, user, name, NULL, &f) == MAILSTORE_OK;
}

uint32_t mailstore_folder_uidvalidity(const mailstore *s, const char *user, const char *name) {
  folder *f;
  return find(s, user, name, NULL, &f) == MAILSTORE_OK ? f->uidvalidity : 0;
}

mailstore_err mailstore_subscribe(mailstore *s, const char *user, const char *name, bool on) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  f->subscribed = on;
  return MAILSTORE_OK;
}

GPtrArray *mailstore_folders(const mailstore *s, const char *user) {
  account *a = acct(s, user);
  if (!a)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  g_tree_foreach(a->folders, collect_key, out);
  return out;
}

mailstore_err mailstore_status_get(const mailstore *s, const char *user, const char *name,
                                   mailstore_status *out) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  memset(out, 0, sizeof *out);
  out->messages = f->msgs->len;
  for (guint i = 0; i < f->msgs->len; i++) {
    const msg *m = &g_array_index(f->msgs, msg, i);
    if (!(m->flags & MAILSTORE_F_SEEN))
      out->unseen++;
    if (m->uid >= f->recent_from)
      out->recent++;
  }
  out->recent_from = f->recent_from;
  out->uidnext = f->uidnext;
  out->uidvalidity = f->uidvalidity;
  out->highest_modseq = f->modseq;
  out->size = f->bytes;
  out->use = f->use;
  out->subscribed = f->subscribed;
  return MAILSTORE_OK;
}

/* ---- messages ---- */

static msg *msg_find(folder *f, uint32_t uid, guint *idx) {
  guint lo = 0, hi = f->msgs->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    msg *m = &g_array_index(f->msgs, msg, mid);
    if (m->uid == uid) {
      if (idx)
        *idx = mid;
      return m;
    }
    if (m->uid < uid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static mailstore_err quota_check(const account *a, uint64_t add_bytes) {
  if (!a->qbytes && !a->qmsgs)
    return MAILSTORE_OK;
  usage u = account_usage(a);
  if (a->qbytes && u.bytes + add_bytes > a->qbytes)
    return MAILSTORE_ERR_OVERQUOTA;
  if (a->qmsgs && u.msgs + 1 > a->qmsgs)
    return MAILSTORE_ERR_OVERQUOTA;
  return MAILSTORE_OK;
}

static uint32_t folder_put(folder *f, GBytes *data, uint32_t flags, uint64_t kw, int64_t date) {
  msg m = {f->uidnext++, flags & MAILSTORE_F_ALL, kw, date, 0, g_bytes_ref(data)};
  folder_log(f, MAILSTORE_CH_APPEND, m.uid);
  m.modseq = f->modseq;
  f->bytes += g_bytes_get_size(data);
  g_array_append_val(f->msgs, m);
  return m.uid;
}

mailstore_err mailstore_append(mailstore *s, const char *user, const char *name, GBytes *data,
                               uint32_t flags, int64_t date, uint32_t *uid_out) {
  g_assert(data);
  account *a;
  folder *f;
  mailstore_err e = find(s, user, name, &a, &f);
  if (e)
    return e;
  if ((e = quota_check(a, g_bytes_get_size(data))))
    return e;
  uint32_t uid = folder_put(f, data, flags, 0, date);
  if (uid_out)
    *uid_out = uid;
  return MAILSTORE_OK;
}

mailstore_err mailstore_deliver(mailstore *s, const char *user, const char *fname, GBytes *data,
                                int64_t date, uint32_t *uid_out) {
  return mailstore_deliver_uv(s, user, fname, data, date, uid_out, NULL);
}

/* mailstore_append to FNAME when it exists, else to INBOX, each folder
 * looked up once. */
mailstore_err mailstore_deliver_uv(mailstore *s, const char *user, const char *fname, GBytes *data,
                                   int64_t date, uint32_t *uid_out, uint32_t *uidvalidity_out) {
  g_assert(data);
  account *a;
  folder *f;
  mailstore_err e = fname ? find(s, user, fname, &a, &f) : MAILSTORE_ERR_NOFOLDER;
  if (e && (e = find(s, user, "INBOX", &a, &f)))
    return e;
  if ((e = quota_check(a, g_bytes_get_size(data))))
    return e;
  uint32_t uid = folder_put(f, data, 0, 0, date);
  if (uid_out)
    *uid_out = uid;
  if (uidvalidity_out)
    *uidvalidity_out = f->uidvalidity;
  return MAILSTORE_OK;
}

mailstore_err mailstore_uids(const mailstore *s, const char *user, const char *name, GArray *out) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  g_assert(g_array_get_element_size(out) == sizeof(uint32_t));
  g_array_set_size(out, f->msgs->len); /* then filled in place */
  uint32_t *u = (uint32_t *)(void *)out->data;
  for (guint i = 0; i < f->msgs->len; i++)
    u[i] = g_array_index(f->msgs, msg, i).uid;
  return MAILSTORE_OK;
}

mailstore_err mailstore_msg_get(const mailstore *s, const char *user, const char *name,
                                uint32_t uid, mailstore_msg *out) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  msg *m = msg_find(f, uid, NULL);
  if (!m)
    return MAILSTORE_ERR_NOMSG;
  out->uid = m->uid;
  out->flags = m->flags;
  out->keywords = m->kw;
  out->internal_date = m->date;
  out->modseq = m->modseq;
  out->data = m->data;
  return MAILSTORE_OK;
}

const char *mailstore_keyword_name(const mailstore *s, const char *user, const char *name,
                                   unsigned i) {
  folder *f;
  if (find(s, user, name, NULL, &f) || i >= f->kws->len)
    return NULL;
  return g_ptr_array_index(f->kws, i);
}

static int kw_index(folder *f, const char *kw, bool create) {
  for (guint i = 0; i < f->kws->len; i++)
    if (g_ascii_strcasecmp(g_ptr_array_index(f->kws, i), kw) == 0)
      return (int)i;
  if (!create || f->kws->len >= MAILSTORE_MAX_KEYWORDS || !*kw)
    return -1;
  g_ptr_array_add(f->kws, g_strdup(kw));
  return (int)f->kws->len - 1;
}

int mailstore_keyword_index(mailstore *s, const char *user, const char *name, const char *kw,
                            bool create) {
  folder *f;
  if (find(s, user, name, NULL, &f))
    return -1;
  return kw_index(f, kw, create);
}

mailstore_err mailstore_flags_set(mailstore *s, const char *user, const char *name, uint32_t uid,
                                  char mode, uint32_t flags, uint64_t keywords) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  msg *m = msg_find(f, uid, NULL);
  if (!m)
    return MAILSTORE_ERR_NOMSG;
  flags &= MAILSTORE_F_ALL;
  uint32_t nf = m->flags;
  uint64_t nk = m->kw;
  switch (mode) {
  case '+':
    nf |= flags;
    nk |= keywords;
    break;
  case '-':
    nf &= ~flags;
    nk &= ~keywords;
    break;
  case '=':
    nf = flags;
    nk = keywords;
    break;
  default:
    g_error("mailstore_flags_set: bad mode %d", mode);
  }
  if (nf == m->flags && nk == m->kw)
    return MAILSTORE_OK;
  m->flags = nf;
  m->kw = nk;
  folder_log(f, MAILSTORE_CH_FLAGS, uid);
  m->modseq = f->modseq;
  return MAILSTORE_OK;
}

mailstore_err mailstore_copy(mailstore *s, const char *user, const char *from, uint32_t uid,
                             const char *to, uint32_t *new_uid) {
  account *a;
  folder *f, *t;
  mailstore_err e = find(s, user, from, &a, &f);
  if (e || (e = find(s, user, to, NULL, &t)))
    return e;
  msg *m = msg_find(f, uid, NULL);
  if (!m)
    return MAILSTORE_ERR_NOMSG;
  if ((e = quota_check(a, g_bytes_get_size(m->data))))
    return e;
  uint64_t kw = 0;
  for (unsigned i = 0; i < f->kws->len; i++)
    if (m->kw & (UINT64_C(1) << i)) {
      int j = kw_index(t, g_ptr_array_index(f->kws, i), true);
      if (j >= 0)
        kw |= UINT64_C(1) << j;
    }
  GBytes *data = m->data; /* m may move if from == to */
  uint32_t nu = folder_put(t, data, m->flags, kw, m->date);
  if (new_uid)
    *new_uid = nu;
  return MAILSTORE_OK;
}

mailstore_err mailstore_expunge_uid(mailstore *s, const char *user, const char *name,
                                    uint32_t uid) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  guint idx;
  msg *m = msg_find(f, uid, &idx);
  if (!m)
    return MAILSTORE_ERR_NOMSG;
  f->bytes -= g_bytes_get_size(m->data);
  g_bytes_unref(m->data);
  g_array_remove_index(f->msgs, idx);
  folder_log(f, MAILSTORE_CH_EXPUNGE, uid);
  return MAILSTORE_OK;
}

mailstore_err mailstore_recent_claim(mailstore *s, const char *user, const char *name,
                                     uint32_t *from, uint32_t *to) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  *from = f->recent_from;
  *to = f->uidnext;
  f->recent_from = f->uidnext;
  return MAILSTORE_OK;
}

static int u32_cmp(gconstpointer a, gconstpointer b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

mailstore_err mailstore_expunge_uids(mailstore *s, const char *user, const char *name,
                                     const uint32_t *uids, size_t n, size_t *removed) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (removed)
    *removed = 0;
  if (e)
    return e;
  uint32_t *sorted = g_memdup2(uids, n * sizeof *uids);
  if (n)
    qsort(sorted, n, sizeof *sorted, u32_cmp);
  size_t k = 0, out = 0, count = 0;
  for (guint i = 0; i < f->msgs->len; i++) {
    msg *m = &g_array_index(f->msgs, msg, i);
    while (k < n && sorted[k] < m->uid)
      k++;
    if (k < n && sorted[k] == m->uid) {
      f->bytes -= g_bytes_get_size(m->data);
      g_bytes_unref(m->data);
      folder_log(f, MAILSTORE_CH_EXPUNGE, m->uid);
      count++;
      continue;
    }
    if (out != i)
      g_array_index(f->msgs, msg, out) = *m;
    out++;
  }
  g_array_set_size(f->msgs, (guint)out);
  g_free(sorted);
  if (removed)
    *removed = count;
  return MAILSTORE_OK;
}

mailstore_err mailstore_changes(const mailstore *s, const char *user, const char *name,
                                uint64_t since, GArray *out) {
  folder *f;
  mailstore_err e = find(s, user, name, NULL, &f);
  if (e)
    return e;
  if (since < f->log_floor)
    return MAILSTORE_ERR_RESYNC;
  /* The log is in modseq order (folder_log; load_folder checks): the
   * changes after SINCE are its tail, found from the end (a poll that
   * finds nothing new looks at one entry). */
  guint i = f->log->len;
  while (i > 0 && g_array_index(f->log, mailstore_change, i - 1).modseq > since)
    i--;
  if (i < f->log->len)
    g_array_append_vals(out, &g_array_index(f->log, mailstore_change, i), f->log->len - i);
  return MAILSTORE_OK;
}

/* ---- locks ---- */

mailstore_err mailstore_lock(mailstore *s, const char *user, uint64_t owner) {
  g_assert(owner != 0);
  account *a = acct(s, user);
  if (!a)
    return MAILSTORE_ERR_NOUSER;
  if (a->lock_owner && a->lock_owner != owner)
    return MAILSTORE_ERR_LOCKED;
  a->lock_owner = owner;
  return MAILSTORE_OK;
}

void mailstore_unlock(mailstore *s, const char *user, uint64_t owner) {
  account *a = acct(s, user);
  if (a && a->lock_owner == owner)
    a->lock_owner = 0;
}

static gboolean unlock_one(gpointer k, gpointer v, gpointer ud) {
  (void)k;
  (void)ud;
  ((account *)v)->lock_owner = 0;
  return FALSE;
}

void mailstore_locks_reset(mailstore *s) { g_tree_foreach(s->users, unlock_one, NULL); }

/* ---- persistence ---- */

typedef struct {
  GByteArray *out;
  GHashTable *blob_idx; /* GBytes* -> index+1; lookup only */
  GPtrArray *blobs;     /* in first-seen order */
} saver;

static void put_u32(GByteArray *o, uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  g_byte_array_append(o, b, 4);
}
static void put_u64(GByteArray *o, uint64_t v) {
  put_u32(o, (uint32_t)v);
  put_u32(o, (uint32_t)(v >> 32));
}
static void put_str(GByteArray *o, const char *str) {
  size_t n = strlen(str);
  put_u32(o, (uint32_t)n);
  g_byte_array_append(o, (const guint8 *)str, (guint)n);
}

static gboolean save_folder(gpointer k, gpointer v, gpointer ud) {
  (void)k;
  folder *f = v;
  saver *sv = ud;
  GByteArray *o = sv->out;
  put_str(o, f->name);
  put_u32(o, f->use);
  put_u32(o, f->subscribed);
  put_u32(o, f->uidvalidity);
  put_u32(o, f->uidnext);
  put_u32(o, f->recent_from);
  put_u64(o, f->modseq);
  put_u64(o, f->log_floor);
  put_u32(o, f->kws->len);
  for (guint i = 0; i < f->kws->len; i++)
    put_str(o, g_ptr_array_index(f->kws, i));
  put_u32(o, f->log->len);
  for (guint i = 0; i < f->log->len; i++) {
    mailstore_change *c = &g_array_index(f->log, mailstore_change, i);
    put_u64(o, c->modseq);
    put_u32(o, c->kind);
    put_u32(o, c->uid);
  }
  put_u32(o, f->msgs->len);
  for (guint i = 0; i < f->msgs->len; i++) {
    msg *m = &g_array_index(f->msgs, msg, i);
    guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(sv->blob_idx, m->data));
    if (!idx) {
      g_ptr_array_add(sv->blobs, m->data);
      idx = sv->blobs->len;
      g_hash_table_insert(sv->blob_idx, m->data, GUINT_TO_POINTER(idx));
    }
    put_u32(o, m->uid);
    put_u32(o, m->flags);
    put_u64(o, m->kw);
    put_u64(o, (uint64_t)m->date);
    put_u64(o, m->modseq);
    put_u32(o, idx - 1);
  }
  return FALSE;
}

static gboolean save_account(gpointer k, gpointer v, gpointer ud) {
  (void)k;
  account *a = v;
  saver *sv = ud;
  put_str(sv->out, a->name);
  put_u64(sv->out, a->qbytes);
  put_u64(sv->out, a->qmsgs);
  put_u32(sv->out, (uint32_t)g_tree_nnodes(a->folders));
  g_tree_foreach(a->folders, save_folder, sv);
  return FALSE;
}

#define IMAGE_MAGIC "MSTORE2\n"

GBytes *mailstore_save(const mailstore *s) {
  saver sv = {g_byte_array_new(), g_hash_table_new(g_direct_hash, g_direct_equal),
              g_ptr_array_new()};
  GByteArray *meta = sv.out;
  put_u32(meta, s->next_uidvalidity);
  put_u32(meta, (uint32_t)g_tree_nnodes(s->users));
  g_tree_foreach(s->users, save_account, &sv);
  GByteArray *o = g_byte_array_new();
  g_byte_array_append(o, (const guint8 *)IMAGE_MAGIC, 8);
  put_u32(o, sv.blobs->len);
  for (guint i = 0; i < sv.blobs->len; i++) {
    gsize n;
    const guint8 *d = g_bytes_get_data(g_ptr_array_index(sv.blobs, i), &n);
    put_u64(o, n);
    if (n)
      g_byte_array_append(o, d, (guint)n);
  }
  g_byte_array_append(o, meta->data, meta->len);
  g_byte_array_unref(meta);
  g_hash_table_unref(sv.blob_idx);
  g_ptr_array_unref(sv.blobs);
  return g_byte_array_free_to_bytes(o);
}

typedef struct {
  const uint8_t *p;
  size_t n, off;
  bool bad;
} reader;

static bool need(reader *r, size_t k) {
  if (r->bad || r->n - r->off < k) {
    r->bad = true;
    return false;
  }
  return true;
}
static uint32_t get_u32(reader *r) {
  if (!need(r, 4))
    return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v |= (uint32_t)r->p[r->off + (size_t)i] << (8 * i);
  r->off += 4;
  return v;
}
static uint64_t get_u64(reader *r) {
  uint64_t lo = get_u32(r);
  return lo | (uint64_t)get_u32(r) << 32;
}
static char *get_str(reader *r) {
  uint32_t n = get_u32(r);
  if (!need(r, n))
    return NULL;
  if (memchr(r->p + r->off, 0, n)) {
    r->bad = true;
    return NULL;
  }
  char *str = g_strndup((const char *)r->p + r->off, n);
  r->off += n;
  return str;
}

static bool load_folder(reader *r, account *a, GPtrArray *blobs, uint32_t next_uv) {
  char *name = get_str(r);
  if (!name)
    return false;
  uint32_t use = get_u32(r), sub = get_u32(r), uv = get_u32(r);
  folder *f = folder_alloc(name, MAILSTORE_USE_NONE, uv);
  g_free(name);
  if (g_tree_lookup(a->folders, f->name) || use >= MAILSTORE_USE_COUNT || uv == 0 ||
      uv >= next_uv) {
    folder_free(f);
    return false;
  }
  g_tree_insert(a->folders, f->name, f);
  f->use = use;
  f->subscribed = sub != 0;
  f->uidnext = get_u32(r);
  f->recent_from = get_u32(r);
  if (f->recent_from == 0 || f->recent_from > f->uidnext || f->uidnext == 0)
    return false;
  f->modseq = get_u64(r);
  f->log_floor = get_u64(r);
  uint32_t nkw = get_u32(r);
  if (nkw > MAILSTORE_MAX_KEYWORDS)
    return false;
  for (uint32_t i = 0; i < nkw && !r->bad; i++) {
    char *k = get_str(r);
    if (k)
      g_ptr_array_add(f->kws, k);
  }
  uint32_t nlog = get_u32(r);
  if (nlog > MAILSTORE_LOG_MAX)
    return false;
  for (uint32_t i = 0; i < nlog && !r->bad; i++) {
    mailstore_change c;
    c.modseq = get_u64(r);
    uint32_t kind = get_u32(r);
    c.uid = get_u32(r);
    if (kind > MAILSTORE_CH_FLAGS || c.modseq > f->modseq ||
        (f->log->len && c.modseq <= g_array_index(f->log, mailstore_change, f->log->len - 1).modseq))
      return false; /* the log is in increasing modseq order */
    c.kind = kind;
    g_array_append_val(f->log, c);
  }
  uint32_t nmsg = get_u32(r);
  uint32_t last = 0;
  for (uint32_t i = 0; i < nmsg && !r->bad; i++) {
    msg m;
    m.uid = get_u32(r);
    m.flags = get_u32(r) & MAILSTORE_F_ALL;
    m.kw = get_u64(r);
    m.date = (int64_t)get_u64(r);
    m.modseq = get_u64(r);
    uint32_t bi = get_u32(r);
    /* UIDs strictly increasing and below UIDNEXT (RFC 3501 §2.3.1.1). */
    if (r->bad || m.uid <= last || m.uid >= f->uidnext || bi >= blobs->len || m.modseq > f->modseq)
      return false;
    last = m.uid;
    m.data = g_bytes_ref(g_ptr_array_index(blobs, bi));
    f->bytes += g_bytes_get_size(m.data);
    g_array_append_val(f->msgs, m);
  }
  return !r->bad;
}

mailstore *mailstore_load(GBytes *blob, mailstore_err *err) {
  gsize n;
  const uint8_t *p = g_bytes_get_data(blob, &n);
  reader r = {p, n, 0, false};
  mailstore *s = NULL;
  GPtrArray *blobs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  if (n < 8 || memcmp(p, IMAGE_MAGIC, 8) != 0)
    goto bad;
  r.off = 8;
  uint32_t nblobs = get_u32(&r);
  for (uint32_t i = 0; i < nblobs && !r.bad; i++) {
    uint64_t len = get_u64(&r);
    if (len > SIZE_MAX || !need(&r, (size_t)len))
      goto bad;
    g_ptr_array_add(blobs, g_bytes_new_from_bytes(blob, r.off, (gsize)len));
    r.off += (size_t)len;
  }
  uint32_t nuv = get_u32(&r);
  if (r.bad || nuv == 0)
    goto bad;
  s = mailstore_new(nuv);
  uint32_t nusers = get_u32(&r);
  for (uint32_t i = 0; i < nusers && !r.bad; i++) {
    char *name = get_str(&r);
    if (!name || acct(s, name)) {
      g_free(name);
      goto bad;
    }
    account *a = account_alloc(name);
    g_free(name);
    g_tree_insert(s->users, a->name, a);
    a->qbytes = get_u64(&r);
    a->qmsgs = get_u64(&r);
    uint32_t nf = get_u32(&r);
    for (uint32_t j = 0; j < nf && !r.bad; j++)
      if (!load_folder(&r, a, blobs, nuv))
        goto bad;
  }
  if (r.bad || r.off != r.n)
    goto bad;
  g_ptr_array_unref(blobs);
  if (err)
    *err = MAILSTORE_OK;
  return s;
bad:
  g_ptr_array_unref(blobs);
  mailstore_free(s);
  if (err)
    *err = MAILSTORE_ERR_CORRUPT;
  return NULL;
}
