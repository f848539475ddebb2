/* imap_parse.c — IMAP4rev1 command grammar (see imap_parse.h).
 *
 * A recursive-descent reader of RFC 3501 §9 over one framed command:
 * tag, command name, and the arguments of each command (astring, quoted
 * strings with \" and \\ escapes, literals, sequence sets, flag lists,
 * search keys §6.4.4, fetch attributes and sections §6.4.5, store flags
 * §6.4.6, date and date-time). Extensions: UID MOVE (RFC 6851), UID
 * EXPUNGE (RFC 4315), ID (RFC 2971), ENABLE (RFC 5161), IDLE (RFC 2177),
 * NAMESPACE (RFC 2342), UNSELECT (RFC 3691). Search keys nest at most
 * MAX_DEPTH deep so hostile input cannot exhaust the stack; everything
 * allocated is bounded by the size of the framed command.
 */
#include "imap_parse.h"

#include <string.h>

#define MAX_DEPTH 32

static const char *const verb_names[IMAP_VERB_COUNT] = {
    "CAPABILITY", "NOOP",   "LOGOUT", "STARTTLS",  "AUTHENTICATE", "LOGIN",  "SELECT", "EXAMINE",
    "CREATE",     "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE",  "LIST",   "LSUB",   "STATUS",
    "APPEND",     "CHECK",  "CLOSE",  "UNSELECT",  "EXPUNGE",      "SEARCH", "FETCH",  "STORE",
    "COPY",       "MOVE",   "IDLE",   "NAMESPACE", "ID",           "ENABLE"};

const char *imap_verb_name(imap_verb v) {
  g_assert((unsigned)v < IMAP_VERB_COUNT);
  return verb_names[v];
}

static const char *const sk_names[IMAP_SK_COUNT] = {
    "ALL",    "ANSWERED",   "BCC",       "BEFORE",  "BODY",      "CC",        "DELETED",
    "DRAFT",  "FLAGGED",    "FROM",      "HEADER",  "KEYWORD",   "LARGER",    "NEW",
    "NOT",    "OLD",        "ON",        "OR",      "RECENT",    "SEEN",      "SENTBEFORE",
    "SENTON", "SENTSINCE",  "SINCE",     "SMALLER", "SUBJECT",   "TEXT",      "TO",
    "UID",    "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNKEYWORD", "UNSEEN",
    "SEQSET", "AND"};

const char *imap_search_kind_name(imap_search_kind k) {
  g_assert((unsigned)k < IMAP_SK_COUNT);
  return sk_names[k];
}

typedef struct {
  const uint8_t *p;
  size_t n, i;
  const char *err;
} cur;

static int pk(const cur *c) { return c->i < c->n ? c->p[c->i] : -1; }
static bool fail(cur *c, const char *e) {
  if (!c->err)
    c->err = e;
  return false;
}
static bool eat(cur *c, int ch) {
  if (pk(c) == ch) {
    c->i++;
    return true;
  }
  return false;
}
static bool sp(cur *c) { return eat(c, ' ') || fail(c, "expected a space"); }

/* RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials: 0x21-0x7e but
 * ( ) { % * " \ ], as a 128-bit map (bit C of word C / 64), read with one
 * shift instead of nine compares. */
static inline bool atom_char(int ch) {
  static const uint64_t map[2] = {UINT64_C(0xfffff8da00000000), UINT64_C(0x77ffffffcfffffff)};
  return (unsigned)ch < 128 && (map[(unsigned)ch >> 6] >> ((unsigned)ch & 63)) & 1;
}

/* An atom (with the EXTRA characters too) where it lies: its start and
 * length; false (nothing read) if there is none. */
static bool atom_span(cur *c, const char *extra, const char **at, size_t *len) {
  size_t s = c->i;
  while (c->i < c->n && (atom_char(c->p[c->i]) || (extra && strchr(extra, c->p[c->i]))))
    c->i++;
  if (c->i == s)
    return fail(c, "expected an atom");
  *at = (const char *)c->p + s;
  *len = c->i - s;
  return true;
}

static char *atom_ex(cur *c, const char *extra) {
  const char *a;
  size_t n;
  return atom_span(c, extra, &a, &n) ? g_strndup(a, n) : NULL;
}

/* Whether W[0..N) (no NUL in it) is NAME, ignoring ASCII case. NAME is
 * upper-case (every name compared here is), so one side is folded. */
static bool span_is(const char *w, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++) {
    char ch = w[i];
    if (ch >= 'a' && ch <= 'z')
      ch = (char)(ch - 'a' + 'A');
    if (ch != name[i]) /* also false at NAME's NUL: W holds none */
      return false;
  }
  return name[n] == '\0';
}

