/* scn_msgs_text.c — the "messages" array of a scenario read from its text.
 *
 * The loader's fast path (scn.c): a load world's file is mostly messages,
 * and a cJSON tree of them costs more than everything else the loader
 * does (parse, convert, delete: ~13 k instructions and ~20 allocation
 * calls a message). Here each message goes from the text into the store
 * (scn_msgs.h) in one pass: strings are copied once, into the page's chunk
 * or the interned addresses, as load_messages (scn_mail.c) copies them.
 *
 * The reader accepts a strict subset of JSON (RFC 8259): the grammar of
 * §2 (values), §4 (objects), §5 (arrays) and §7 (strings) with the
 * escapes of §7 other than \u, no control octets in strings, and the four
 * white-space octets of §2. cJSON accepts all of it and reads the same
 * strings from it (it copies a string's octets as they are, escapes
 * decoded). Everything outside the subset, and every message the loader
 * would refuse or could word an error about, makes it return NULL: the
 * loader then reads the whole file with cJSON, so what is refused is
 * refused by the general path with its own words. To find the array, the
 * values before it are skipped by their brackets and strings only; the
 * loader has cJSON check them (the text with the array cut out must still
 * load).
 */
#include "scn_msgs_text.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "scn_mail_int.h"

typedef const unsigned char *cur;

/* Octets that stand for themselves in a string: not '"', '\\' or a
 * control octet (RFC 8259 §7; octets from 0x80 are copied as they are,
 * as cJSON copies them). */
/* clang-format off */
static const uint8_t str_plain[256] = {
#define P16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    P16(0), P16(0),                                    /* 0x00-0x1f */
    1,      1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f: '"' */
    P16(1), P16(1),                                    /* 0x30-0x4f */
    1,      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50-0x5f: '\\' */
    P16(1), P16(1),                                    /* 0x60-0x7f */
    P16(1), P16(1), P16(1), P16(1), P16(1), P16(1), P16(1), P16(1),
#undef P16
};
/* clang-format on */

static inline cur skip_ws(cur p, cur e) {
  while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  return p;
}

/* After an array's element, at P: ']' ends the array (*END true; the octet
 * after it returned), ',' leads to the next element (*END false; its first
 * non-space octet returned); NULL for anything else. */
static cur array_sep(cur p, cur e, bool *end) {
  p = skip_ws(p, e);
  *end = p < e && *p == ']';
  if (*end)
    return p + 1;
  if (p >= e || *p != ',')
    return NULL;
  return skip_ws(p + 1, e);
}

/* A string's value: N octets at S (in the text, or in the reader's
 * scratch once unescaped). */
typedef struct {
  const char *s;
  size_t n;
} str;

/* The first octet from P that is not str_plain (E if none): sixteen at a
 * time where SSE2 is (every x86-64). */
static inline cur plain_run(cur p, cur e) {
#if defined(__SSE2__)
  const __m128i qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), bias = _mm_set1_epi8((char)0x80),
                lim = _mm_set1_epi8((char)(0x20 ^ 0x80));
  for (; e - p >= 16; p += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* below 0x20 unsigned: below 0xa0 signed once the top bit is flipped */
    int m =
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, qu), _mm_cmpeq_epi8(v, bs)),
                                       _mm_cmplt_epi8(_mm_xor_si128(v, bias), lim)));
    if (m)
      return p + __builtin_ctz((unsigned)m);
  }
#endif
  while (p < e && str_plain[*p])
    p++;
  return p;
}

/* The escape at P (its backslash): the octet it stands for, or -1 (\u,
 * another, or none: the general path's). */
static inline int unescape(cur p, cur e) {
  if (p + 1 >= e)
    return -1;
  switch (p[1]) {
  case '"':
    return '"';
  case '\\':
    return '\\';
  case '/':
    return '/';
  case 'b':
    return '\b';
  case 'f':
    return '\f';
  case 'n':
    return '\n';
  case 'r':
    return '\r';
  case 't':
    return '\t';
  default:
    return -1;
  }
}

