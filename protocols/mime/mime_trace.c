/* mime_trace.c — Received fields.
 *
 * Writing follows RFC 5321 §4.4: Stamp = From-domain By-domain Opt-info
 * [CFWS] ";" FWS date-time, with From-domain "from" Extended-Domain
 * (domain followed by the TCP-info comment "(name [address])"), By-domain,
 * then With (protocol names of RFC 3848), ID and For; the date is
 * RFC 5322 §3.3. Reading is tolerant because Received fields in the wild
 * vary: keywords are matched case-insensitively anywhere, a comment
 * attaches to the clause before it, and the date is what follows the last
 * ';' outside comments. */
#include "mime_trace.h"

#include "mime_date.h"
#include "mime_int.h"

#include <string.h>

/* Length of S when it has none of the octets REJECT (0 for NULL), else
 * -1. */
static gssize clean_len(const char *s, const char *reject) {
  if (!s)
    return 0;
  gsize n = strcspn(s, reject);
  return s[n] ? -1 : (gssize)n;
}

/* Appends N octets of S at *P. */
static void put(char **p, const char *s, gsize n) {
  memcpy(*p, s, n);
  *p += n;
}

#define PUT_LIT(p, lit) put(p, lit, sizeof lit - 1)

char *mime_trace_received(const mime_received *r) { return mime_trace_received_buf(r, NULL, 0); }

char *mime_trace_received_buf(const mime_received *r, char *buf, gsize bufsz) {
  if (!r->helo || !*r->helo || !r->by || !*r->by)
    return NULL;
  /* Every argument is one word without CR, LF or parentheses; the
   * comment may hold spaces. Written in one allocation: every hop of
   * every message has one. */
  const char *all[] = {r->helo, r->rdns, r->ip, r->by, r->with, r->id, r->for_addr, r->comment};
  gsize len[G_N_ELEMENTS(all)];
  gsize total = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
    gssize n = clean_len(all[i], all[i] == r->comment ? "\r\n()" : "\r\n() \t");
    if (n < 0)
      return NULL;
    len[i] = (gsize)n;
    total += (gsize)n;
  }
  char date[MIME__DATE_MAX];
  gsize dl = mime__date_format_into(date, r->date_ns, r->epoch_unix, r->tz_min);
  if (!dl)
    return NULL;
  /* the fixed text: "Received: from " " (" " [" "])" "\r\n\tby " " with " " (" ")"
   * "\r\n\tid " "\r\n\tfor <" ">" ";\r\n\t" "\r\n" is under 80 octets */
  char *out = total + dl + 80 <= bufsz ? buf : g_malloc(total + dl + 80);
  char *p = out;
  PUT_LIT(&p, "Received: from ");
  put(&p, r->helo, len[0]);
  if (r->rdns || r->ip) {
    PUT_LIT(&p, " (");
    if (r->rdns)
      put(&p, r->rdns, len[1]);
    if (r->rdns && r->ip)
      *p++ = ' ';
    if (r->ip) {
      *p++ = '[';
      put(&p, r->ip, len[2]);
      *p++ = ']';
    }
    *p++ = ')';
  }
  PUT_LIT(&p, "\r\n\tby ");
  put(&p, r->by, len[3]);
  if (r->with) {
    PUT_LIT(&p, " with ");
    put(&p, r->with, len[4]);
  }
  if (r->comment) {
    PUT_LIT(&p, " (");
    put(&p, r->comment, len[7]);
    *p++ = ')';
  }
  if (r->id) {
    PUT_LIT(&p, "\r\n\tid ");
    put(&p, r->id, len[5]);
  }
  if (r->for_addr) {
    PUT_LIT(&p, "\r\n\tfor <");
    put(&p, r->for_addr, len[6]);
    *p++ = '>';
  }
  PUT_LIT(&p, ";\r\n\t");
  put(&p, date, dl);
  PUT_LIT(&p, "\r\n");
  *p = '\0';
  return out;
}

