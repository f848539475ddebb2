/* imap_srv_msg.c — IMAP server: message commands.
 *
 * FETCH (RFC 3501 §6.4.5, responses §7.4.2: FLAGS, INTERNALDATE,
 * RFC822.SIZE, RFC822[.HEADER|.TEXT], UID, BODY[section]<partial> and
 * BODY.PEEK; non-peek body fetches set \Seen and report the new FLAGS;
 * ENVELOPE/BODY/BODYSTRUCTURE and part sections through the optional MIME
 * provider), STORE (§6.4.6), COPY (§6.4.7, COPYUID RFC 4315 §3), MOVE
 * (RFC 6851), EXPUNGE and UID EXPUNGE (§6.4.3, RFC 4315 §2.1), SEARCH
 * (§6.4.4, every key; header and body keys are case-insensitive substring
 * searches over the raw bytes, SENT* keys read the Date: header).
 * Sequence sets naming a message number that does not exist are BAD
 * (§6.4.8 and §9 seq-number); UID sets simply match what exists.
 */
#include <string.h>

#include "imap_srv_int.h"

/* ---- helpers ---- */

/* Indexes into the view selected by C's set (sequence numbers, or UIDs
 * with C->uid). False (after answering BAD) on an invalid sequence set. */
static bool resolve(imap_srv *s, imap_cmd *c, GArray *out) {
  uint32_t n = s->view->len;
  if (!c->uid) {
    for (guint i = 0; i < c->set->len; i++) {
      imap_range r = g_array_index(c->set, imap_range, i);
      if ((r.lo != IMAP_STAR && r.lo > n) || (r.hi != IMAP_STAR && r.hi > n) || n == 0) {
        imap_srv__tagged(s, c->tag, "BAD", "Invalid message sequence number");
        return false;
      }
    }
  }
  uint32_t maxuid = n ? g_array_index(s->view, uint32_t, n - 1) : 0;
  for (guint i = 0; i < n; i++) {
    uint32_t uid = g_array_index(s->view, uint32_t, i);
    if (c->uid ? imap_set_contains(c->set, uid, maxuid) : imap_set_contains(c->set, i + 1, n))
      g_array_append_val(out, i);
  }
  return true;
}

/* Length of the header including the blank line that ends it. */
static size_t header_len(const uint8_t *p, size_t n) {
  if (n >= 2 && p[0] == '\r' && p[1] == '\n')
    return 2;
  if (n >= 1 && p[0] == '\n')
    return 1;
  /* Line by line: memchr finds each LF, then the end of the header is an
   * empty line after it. */
  for (size_t i = 0; i + 1 < n; i++) {
    const uint8_t *lf = memchr(p + i, '\n', n - 1 - i);
    if (!lf)
      break;
    i = (size_t)(lf - p);
    if (p[i + 1] == '\n')
      return i + 2;
    if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
      return i + 3;
  }
  return n;
}

static bool name_in(const GPtrArray *names, const uint8_t *p, size_t n) {
  for (guint i = 0; i < names->len; i++) {
    const char *f = g_ptr_array_index(names, i);
    if (strlen(f) == n && g_ascii_strncasecmp(f, (const char *)p, n) == 0)
      return true;
  }
  return false;
}

/* HEADER.FIELDS[.NOT] (RFC 3501 §6.4.5): the matching fields with their
 * continuation lines, then the blank line. */
static void header_fields(GString *out, const uint8_t *p, size_t hlen, const GPtrArray *names,
                          bool negate) {
  size_t i = 0;
  bool keep = false;
  while (i < hlen) {
    const uint8_t *nl = memchr(p + i, '\n', hlen - i);
    size_t end = nl ? (size_t)(nl - p) + 1 : hlen;
    size_t len = end - i;
    bool blank = (len == 2 && p[i] == '\r') || len == 1;
    if (blank)
      break;
    if (p[i] != ' ' && p[i] != '\t') {
      const uint8_t *colon = memchr(p + i, ':', len);
      keep = colon && (name_in(names, p + i, (size_t)(colon - (p + i))) != negate);
    }
    if (keep) {
      g_string_append_len(out, (const char *)p + i, (gssize)len);
      if (!nl)
        g_string_append(out, "\r\n");
    }
    i = end;
  }
  g_string_append(out, "\r\n");
}

