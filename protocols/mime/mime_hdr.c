/* mime_hdr.c — header blocks and MIME parameters.
 *
 * Splits a header block into fields in order (RFC 5322 §2.2: name, colon,
 * body; §2.2.3 unfolding; §2.1.1 998-octet lines, reported but not fatal;
 * §2.3 CRLF, with bare LF tolerated and reported). Parses Content-Type
 * (RFC 2045 §5.1) and Content-Disposition (RFC 2183 §2) values with their
 * parameters, joining RFC 2231 §3 continuations and decoding §4 charsets.
 * Each field keeps its exact octet range so DKIM (RFC 6376 §3.4.1 "simple")
 * can hash the bytes as received. */
#include "mime_hdr.h"

#include "mime_ew.h"
#include "mime_int.h"
#include "mime_scan.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct mime_hdr {
  GPtrArray *fields; /* of mime_hdr_field* */
};

static const char *const flag_names[MIME_FLAG_COUNT_] = {
    "bare-lf",     "long-line",   "bad-header",       "no-body-separator", "no-close-delimiter",
    "no-boundary", "depth-limit", "part-limit",       "field-limit",       "bad-encoding",
    "nul",         "8bit-header", "bad-content-type",
};

const char *mime_flag_name(guint bit) {
  for (int i = 0; i < MIME_FLAG_COUNT_; i++)
    if (bit == (1u << i))
      return flag_names[i];
  return "?";
}

char *mime_flags_describe(guint flags) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < MIME_FLAG_COUNT_; i++) {
    if (flags & (1u << i)) {
      if (s->len)
        g_string_append_c(s, ',');
      g_string_append(s, flag_names[i]);
    }
  }
  return g_string_free(s, FALSE);
}

/* A field and its strings in one allocation: the public part first, then
 * the name, the raw value and the unfolded value, each NUL-terminated. */
typedef struct {
  mime_hdr_field f;
  gsize name_len;
  char text[];
} field_box;

/* Copies LEN octets of RAW to OUT without CR and LF (RFC 5322 §2.2.3:
 * unfolding removes the line ends that precede WSP; a line end anywhere
 * else in a field body is gone already) and without outer WSP; returns the
 * length written (OUT is NUL-terminated, at most LEN + 1 octets). */
gsize mime__unfold_into(const char *raw, gsize len, char *out) {
  gsize a = 0, b = len;
  while (a < b && (raw[a] == ' ' || raw[a] == '\t' || raw[a] == '\r' || raw[a] == '\n'))
    a++;
  while (b > a && (raw[b - 1] == ' ' || raw[b - 1] == '\t' || raw[b - 1] == '\r' ||
                   raw[b - 1] == '\n'))
    b--;
  /* Eight octets a step while they hold no CR and no LF (a field body is
   * mostly one line or a few); OUT never runs ahead of RAW. */
  const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101), highs = ones << 7;
  gsize o = 0;
  while (a < b) {
#if defined(__SSE2__)
    if (b - a >= 16) { /* sixteen octets a step where SSE2 is */
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(raw + a));
      int m16 = _mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
      _mm_storeu_si128((__m128i *)(void *)(out + o), v);
      gsize k = m16 ? (gsize)__builtin_ctz((unsigned)m16) : 16; /* octets before a CR or LF */
      o += k;
      a += k + (m16 != 0);
      continue;
    }
#endif
    if (b - a >= 8) {
      guint64 w;
      memcpy(&w, raw + a, 8);
      guint64 x = w ^ (ones * '\r'), y = w ^ (ones * '\n');
      /* the high bit of each octet of X or Y that is zero (exact for
       * the lowest one: no borrow reaches it) */
      guint64 m = (((x - ones) & ~x) | ((y - ones) & ~y)) & highs;
      memcpy(out + o, &w, 8);
      if (!m) {
        o += 8;
        a += 8;
        continue;
      }
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      gsize k = (gsize)__builtin_ctzll(m) / 8; /* octets before the first CR or LF */
      o += k;
      a += k + 1;
      continue;
#endif
    }
    char c = raw[a++];
    if (c != '\r' && c != '\n')
      out[o++] = c;
  }
  out[o] = '\0';
  return o;
}

static mime_hdr_field *field_make(const char *name, gsize nl, const char *raw, gsize rl) {
  field_box *b = g_malloc(sizeof *b + nl + 1 + 2 * (rl + 1));
  char *t = b->text;
  memcpy(t, name, nl);
  t[nl] = '\0';
  char *r = t + nl + 1;
  memcpy(r, raw, rl);
  r[rl] = '\0';
  char *v = r + rl + 1;
  mime__unfold_into(raw, rl, v);
  b->f = (mime_hdr_field){.name = t, .raw_value = r, .value = v};
  b->name_len = nl;
  return &b->f;
}