GBytes *mime_trace_prepend(GBytes *msg, const char *field) {
  g_assert(msg && field);
  gsize n = 0, fl = strlen(field);
  const guint8 *d = g_bytes_get_data(msg, &n);
  guint8 *out = g_malloc(n + fl + 1);
  memcpy(out, field, fl);
  if (n)
    memcpy(out + fl, d, n);
  return g_bytes_new_take(out, n + fl);
}

void mime_received_info_clear(mime_received_info *ri) {
  if (!ri)
    return;
  g_free(ri->from);
  g_free(ri->from_info);
  g_free(ri->by);
  g_free(ri->by_info);
  g_free(ri->via);
  g_free(ri->with);
  g_free(ri->id);
  g_free(ri->for_addr);
  g_free(ri->date);
  memset(ri, 0, sizeof *ri);
}

/* Offset of the last ';' outside comments and quotes, or LEN. S is
 * NUL-terminated at LEN; strcspn skips the octets that change nothing. */
static gsize last_semicolon(const char *s, gsize len) {
  gsize last = len;
  int depth = 0;
  gboolean q = FALSE;
  for (gsize i = 0; i < len; i++) {
    i += strcspn(s + i, q ? "\\\"" : "\\\"();");
    if (i >= len)
      break;
    char c = s[i];
    if (c == '\\' && i + 1 < len) {
      i++;
      continue;
    }
    if (q) {
      q = c != '"';
      continue;
    }
    if (c == '"' && depth == 0)
      q = TRUE;
    else if (c == '(')
      depth++;
    else if (c == ')' && depth > 0)
      depth--;
    else if (c == ';' && depth == 0)
      last = i;
  }
  return last;
}

/* Octets that end a word of a Received field (a quote starts a quoted
 * string inside one). */
static gboolean word_end(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == '\0';
}

/* The parse; FULL: every clause, the comments after from and by, and the
 * date; else only from, by and with are stored (the other clauses are
 * still read, so the words they take are the same). */
/* TRUE when the N octets at W are LOWER (lower case) in any case. */
static gboolean same_lower(const char *w, const char *lower, gsize n) {
  for (gsize i = 0; i < n; i++)
    if ((w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]) != lower[i]) /* inline tolower */
      return FALSE;
  return TRUE;
}

/* A clause value seen in route mode: a view into the value, or a copy
 * when it was built from a quoted string. */
typedef struct {
  const char *p;
  gsize n;
  char *own;
} route_view;