static char *quoted(cur *c) {
  if (!eat(c, '"')) {
    fail(c, "expected a quoted string");
    return NULL;
  }
  /* Checked and measured where it lies, then copied once, unescaped. */
  size_t start = c->i, n = 0;
  bool escaped = false;
  for (;;) {
    int ch = pk(c);
    if (ch < 0 || ch == '\r' || ch == '\n' || ch == 0) {
      fail(c, "unterminated quoted string");
      return NULL;
    }
    c->i++;
    if (ch == '"')
      break;
    if (ch == '\\') {
      int e = pk(c);
      if (e != '"' && e != '\\') {
        fail(c, "bad escape in quoted string");
        return NULL;
      }
      c->i++;
      escaped = true;
    }
    n++;
  }
  if (!escaped)
    return g_strndup((const char *)c->p + start, n);
  char *out = g_malloc(n + 1), *o = out;
  for (size_t i = start; o < out + n; i++) {
    if (c->p[i] == '\\')
      i++;
    *o++ = (char)c->p[i];
  }
  *o = 0;
  return out;
}

/* literal = "{" number ["+"] "}" CRLF *CHAR8; the framer guarantees the
 * bytes are there, but check anyway. */
static bool literal_raw(cur *c, const uint8_t **data, size_t *len) {
  if (!eat(c, '{'))
    return fail(c, "expected a literal");
  uint64_t v = 0;
  size_t s = c->i;
  while (c->i < c->n && g_ascii_isdigit(c->p[c->i]) && c->i - s < 19)
    v = v * 10 + (uint64_t)(c->p[c->i++] - '0');
  if (c->i == s)
    return fail(c, "bad literal length");
  eat(c, '+');
  if (!eat(c, '}') || !eat(c, '\r') || !eat(c, '\n') || v > c->n - c->i)
    return fail(c, "bad literal");
  *data = c->p + c->i;
  *len = (size_t)v;
  c->i += (size_t)v;
  return true;
}

static char *literal_str(cur *c) {
  const uint8_t *d;
  size_t n;
  if (!literal_raw(c, &d, &n))
    return NULL;
  if (memchr(d, 0, n)) {
    fail(c, "NUL in literal string");
    return NULL;
  }
  return g_strndup((const char *)d, n);
}

static char *string(cur *c) {
  if (pk(c) == '"')
    return quoted(c);
  if (pk(c) == '{')
    return literal_str(c);
  fail(c, "expected a string");
  return NULL;
}

static char *astring(cur *c) {
  if (pk(c) == '"' || pk(c) == '{')
    return string(c);
  return atom_ex(c, "]");
}

static bool is_nil(cur *c) {
  if (c->n - c->i >= 3 && g_ascii_strncasecmp((const char *)c->p + c->i, "NIL", 3) == 0 &&
      !atom_char(c->i + 3 < c->n ? c->p[c->i + 3] : ' ')) {
    c->i += 3;
    return true;
  }
  return false;
}

/* RFC 3501 §5.1: INBOX is case-insensitive. */
static char *mailbox(cur *c) {
  char *m = astring(c);
  if (m && g_ascii_strcasecmp(m, "INBOX") == 0)
    memcpy(m, "INBOX", 5); /* same length: spelt in upper case in place */
  return m;
}

static char *list_mailbox(cur *c) {
  if (pk(c) == '"' || pk(c) == '{')
    return string(c);
  return atom_ex(c, "%*]");
}

static bool number(cur *c, uint64_t *v) {
  size_t s = c->i;
  uint64_t x = 0;
  while (c->i < c->n && g_ascii_isdigit(c->p[c->i])) {
    x = x * 10 + (uint64_t)(c->p[c->i++] - '0');
    if (x > UINT32_MAX)
      return fail(c, "number too large");
  }
  if (c->i == s)
    return fail(c, "expected a number");
  *v = x;
  return true;
}

static bool seq_number(cur *c, uint32_t *v) {
  if (eat(c, '*')) {
    *v = IMAP_STAR;
    return true;
  }
  uint64_t x;
  if (!number(c, &x))
    return false;
  if (x == 0)
    return fail(c, "sequence numbers start at 1");
  *v = (uint32_t)x;
  return true;
}

static bool seqset(cur *c, GArray *out) {
  do {
    imap_range r;
    if (!seq_number(c, &r.lo))
      return false;
    r.hi = r.lo;
    if (eat(c, ':') && !seq_number(c, &r.hi))
      return false;
    g_array_append_val(out, r);
  } while (eat(c, ','));
  return true;
}

bool imap_set_contains(const GArray *ranges, uint32_t n, uint32_t max) {
  for (guint i = 0; i < ranges->len; i++) {
    imap_range r = g_array_index(ranges, imap_range, i);
    uint32_t lo = r.lo == IMAP_STAR ? max : r.lo, hi = r.hi == IMAP_STAR ? max : r.hi;
    if (lo > hi) {
      uint32_t t = lo;
      lo = hi;
      hi = t;
    }
    if (n >= lo && n <= hi)
      return true;
  }
  return false;
}