/* Reads the string whose opening quote is at P; returns the octet after
 * its closing quote and its value in *OUT (unescaped into SCRATCH when it
 * has escapes, else a view of the text), or NULL when it is not in the
 * subset (a control octet, \u, an unknown escape, no end). */
static cur read_string(cur p, cur e, GString *scratch, str *out) {
  cur s = ++p;
  p = plain_run(p, e);
  if (G_LIKELY(p < e && *p == '"')) { /* the usual case: no escape */
    out->s = (const char *)s;
    out->n = (size_t)(p - s);
    return p + 1;
  }
  /* its end first (the value is no longer than the text), then the value */
  cur q = p;
  while (q < e && *q == '\\') {
    if (unescape(q, e) < 0)
      return NULL;
    q = plain_run(q + 2, e);
  }
  if (q >= e || *q != '"')
    return NULL; /* a control octet, or the text ends */
  g_string_set_size(scratch, (gsize)(q - s));
  char *d = scratch->str;
  memcpy(d, s, (size_t)(p - s));
  d += p - s;
  while (p < q) {
    if (*p == '\\') {
      *d++ = (char)unescape(p, e);
      p += 2;
    } else {
      *d++ = (char)*p++;
    }
  }
  *d = '\0';
  scratch->len = (gsize)(d - scratch->str);
  out->s = scratch->str;
  out->n = scratch->len;
  return q + 1;
}

/* Skips the string at P (any escape) without reading it; NULL if it does
 * not end. */
static cur skip_string(cur p, cur e) {
  for (p++; p < e; p++) {
#if defined(__SSE2__)
    const __m128i qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; e - p >= 16; p += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
      int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, qu), _mm_cmpeq_epi8(v, bs)));
      if (m) {
        p += __builtin_ctz((unsigned)m);
        break;
      }
    }
    if (p >= e)
      return NULL;
#endif
    if (*p == '"')
      return p + 1;
    if (*p == '\\' && ++p >= e)
      return NULL;
  }
  return NULL;
}

/* The first octet from P that is '"' or a bracket (E if none). */
static inline cur next_mark(cur p, cur e) {
#if defined(__SSE2__)
  /* '{' and '[' are 0x7b and 0x5b, '}' and ']' 0x7d and 0x5d: one compare
   * each with 0x20 set */
  const __m128i qu = _mm_set1_epi8('"'), lo = _mm_set1_epi8(0x20), op = _mm_set1_epi8('{'),
                cl = _mm_set1_epi8('}');
  for (; e - p >= 16; p += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i w = _mm_or_si128(v, lo);
    int m = _mm_movemask_epi8(_mm_or_si128(
        _mm_cmpeq_epi8(v, qu), _mm_or_si128(_mm_cmpeq_epi8(w, op), _mm_cmpeq_epi8(w, cl))));
    if (m)
      return p + __builtin_ctz((unsigned)m);
  }
#endif
  while (p < e && *p != '"' && *p != '{' && *p != '}' && *p != '[' && *p != ']')
    p++;
  return p;
}

/* Skips the value at P by its brackets and strings: where it ends, or
 * NULL when the text ends first. Not a check: what it skips, cJSON reads
 * afterwards. */
static cur skip_value(cur p, cur e) {
  if (p >= e)
    return NULL;
  if (*p == '"')
    return skip_string(p, e);
  if (*p == '{' || *p == '[') {
    size_t depth = 0;
    while ((p = next_mark(p, e)) < e) {
      switch (*p) {
      case '"':
        p = skip_string(p, e);
        if (!p)
          return NULL;
        continue;
      case '{':
      case '[':
        depth++;
        break;
      case '}':
      case ']':
        if (--depth == 0)
          return p + 1;
        break;
      default:
        break;
      }
      p++;
    }
    return NULL;
  }
  cur s = p; /* a number or a literal */
  while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' &&
         *p != '\t')
    p++;
  return p > s ? p : NULL;
}