mime_hdr *mime_hdr_new(void) {
  mime_hdr *h = g_new0(mime_hdr, 1);
  h->fields = g_ptr_array_new_with_free_func(g_free); /* field_box, f first */
  return h;
}

void mime_hdr_free(mime_hdr *h) {
  if (!h)
    return;
  g_ptr_array_free(h->fields, TRUE);
  g_free(h);
}

void mime_hdr_add(mime_hdr *h, const char *name, const char *value) {
  g_assert(h && name && value);
  g_ptr_array_add(h->fields, field_make(name, strlen(name), value, strlen(value)));
}

guint mime_hdr_count(const mime_hdr *h) { return h ? h->fields->len : 0; }

const mime_hdr_field *mime_hdr_nth(const mime_hdr *h, guint i) {
  g_assert(h && i < h->fields->len);
  return g_ptr_array_index(h->fields, i);
}

gboolean mime_hdr_name_is(const char *a, gsize alen, const char *b, gsize blen) {
  if (alen != blen)
    return FALSE;
  for (gsize i = 0; i < alen; i++) {
    guchar x = (guchar)a[i], y = (guchar)b[i];
    if (x != y) { /* equal ignoring case only as two cases of one ASCII letter */
      guchar lx = x | 0x20;
      if (lx != (y | 0x20) || lx < 'a' || lx > 'z')
        return FALSE;
    }
  }
  return TRUE;
}

const mime_hdr_field *mime_hdr_find(const mime_hdr *h, const char *name, guint n) {
  if (!h)
    return NULL;
  gsize nl = strlen(name);
  for (guint i = 0; i < h->fields->len; i++) {
    const field_box *b = g_ptr_array_index(h->fields, i);
    if (mime_hdr_name_is(b->f.name, b->name_len, name, nl)) {
      if (n == 0)
        return &b->f;
      n--;
    }
  }
  return NULL;
}

const char *mime_hdr_get(const mime_hdr *h, const char *name) {
  const mime_hdr_field *f = mime_hdr_find(h, name, 0);
  return f ? f->value : NULL;
}

gsize mime_hdr_unfold_into(const char *raw, gsize len, char *out) {
  return mime__unfold_into(raw, len, out);
}

char *mime_hdr_unfold(const char *raw, gsize len) {
  char *r = g_malloc(len + 1);
  mime__unfold_into(raw, len, r);
  return r;
}

/* The defect flags of the line S[0..N): NUL and 8-bit octets. */
static guint line_flags(const char *s, gsize n) {
  guint fl = 0;
  gsize i = 0;
  /* Eight octets at a time while they are all 1..0x7f (the usual case). */
  const guint64 lo = G_GUINT64_CONSTANT(0x0101010101010101), hi = lo << 7;
  for (; i + 8 <= n; i += 8) {
    guint64 w;
    memcpy(&w, s + i, 8);
    if (((w - lo) | w) & hi) /* a zero octet or one >= 0x80 */
      break;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == 0)
      fl |= MIME_FLAG_NUL;
    else if (c >= 0x80)
      fl |= MIME_FLAG_8BIT_HEADER;
  }
  return fl;
}

void mime_hdr_scan_init(mime_hdr_scan *sc, const char *buf, gsize len, gboolean want_flags) {
  g_assert(sc && (buf || !len));
  *sc = (mime_hdr_scan){.buf = buf, .len = len, .want_flags = want_flags};
}

/* Reads the line at sc->pos: its end without the line end (*EOL) and the
 * start of the next line (*NEXT); notes its defects. */
static void scan_line(mime_hdr_scan *sc, gsize *eol, gsize *next) {
  const char *buf = sc->buf;
  gsize p = sc->pos;
  const char *nl = mime_scan_lf(buf + p, sc->len - p);
  if (nl) {
    gsize n = (gsize)(nl - buf);
    *next = n + 1;
    *eol = (n > p && buf[n - 1] == '\r') ? n - 1 : n;
    if (*eol == n)
      sc->flags |= MIME_FLAG_BARE_LF;
  } else {
    *eol = *next = sc->len;
  }
  if (sc->want_flags) {
    if (*eol - p > MIME_LINE_MAX)
      sc->flags |= MIME_FLAG_LONG_LINE;
    sc->flags |= line_flags(buf + p, *eol - p);
  }
}

