/* trace_rec.c — the reader's fast path: one strict pass over a record line
 * that indexes its top-level keys, and getters that decode a value only
 * when asked.
 *
 * The scanner accepts a subset of what the full path (cJSON, then the
 * strictness pass of trace_read.c) accepts, never more: RFC 8259 §2
 * whitespace (space, tab, CR), §4 objects, §5 arrays, §6 the number
 * grammar, §7 strings (escapes, no raw control characters, \u escapes of
 * four hex digits whose surrogates pair up as cJSON requires), §8 UTF-8
 * (checked with g_utf8_validate when a line has a byte above 0x7F). Where
 * it is unsure — a top-level key with an escape, nesting deeper than
 * MAX_DEPTH, a number longer than cJSON copies, many keys — it declines
 * and the reader takes the full path for that line, which also writes the
 * error message when the line is bad. So both paths give the same records
 * and the same errors. */
#include "trace_rec.h"

#include <string.h>

#include "trace_read_int.h"
#include "trace_rec_int.h"

#define MAX_DEPTH 200  /* cJSON allows 1000; deeper lines take the full path */
#define MAX_NUMBER 63  /* cJSON copies at most 63 characters of a number */
#define MAX_MEMBERS 64 /* the duplicate check below is quadratic */

typedef struct {
  uint32_t key, key_len; /* inside the quotes */
  uint32_t val, val_len; /* a string's span includes its quotes */
  char type;             /* s n o a t f z */
  bool esc;              /* a string value with a backslash */
  const char *dec;       /* decoded string (in scratch), or NULL */
  cJSON *json;           /* parsed on demand */
} member;

struct trace_rec {
  const char *line;
  size_t len;
  GArray *members; /* of member */
  char *scratch;   /* decoded strings; never reallocated while a record is current */
  size_t scratch_len, scratch_cap;
  cJSON *tree; /* set when the full path read the line */
};

trace_rec *trace_rec__new(void) {
  trace_rec *r = g_new0(trace_rec, 1);
  r->members = g_array_new(FALSE, FALSE, sizeof(member));
  return r;
}

void trace_rec__clear(trace_rec *r) {
  for (guint i = 0; i < r->members->len; i++)
    cJSON_Delete(g_array_index(r->members, member, i).json);
  g_array_set_size(r->members, 0);
  cJSON_Delete(r->tree);
  r->tree = NULL;
  r->line = NULL;
  r->len = 0;
  r->scratch_len = 0;
}

void trace_rec__free(trace_rec *r) {
  if (!r)
    return;
  trace_rec__clear(r);
  g_array_free(r->members, TRUE);
  g_free(r->scratch);
  g_free(r);
}

void trace_rec__set_tree(trace_rec *r, cJSON *tree) {
  trace_rec__clear(r);
  r->tree = tree;
}

/* --- the scanner ------------------------------------------------------------- */

typedef struct {
  const char *s; /* NUL-terminated at n; a NUL inside fails every test below */
  bool high;     /* a byte above 0x7F was seen */
} scn;

static size_t skip_ws(const char *s, size_t i) {
  while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')
    i++;
  return i;
}

static int hex4(const char *p) {
  int v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p[k];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v << 4 | d;
  }
  return v;
}