/* The keys of a message (load_messages's). */
enum { K_ID, K_FROM, K_TO, K_CC, K_BCC, K_SUBJECT, K_TEXT, K_HTML, K_AT, K_ATTACHMENTS, K_N };

static int key_index(const str *k) {
#define IS(lit) (k->n == sizeof lit - 1 && memcmp(k->s, lit, sizeof lit - 1) == 0)
  switch (k->n) {
  case 2:
    return IS("id") ? K_ID : IS("to") ? K_TO : IS("cc") ? K_CC : IS("at") ? K_AT : -1;
  case 3:
    return IS("bcc") ? K_BCC : -1;
  case 4:
    return IS("from") ? K_FROM : IS("text") ? K_TEXT : IS("html") ? K_HTML : -1;
  case 7:
    return IS("subject") ? K_SUBJECT : -1;
  case 11:
    return IS("attachments") ? K_ATTACHMENTS : -1;
  default:
    return -1;
  }
#undef IS
}

/* A message's addresses at one key, interned, while it is read. */
typedef struct {
  char **v;
  guint n, cap;
} addr_list;

typedef struct {
  scn_msgs *msgs;
  GStringChunk *addrs;
  GString *scratch[K_N]; /* a string value's unescaped octets, by key */
  GString *key;          /* a key with an escape (given up on) */
  GString *addr;         /* an address, NUL-terminated for interning */
  addr_list rcpts[3];    /* to, cc, bcc: interned addresses */
  GPtrArray *none;       /* the shared empty recipient list */
  GHashTable *ones;      /* interned address -> its one-address list */
  GArray *no_attachments;
  GHashTable *ids; /* lookup only */
} reader;

/* The address at A interned (g_string_chunk_insert_const needs its NUL). */
static char *intern(reader *r, const str *a) {
  char small[256]; /* every address of a usual world */
  if (a->n < sizeof small) {
    memcpy(small, a->s, a->n);
    small[a->n] = '\0';
    return g_string_chunk_insert_const(r->addrs, small);
  }
  g_string_truncate(r->addr, 0);
  g_string_append_len(r->addr, a->s, (gssize)a->n);
  return g_string_chunk_insert_const(r->addrs, r->addr->str);
}

/* Reads the array of addresses at P into LIST (interned, each checked as
 * the loader checks recipients); the octet after it, or NULL. */
static cur read_addresses(reader *r, cur p, cur e, addr_list *list, GString *scratch) {
  list->n = 0;
  if (p >= e || *p != '[')
    return NULL;
  p = skip_ws(p + 1, e);
  if (p < e && *p == ']')
    return p + 1;
  for (;;) {
    str a;
    if (p >= e || *p != '"' || !(p = read_string(p, e, scratch, &a)))
      return NULL;
    char *in = intern(r, &a);
    /* the interned copy ends at the first NUL; none can be inside (no
     * control octet, no \u) */
    if (!scn__valid_address(in))
      return NULL;
    if (list->n == list->cap) {
      list->cap = list->cap ? 2 * list->cap : 8;
      list->v = g_renew(char *, list->v, list->cap);
    }
    list->v[list->n++] = in;
    bool end;
    if (!(p = array_sep(p, e, &end)) || end)
      return p;
  }
}

/* A recipient list as address_list (scn_mail.c) makes it: the shared
 * empty one, the shared list of one address, or an exact-size copy. */
static GPtrArray *list_of(reader *r, const addr_list *got) {
  if (got->n == 0)
    return g_ptr_array_ref(r->none);
  if (got->n == 1) {
    char *a = got->v[0];
    GPtrArray *l = g_hash_table_lookup(r->ones, a);
    if (!l) {
      l = g_ptr_array_sized_new(1);
      g_ptr_array_add(l, a);
      g_hash_table_insert(r->ones, a, l);
    }
    return g_ptr_array_ref(l);
  }
  GPtrArray *out = g_ptr_array_sized_new(got->n);
  for (guint i = 0; i < got->n; i++)
    g_ptr_array_add(out, got->v[i]);
  return out;
}

