/* imap_srv_mbox.c — IMAP server: mailbox commands.
 *
 * SELECT/EXAMINE (RFC 3501 §6.3.1-2, responses §7.1 and §7.3), CREATE
 * (§6.3.3), DELETE (§6.3.4), RENAME (§6.3.5), SUBSCRIBE/UNSUBSCRIBE
 * (§6.3.6-7), LIST/LSUB (§6.3.8-9 with "*" and "%" wildcards; SPECIAL-USE
 * attributes RFC 6154; \HasChildren/\HasNoChildren RFC 3348), STATUS
 * (§6.3.10), APPEND (§6.3.11, APPENDUID RFC 4315 §3), CLOSE (§6.4.2) and
 * UNSELECT (RFC 3691). Names are modified UTF-7 (§5.1.3); invalid
 * spellings are refused at CREATE and RENAME.
 */
#include <string.h>

#include "imap_mutf7.h"
#include "imap_srv_int.h"

static void no_store(imap_srv *s, imap_cmd *c, imap_store_err e) {
  if (e == IMAP_ST_NONEXISTENT &&
      (c->verb == IMAP_VERB_APPEND || c->verb == IMAP_VERB_COPY || c->verb == IMAP_VERB_MOVE))
    imap_srv__tagged(s, c->tag, "NO", "[TRYCREATE] No such mailbox");
  else
    imap_srv__tagged(s, c->tag, "NO", "%s", imap_srv__err_text(e));
}

/* Untagged lines put together on the stack, written out at once. */
typedef struct {
  char b[192];
  size_t n;
} lines;

static void ln_str(lines *l, const char *t) {
  size_t k = strlen(t);
  g_assert(l->n + k <= sizeof l->b);
  memcpy(l->b + l->n, t, k);
  l->n += k;
}