static gboolean received_parse(const char *value, mime_received_info *out, route_view *route) {
  gboolean full = route == NULL;
  memset(out, 0, sizeof *out);
  if (!value)
    return FALSE;
  gsize len = strlen(value);
  gsize semi = last_semicolon(value, len);
  gsize pos = 0;
  static const char *const kw[] = {"from", "by", "via", "with", "id", "for"};
  static const gsize kwl[] = {4, 2, 3, 4, 2, 3};
  char **const slots[] = {&out->from, &out->by, &out->via, &out->with, &out->id, &out->for_addr};
  char **slot = NULL; /* the clause waiting for its value */
  guint slot_k = 0;   /* its index in kw[] below */
  guint filled = 0;   /* bit k: clause kw[k] has its value */
  char **info = NULL; /* where a comment goes */
  gboolean any = FALSE;
  GString *w = NULL;       /* made when a word holds a quoted string */
  GString *comment = NULL; /* made when a comment is wanted */
  while (pos < semi) {
    gsize before = pos;
    /* Only the first comment after a from / by value is kept. */
    gboolean want = info && !*info;
    if (want && !comment)
      comment = g_string_new(NULL);
    if (comment)
      g_string_truncate(comment, 0);
    while (pos < semi && value[pos] == ' ')
      pos++; /* the usual separator, without the call */
    if (pos < semi &&
        (value[pos] == '\t' || value[pos] == '\r' || value[pos] == '\n' || value[pos] == '('))
      mime__skip_cfws(value, semi, &pos, want ? comment : NULL);
    if (want && comment->len)
      *info = g_strndup(comment->str, comment->len);
    if (pos >= semi)
      break;
    /* The word: a view into VALUE, or built in W when it holds a quoted
     * string (kept with its quotes, quoted pairs resolved). */
    gsize a = pos;
    pos = MIN(semi, pos + strcspn(value + pos, " \t\r\n(\"")); /* to word_end or '"' */
    const char *wv = value + a;
    gsize wl = pos - a;
    if (pos < semi && value[pos] == '"') {
      if (!w)
        w = g_string_new(NULL);
      g_string_truncate(w, 0);
      g_string_append_len(w, value + a, (gssize)(pos - a));
      while (pos < semi && !word_end(value[pos])) {
        if (value[pos] == '"') {
          gboolean closed;
          g_string_append_c(w, '"');
          mime__read_qstring(value, semi, &pos, w, &closed);
          g_string_append_c(w, '"');
          continue;
        }
        gsize run = pos;
        while (run < semi && !word_end(value[run]) && value[run] != '"')
          run++;
        g_string_append_len(w, value + pos, (gssize)(run - pos));
        pos = run;
      }
      wv = w->str;
      wl = w->len;
    }
    if (pos == a && pos == before) {
      pos++; /* defensive: always progress */
      continue;
    }
    if (slot) {
      const char *v = wv;
      gsize vl = wl;
      if (slot == &out->for_addr && vl >= 2 && v[0] == '<' && v[vl - 1] == '>') {
        v++;
        vl -= 2;
      }
      filled |= 1u << slot_k;
      if (full) {
        *slot = g_strndup(v, vl);
      } else if (slot_k == 0 || slot_k == 1 || slot_k == 3) { /* from, by, with */
        route_view *rv = &route[slot_k == 3 ? 2 : slot_k];
        rv->own = w && wv == w->str ? g_strndup(v, vl) : NULL; /* W is reused */
        rv->p = rv->own ? rv->own : v;
        rv->n = vl;
      }
      if (full)
        info = slot == &out->from ? &out->from_info : slot == &out->by ? &out->by_info : NULL;
      slot = NULL;
      any = TRUE;
      continue;
    }
    info = NULL;
    if (wl >= 2 && wl <= 4)
      for (guint k = 0; k < G_N_ELEMENTS(kw); k++)
        if (wl == kwl[k] && !(filled & 1u << k) && same_lower(wv, kw[k], wl)) {
          slot = slots[k];
          slot_k = k;
        }
  }
  if (w)
    g_string_free(w, TRUE);
  if (comment)
    g_string_free(comment, TRUE);
  if (semi < len && !full)
    return TRUE;
  if (semi < len) {
    char *d = g_strstrip(g_strdup(value + semi + 1));
    out->date = d;
    out->date_ok = mime_date_parse(d, &out->date_unix, &out->tz_min);
    any = TRUE;
  }
  return any;
}

gboolean mime_trace_received_parse(const char *value, mime_received_info *out) {
  return received_parse(value, out, NULL);
}

/* Octets of a word the fast path below takes: not white space, '(', '"'
 * (where the parse's words end or turn quoted), ';' (where its clauses
 * may end), ')' or '\\' (so the fast path never meets a comment's end
 * or a quoted pair out of place), nor NUL. */
static const guint8 fast_word_octet[256] = {
#define F16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, /* NUL, \t, \n, \r */
    F16(1),
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, /* ' ', '"', '(', ')' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, /* ';' */
    F16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* '\\' */
    F16(1), F16(1), F16(1), F16(1), F16(1), F16(1), F16(1), F16(1), F16(1), F16(1),
#undef F16
};

static gboolean is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The word at *P (fast_word_octet), at least one octet; moves *P past it. */
static gboolean fast_word(const char *v, gsize *p, route_view *out) {
  gsize a = *p;
  while (fast_word_octet[(guint8)v[*p]])
    (*p)++;
  out->p = v + a;
  out->n = *p - a;
  out->own = NULL;
  return *p > a;
}