gboolean mime_hdr_scan_next(mime_hdr_scan *sc, mime_hdr_view *out) {
  const char *buf = sc->buf;
  while (!sc->done) {
    if (sc->pos >= sc->len) {
      sc->done = TRUE;
      sc->end = sc->len;
      break;
    }
    gsize p = sc->pos, eol, next;
    scan_line(sc, &eol, &next);
    if (eol == p) { /* the empty line ends the header (RFC 5322 §2.1) */
      sc->done = TRUE;
      sc->end = next;
      break;
    }
    if (buf[p] == ' ' || buf[p] == '\t') {
      if (sc->have) {
        sc->vend = eol;
        sc->next = next;
      } else {
        sc->flags |= MIME_FLAG_BAD_HEADER; /* a continuation with nothing to continue */
      }
      sc->pos = next;
      continue;
    }
    /* The name: ftext up to the colon, WSP allowed before it (RFC 5322
     * §4.5.1 obs-optional); one pass, no search for the colon first. */
    gsize ne = mime_scan_name_end(buf, p, eol);
    gsize colon = ne;
    while (colon < eol && (buf[colon] == ' ' || buf[colon] == '\t'))
      colon++;
    if (ne == p || colon == eol || buf[colon] != ':') {
      /* Not a field: the body starts here (as most readers do). */
      sc->flags |= MIME_FLAG_NO_BODY_SEP | MIME_FLAG_BAD_HEADER;
      sc->done = TRUE;
      sc->end = p;
      break;
    }
    gboolean had = sc->have;
    if (had) /* the field before this one is complete: given now */
      *out = (mime_hdr_view){buf + sc->start, sc->name_end - sc->start, buf + sc->colon + 1,
                             sc->vend - sc->colon - 1, sc->start, sc->next - sc->start};
    sc->have = TRUE;
    sc->start = p;
    sc->name_end = ne;
    sc->colon = colon;
    sc->vend = eol;
    sc->next = next;
    sc->pos = next;
    if (had)
      return TRUE;
  }
  if (sc->have) { /* the last field */
    sc->have = FALSE;
    *out = (mime_hdr_view){buf + sc->start, sc->name_end - sc->start, buf + sc->colon + 1,
                           sc->vend - sc->colon - 1, sc->start, sc->next - sc->start};
    return TRUE;
  }
  return FALSE;
}

gsize mime_hdr_scan_end(const mime_hdr_scan *sc) {
  g_assert(sc->done && !sc->have);
  return sc->end;
}

char *mime_hdr_scan_get(const char *buf, gsize len, guint max_fields, const char *name) {
  mime_hdr_scan sc;
  mime_hdr_view v;
  gsize nl = strlen(name);
  mime_hdr_scan_init(&sc, buf, len, FALSE);
  for (guint i = 0; (max_fields == 0 || i < max_fields) && mime_hdr_scan_next(&sc, &v); i++)
    if (mime_hdr_name_is(v.name, v.name_len, name, nl))
      return mime_hdr_unfold(v.raw_value, v.raw_len);
  return NULL;
}

guint mime_hdr_scan_count(const char *buf, gsize len, guint max_fields, const char *name) {
  mime_hdr_scan sc;
  mime_hdr_view v;
  gsize nl = strlen(name);
  guint n = 0;
  mime_hdr_scan_init(&sc, buf, len, FALSE);
  for (guint i = 0; (max_fields == 0 || i < max_fields) && mime_hdr_scan_next(&sc, &v); i++)
    if (mime_hdr_name_is(v.name, v.name_len, name, nl))
      n++;
  return n;
}

mime_hdr *mime_hdr_parse(const char *buf, gsize len, gsize base, guint max_fields, gsize *hdr_len,
                         guint *flags) {
  mime_hdr *h = mime_hdr_new();
  mime_hdr_scan sc;
  mime_hdr_view v;
  mime_hdr_scan_init(&sc, buf, len, TRUE);
  while (mime_hdr_scan_next(&sc, &v)) {
    if (max_fields && h->fields->len >= max_fields) {
      sc.flags |= MIME_FLAG_FIELD_LIMIT;
      continue;
    }
    mime_hdr_field *f = field_make(v.name, v.name_len, v.raw_value, v.raw_len);
    f->offset = base + v.offset;
    f->length = v.length;
    g_ptr_array_add(h->fields, f);
  }
  if (hdr_len)
    *hdr_len = mime_hdr_scan_end(&sc);
  if (flags)
    *flags |= sc.flags;
  return h;
}