/* What sim_time_parse makes of "Nms", N 1 to 12 digits (no overflow);
 * 0 for any other text (then sim_time_parse reads it). */
static sim_time whole_ms(const str *t) {
  if (t->n < 3 || t->n > 14 || memcmp(t->s + t->n - 2, "ms", 2) != 0)
    return 0;
  sim_time v = 0;
  for (size_t i = 0; i < t->n - 2; i++) {
    if (!g_ascii_isdigit(t->s[i]))
      return 0;
    v = v * 10 + (t->s[i] - '0');
  }
  return v * SIM_MS;
}

/* Reads the message object at P (message I of the array) into the store;
 * the octet after it, or NULL when it is not of the usual shape. */
static cur read_message(reader *r, cur p, cur e, int i) {
  if (p >= e || *p != '{')
    return NULL;
  str v[K_N];
  unsigned seen = 0;
  bool lists[3] = {false, false, false};
  p = skip_ws(p + 1, e);
  if (p < e && *p == '}')
    return NULL; /* no "from" */
  for (;;) {
    str k;
    if (p >= e || *p != '"' || !(p = read_string(p, e, r->key, &k)) || k.s == r->key->str)
      return NULL; /* not a key, or one with an escape */
    int ki = key_index(&k);
    if (ki < 0 || (seen & 1u << ki))
      return NULL; /* an unknown or a repeated key */
    seen |= 1u << ki;
    p = skip_ws(p, e);
    if (p >= e || *p != ':')
      return NULL;
    p = skip_ws(p + 1, e);
    if (ki == K_TO || ki == K_CC || ki == K_BCC) {
      int li = ki - K_TO;
      lists[li] = true;
      p = read_addresses(r, p, e, &r->rcpts[li], r->scratch[ki]);
    } else if (ki == K_ATTACHMENTS) { /* none: the shared empty list */
      if (p >= e || *p != '[')
        return NULL;
      p = skip_ws(p + 1, e);
      p = p < e && *p == ']' ? p + 1 : NULL;
    } else if (p < e && *p == '"') {
      p = read_string(p, e, r->scratch[ki], &v[ki]);
    } else {
      return NULL; /* no string where the loader wants one */
    }
    if (!p)
      return NULL;
    p = skip_ws(p, e);
    if (p < e && *p == '}')
      break;
    if (p >= e || *p != ',')
      return NULL;
    p = skip_ws(p + 1, e);
  }
  if (!(seen & 1u << K_FROM))
    return NULL;
  for (int li = 0; li < 3; li++)
    if (!lists[li])
      r->rcpts[li].n = 0;
  if (r->rcpts[0].n + r->rcpts[1].n + r->rcpts[2].n == 0)
    return NULL;
  sim_time at = 0;
  if ((seen & 1u << K_AT) && !(at = whole_ms(&v[K_AT]))) {
    char buf[64]; /* not "Nms": sim_time_parse, as the loader reads it */
    if (v[K_AT].n >= sizeof buf)
      return NULL;
    memcpy(buf, v[K_AT].s, v[K_AT].n);
    buf[v[K_AT].n] = '\0';
    if (!sim_time_parse(buf, &at, NULL))
      return NULL;
  }
  GStringChunk *ch;
  scn_message *m = scn_msgs_append(r->msgs, &ch);
  m->at = at;
  if (seen & 1u << K_ID) {
    m->id = g_string_chunk_insert_len(ch, v[K_ID].s, (gssize)v[K_ID].n);
  } else {
    char idbuf[16];
    g_snprintf(idbuf, sizeof idbuf, "m%d", i + 1);
    m->id = g_string_chunk_insert(ch, idbuf);
  }
  m->from = intern(r, &v[K_FROM]);
  m->subject = seen & 1u << K_SUBJECT
                   ? g_string_chunk_insert_len(ch, v[K_SUBJECT].s, (gssize)v[K_SUBJECT].n)
                   : g_string_chunk_insert(ch, "");
  if (seen & 1u << K_TEXT)
    m->text = g_string_chunk_insert_len(ch, v[K_TEXT].s, (gssize)v[K_TEXT].n);
  else if (!(seen & 1u << K_HTML))
    m->text = g_string_chunk_insert(ch, "");
  if (seen & 1u << K_HTML)
    m->html = g_string_chunk_insert_len(ch, v[K_HTML].s, (gssize)v[K_HTML].n);
  m->to = list_of(r, &r->rcpts[0]);
  m->cc = list_of(r, &r->rcpts[1]);
  m->bcc = list_of(r, &r->rcpts[2]);
  m->attachments = g_array_ref(r->no_attachments);
  if (!g_hash_table_add(r->ids, m->id))
    return NULL; /* an id used twice */
  return p + 1;
}