/* KW (lower case) at *P followed by white space, which is skipped. */
static gboolean fast_keyword(const char *v, gsize *p, const char *kw, gsize n) {
  for (gsize i = 0; i < n; i++)
    if (v[*p + i] != kw[i]) /* stops at V's NUL: KW has none */
      return FALSE;
  if (!is_ws(v[*p + n]))
    return FALSE;
  *p += n;
  while (is_ws(v[*p]))
    (*p)++;
  return TRUE;
}

/* The Received fields this simulator writes (mime_trace_received, then
 * unfolded), read without the general parse: white space, "from" WS W1, white space
 * and comments without '(', '\\', '"' or ';' in them, "by" WS W2 WS
 * "with" WS W3 and then white space, '(' or the end. On that prefix the
 * parse reads the same three clauses: it has no ';' (so the last one
 * outside comments, where the parse stops, is beyond it), no quoted
 * string, its words end where the parse's do, and once from, by and with
 * have their values no later word changes them (each clause takes one
 * value). Anything else: FALSE, and the general parse runs. */
/* The octets that end a comment of route_fast's: ')' (its end), NUL, and
 * '(', '\\', '"', ';' (which send the field to the general parse). */
static const guint8 comment_stop[256] = {[0] = 1, ['('] = 1, [')'] = 1, ['\\'] = 1, ['"'] = 1, [';'] = 1};

static gboolean route_fast(const char *v, route_view rv[3]) {
  gsize p = 0;
  if (!v)
    return FALSE;
  while (is_ws(v[p]))
    p++;
  if (!fast_keyword(v, &p, "from", 4) || !fast_word(v, &p, &rv[0]))
    return FALSE;
  for (;;) {
    while (is_ws(v[p]))
      p++;
    if (v[p] != '(')
      break;
    /* to the octet that ends or spoils the comment: one table look-up an
     * octet (the comment "(host [addr])" is most of a field's prefix) */
    for (p++; !comment_stop[(guint8)v[p]]; p++)
      ;
    if (v[p] != ')')
      return FALSE;
    p++;
  }
  if (!fast_keyword(v, &p, "by", 2) || !fast_word(v, &p, &rv[1]) || !is_ws(v[p]))
    return FALSE;
  while (is_ws(v[p]))
    p++;
  if (!fast_keyword(v, &p, "with", 4) || !fast_word(v, &p, &rv[2]))
    return FALSE;
  return is_ws(v[p]) || v[p] == '(' || v[p] == '\0';
}

static void *route_g_malloc(void *user, gsize n) {
  (void)user;
  return g_malloc(n);
}

mime_received_info *mime__received_route_new(const char *value) {
  return mime__received_route_alloc(value, route_g_malloc, NULL);
}

mime_received_info *mime__received_route_alloc(const char *value,
                                               void *(*alloc)(void *user, gsize n), void *user) {
  route_view rv[3] = {{NULL, 0, NULL}, {NULL, 0, NULL}, {NULL, 0, NULL}};
  mime_received_info tmp;
  if (!route_fast(value, rv)) {
    memset(rv, 0, sizeof rv);
    received_parse(value, &tmp, rv);
  }
  gsize n = sizeof tmp;
  for (int i = 0; i < 3; i++)
    n += rv[i].p ? rv[i].n + 1 : 0;
  mime_received_info *ri = alloc(user, n); /* the strings are all written below */
  memset(ri, 0, sizeof *ri);
  char *t = (char *)(ri + 1);
  char **dst[3] = {&ri->from, &ri->by, &ri->with};
  for (int i = 0; i < 3; i++) {
    if (!rv[i].p)
      continue;
    memcpy(t, rv[i].p, rv[i].n);
    t[rv[i].n] = '\0';
    *dst[i] = t;
    t += rv[i].n + 1;
    if (rv[i].own)
      g_free(rv[i].own);
  }
  return ri;
}