/* Days since 1970-01-01 to civil date (H. Hinnant). */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t unix_of(const imap_srv *s, int64_t ns) {
  return s->cfg.epoch_unix + floor_div(ns, 1000000000);
}

static void internaldate(const imap_srv *s, GString *g, int64_t ns) {
  static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t t = unix_of(s, ns), day = floor_div(t, 86400), sec = t - day * 86400;
  int y;
  unsigned m, d;
  civil(day, &y, &m, &d);
  g_string_append_printf(g, "\"%2u-%s-%04d %02d:%02d:%02d +0000\"", d, mon[m - 1], y,
                         (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
}

/* The decimal V appended to G (what "%" G_GUINT64_FORMAT writes, without
 * printf: a FETCH response has several numbers per message). */
static void put_u64(GString *g, uint64_t v) {
  char b[20], *e = b + sizeof b, *d = e;
  do
    *--d = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  g_string_append_len(g, d, e - d);
}

/* The strings A, the number V, then B. */
static void put_num(GString *g, const char *a, uint64_t v, const char *b) {
  g_string_append(g, a);
  put_u64(g, v);
  g_string_append(g, b);
}

static void literal(GString *g, const uint8_t *p, size_t n) {
  put_num(g, "{", n, "}\r\n");
  g_string_append_len(g, (const char *)p, (gssize)n);
}

static bool is_multipart(const uint8_t *p, size_t hlen) {
  GPtrArray *ct = g_ptr_array_new();
  g_ptr_array_add(ct, (gpointer) "CONTENT-TYPE");
  GString *h = g_string_new(NULL);
  header_fields(h, p, hlen, ct, false);
  char *low = g_ascii_strdown(h->str, -1);
  bool r = strstr(low, "multipart/") != NULL;
  g_free(low);
  g_ptr_array_unref(ct);
  g_string_free(h, TRUE);
  return r;
}

/* ---- FETCH ---- */

static bool needs_mime(const imap_fetch_att *a) {
  return a->kind == IMAP_FA_ENVELOPE || a->kind == IMAP_FA_BODY || a->kind == IMAP_FA_BODYSTRUCTURE;
}

/* Appends the value of section A of MSG; false if it cannot be served. */
static bool section_value(imap_srv *s, GString *g, const imap_fetch_att *a, GBytes *msg) {
  gsize n;
  const uint8_t *p = g_bytes_get_data(msg, &n);
  size_t off = 0, len = n;
  GString *built = NULL;
  if (a->part && a->part->len) {
    size_t hl = header_len(p, n);
    imap_section_kind want =
        a->sec == IMAP_SEC_HEADER_FIELDS || a->sec == IMAP_SEC_HEADER_FIELDS_NOT ? IMAP_SEC_HEADER
                                                                                 : a->sec;
    if (s->has_mime) {
      if (!s->mime.section(s->mime.ud, msg, (const uint32_t *)(void *)a->part->data, a->part->len,
                           want, &off, &len) ||
          off > n || len > n - off)
        return false;
    } else if (a->part->len == 1 && g_array_index(a->part, uint32_t, 0) == 1 &&
               want == IMAP_SEC_ALL && !is_multipart(p, hl)) {
      off = hl;
      len = n - hl;
    } else {
      return false;
    }
    if (want != a->sec) {
      built = g_string_new(NULL);
      header_fields(built, p + off, len, a->fields, a->sec == IMAP_SEC_HEADER_FIELDS_NOT);
    }
  } else {
    /* the header's length only for the parts that need it (BODY[] is all) */
    size_t hl = a->sec == IMAP_SEC_ALL ? 0 : header_len(p, n);
    switch (a->sec) {
    case IMAP_SEC_ALL:
      break;
    case IMAP_SEC_HEADER:
      len = hl;
      break;
    case IMAP_SEC_TEXT:
      off = hl;
      len = n - hl;
      break;
    case IMAP_SEC_HEADER_FIELDS:
    case IMAP_SEC_HEADER_FIELDS_NOT:
      built = g_string_new(NULL);
      header_fields(built, p, hl, a->fields, a->sec == IMAP_SEC_HEADER_FIELDS_NOT);
      break;
    default:
      return false;
    }
  }
  const uint8_t *d = built ? (const uint8_t *)built->str : p + off;
  size_t dl = built ? built->len : len;
  g_string_append(g, "BODY[");
  g_string_append(g, a->spec);
  g_string_append_c(g, ']');
  if (a->partial) {
    put_num(g, "<", a->origin, ">");
    if (a->origin >= dl) {
      dl = 0;
    } else {
      d += a->origin;
      dl = MIN(dl - a->origin, (size_t)a->count);
    }
  }
  g_string_append_c(g, ' ');
  literal(g, d, dl);
  if (built)
    g_string_free(built, TRUE);
  return true;
}

void imap_srv__fetch(imap_srv *s, imap_cmd *c) {
  for (guint i = 0; i < c->fetch->len; i++)
    if (needs_mime(&g_array_index(c->fetch, imap_fetch_att, i)) && !s->has_mime) {
      imap_srv__tagged(s, c->tag, "NO",
                       "[CANNOT] ENVELOPE, BODY and BODYSTRUCTURE need the MIME provider");
      return;
    }
  GArray *idx = imap_srv__idx(s);
  if (!resolve(s, c, idx))
    return;
  bool gone = false, cannot = false;
  GString *g = g_string_new(NULL); /* one response line at a time */
  for (guint k = 0; k < idx->len && !cannot; k++) {
    guint i = g_array_index(idx, guint, k);
    uint32_t uid = g_array_index(s->view, uint32_t, i);
    imap_store_msg m;
    if (s->ops->msg(s->st, s->mbox, uid, &m) != IMAP_ST_OK) {
      gone = true;
      continue;
    }
    GBytes *data = g_bytes_ref(m.data);
    gsize n;
    const uint8_t *p = g_bytes_get_data(data, &n);
    /* Implicit \Seen (RFC 3501 §6.4.5) before building the response. */
    bool sets_seen = false, has_flags = false, body_event = false;
    for (guint j = 0; j < c->fetch->len; j++) {
      imap_fetch_att *a = &g_array_index(c->fetch, imap_fetch_att, j);
      if ((a->kind == IMAP_FA_SECTION && !a->peek) || a->kind == IMAP_FA_RFC822 ||
          a->kind == IMAP_FA_RFC822_TEXT)
        sets_seen = true;
      has_flags |= a->kind == IMAP_FA_FLAGS;
      body_event |= a->kind == IMAP_FA_RFC822 || a->kind == IMAP_FA_RFC822_TEXT ||
                    (a->kind == IMAP_FA_SECTION && (!a->part || !a->part->len) &&
                     (a->sec == IMAP_SEC_ALL || a->sec == IMAP_SEC_TEXT));
    }
    bool flags_changed = false;
    if (sets_seen && !s->readonly && !(m.flags & IMAP_F_SEEN)) {
      s->ops->set_flags(s->st, s->mbox, uid, '+', IMAP_F_SEEN, 0);
      m.flags |= IMAP_F_SEEN;
      flags_changed = true;
    }
    g_string_truncate(g, 0);
    put_num(g, "* ", i + 1, " FETCH (");
    bool first = true;
#define SEP() (first ? (void)(first = false) : (void)g_string_append_c(g, ' '))
    bool has_uid = false;
    for (guint j = 0; j < c->fetch->len; j++)
      has_uid |= g_array_index(c->fetch, imap_fetch_att, j).kind == IMAP_FA_UID;
    if (c->uid && !has_uid) { /* RFC 3501 §6.4.8: UID FETCH always returns UID */
      SEP();
      put_num(g, "UID ", uid, "");
    }
    for (guint j = 0; j < c->fetch->len && !cannot; j++) {
      imap_fetch_att *a = &g_array_index(c->fetch, imap_fetch_att, j);
      SEP();
      switch (a->kind) {
      case IMAP_FA_UID:
        put_num(g, "UID ", uid, "");
        break;
      case IMAP_FA_FLAGS:
        g_string_append(g, "FLAGS ");
        imap_srv__flags(s, g, uid, m.flags, m.keywords);
        break;
      case IMAP_FA_INTERNALDATE:
        g_string_append(g, "INTERNALDATE ");
        internaldate(s, g, m.internal_date);
        break;
      case IMAP_FA_RFC822_SIZE:
        put_num(g, "RFC822.SIZE ", n, "");
        break;
      case IMAP_FA_RFC822:
        g_string_append(g, "RFC822 ");
        literal(g, p, n);
        break;
      case IMAP_FA_RFC822_HEADER:
        g_string_append(g, "RFC822.HEADER ");
        literal(g, p, header_len(p, n));
        break;
      case IMAP_FA_RFC822_TEXT: {
        size_t hl = header_len(p, n);
        g_string_append(g, "RFC822.TEXT ");
        literal(g, p + hl, n - hl);
        break;
      }
      case IMAP_FA_ENVELOPE:
      case IMAP_FA_BODY:
      case IMAP_FA_BODYSTRUCTURE: {
        char *v = a->kind == IMAP_FA_ENVELOPE
                      ? s->mime.envelope(s->mime.ud, data)
                      : s->mime.bodystructure(s->mime.ud, data, a->kind == IMAP_FA_BODYSTRUCTURE);
        if (!v) {
          cannot = true;
          break;
        }
        g_string_append(g, a->kind == IMAP_FA_ENVELOPE ? "ENVELOPE "
                           : a->kind == IMAP_FA_BODY   ? "BODY "
                                                       : "BODYSTRUCTURE ");
        g_string_append(g, v);
        g_free(v);
        break;
      }
      case IMAP_FA_SECTION:
        if (!section_value(s, g, a, data))
          cannot = true;
        break;
      default:
        g_error("imap_srv__fetch: bad attribute %d", a->kind);
      }
    }
    if (flags_changed && !has_flags) {
      SEP();
      g_string_append(g, "FLAGS ");
      imap_srv__flags(s, g, uid, m.flags, m.keywords);
    }
#undef SEP
    g_string_append(g, ")\r\n");
    if (!cannot) {
      imap_srv__out(s, g->str, g->len);
      if (body_event)
        imap_srv__push_fetch_event(s, uid);
    }
    g_bytes_unref(data);
  }
  g_string_free(g, TRUE);
  if (cannot)
    imap_srv__tagged(s, c->tag, "NO", "[CANNOT] This body part needs the MIME provider");
  else if (gone)
    imap_srv__tagged(s, c->tag, "NO", "[EXPUNGEISSUED] Some messages were expunged");
  else
    imap_srv__tagged(s, c->tag, "OK", "%sFETCH completed", c->uid ? "UID " : "");
}

/* ---- STORE ---- */

void imap_srv__store(imap_srv *s, imap_cmd *c) {
  if (s->readonly) {
    imap_srv__tagged(s, c->tag, "NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  uint32_t flags;
  uint64_t kw;
  if (!imap_srv__parse_flags(s, s->mbox, c->list, c->store_mode != '-', &flags, &kw)) {
    imap_srv__tagged(s, c->tag, "BAD", "Invalid system flag");
    return;
  }
  GArray *idx = imap_srv__idx(s);
  if (!resolve(s, c, idx))
    return;
  bool gone = false;
  for (guint k = 0; k < idx->len; k++) {
    guint i = g_array_index(idx, guint, k);
    uint32_t uid = g_array_index(s->view, uint32_t, i);
    imap_store_msg m;
    if (s->ops->set_flags(s->st, s->mbox, uid, c->store_mode, flags, kw) != IMAP_ST_OK ||
        s->ops->msg(s->st, s->mbox, uid, &m) != IMAP_ST_OK) {
      gone = true;
      continue;
    }
    if (c->silent)
      continue;
    GString *g = g_string_new(NULL);
    imap_srv__flags(s, g, uid, m.flags, m.keywords);
    if (c->uid)
      imap_srv__untagged(s, "%u FETCH (UID %u FLAGS %s)", i + 1, uid, g->str);
    else
      imap_srv__untagged(s, "%u FETCH (FLAGS %s)", i + 1, g->str);
    g_string_free(g, TRUE);
  }
  if (gone)
    imap_srv__tagged(s, c->tag, "NO", "[EXPUNGEISSUED] Some messages were expunged");
  else
    imap_srv__tagged(s, c->tag, "OK", "%sSTORE completed", c->uid ? "UID " : "");
}

/* ---- COPY / MOVE ---- */

/* "1:3,7" from an increasing list of UIDs. */
static void uid_set_text(GString *g, const GArray *u) {
  for (guint i = 0; i < u->len;) {
    uint32_t a = g_array_index(u, uint32_t, i), b = a;
    guint j = i + 1;
    while (j < u->len && g_array_index(u, uint32_t, j) == b + 1)
      b = g_array_index(u, uint32_t, j++);
    g_string_append_printf(g, "%s%u", i ? "," : "", a);
    if (b != a)
      g_string_append_printf(g, ":%u", b);
    i = j;
  }
}

void imap_srv__copy(imap_srv *s, imap_cmd *c) {
  bool move = c->verb == IMAP_VERB_MOVE;
  if (move && s->readonly) {
    imap_srv__tagged(s, c->tag, "NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  imap_store_status st;
  imap_store_err e = s->ops->status(s->st, c->arg1, &st);
  if (e) {
    imap_srv__tagged(s, c->tag, "NO", "%s",
                     e == IMAP_ST_NONEXISTENT ? "[TRYCREATE] No such mailbox"
                                              : imap_srv__err_text(e));
    return;
  }
  GArray *idx = imap_srv__idx(s);
  if (!resolve(s, c, idx))
    return;
  GArray *src = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  GArray *dst = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  imap_store_err fail = IMAP_ST_OK;
  for (guint k = 0; k < idx->len && !fail; k++) {
    uint32_t uid = g_array_index(s->view, uint32_t, g_array_index(idx, guint, k));
    uint32_t nu;
    e = s->ops->copy(s->st, s->mbox, uid, c->arg1, &nu);
    if (e == IMAP_ST_NOMSG)
      continue; /* expunged meanwhile (RFC 2180 §4.4.1) */
    if (e) {
      fail = e;
      break;
    }
    g_array_append_val(src, uid);
    g_array_append_val(dst, nu);
  }
  if (fail) { /* RFC 3501 §6.4.7: all or nothing */
    s->ops->expunge(s->st, c->arg1, (const uint32_t *)(void *)dst->data, dst->len);
    imap_srv__tagged(s, c->tag, "NO", "%s", imap_srv__err_text(fail));
  } else {
    GString *code = g_string_new(NULL);
    if (src->len) {
      g_string_append_printf(code, "[COPYUID %u ", st.uidvalidity);
      uid_set_text(code, src);
      g_string_append_c(code, ' ');
      uid_set_text(code, dst);
      g_string_append(code, "] ");
    }
    if (move) {
      /* RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGEs. */
      if (src->len)
        imap_srv__untagged(s, "OK %sMoved", code->str);
      if (s->ops->expunge(s->st, s->mbox, (const uint32_t *)(void *)src->data, src->len) ==
          IMAP_ST_OK)
        imap_srv__expunge_view(s, src, false);
      imap_srv__tagged(s, c->tag, "OK", "%sMOVE completed", c->uid ? "UID " : "");
    } else {
      imap_srv__tagged(s, c->tag, "OK", "%s%sCOPY completed", code->str, c->uid ? "UID " : "");
    }
    g_string_free(code, TRUE);
  }
  g_array_free(src, TRUE);
  g_array_free(dst, TRUE);
}

/* ---- EXPUNGE ---- */

void imap_srv__do_expunge(imap_srv *s, const GArray *uid_set, bool silent) {
  uint32_t maxuid = s->view->len ? g_array_index(s->view, uint32_t, s->view->len - 1) : 0;
  GArray *del = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < s->view->len; i++) {
    uint32_t uid = g_array_index(s->view, uint32_t, i);
    imap_store_msg m;
    if (uid_set && !imap_set_contains(uid_set, uid, maxuid))
      continue;
    if (s->ops->msg(s->st, s->mbox, uid, &m) == IMAP_ST_OK && (m.flags & IMAP_F_DELETED))
      g_array_append_val(del, uid);
  }
  if (s->ops->expunge(s->st, s->mbox, (const uint32_t *)(void *)del->data, del->len) == IMAP_ST_OK)
    imap_srv__expunge_view(s, del, silent);
  g_array_free(del, TRUE);
}

void imap_srv__expunge(imap_srv *s, imap_cmd *c) {
  if (s->readonly) {
    imap_srv__tagged(s, c->tag, "NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  imap_srv__do_expunge(s, c->uid ? c->set : NULL, false);
  imap_srv__tagged(s, c->tag, "OK", "%sEXPUNGE completed", c->uid ? "UID " : "");
}

/* ---- SEARCH ---- */

typedef struct {
  imap_srv *s;
  uint32_t seq, uid, nmsg, maxuid;
  imap_store_msg m;
  const uint8_t *p;
  size_t n;
} sctx;

/* The length of the message's header: worked out only for the keys that
 * look at it (most searches, UNSEEN or UID sets, never do). */
static size_t sctx_hl(const sctx *x) { return header_len(x->p, x->n); }

static bool contains_ci(const uint8_t *hay, size_t hn, const char *needle) {
  size_t nn = strlen(needle);
  if (!nn)
    return true;
  for (size_t i = 0; i + nn <= hn; i++)
    if (g_ascii_strncasecmp((const char *)hay + i, needle, nn) == 0)
      return true;
  return false;
}

/* Whether header FIELD exists and (unfolded) contains VALUE. */
static bool header_has(const sctx *x, const char *field, const char *value) {
  GPtrArray *names = g_ptr_array_new();
  g_ptr_array_add(names, (gpointer)field);
  GString *h = g_string_new(NULL);
  header_fields(h, x->p, sctx_hl(x), names, false);
  g_ptr_array_unref(names);
  bool found = false;
  /* each field: "Name: value" possibly folded; look after each colon */
  char **lines = g_strsplit(h->str, "\r\n", -1);
  GString *cur = NULL;
  for (char **l = lines;; l++) {
    bool cont = *l && (**l == ' ' || **l == '\t');
    if (cur && !cont) {
      const char *colon = strchr(cur->str, ':');
      if (colon && contains_ci((const uint8_t *)colon + 1, strlen(colon + 1), value))
        found = true;
      g_string_free(cur, TRUE);
      cur = NULL;
    }
    if (!*l)
      break;
    if (cont && cur)
      g_string_append(cur, *l);
    else if (**l)
      cur = g_string_new(*l);
  }
  g_strfreev(lines);
  g_string_free(h, TRUE);
  return found;
}

/* Day of the Date: header (RFC 5322 §3.3), ignoring time and zone
 * (RFC 3501 §6.4.4 SENT*). */
static bool sent_day(const sctx *x, int64_t *day) {
  GPtrArray *names = g_ptr_array_new();
  g_ptr_array_add(names, (gpointer) "DATE");
  GString *h = g_string_new(NULL);
  header_fields(h, x->p, sctx_hl(x), names, false);
  g_ptr_array_unref(names);
  bool ok = false;
  const char *v = strchr(h->str, ':');
  if (v) {
    v++;
    const char *comma = strchr(v, ',');
    if (comma)
      v = comma + 1;
    while (*v == ' ' || *v == '\t')
      v++;
    char dd[3] = {0}, mon[4] = {0}, yy[5] = {0};
    int i = 0;
    while (g_ascii_isdigit(*v) && i < 2)
      dd[i++] = *v++;
    while (*v == ' ')
      v++;
    for (i = 0; i < 3 && g_ascii_isalpha(*v); i++)
      mon[i] = *v++;
    while (*v == ' ')
      v++;
    for (i = 0; i < 4 && g_ascii_isdigit(*v); i++)
      yy[i] = *v++;
    if (*dd && strlen(mon) == 3 && strlen(yy) == 4) {
      char *t = g_strdup_printf("%s-%s-%s", dd, mon, yy);
      ok = imap_parse_date(t, day);
      g_free(t);
    }
  }
  g_string_free(h, TRUE);
  return ok;
}

static bool eval(sctx *x, const imap_search_key *k) {
  imap_srv *s = x->s;
  uint32_t f = x->m.flags;
  int64_t iday = floor_div(unix_of(s, x->m.internal_date), 86400), sday;
  switch (k->kind) {
  case IMAP_SK_ALL:
    return true;
  case IMAP_SK_ANSWERED:
    return f & IMAP_F_ANSWERED;
  case IMAP_SK_DELETED:
    return f & IMAP_F_DELETED;
  case IMAP_SK_DRAFT:
    return f & IMAP_F_DRAFT;
  case IMAP_SK_FLAGGED:
    return f & IMAP_F_FLAGGED;
  case IMAP_SK_SEEN:
    return f & IMAP_F_SEEN;
  case IMAP_SK_UNANSWERED:
    return !(f & IMAP_F_ANSWERED);
  case IMAP_SK_UNDELETED:
    return !(f & IMAP_F_DELETED);
  case IMAP_SK_UNDRAFT:
    return !(f & IMAP_F_DRAFT);
  case IMAP_SK_UNFLAGGED:
    return !(f & IMAP_F_FLAGGED);
  case IMAP_SK_UNSEEN:
    return !(f & IMAP_F_SEEN);
  case IMAP_SK_NEW:
    return imap_srv__is_recent(s, x->uid) && !(f & IMAP_F_SEEN);
  case IMAP_SK_RECENT:
    return imap_srv__is_recent(s, x->uid);
  case IMAP_SK_OLD:
    return !imap_srv__is_recent(s, x->uid);
  case IMAP_SK_KEYWORD:
  case IMAP_SK_UNKEYWORD: {
    int i = s->ops->keyword_index(s->st, s->mbox, k->str, false);
    bool has = i >= 0 && (x->m.keywords & (UINT64_C(1) << i));
    return k->kind == IMAP_SK_KEYWORD ? has : !has;
  }
  case IMAP_SK_LARGER:
    return x->n > k->num;
  case IMAP_SK_SMALLER:
    return x->n < k->num;
  case IMAP_SK_BEFORE:
    return iday < k->day;
  case IMAP_SK_ON:
    return iday == k->day;
  case IMAP_SK_SINCE:
    return iday >= k->day;
  case IMAP_SK_SENTBEFORE:
    return sent_day(x, &sday) && sday < k->day;
  case IMAP_SK_SENTON:
    return sent_day(x, &sday) && sday == k->day;
  case IMAP_SK_SENTSINCE:
    return sent_day(x, &sday) && sday >= k->day;
  case IMAP_SK_FROM:
    return header_has(x, "FROM", k->str);
  case IMAP_SK_TO:
    return header_has(x, "TO", k->str);
  case IMAP_SK_CC:
    return header_has(x, "CC", k->str);
  case IMAP_SK_BCC:
    return header_has(x, "BCC", k->str);
  case IMAP_SK_SUBJECT:
    return header_has(x, "SUBJECT", k->str);
  case IMAP_SK_HEADER: {
    char *u = g_ascii_strup(k->str, -1);
    bool r = header_has(x, u, k->str2);
    g_free(u);
    return r;
  }
  case IMAP_SK_BODY: {
    size_t hl = sctx_hl(x);
    return contains_ci(x->p + hl, x->n - hl, k->str);
  }
  case IMAP_SK_TEXT:
    return contains_ci(x->p, x->n, k->str);
  case IMAP_SK_UID:
    return imap_set_contains(k->set, x->uid, x->maxuid);
  case IMAP_SK_SEQSET:
    return imap_set_contains(k->set, x->seq, x->nmsg);
  case IMAP_SK_NOT:
    return !eval(x, g_ptr_array_index(k->kids, 0));
  case IMAP_SK_OR:
    return eval(x, g_ptr_array_index(k->kids, 0)) || eval(x, g_ptr_array_index(k->kids, 1));
  case IMAP_SK_AND:
    for (guint i = 0; i < k->kids->len; i++)
      if (!eval(x, g_ptr_array_index(k->kids, i)))
        return false;
    return true;
  default:
    g_error("imap_srv search: bad key %d", k->kind);
  }
}

void imap_srv__search(imap_srv *s, imap_cmd *c) {
  if (c->charset && g_ascii_strcasecmp(c->charset, "UTF-8") != 0 &&
      g_ascii_strcasecmp(c->charset, "US-ASCII") != 0) {
    imap_srv__tagged(s, c->tag, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    return;
  }
  /* "* SEARCH n n ...\r\n" written straight into the output (the
   * untagged line imap_srv__untagged would write, without a copy). */
  imap_srv__out(s, "* SEARCH", 8);
  sctx x = {.s = s, .nmsg = s->view->len};
  x.maxuid = x.nmsg ? g_array_index(s->view, uint32_t, x.nmsg - 1) : 0;
  for (guint i = 0; i < s->view->len; i++) {
    x.seq = i + 1;
    x.uid = g_array_index(s->view, uint32_t, i);
    if (s->ops->msg(s->st, s->mbox, x.uid, &x.m) != IMAP_ST_OK)
      continue;
    gsize n;
    x.p = g_bytes_get_data(x.m.data, &n);
    x.n = n;
    if (eval(&x, c->search)) {
      uint32_t v = c->uid ? x.uid : x.seq;
      char b[12], *e = b + sizeof b, *d = e;
      do
        *--d = (char)('0' + v % 10);
      while ((v /= 10) != 0);
      *--d = ' ';
      imap_srv__out(s, d, (size_t)(e - d));
    }
  }
  imap_srv__out(s, "\r\n", 2);
  imap_srv__tagged(s, c->tag, "OK", "%sSEARCH completed", c->uid ? "UID " : "");
}