/* flag = "\Answered" / ... / flag-keyword / flag-extension */
static char *flag(cur *c) {
  if (eat(c, '\\')) {
    const char *a;
    size_t n;
    if (!atom_span(c, NULL, &a, &n))
      return NULL;
    char *f = g_malloc(n + 2);
    f[0] = '\\';
    memcpy(f + 1, a, n);
    f[n + 1] = 0;
    return f;
  }
  return atom_ex(c, NULL);
}

static bool flag_list(cur *c, GPtrArray *out) {
  if (!eat(c, '('))
    return fail(c, "expected a flag list");
  if (eat(c, ')'))
    return true;
  do {
    char *f = flag(c);
    if (!f)
      return false;
    g_ptr_array_add(out, f);
  } while (eat(c, ' '));
  return eat(c, ')') || fail(c, "expected ')' after flags");
}

/* ---- dates ---- */

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static bool valid_day(unsigned y, unsigned m, unsigned d) {
  static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

/* "d-Mon-yyyy" or "dd-Mon-yyyy" (RFC 3501 §9 date-text). */
static bool date_text(const char *s, size_t n, int64_t *day) {
  size_t i = 0;
  unsigned d = 0, y = 0, m = 0;
  while (i < n && i < 2 && g_ascii_isdigit(s[i]))
    d = d * 10 + (unsigned)(s[i++] - '0');
  if (i == 0 || i >= n || s[i++] != '-' || n - i < 8)
    return false;
  for (unsigned k = 0; k < 12; k++)
    if (g_ascii_strncasecmp(s + i, months[k], 3) == 0)
      m = k + 1;
  i += 3;
  if (!m || s[i++] != '-' || n - i != 4)
    return false;
  for (; i < n; i++) {
    if (!g_ascii_isdigit(s[i]))
      return false;
    y = y * 10 + (unsigned)(s[i] - '0');
  }
  if (!valid_day(y, m, d))
    return false;
  *day = days_from_civil(y, m, d);
  return true;
}

bool imap_parse_date(const char *s, int64_t *day) { return date_text(s, strlen(s), day); }

static bool date_arg(cur *c, int64_t *day) {
  char *s = pk(c) == '"' ? quoted(c) : atom_ex(c, NULL);
  if (!s)
    return false;
  bool ok = date_text(s, strlen(s), day);
  g_free(s);
  return ok || fail(c, "bad date (want d-Mon-yyyy)");
}

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP
 * zone DQUOTE (RFC 3501 §9), e.g. " 1-Feb-1994 21:52:25 -0800". */
static bool date_time(cur *c, int64_t *unix_s) {
  char *s = quoted(c);
  if (!s)
    return false;
  size_t n = strlen(s);
  bool ok = false;
  if (n == 26 && s[11] == ' ' && s[14] == ':' && s[17] == ':' && s[20] == ' ' &&
      (s[21] == '+' || s[21] == '-')) {
    char day[12];
    memcpy(day, s[0] == ' ' ? s + 1 : s, s[0] == ' ' ? 10 : 11);
    day[s[0] == ' ' ? 10 : 11] = 0;
    int64_t dd;
    int v[7];
    const int pos[7] = {12, 13, 15, 16, 18, 19, 22};
    bool digits = true;
    for (int k = 0; k < 7; k++) {
      char ch = s[pos[k]];
      digits &= g_ascii_isdigit(ch) != 0;
      v[k] = ch - '0';
    }
    bool zd = g_ascii_isdigit(s[23]) && g_ascii_isdigit(s[24]) && g_ascii_isdigit(s[25]);
    if (digits && zd && date_text(day, strlen(day), &dd)) {
      int hh = v[0] * 10 + v[1], mi = v[2] * 10 + v[3], ss = v[4] * 10 + v[5];
      int zh = v[6] * 10 + (s[23] - '0'), zm = (s[24] - '0') * 10 + (s[25] - '0');
      if (hh < 24 && mi < 60 && ss < 61 && zm < 60) {
        int64_t off = (int64_t)(zh * 3600 + zm * 60) * (s[21] == '-' ? -1 : 1);
        *unix_s = dd * 86400 + hh * 3600 + mi * 60 + ss - off;
        ok = true;
      }
    }
  }
  g_free(s);
  return ok || fail(c, "bad date-time");
}

/* ---- search keys (RFC 3501 §6.4.4) ---- */

void imap_search_key_free(imap_search_key *k) {
  if (!k)
    return;
  g_free(k->str);
  g_free(k->str2);
  if (k->set)
    g_array_free(k->set, TRUE);
  if (k->kids)
    g_ptr_array_unref(k->kids);
  g_free(k);
}

static imap_search_key *sk_new(imap_search_kind kind) {
  imap_search_key *k = g_new0(imap_search_key, 1);
  k->kind = kind;
  if (kind == IMAP_SK_NOT || kind == IMAP_SK_OR || kind == IMAP_SK_AND)
    k->kids = g_ptr_array_new_with_free_func((GDestroyNotify)imap_search_key_free);
  if (kind == IMAP_SK_UID || kind == IMAP_SK_SEQSET)
    k->set = g_array_new(FALSE, FALSE, sizeof(imap_range));
  return k;
}

static imap_search_key *search_key(cur *c, int depth);

static bool search_list(cur *c, imap_search_key *and, int depth) {
  do {
    imap_search_key *k = search_key(c, depth + 1);
    if (!k)
      return false;
    g_ptr_array_add(and->kids, k);
  } while (eat(c, ' '));
  return true;
}

static imap_search_key *search_key(cur *c, int depth) {
  if (depth > MAX_DEPTH) {
    fail(c, "search keys nested too deeply");
    return NULL;
  }
  imap_search_key *k = NULL;
  if (eat(c, '(')) {
    k = sk_new(IMAP_SK_AND);
    if (!search_list(c, k, depth) || !eat(c, ')')) {
      fail(c, "expected ')' in search");
      goto bad;
    }
    return k;
  }
  if (pk(c) == '*' || (pk(c) >= '0' && pk(c) <= '9')) {
    k = sk_new(IMAP_SK_SEQSET);
    if (!seqset(c, k->set))
      goto bad;
    return k;
  }
  const char *name;
  size_t nl;
  if (!atom_span(c, NULL, &name, &nl))
    return NULL;
  int kind = -1; /* the names are letters: the first one rules most out */
  for (int i = 0; kind < 0 && i < IMAP_SK_SEQSET; i++)
    if ((name[0] | 0x20) == (sk_names[i][0] | 0x20) && span_is(name, nl, sk_names[i]))
      kind = i;
  if (kind < 0) {
    fail(c, "unknown search key");
    return NULL;
  }
  k = sk_new((imap_search_kind)kind);
  switch (k->kind) {
  case IMAP_SK_BCC:
  case IMAP_SK_BODY:
  case IMAP_SK_CC:
  case IMAP_SK_FROM:
  case IMAP_SK_SUBJECT:
  case IMAP_SK_TEXT:
  case IMAP_SK_TO:
    if (!sp(c) || !(k->str = astring(c)))
      goto bad;
    break;
  case IMAP_SK_KEYWORD:
  case IMAP_SK_UNKEYWORD:
    if (!sp(c) || !(k->str = atom_ex(c, NULL)))
      goto bad;
    break;
  case IMAP_SK_BEFORE:
  case IMAP_SK_ON:
  case IMAP_SK_SINCE:
  case IMAP_SK_SENTBEFORE:
  case IMAP_SK_SENTON:
  case IMAP_SK_SENTSINCE:
    if (!sp(c) || !date_arg(c, &k->day))
      goto bad;
    break;
  case IMAP_SK_LARGER:
  case IMAP_SK_SMALLER:
    if (!sp(c) || !number(c, &k->num))
      goto bad;
    break;
  case IMAP_SK_HEADER:
    if (!sp(c) || !(k->str = astring(c)) || !sp(c) || !(k->str2 = astring(c)))
      goto bad;
    break;
  case IMAP_SK_NOT: {
    imap_search_key *a;
    if (!sp(c) || !(a = search_key(c, depth + 1)))
      goto bad;
    g_ptr_array_add(k->kids, a);
    break;
  }
  case IMAP_SK_OR:
    for (int i = 0; i < 2; i++) {
      imap_search_key *a;
      if (!sp(c) || !(a = search_key(c, depth + 1)))
        goto bad;
      g_ptr_array_add(k->kids, a);
    }
    break;
  case IMAP_SK_UID:
    if (!sp(c) || !seqset(c, k->set))
      goto bad;
    break;
  default:
    break; /* no argument */
  }
  return k;
bad:
  imap_search_key_free(k);
  return NULL;
}

/* ---- fetch attributes (RFC 3501 §6.4.5) ---- */

static void fa_clear(imap_fetch_att *a) {
  if (a->part)
    g_array_free(a->part, TRUE);
  if (a->fields)
    g_ptr_array_unref(a->fields);
  g_free(a->spec);
}

/* A word of letters, digits and dots where it lies (compared with
 * span_is, i.e. as if upper-cased); false if there is none. */
typedef struct {
  const char *p;
  size_t n;
} word;

static bool upper_word(cur *c, word *w) {
  size_t s = c->i;
  while (c->i < c->n && (g_ascii_isalnum(c->p[c->i]) || c->p[c->i] == '.'))
    c->i++;
  if (c->i == s)
    return fail(c, "expected a fetch attribute");
  w->p = (const char *)c->p + s;
  w->n = c->i - s;
  return true;
}

/* Appends W upper-cased. */
static void append_upper(GString *g, word w) {
  for (size_t i = 0; i < w.n; i++)
    g_string_append_c(g, g_ascii_toupper(w.p[i]));
}

static bool section(cur *c, imap_fetch_att *a) {
  GString *spec = NULL; /* made at the first octet: BODY[] needs none */
  bool ok = false;
  while (pk(c) >= '0' && pk(c) <= '9') {
    uint64_t v;
    if (!number(c, &v) || v == 0)
      goto out;
    uint32_t p = (uint32_t)v;
    if (!a->part)
      a->part = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    g_array_append_val(a->part, p);
    if (!spec)
      spec = g_string_new(NULL);
    g_string_append_printf(spec, "%s%u", spec->len ? "." : "", p);
    if (!eat(c, '.'))
      break;
    if (!(pk(c) >= '0' && pk(c) <= '9'))
      break; /* section-text follows */
  }
  if (pk(c) != ']') {
    word w;
    if (!upper_word(c, &w))
      goto out;
    static const struct {
      const char *name;
      imap_section_kind kind;
    } texts[] = {{"HEADER", IMAP_SEC_HEADER},
                 {"HEADER.FIELDS", IMAP_SEC_HEADER_FIELDS},
                 {"HEADER.FIELDS.NOT", IMAP_SEC_HEADER_FIELDS_NOT},
                 {"TEXT", IMAP_SEC_TEXT},
                 {"MIME", IMAP_SEC_MIME}};
    int found = -1;
    for (unsigned i = 0; i < G_N_ELEMENTS(texts); i++)
      if (span_is(w.p, w.n, texts[i].name))
        found = (int)i;
    if (found < 0 || (texts[found].kind == IMAP_SEC_MIME && !a->part)) {
      fail(c, "bad section");
      goto out;
    }
    a->sec = texts[found].kind;
    if (!spec)
      spec = g_string_new(NULL);
    if (spec->len)
      g_string_append_c(spec, '.');
    append_upper(spec, w);
    if (a->sec == IMAP_SEC_HEADER_FIELDS || a->sec == IMAP_SEC_HEADER_FIELDS_NOT) {
      a->fields = g_ptr_array_new_with_free_func(g_free);
      if (!eat(c, ' ') || !eat(c, '(')) {
        fail(c, "expected a header list");
        goto out;
      }
      g_string_append(spec, " (");
      do {
        char *f = astring(c);
        if (!f)
          goto out;
        char *u = g_ascii_strup(f, -1);
        g_free(f);
        g_string_append_printf(spec, "%s%s", a->fields->len ? " " : "", u);
        g_ptr_array_add(a->fields, u);
      } while (eat(c, ' '));
      if (!eat(c, ')')) {
        fail(c, "expected ')' after header list");
        goto out;
      }
      g_string_append_c(spec, ')');
    }
  } else {
    a->sec = IMAP_SEC_ALL;
  }
  if (!eat(c, ']')) {
    fail(c, "expected ']' after section");
    goto out;
  }
  if (eat(c, '<')) {
    uint64_t o, n;
    if (!number(c, &o) || !eat(c, '.') || !number(c, &n) || n == 0 || !eat(c, '>')) {
      fail(c, "bad partial <origin.size>");
      goto out;
    }
    a->partial = true;
    a->origin = (uint32_t)o;
    a->count = (uint32_t)n;
  }
  ok = true;
out:
  a->spec = spec ? g_string_free(spec, FALSE) : g_strdup("");
  return ok;
}

static bool fetch_att(cur *c, GArray *out) {
  word w;
  if (!upper_word(c, &w))
    return false;
  imap_fetch_att a = {0};
  static const struct {
    const char *name;
    imap_fetch_kind kind;
  } simple[] = {{"ENVELOPE", IMAP_FA_ENVELOPE},
                {"FLAGS", IMAP_FA_FLAGS},
                {"INTERNALDATE", IMAP_FA_INTERNALDATE},
                {"RFC822", IMAP_FA_RFC822},
                {"RFC822.HEADER", IMAP_FA_RFC822_HEADER},
                {"RFC822.SIZE", IMAP_FA_RFC822_SIZE},
                {"RFC822.TEXT", IMAP_FA_RFC822_TEXT},
                {"BODY", IMAP_FA_BODY},
                {"BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE},
                {"UID", IMAP_FA_UID},
                {"BODY.PEEK", IMAP_FA_SECTION}};
  int found = -1;
  for (unsigned i = 0; found < 0 && i < G_N_ELEMENTS(simple); i++)
    if (span_is(w.p, w.n, simple[i].name))
      found = (int)i;
  bool peek = found >= 0 && simple[found].kind == IMAP_FA_SECTION; /* BODY.PEEK */
  if (found < 0)
    return fail(c, "unknown fetch attribute");
  a.kind = simple[found].kind;
  if ((a.kind == IMAP_FA_BODY || peek) && eat(c, '[')) {
    a.kind = IMAP_FA_SECTION;
    a.peek = peek;
    if (!section(c, &a)) {
      fa_clear(&a);
      return false;
    }
  } else if (peek) {
    return fail(c, "BODY.PEEK needs a section");
  }
  g_array_append_val(out, a);
  return true;
}

static void add_fa(GArray *out, imap_fetch_kind k) {
  imap_fetch_att a = {0};
  a.kind = k;
  g_array_append_val(out, a);
}

static bool fetch_args(cur *c, imap_cmd *cmd) {
  cmd->fetch = cmd->keep_fetch ? cmd->keep_fetch : g_array_new(FALSE, FALSE, sizeof(imap_fetch_att));
  cmd->keep_fetch = NULL;
  if (eat(c, '(')) {
    do {
      if (!fetch_att(c, cmd->fetch))
        return false;
    } while (eat(c, ' '));
    return eat(c, ')') || fail(c, "expected ')' after fetch attributes");
  }
  /* RFC 3501 §6.4.5 macros */
  size_t save = c->i;
  word w;
  if (upper_word(c, &w) &&
      (span_is(w.p, w.n, "ALL") || span_is(w.p, w.n, "FAST") || span_is(w.p, w.n, "FULL"))) {
    add_fa(cmd->fetch, IMAP_FA_FLAGS);
    add_fa(cmd->fetch, IMAP_FA_INTERNALDATE);
    add_fa(cmd->fetch, IMAP_FA_RFC822_SIZE);
    if (!span_is(w.p, w.n, "FAST"))
      add_fa(cmd->fetch, IMAP_FA_ENVELOPE);
    if (span_is(w.p, w.n, "FULL"))
      add_fa(cmd->fetch, IMAP_FA_BODY);
    return true;
  }
  c->i = save;
  c->err = NULL;
  return fetch_att(c, cmd->fetch);
}

/* ---- commands ---- */

void imap_cmd_free(imap_cmd *cmd) {
  if (!cmd)
    return;
  g_free(cmd->arg1);
  g_free(cmd->arg2);
  if (cmd->set)
    g_array_free(cmd->set, TRUE);
  if (cmd->list)
    g_ptr_array_unref(cmd->list);
  if (cmd->fetch) {
    for (guint i = 0; i < cmd->fetch->len; i++)
      fa_clear(&g_array_index(cmd->fetch, imap_fetch_att, i));
    g_array_free(cmd->fetch, TRUE);
  }
  imap_search_key_free(cmd->search);
  g_free(cmd->charset);
  if (cmd->message)
    g_bytes_unref(cmd->message);
  if (cmd->keep_set)
    g_array_free(cmd->keep_set, TRUE);
  if (cmd->keep_fetch)
    g_array_free(cmd->keep_fetch, TRUE);
  if (cmd->keep_list)
    g_ptr_array_unref(cmd->keep_list);
  g_free(cmd);
}

/* The most elements an array kept for the next command may have held. */
#define KEEP_MAX_LEN 32

/* Empties A into *KEEP (if that is free and A stayed small) or frees it. */
static void keep_array(GArray **keep, GArray *a) {
  if (!a)
    return;
  if (*keep || a->len > KEEP_MAX_LEN) {
    g_array_free(a, TRUE);
    return;
  }
  a->len = 0;
  *keep = a;
}

void imap_cmd_recycle(imap_cmd **spare, imap_cmd *c) {
  if (!c)
    return;
  if (*spare) {
    imap_cmd_free(c);
    return;
  }
  g_free(c->arg1);
  g_free(c->arg2);
  imap_search_key_free(c->search);
  g_free(c->charset);
  if (c->message)
    g_bytes_unref(c->message);
  if (c->fetch)
    for (guint i = 0; i < c->fetch->len; i++)
      fa_clear(&g_array_index(c->fetch, imap_fetch_att, i));
  GArray *set = c->keep_set, *fetch = c->keep_fetch;
  GPtrArray *list = c->keep_list;
  keep_array(&set, c->set);
  keep_array(&fetch, c->fetch);
  if (c->list) {
    if (list || c->list->len > KEEP_MAX_LEN) {
      g_ptr_array_unref(c->list);
    } else {
      g_ptr_array_set_size(c->list, 0); /* frees the strings */
      list = c->list;
    }
  }
  memset(c, 0, sizeof *c);
  c->keep_set = set;
  c->keep_fetch = fetch;
  c->keep_list = list;
  *spare = c;
}

/* The command's arrays: a kept one (empty) or a new one. */
static GArray *ranges(imap_cmd *cmd) {
  GArray *a = cmd->keep_set;
  cmd->keep_set = NULL;
  return a ? a : g_array_new(FALSE, FALSE, sizeof(imap_range));
}

static GPtrArray *strlist(imap_cmd *cmd) {
  GPtrArray *a = cmd->keep_list;
  cmd->keep_list = NULL;
  return a ? a : g_ptr_array_new_with_free_func(g_free);
}

static bool parse_args(cur *c, imap_cmd *cmd) {
  switch (cmd->verb) {
  case IMAP_VERB_CAPABILITY:
  case IMAP_VERB_NOOP:
  case IMAP_VERB_LOGOUT:
  case IMAP_VERB_STARTTLS:
  case IMAP_VERB_CHECK:
  case IMAP_VERB_CLOSE:
  case IMAP_VERB_UNSELECT:
  case IMAP_VERB_IDLE:
  case IMAP_VERB_NAMESPACE:
    return true;
  case IMAP_VERB_EXPUNGE:
    if (!cmd->uid)
      return true;
    cmd->set = ranges(cmd);
    return sp(c) && seqset(c, cmd->set);
  case IMAP_VERB_AUTHENTICATE:
    if (!sp(c) || !(cmd->arg1 = atom_ex(c, NULL)))
      return false;
    if (eat(c, ' ')) /* RFC 4959 SASL-IR: base64 or "=" */
      return (cmd->arg2 = atom_ex(c, "=")) != NULL;
    return true;
  case IMAP_VERB_LOGIN:
    return sp(c) && (cmd->arg1 = astring(c)) && sp(c) && (cmd->arg2 = astring(c));
  case IMAP_VERB_SELECT:
  case IMAP_VERB_EXAMINE:
  case IMAP_VERB_CREATE:
  case IMAP_VERB_DELETE:
  case IMAP_VERB_SUBSCRIBE:
  case IMAP_VERB_UNSUBSCRIBE:
    return sp(c) && (cmd->arg1 = mailbox(c));
  case IMAP_VERB_RENAME:
    return sp(c) && (cmd->arg1 = mailbox(c)) && sp(c) && (cmd->arg2 = mailbox(c));
  case IMAP_VERB_LIST:
  case IMAP_VERB_LSUB:
    return sp(c) && (cmd->arg1 = mailbox(c)) && sp(c) && (cmd->arg2 = list_mailbox(c));
  case IMAP_VERB_STATUS:
    if (!sp(c) || !(cmd->arg1 = mailbox(c)) || !eat(c, ' ') || !eat(c, '('))
      return fail(c, "STATUS needs a mailbox and an item list");
    cmd->list = strlist(cmd);
    do {
      char *a = atom_ex(c, NULL);
      if (!a)
        return false;
      g_ptr_array_add(cmd->list, g_ascii_strup(a, -1));
      g_free(a);
    } while (eat(c, ' '));
    return eat(c, ')') || fail(c, "expected ')' after status items");
  case IMAP_VERB_APPEND: {
    if (!sp(c) || !(cmd->arg1 = mailbox(c)) || !sp(c))
      return false;
    cmd->list = strlist(cmd);
    if (pk(c) == '(') {
      cmd->has_list = true;
      if (!flag_list(c, cmd->list) || !sp(c))
        return false;
    }
    if (pk(c) == '"') {
      cmd->has_date = true;
      if (!date_time(c, &cmd->date_unix) || !sp(c))
        return false;
    }
    const uint8_t *d;
    size_t n;
    if (!literal_raw(c, &d, &n))
      return false;
    cmd->message = g_bytes_new(d, n);
    return true;
  }
  case IMAP_VERB_SEARCH:
    if (!sp(c))
      return false;
    if (c->n - c->i > 8 && g_ascii_strncasecmp((const char *)c->p + c->i, "CHARSET ", 8) == 0) {
      c->i += 8;
      if (!(cmd->charset = astring(c)) || !sp(c))
        return false;
    }
    cmd->search = sk_new(IMAP_SK_AND);
    return search_list(c, cmd->search, 0);
  case IMAP_VERB_FETCH:
    cmd->set = ranges(cmd);
    return sp(c) && seqset(c, cmd->set) && sp(c) && fetch_args(c, cmd);
  case IMAP_VERB_STORE: {
    cmd->set = ranges(cmd);
    if (!sp(c) || !seqset(c, cmd->set) || !sp(c))
      return false;
    cmd->store_mode = eat(c, '+') ? '+' : eat(c, '-') ? '-' : '=';
    word w;
    if (!upper_word(c, &w))
      return false;
    cmd->silent = span_is(w.p, w.n, "FLAGS.SILENT");
    bool okw = cmd->silent || span_is(w.p, w.n, "FLAGS");
    if (!okw || !sp(c))
      return fail(c, "expected FLAGS or FLAGS.SILENT");
    cmd->list = strlist(cmd);
    cmd->has_list = true;
    if (pk(c) == '(')
      return flag_list(c, cmd->list);
    do {
      char *f = flag(c);
      if (!f)
        return false;
      g_ptr_array_add(cmd->list, f);
    } while (eat(c, ' '));
    return true;
  }
  case IMAP_VERB_COPY:
  case IMAP_VERB_MOVE:
    cmd->set = ranges(cmd);
    return sp(c) && seqset(c, cmd->set) && sp(c) && (cmd->arg1 = mailbox(c));
  case IMAP_VERB_ID:
    if (!sp(c))
      return false;
    cmd->list = strlist(cmd);
    if (is_nil(c))
      return true;
    if (!eat(c, '('))
      return fail(c, "ID needs a list or NIL");
    cmd->has_list = true;
    if (eat(c, ')'))
      return true;
    do {
      char *f = string(c);
      if (!f)
        return false;
      g_ptr_array_add(cmd->list, f);
      if (!sp(c))
        return false;
      if (is_nil(c)) {
        g_ptr_array_add(cmd->list, NULL);
      } else {
        char *v = string(c);
        if (!v)
          return false;
        g_ptr_array_add(cmd->list, v);
      }
    } while (eat(c, ' '));
    return eat(c, ')') || fail(c, "expected ')' after ID list");
  case IMAP_VERB_ENABLE:
    cmd->list = strlist(cmd);
    if (pk(c) != ' ')
      return fail(c, "ENABLE needs capability names");
    while (eat(c, ' ')) {
      char *a = atom_ex(c, NULL);
      if (!a)
        return false;
      g_ptr_array_add(cmd->list, a);
    }
    return true;
  default:
    g_error("imap_cmd_parse: verb %d has no grammar", cmd->verb);
  }
}

imap_cmd *imap_cmd_parse(const uint8_t *data, size_t len, char **tag_out, const char **err) {
  return imap_cmd_parse_spare(NULL, data, len, tag_out, err);
}

imap_cmd *imap_cmd_parse_spare(imap_cmd **spare, const uint8_t *data, size_t len, char **tag_out,
                               const char **err) {
  cur c = {data, len, 0, NULL};
  *tag_out = NULL;
  *err = NULL;
  size_t s = 0;
  while (s < len && atom_char(data[s]) && data[s] != '+')
    s++;
  if (s == 0 || s > 64 || s >= len || data[s] != ' ') {
    *err = s == 0 ? "missing tag" : "missing command";
    if (s > 0 && s <= 64 && (s == len || data[s] == ' '))
      *tag_out = g_strndup((const char *)data, s);
    return NULL;
  }
  imap_cmd *cmd = spare && *spare ? g_steal_pointer(spare) : g_new0(imap_cmd, 1);
  memcpy(cmd->tag, data, s); /* NUL-terminated (a zeroed struct); no NUL in it (atom) */
  c.i = s + 1;
  /* The command name where it lies (atoms hold no NUL). */
  const char *verb;
  size_t vl;
  bool have = atom_span(&c, NULL, &verb, &vl);
  if (have && span_is(verb, vl, "UID")) {
    cmd->uid = true;
    have = sp(&c) && atom_span(&c, NULL, &verb, &vl);
  }
  int v = -1;
  /* The first letter (any case: names are letters) rules out most names
   * before the full comparison. */
  for (int i = 0; have && v < 0 && i < IMAP_VERB_COUNT; i++)
    if ((verb[0] | 0x20) == (verb_names[i][0] | 0x20) && span_is(verb, vl, verb_names[i]))
      v = i;
  if (v < 0) {
    c.err = cmd->uid ? "UID needs FETCH, STORE, COPY, MOVE, SEARCH or EXPUNGE" : "unknown command";
    goto bad;
  }
  cmd->verb = (imap_verb)v;
  if (cmd->uid && v != IMAP_VERB_FETCH && v != IMAP_VERB_STORE && v != IMAP_VERB_COPY &&
      v != IMAP_VERB_MOVE && v != IMAP_VERB_SEARCH && v != IMAP_VERB_EXPUNGE) {
    c.err = "UID needs FETCH, STORE, COPY, MOVE, SEARCH or EXPUNGE";
    goto bad;
  }
  if (!parse_args(&c, cmd))
    goto bad;
  if (c.i != c.n) {
    c.err = "unexpected characters after the command";
    goto bad;
  }
  return cmd;
bad:
  *err = c.err ? c.err : "syntax error";
  *tag_out = g_strdup(cmd->tag);
  if (spare)
    imap_cmd_recycle(spare, cmd);
  else
    imap_cmd_free(cmd);
  return NULL;
}