/* ---- parameters ---- */

static void param_free(gpointer p) {
  mime_param *m = p;
  g_free(m->name);
  g_free(m->value);
  g_free(m);
}

static void param_add(GPtrArray *a, const char *name, char *value_take) {
  mime_param *m = g_new0(mime_param, 1);
  m->name = g_ascii_strdown(name, -1);
  m->value = value_take;
  g_ptr_array_add(a, m);
}

const char *mime_params_get(const GPtrArray *params, const char *name) {
  if (!params)
    return NULL;
  for (guint i = 0; i < params->len; i++) {
    const mime_param *m = g_ptr_array_index((GPtrArray *)params, i);
    if (g_ascii_strcasecmp(m->name, name) == 0)
      return m->value;
  }
  return NULL;
}

void mime_ctype_clear(mime_ctype *ct) {
  if (!ct)
    return;
  g_free(ct->type);
  g_free(ct->subtype);
  if (ct->raw_params)
    g_ptr_array_free(ct->raw_params, TRUE);
  if (ct->params)
    g_ptr_array_free(ct->params, TRUE);
  memset(ct, 0, sizeof *ct);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void pct_decode(GString *out, const char *s) {
  for (; *s; s++) {
    int h, l;
    if (*s == '%' && (h = hexval(s[1])) >= 0 && (l = hexval(s[2])) >= 0) {
      g_string_append_c(out, (char)(h * 16 + l));
      s += 2;
    } else {
      g_string_append_c(out, *s);
    }
  }
}

/* A raw parameter name split per RFC 2231 §3-4: "base", "base*",
 * "base*N" or "base*N*". */
typedef struct {
  char *base;
  int index;        /* -1: not a continuation */
  gboolean encoded; /* trailing '*' */
  const char *value;
} split_name;

static split_name split_param(const mime_param *m) {
  split_name s = {NULL, -1, FALSE, m->value};
  const char *star = strchr(m->name, '*');
  if (!star) {
    s.base = g_strdup(m->name);
    return s;
  }
  s.base = g_strndup(m->name, (gsize)(star - m->name));
  const char *p = star + 1;
  if (*p == 0) {
    s.encoded = TRUE;
    return s;
  }
  if (g_ascii_isdigit(*p)) {
    long v = 0;
    while (g_ascii_isdigit(*p) && v < 10000)
      v = v * 10 + (*p++ - '0');
    s.index = (int)v;
    if (*p == '*') {
      s.encoded = TRUE;
      p++;
    }
    if (*p == 0)
      return s;
  }
  /* Malformed: keep the whole name as a plain parameter. */
  g_free(s.base);
  s.base = g_strdup(m->name);
  s.index = -1;
  s.encoded = FALSE;
  return s;
}

/* RFC 2231 §4: charset'language'%XX... in the first encoded segment. */
static char *rfc2231_value(GPtrArray *segs) {
  GString *bytes = g_string_new(NULL);
  char *charset = NULL;
  for (guint i = 0; i < segs->len; i++) {
    split_name *s = g_ptr_array_index(segs, i);
    const char *v = s->value;
    if (i == 0 && s->encoded) {
      const char *q1 = strchr(v, '\'');
      const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
      if (q2) {
        charset = g_strndup(v, (gsize)(q1 - v));
        v = q2 + 1;
      }
    }
    if (s->encoded)
      pct_decode(bytes, v);
    else
      g_string_append(bytes, v);
  }
  char *r = mime__to_utf8(charset, bytes->str, bytes->len);
  if (!r)
    r = mime__utf8_sanitize(bytes->str, bytes->len);
  g_free(charset);
  g_string_free(bytes, TRUE);
  return r;
}

static gint cmp_index(gconstpointer a, gconstpointer b) {
  const split_name *x = *(split_name *const *)a, *y = *(split_name *const *)b;
  return (x->index > y->index) - (x->index < y->index);
}

static GPtrArray *merge_params(GPtrArray *raw) {
  GPtrArray *out = g_ptr_array_new_with_free_func(param_free);
  guint n = raw->len;
  split_name *sp = g_new0(split_name, n ? n : 1);
  for (guint i = 0; i < n; i++)
    sp[i] = split_param(g_ptr_array_index(raw, i));
  for (guint i = 0; i < n; i++) {
    if (mime_params_get(out, sp[i].base))
      continue; /* done already (first wins) */
    /* An RFC 2231 form of this name, if any, wins over a plain one. */
    GPtrArray *segs = g_ptr_array_new();
    const split_name *single = NULL;
    for (guint j = 0; j < n; j++) {
      if (strcmp(sp[j].base, sp[i].base) != 0)
        continue;
      if (sp[j].index >= 0)
        g_ptr_array_add(segs, &sp[j]);
      else if (sp[j].encoded && !single)
        single = &sp[j];
    }
    char *value = NULL;
    if (single) {
      GPtrArray *one = g_ptr_array_new();
      g_ptr_array_add(one, (gpointer)single);
      value = rfc2231_value(one);
      g_ptr_array_free(one, TRUE);
    } else if (segs->len) {
      g_ptr_array_sort(segs, cmp_index);
      /* Stop at the first gap or duplicate index. */
      guint k = 0;
      while (k < segs->len && ((split_name *)g_ptr_array_index(segs, k))->index == (int)k)
        k++;
      g_ptr_array_set_size(segs, k);
      if (k)
        value = rfc2231_value(segs);
    }
    if (!value) {
      for (guint j = 0; j < n && !value; j++) {
        if (strcmp(sp[j].base, sp[i].base) != 0 || sp[j].index >= 0 || sp[j].encoded)
          continue;
        /* RFC 2047 words in a parameter are not allowed (§5) but common
         * (Outlook, old Thunderbird); readers decode them, so do we. */
        if (strstr(sp[j].value, "=?"))
          value = mime_ew_decode(sp[j].value);
        else
          value = mime__utf8_sanitize(sp[j].value, strlen(sp[j].value));
      }
    }
    if (value)
      param_add(out, sp[i].base, value);
    g_ptr_array_free(segs, TRUE);
  }
  for (guint i = 0; i < n; i++)
    g_free(sp[i].base);
  g_free(sp);
  return out;
}

#define MIME_MAX_PARAMS 128

gboolean mime_ctype_parse(const char *value, gboolean with_subtype, mime_ctype *out) {
  memset(out, 0, sizeof *out);
  out->raw_params = g_ptr_array_new_with_free_func(param_free);
  const char *s = value ? value : "";
  gsize len = strlen(s), pos = 0;
  gboolean ok = TRUE;
  GString *tok = g_string_new(NULL);
  mime__skip_cfws(s, len, &pos, NULL);
  if (mime__read_token(s, len, &pos, tok)) {
    out->type = g_ascii_strdown(tok->str, -1);
  } else {
    ok = FALSE;
  }
  if (with_subtype && ok) {
    mime__skip_cfws(s, len, &pos, NULL);
    g_string_truncate(tok, 0);
    if (pos < len && s[pos] == '/') {
      pos++;
      mime__skip_cfws(s, len, &pos, NULL);
      if (mime__read_token(s, len, &pos, tok))
        out->subtype = g_ascii_strdown(tok->str, -1);
    }
    if (!out->subtype)
      ok = FALSE;
  }
  while (pos < len) {
    mime__skip_cfws(s, len, &pos, NULL);
    if (pos >= len)
      break;
    if (s[pos] != ';') {
      /* Junk: skip to the next ';' (tolerated). */
      const char *semi = strchr(s + pos, ';');
      if (!semi)
        break;
      pos = (gsize)(semi - s);
    }
    pos++;
    mime__skip_cfws(s, len, &pos, NULL);
    g_string_truncate(tok, 0);
    if (!mime__read_token(s, len, &pos, tok))
      continue;
    char *name = g_strdup(tok->str);
    mime__skip_cfws(s, len, &pos, NULL);
    if (pos >= len || s[pos] != '=') {
      g_free(name);
      continue;
    }
    pos++;
    mime__skip_cfws(s, len, &pos, NULL);
    g_string_truncate(tok, 0);
    if (pos < len && s[pos] == '"') {
      mime__read_qstring(s, len, &pos, tok, NULL);
    } else {
      /* Lenient: a token, plus the 8-bit and tspecial octets broken
       * mailers leave unquoted, up to ';', WSP or a comment. */
      while (pos < len && s[pos] != ';' && s[pos] != ' ' && s[pos] != '\t' && s[pos] != '(')
        g_string_append_c(tok, s[pos++]);
    }
    if (out->raw_params->len < MIME_MAX_PARAMS)
      param_add(out->raw_params, name, g_strdup(tok->str));
    g_free(name);
  }
  g_string_free(tok, TRUE);
  out->params = merge_params(out->raw_params);
  return ok;
}