/* A string at S[*I] == '"'; *I moves past the closing quote. */
static bool scan_string(scn *c, size_t *i, bool *esc) {
  const char *s = c->s;
  size_t k = *i + 1;
  for (;;) {
    unsigned char b = (unsigned char)s[k];
    if (b == '"')
      break;
    if (b < 0x20) /* also the terminating NUL: unterminated */
      return false;
    if (b >= 0x80) {
      c->high = true;
      k++;
      continue;
    }
    if (b != '\\') {
      k++;
      continue;
    }
    *esc = true;
    switch (s[k + 1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      k += 2;
      break;
    case 'u': {
      int u = hex4(s + k + 2);
      if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
        return false;
      if (u >= 0xd800 && u <= 0xdbff) { /* cJSON wants the low half next */
        if (s[k + 6] != '\\' || s[k + 7] != 'u')
          return false;
        int lo = hex4(s + k + 8);
        if (lo < 0xdc00 || lo > 0xdfff)
          return false;
        k += 12;
      } else {
        k += 6;
      }
      break;
    }
    default:
      return false;
    }
  }
  *i = k + 1;
  return true;
}

static size_t digits(const char *s, size_t i) {
  while (s[i] >= '0' && s[i] <= '9')
    i++;
  return i;
}

/* RFC 8259 §6. */
static bool scan_number(const char *s, size_t *i) {
  size_t k = *i, start = k;
  if (s[k] == '-')
    k++;
  if (s[k] == '0')
    k++;
  else if (s[k] >= '1' && s[k] <= '9')
    k = digits(s, k);
  else
    return false;
  if (s[k] == '.') {
    size_t d = k + 1;
    k = digits(s, d);
    if (k == d)
      return false;
  }
  if (s[k] == 'e' || s[k] == 'E') {
    k++;
    if (s[k] == '+' || s[k] == '-')
      k++;
    size_t d = k;
    k = digits(s, k);
    if (k == d)
      return false;
  }
  /* what cJSON would have copied on: a longer run of number characters */
  char next = s[k];
  if ((next >= '0' && next <= '9') || next == '+' || next == '-' || next == '.' || next == 'e' ||
      next == 'E')
    return false;
  if (k - start > MAX_NUMBER)
    return false;
  *i = k;
  return true;
}

static bool scan_value(scn *c, size_t *i, int depth, char *type, bool *esc);

static bool scan_container(scn *c, size_t *i, int depth, bool object) {
  const char *s = c->s;
  char close = object ? '}' : ']';
  size_t k = skip_ws(s, *i + 1);
  if (s[k] == close) {
    *i = k + 1;
    return true;
  }
  for (;;) {
    char type;
    bool esc = false;
    if (object) {
      if (s[k] != '"' || !scan_string(c, &k, &esc))
        return false;
      k = skip_ws(s, k);
      if (s[k] != ':')
        return false;
      k = skip_ws(s, k + 1);
    }
    if (!scan_value(c, &k, depth + 1, &type, &esc))
      return false;
    k = skip_ws(s, k);
    if (s[k] == close) {
      *i = k + 1;
      return true;
    }
    if (s[k] != ',')
      return false;
    k = skip_ws(s, k + 1);
  }
}

static bool scan_value(scn *c, size_t *i, int depth, char *type, bool *esc) {
  const char *s = c->s;
  switch (s[*i]) {
  case '"':
    *type = 's';
    return scan_string(c, i, esc);
  case '{':
  case '[':
    *type = s[*i] == '{' ? 'o' : 'a';
    return depth < MAX_DEPTH && scan_container(c, i, depth, s[*i] == '{');
  case 't':
    *type = 't';
    if (strncmp(s + *i, "true", 4) != 0)
      return false;
    *i += 4;
    return true;
  case 'f':
    *type = 'f';
    if (strncmp(s + *i, "false", 5) != 0)
      return false;
    *i += 5;
    return true;
  case 'n':
    *type = 'z';
    if (strncmp(s + *i, "null", 4) != 0)
      return false;
    *i += 4;
    return true;
  default:
    *type = 'n';
    return scan_number(s, i);
  }
}

bool trace_rec__scan(trace_rec *r, const char *line, size_t len) {
  trace_rec__clear(r);
  r->line = line;
  r->len = len;
  scn c = {line, false};
  size_t k = skip_ws(line, 0);
  if (line[k] != '{')
    return false;
  k = skip_ws(line, k + 1);
  if (line[k] != '}') {
    for (;;) {
      member mb = {0};
      bool key_esc = false;
      size_t ks = k;
      if (line[k] != '"' || !scan_string(&c, &k, &key_esc) || key_esc)
        return false;
      mb.key = (uint32_t)ks + 1;
      mb.key_len = (uint32_t)(k - ks - 2);
      k = skip_ws(line, k);
      if (line[k] != ':')
        return false;
      k = skip_ws(line, k + 1);
      size_t vs = k;
      if (!scan_value(&c, &k, 1, &mb.type, &mb.esc))
        return false;
      mb.val = (uint32_t)vs;
      mb.val_len = (uint32_t)(k - vs);
      if (r->members->len >= MAX_MEMBERS)
        return false;
      for (guint j = 0; j < r->members->len; j++) {
        const member *o = &g_array_index(r->members, member, j);
        if (o->key_len == mb.key_len && memcmp(line + o->key, line + mb.key, mb.key_len) == 0)
          return false; /* a key twice: the full path names it */
      }
      g_array_append_val(r->members, mb);
      k = skip_ws(line, k);
      if (line[k] == '}')
        break;
      if (line[k] != ',')
        return false;
      k = skip_ws(line, k + 1);
    }
  }
  k = skip_ws(line, k + 1);
  if (k != len) /* trailing text, or a NUL byte inside the line */
    return false;
  if (c.high && !g_utf8_validate(line, (gssize)len, NULL))
    return false;
  if (r->scratch_cap < len + r->members->len + 1) {
    r->scratch_cap = len + r->members->len + 1;
    r->scratch = g_realloc(r->scratch, r->scratch_cap);
  }
  return true;
}

/* --- getters ---------------------------------------------------------------- */

static member *find(const trace_rec *r, const char *key) {
  size_t n = strlen(key);
  for (guint i = 0; i < r->members->len; i++) {
    member *mb = &g_array_index(r->members, member, i);
    if (mb->key_len == n && memcmp(r->line + mb->key, key, n) == 0)
      return mb;
  }
  return NULL;
}

/* Appends the decoded string literal S[0, n) (quotes included) to the
 * scratch buffer; U+0000 becomes C0 80 (trace_read.h). */
static const char *decode(trace_rec *r, const char *s, size_t n) {
  char *out = r->scratch + r->scratch_len, *o = out;
  for (size_t i = 1; i + 1 < n; i++) {
    if (s[i] != '\\') {
      *o++ = s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
    case 'b':
      *o++ = '\b';
      break;
    case 'f':
      *o++ = '\f';
      break;
    case 'n':
      *o++ = '\n';
      break;
    case 'r':
      *o++ = '\r';
      break;
    case 't':
      *o++ = '\t';
      break;
    case 'u': {
      gunichar u = (gunichar)hex4(s + i + 1);
      i += 4;
      if (u >= 0xd800 && u <= 0xdbff) { /* the scanner checked the pair */
        u = 0x10000 + ((u - 0xd800) << 10) + ((gunichar)hex4(s + i + 3) - 0xdc00);
        i += 6;
      }
      if (u == 0) {
        *o++ = '\xc0';
        *o++ = '\x80';
      } else {
        o += g_unichar_to_utf8(u, o);
      }
      break;
    }
    default:
      *o++ = e; /* " \ / */
      break;
    }
  }
  *o++ = '\0';
  r->scratch_len += (size_t)(o - out);
  g_assert(r->scratch_len <= r->scratch_cap);
  return out;
}

bool trace_rec_has(const trace_rec *rec, const char *key) {
  if (rec->tree)
    return cJSON_GetObjectItemCaseSensitive(rec->tree, key) != NULL;
  return find(rec, key) != NULL;
}

/* The integer literal at KEY (digits, maybe a leading '-') as a sign and a
 * magnitude; false when KEY holds no integer (a fraction or exponent is
 * none) or it is above UINT64_MAX. */
static bool int_member(const trace_rec *rec, const char *key, bool *neg, uint64_t *mag) {
  const member *mb = find(rec, key);
  if (!mb || mb->type != 'n')
    return false;
  const char *s = rec->line + mb->val;
  *neg = s[0] == '-';
  uint64_t v = 0;
  for (size_t i = *neg; i < mb->val_len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *mag = v;
  return true;
}

bool trace_rec_int(const trace_rec *rec, const char *key, int64_t *out) {
  if (rec->tree)
    return trace_get_int(rec->tree, key, out);
  bool neg;
  uint64_t v;
  if (!int_member(rec, key, &neg, &v))
    return false;
  if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
    return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

bool trace_rec_uint(const trace_rec *rec, const char *key, uint64_t *out) {
  if (rec->tree)
    return trace_get_uint(rec->tree, key, out);
  bool neg;
  uint64_t v;
  if (!int_member(rec, key, &neg, &v) || (neg && v != 0))
    return false;
  *out = v;
  return true;
}

const char *trace_rec_str(const trace_rec *rec, const char *key) {
  if (rec->tree)
    return trace_get_str(rec->tree, key);
  member *mb = find(rec, key);
  if (!mb || mb->type != 's')
    return NULL;
  if (!mb->dec && !mb->esc) { /* no escape: the text between the quotes */
    trace_rec *r = (trace_rec *)rec;
    char *out = r->scratch + r->scratch_len;
    memcpy(out, rec->line + mb->val + 1, mb->val_len - 2);
    out[mb->val_len - 2] = '\0';
    r->scratch_len += mb->val_len - 1;
    g_assert(r->scratch_len <= r->scratch_cap);
    mb->dec = out;
  } else if (!mb->dec) {
    mb->dec = decode((trace_rec *)rec, rec->line + mb->val, mb->val_len);
  }
  return mb->dec;
}

GBytes *trace_rec_bytes(const trace_rec *rec, const char *key) {
  const char *s = trace_rec_str(rec, key);
  return s ? trace_read__bytes(s) : NULL;
}

const cJSON *trace_rec_json(const trace_rec *rec, const char *key) {
  if (rec->tree)
    return cJSON_GetObjectItemCaseSensitive(rec->tree, key);
  member *mb = find(rec, key);
  if (!mb)
    return NULL;
  if (!mb->json)
    mb->json = trace_read__parse_value(rec->line + mb->val, mb->val_len);
  return mb->json;
}