/* Reads the array of messages at P (its '['); the octet after it, or
 * NULL. */
static cur read_messages(reader *r, cur p, cur e) {
  p = skip_ws(p + 1, e);
  if (p < e && *p == ']')
    return p + 1;
  for (int i = 0;; i++) {
    p = read_message(r, p, e, i);
    bool end;
    if (!p || !(p = array_sep(p, e, &end)) || end)
      return p;
  }
}

/* The offset of the value of the top-level key "messages"; NULL when
 * there is none, or two, or the text is not as expected on the way. */
static cur find_messages(cur p, cur e, GString *scratch) {
  p = skip_ws(p, e);
  if (p >= e || *p != '{')
    return NULL;
  p = skip_ws(p + 1, e);
  cur found = NULL;
  if (p < e && *p == '}')
    return NULL;
  for (;;) {
    str k;
    if (p >= e || *p != '"' || !(p = read_string(p, e, scratch, &k)) || k.s == scratch->str)
      return NULL; /* not a key, or one with an escape */
    p = skip_ws(p, e);
    if (p >= e || *p != ':')
      return NULL;
    p = skip_ws(p + 1, e);
    if (k.n == 8 && memcmp(k.s, "messages", 8) == 0) {
      if (found)
        return NULL; /* the loader reads the first: the general path */
      found = p;
    }
    p = skip_value(p, e);
    if (!p)
      return NULL;
    p = skip_ws(p, e);
    if (p < e && *p == '}')
      return found;
    if (p >= e || *p != ',')
      return NULL;
    p = skip_ws(p + 1, e);
  }
}

scn_msgs *scn_msgs_text_read(const char *json, size_t len, size_t *start, size_t *end) {
  cur b = (cur)json, e = b + len;
  reader r = {0};
  for (int k = 0; k < K_N; k++)
    r.scratch[k] = g_string_new(NULL);
  r.key = g_string_new(NULL);
  cur p = find_messages(b, e, r.key);
  if (!p || *p != '[') {
    for (int k = 0; k < K_N; k++)
      g_string_free(r.scratch[k], TRUE);
    g_string_free(r.key, TRUE);
    return NULL;
  }
  r.msgs = scn_msgs_new(0);
  r.addrs = scn_msgs_addresses(r.msgs);
  r.addr = g_string_new(NULL);
  r.none = g_ptr_array_new();
  r.ones =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
  r.no_attachments = g_array_new(FALSE, TRUE, sizeof(scn_attachment));
  r.ids = g_hash_table_new(g_str_hash, g_str_equal);
  cur q = read_messages(&r, p, e);
  for (int k = 0; k < K_N; k++)
    g_string_free(r.scratch[k], TRUE);
  g_string_free(r.addr, TRUE);
  g_string_free(r.key, TRUE);
  for (int k = 0; k < 3; k++)
    g_free(r.rcpts[k].v);
  g_ptr_array_unref(r.none);
  g_hash_table_unref(r.ones);
  g_array_unref(r.no_attachments);
  g_hash_table_unref(r.ids);
  if (!q) {
    scn_msgs_free(r.msgs);
    return NULL;
  }
  *start = (size_t)(p - b);
  *end = (size_t)(q - b);
  return r.msgs;
}