/* N in decimal, as "%u" writes it. */
static void ln_u32(lines *l, uint32_t v) {
  char d[10];
  int i = 0;
  do
    d[i++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  g_assert(l->n + (size_t)i <= sizeof l->b);
  while (i)
    l->b[l->n++] = d[--i];
}

/* "* PRE N POST\r\n" */
static void ln_num(lines *l, const char *pre, uint32_t n, const char *post) {
  ln_str(l, "* ");
  ln_str(l, pre);
  ln_u32(l, n);
  ln_str(l, post);
  ln_str(l, "\r\n");
}

void imap_srv__select(imap_srv *s, imap_cmd *c) {
  bool examine = c->verb == IMAP_VERB_EXAMINE;
  if (s->mbox) {
    imap_srv__deselect(s);
    imap_srv__enter(s, IMAP_SRV_AUTHENTICATED);
  }
  imap_store_status st;
  imap_store_err e = s->ops->status(s->st, c->arg1, &st);
  if (e != IMAP_ST_OK) {
    no_store(s, c, e);
    return;
  }
  s->ops->uids(s->st, c->arg1, s->view);
  s->mbox = g_ref_string_new(c->arg1);
  s->readonly = examine;
  s->uidvalidity = st.uidvalidity;
  s->modseq_seen = st.highest_modseq;
  GString *kw = NULL; /* " k1 k2 ...", made only for a mailbox with keywords */
  for (unsigned i = 0;; i++) {
    const char *k = s->ops->keyword_name(s->st, s->mbox, i);
    if (!k)
      break;
    if (!kw)
      kw = g_string_new(NULL);
    g_string_append_c(kw, ' ');
    g_string_append(kw, k);
  }
  /* RFC 3501 §7.2.6, §7.1 PERMANENTFLAGS, §7.3.1; the lines without
   * keywords are fixed texts (none starts with BYE: no REPLY event) */
  lines l = {.n = 0};
  if (kw) {
    const char *kws = kw->str;
    imap_srv__untagged(s, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)", kws);
    if (examine)
      imap_srv__untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox");
    else
      imap_srv__untagged(
          s, "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s \\*)] Flags permitted",
          kws);
    g_string_free(kw, TRUE);
  } else {
    ln_str(&l, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
    ln_str(&l, examine ? "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"
                       : "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                         "Flags permitted\r\n");
  }
  ln_num(&l, "", s->view->len, " EXISTS");
  imap_srv__take_recent(s, (const uint32_t *)(void *)s->view->data, s->view->len);
  ln_num(&l, "", s->recent->len, " RECENT");
  imap_srv__out(s, l.b, l.n);
  l.n = 0;
  /* the first unseen message, if the store counts one (imap_store.h) */
  for (guint i = 0; st.unseen && i < s->view->len; i++) {
    imap_store_msg m;
    if (s->ops->msg(s->st, s->mbox, g_array_index(s->view, uint32_t, i), &m) == IMAP_ST_OK &&
        !(m.flags & IMAP_F_SEEN)) {
      imap_srv__untagged(s, "OK [UNSEEN %u] First unseen", i + 1);
      break;
    }
  }
  ln_num(&l, "OK [UIDVALIDITY ", st.uidvalidity, "] UIDs valid");
  ln_num(&l, "OK [UIDNEXT ", st.uidnext, "] Predicted next UID");
  imap_srv__out(s, l.b, l.n);
  imap_srv__enter(s, IMAP_SRV_SELECTED);
  imap_srv__tagged(s, c->tag, "OK", "[%s] %s completed", examine ? "READ-ONLY" : "READ-WRITE",
                   examine ? "EXAMINE" : "SELECT");
}

/* Trailing delimiter is allowed and ignored (RFC 3501 §6.3.3). */
static char *strip_delim(const char *name) {
  size_t n = strlen(name);
  if (n > 1 && name[n - 1] == '/')
    n--;
  char *r = g_strndup(name, n);
  if (g_ascii_strcasecmp(r, "INBOX") == 0) {
    g_free(r);
    r = g_strdup("INBOX");
  }
  return r;
}

static bool name_ok(imap_srv *s, imap_cmd *c, const char *name) {
  if (!*name || !imap_mutf7_valid(name)) {
    imap_srv__tagged(s, c->tag, "NO", "[CANNOT] Invalid mailbox name");
    return false;
  }
  return true;
}

void imap_srv__create(imap_srv *s, imap_cmd *c) {
  char *name = strip_delim(c->arg1);
  if (name_ok(s, c, name)) {
    imap_store_err e = s->ops->create(s->st, name);
    if (e)
      no_store(s, c, e);
    else
      imap_srv__tagged(s, c->tag, "OK", "CREATE completed");
  }
  g_free(name);
}

void imap_srv__delete(imap_srv *s, imap_cmd *c) {
  if (strcmp(c->arg1, "INBOX") == 0) {
    imap_srv__tagged(s, c->tag, "NO", "[CANNOT] INBOX cannot be deleted");
    return;
  }
  imap_store_err e = s->ops->remove(s->st, c->arg1);
  if (e)
    no_store(s, c, e);
  else
    imap_srv__tagged(s, c->tag, "OK", "DELETE completed");
}

void imap_srv__rename(imap_srv *s, imap_cmd *c) {
  char *to = strip_delim(c->arg2);
  if (name_ok(s, c, to)) {
    imap_store_err e = s->ops->rename(s->st, c->arg1, to);
    if (e)
      no_store(s, c, e);
    else
      imap_srv__tagged(s, c->tag, "OK", "RENAME completed");
  }
  g_free(to);
}

void imap_srv__subscribe(imap_srv *s, imap_cmd *c) {
  bool on = c->verb == IMAP_VERB_SUBSCRIBE;
  imap_store_err e = s->ops->subscribe(s->st, c->arg1, on);
  if (e)
    no_store(s, c, e);
  else
    imap_srv__tagged(s, c->tag, "OK", "%s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
}

/* RFC 3501 §6.3.8: "*" matches anything, "%" anything but the hierarchy
 * delimiter. A DP over (pattern, name), O(|p|·|n|), no backtracking
 * blow-up. "INBOX" matches case-insensitively. */
static bool list_match(const char *pat, const char *name) {
  size_t m = strlen(name);
  bool inbox = g_ascii_strncasecmp(name, "INBOX", 5) == 0 && (name[5] == 0 || name[5] == '/');
  bool *dp = g_new0(bool, m + 1), *nx = g_new0(bool, m + 1);
  dp[0] = true;
  for (const char *p = pat; *p; p++) {
    if (*p == '*') {
      bool any = false;
      for (size_t j = 0; j <= m; j++)
        nx[j] = any = any || dp[j];
    } else if (*p == '%') {
      nx[0] = dp[0];
      for (size_t j = 1; j <= m; j++)
        nx[j] = dp[j] || (nx[j - 1] && name[j - 1] != '/');
    } else {
      nx[0] = false;
      for (size_t j = 1; j <= m; j++) {
        bool eq = inbox && j <= 5 ? g_ascii_tolower(*p) == g_ascii_tolower(name[j - 1])
                                  : *p == name[j - 1];
        nx[j] = dp[j - 1] && eq;
      }
    }
    bool *t = dp;
    dp = nx;
    nx = t;
  }
  bool r = dp[m];
  g_free(dp);
  g_free(nx);
  return r;
}

void imap_srv__list(imap_srv *s, imap_cmd *c) {
  bool lsub = c->verb == IMAP_VERB_LSUB;
  const char *verb = lsub ? "LSUB" : "LIST";
  if (!*c->arg2) { /* RFC 3501 §6.3.8: the delimiter and root */
    if (!lsub)
      imap_srv__untagged(s, "LIST (\\Noselect) \"/\" \"\"");
    imap_srv__tagged(s, c->tag, "OK", "%s completed", verb);
    return;
  }
  char *pat = g_strconcat(c->arg1, c->arg2, NULL);
  GPtrArray *names = s->ops->folders(s->st);
  for (guint i = 0; i < names->len; i++) {
    const char *n = g_ptr_array_index(names, i);
    if (!list_match(pat, n))
      continue;
    imap_store_status st;
    if (s->ops->status(s->st, n, &st) != IMAP_ST_OK || (lsub && !st.subscribed))
      continue;
    bool kids = false;
    size_t nl = strlen(n);
    for (guint j = 0; j < names->len && !kids; j++) {
      const char *o = g_ptr_array_index(names, j);
      kids = strncmp(o, n, nl) == 0 && o[nl] == '/';
    }
    GString *g = g_string_new(NULL);
    g_string_append_printf(g, "%s (%s", verb, kids ? "\\HasChildren" : "\\HasNoChildren");
    if (st.special_use && *st.special_use)
      g_string_append_printf(g, " %s", st.special_use);
    if (!lsub && st.subscribed)
      g_string_append(g, " \\Subscribed");
    g_string_append(g, ") \"/\" ");
    imap_srv__astring(g, n);
    imap_srv__untagged(s, "%s", g->str);
    g_string_free(g, TRUE);
  }
  g_ptr_array_unref(names);
  g_free(pat);
  imap_srv__tagged(s, c->tag, "OK", "%s completed", verb);
}

void imap_srv__status(imap_srv *s, imap_cmd *c) {
  imap_store_status st;
  GString *g = g_string_new(NULL);
  for (guint i = 0; i < c->list->len; i++) {
    const char *it = g_ptr_array_index(c->list, i);
    if (strcmp(it, "MESSAGES") && strcmp(it, "RECENT") && strcmp(it, "UIDNEXT") &&
        strcmp(it, "UIDVALIDITY") && strcmp(it, "UNSEEN")) {
      imap_srv__tagged(s, c->tag, "BAD", "Unknown STATUS item %s", it);
      g_string_free(g, TRUE);
      return;
    }
  }
  imap_store_err e = s->ops->status(s->st, c->arg1, &st);
  if (e) {
    no_store(s, c, e);
    g_string_free(g, TRUE);
    return;
  }
  g_string_append(g, "STATUS ");
  imap_srv__astring(g, c->arg1);
  g_string_append(g, " (");
  for (guint i = 0; i < c->list->len; i++) {
    const char *it = g_ptr_array_index(c->list, i);
    uint32_t v = !strcmp(it, "MESSAGES")      ? st.messages
                 : !strcmp(it, "RECENT")      ? st.recent
                 : !strcmp(it, "UIDNEXT")     ? st.uidnext
                 : !strcmp(it, "UIDVALIDITY") ? st.uidvalidity
                                              : st.unseen;
    g_string_append_printf(g, "%s%s %u", i ? " " : "", it, v);
  }
  g_string_append(g, ")");
  imap_srv__untagged(s, "%s", g->str);
  g_string_free(g, TRUE);
  imap_srv__tagged(s, c->tag, "OK", "STATUS completed");
}

void imap_srv__append(imap_srv *s, imap_cmd *c) {
  imap_store_status st;
  imap_store_err e = s->ops->status(s->st, c->arg1, &st);
  if (e) {
    no_store(s, c, e);
    return;
  }
  uint32_t flags;
  uint64_t kw;
  if (!imap_srv__parse_flags(s, c->arg1, c->list, true, &flags, &kw)) {
    imap_srv__tagged(s, c->tag, "BAD", "Invalid flag in APPEND");
    return;
  }
  int64_t date = s->now;
  if (c->has_date)
    date = (c->date_unix - s->cfg.epoch_unix) * 1000000000;
  uint32_t uid;
  e = s->ops->append(s->st, c->arg1, c->message, flags, kw, date, &uid);
  if (e) {
    no_store(s, c, e);
    return;
  }
  imap_srv__tagged(s, c->tag, "OK", "[APPENDUID %u %u] APPEND completed", st.uidvalidity, uid);
}

void imap_srv__close(imap_srv *s, imap_cmd *c) {
  if (c->verb == IMAP_VERB_CLOSE && !s->readonly)
    imap_srv__do_expunge(s, NULL, true); /* RFC 3501 §6.4.2: silently */
  imap_srv__deselect(s);
  imap_srv__enter(s, IMAP_SRV_AUTHENTICATED);
  imap_srv__tagged(s, c->tag, "OK", "%s completed", imap_verb_name(c->verb));
}
