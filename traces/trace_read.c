/* trace_read.c — the streaming trace reader.
 *
 * Reads a JSON Lines trace (traces/FORMAT.md) one line at a time from a
 * file descriptor or a memory buffer, through one growable buffer, so a line may be as
 * long as memory allows. Each line goes through four gates, each with its
 * own message: framing (the newline, NUL bytes, UTF-8, blank lines), cJSON,
 * a strictness pass of our own (RFC 8259: §2 whitespace, §6 number grammar,
 * §7 string escapes and control characters — cJSON is lenient on all of
 * these), and the record rules (header on line 1, then event records). The
 * strictness pass also lists the line's string and number literals in
 * document order, which the reader then pins to cJSON's items: a number
 * keeps its literal text (cJSON's double is exact only to 2^53) and a
 * string cut short by \u0000 is rebuilt with U+0000 as C0 80 (see
 * trace_read.h). Errors are sticky: after the first one every call repeats
 * it, so a tool can't read past a corrupt line by accident.
 */
#include "trace_read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"
#include "trace_read_int.h"
#include "trace_rec_int.h"

G_DEFINE_QUARK(trace - read - error - quark, trace_read_error)

#define READ_CHUNK (64 * 1024)
/* Literals of up to this many digits are exact as doubles (10^15 < 2^53). */
#define EXACT_DIGITS 15
#define MAX_EXACT_DOUBLE 9007199254740992.0 /* 2^53 */

typedef enum { TOK_STRING, TOK_NUMBER } tok_kind;

typedef struct {
  tok_kind kind;
  bool is_key;
  bool has_nul; /* a string containing \u0000 */
  size_t start, len;
} tok;

struct trace_reader {
  char *name;
  int fd; /* -1 for a memory reader */
  bool own_fd;
  size_t chunk;      /* bytes per fread */
  GString *buf;      /* unread input starts at pos */
  size_t pos;        /* start of the next line */
  size_t scan;       /* no newline in buf[pos, scan) */
  bool eof;          /* no more input beyond buf */
  uint64_t lines;    /* lines consumed */
  uint64_t rec_line; /* line of the record last returned */
  const char *raw;   /* text of the record last returned (inside buf) */
  size_t raw_len;
  cJSON *header;
  cJSON *rec;
  GArray *toks; /* of tok, reused */
  bool have_event;
  int64_t last_t;
  uint64_t last_id;
  uint64_t last_t_line;
  GError *error; /* sticky */
  bool at_eof;
  trace_rec *frec; /* the fast path's record (trace_rec.c), made on first use */
};

/* --- errors ----------------------------------------------------------- */

static trace_read_status fail(trace_reader *r, uint64_t line, trace_read_error_code code,
                              const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static trace_read_status fail(trace_reader *r, uint64_t line, trace_read_error_code code,
                              const char *fmt, ...) {
  g_assert(r->error == NULL);
  va_list ap;
  va_start(ap, fmt);
  char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  r->error = g_error_new(TRACE_READ_ERROR, code, "%s:%" PRIu64 ": %s", r->name, line, what);
  g_free(what);
  cJSON_Delete(r->rec);
  r->rec = NULL;
  return TRACE_READ_FAIL;
}

/* "a string", "an array"... for messages. */
static const char *json_kind(const cJSON *it) {
  if (cJSON_IsString(it))
    return "a string";
  if (cJSON_IsNumber(it))
    return "a number";
  if (cJSON_IsBool(it))
    return "a boolean";
  if (cJSON_IsNull(it))
    return "null";
  if (cJSON_IsArray(it))
    return "an array";
  if (cJSON_IsObject(it))
    return "an object";
  return "an unknown value";
}

/* A short JSON-escaped quote of S for messages (appended to OUT). */
static const char *quote(GString *out, const char *s) {
  size_t n = strlen(s);
  bool cut = n > 60;
  g_string_truncate(out, 0);
  trace_escape_text(out, s, cut ? 60 : n);
  if (cut)
    g_string_insert(out, out->len - 1, "...");
  return out->str;
}

/* --- numbers ---------------------------------------------------------- */

typedef enum { NUM_OK, NUM_NOT_NUMBER, NUM_NOT_INTEGER, NUM_RANGE } num_status;

/* RFC 8259 §6 integer part only: -?(0|[1-9][0-9]*). */
static bool int_literal(const char *s) {
  if (*s == '-')
    s++;
  if (!g_ascii_isdigit(*s))
    return false;
  if (*s == '0' && s[1] != '\0')
    return false;
  for (; *s; s++)
    if (!g_ascii_isdigit(*s))
      return false;
  return true;
}

static num_status item_int(const cJSON *it, bool is_signed, int64_t *si, uint64_t *ui) {
  if (!cJSON_IsNumber(it))
    return NUM_NOT_NUMBER;
  if (it->valuestring) {
    const char *s = it->valuestring;
    if (!int_literal(s))
      return NUM_NOT_INTEGER;
    /* The literal is all digits: only the range can fail. */
    if (is_signed) {
      gint64 v;
      if (!g_ascii_string_to_signed(s, 10, INT64_MIN, INT64_MAX, &v, NULL))
        return NUM_RANGE;
      *si = v;
    } else {
      guint64 v;
      if (s[0] == '-' || !g_ascii_string_to_unsigned(s, 10, 0, UINT64_MAX, &v, NULL))
        return NUM_RANGE;
      *ui = v;
    }
    return NUM_OK;
  }
  double d = it->valuedouble;
  if (!(d >= -MAX_EXACT_DOUBLE && d <= MAX_EXACT_DOUBLE))
    return NUM_RANGE; /* also NaN */
  int64_t v = (int64_t)d;
  if ((double)v != d)
    return NUM_NOT_INTEGER;
  if (is_signed) {
    *si = v;
  } else {
    if (v < 0)
      return NUM_RANGE;
    *ui = (uint64_t)v;
  }
  return NUM_OK;
}

bool trace_get_int(const cJSON *rec, const char *key, int64_t *out) {
  int64_t v = 0;
  if (!rec || item_int(cJSON_GetObjectItemCaseSensitive(rec, key), true, &v, NULL) != NUM_OK)
    return false;
  *out = v;
  return true;
}

bool trace_get_uint(const cJSON *rec, const char *key, uint64_t *out) {
  uint64_t v = 0;
  if (!rec || item_int(cJSON_GetObjectItemCaseSensitive(rec, key), false, NULL, &v) != NUM_OK)
    return false;
  *out = v;
  return true;
}

const char *trace_get_str(const cJSON *rec, const char *key) {
  if (!rec)
    return NULL;
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(rec, key);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

GBytes *trace_get_bytes(const cJSON *rec, const char *key) {
  const char *s = trace_get_str(rec, key);
  return s ? trace_read__bytes(s) : NULL;
}

GBytes *trace_read__bytes(const char *s) {
  size_t n = strlen(s);
  GByteArray *out = g_byte_array_sized_new((guint)n);
  const char *end = s + n;
  while (s < end) {
    unsigned char c = (unsigned char)*s;
    if (c == 0xc0 && s + 1 < end && (unsigned char)s[1] == 0x80) { /* U+0000, see header */
      g_byte_array_append(out, (const guint8 *)"", 1);
      s += 2;
      continue;
    }
    gunichar u = g_utf8_get_char_validated(s, end - s);
    if (u > 0xff) { /* includes the (gunichar)-1 / -2 errors */
      g_byte_array_unref(out);
      return NULL;
    }
    guint8 b = (guint8)u;
    g_byte_array_append(out, &b, 1);
    s = g_utf8_next_char(s);
  }
  return g_byte_array_free_to_bytes(out);
}

/* --- strictness pass and literal list ----------------------------------- */

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? covering
 * exactly S[0, n). */
static bool number_grammar(const char *s, size_t n) {
  size_t i = 0;
  if (i < n && s[i] == '-')
    i++;
  if (i < n && s[i] == '0') {
    i++;
  } else if (i < n && s[i] >= '1' && s[i] <= '9') {
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    size_t d = ++i;
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
    if (i == d)
      return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    size_t d = i;
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
    if (i == d)
      return false;
  }
  return i == n;
}

/* Scans a line cJSON accepted: checks what cJSON lets through and lists the
 * string and number literals in order. Returns 0, or the 1-based column of
 * the first offence with *why set. */
static size_t scan_line(const char *s, size_t n, GArray *toks, const char **why) {
  g_array_set_size(toks, 0);
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      tok t = {TOK_STRING, false, false, i, 0};
      for (i++; i < n && s[i] != '"'; i++) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x20) {
          *why = "a control character must be escaped in a string (RFC 8259 §7)";
          return i + 1;
        }
        if (b != '\\')
          continue;
        if (i + 1 < n && s[i + 1] == 'u') {
          for (size_t k = 2; k < 6; k++) {
            if (i + k >= n || !g_ascii_isxdigit(s[i + k])) {
              *why = "expected four hex digits after \\u (RFC 8259 §7)";
              return i + 1;
            }
          }
          if (memcmp(s + i + 2, "0000", 4) == 0)
            t.has_nul = true;
          i += 5;
        } else {
          i++; /* cJSON checked the escape letter */
        }
      }
      if (i >= n) {
        *why = "unterminated string";
        return n;
      }
      i++;
      t.len = i - t.start;
      size_t j = i;
      while (j < n && is_ws(s[j]))
        j++;
      t.is_key = j < n && s[j] == ':';
      g_array_append_val(toks, t);
    } else if (c == '-' || g_ascii_isdigit(c)) {
      tok t = {TOK_NUMBER, false, false, i, 0};
      while (i < n && (g_ascii_isdigit(s[i]) || strchr("+-.eE", s[i])))
        i++;
      t.len = i - t.start;
      if (!number_grammar(s + t.start, t.len)) {
        *why = "expected a number as in RFC 8259 §6 (no leading zeros, digits after '.')";
        return t.start + 1;
      }
      g_array_append_val(toks, t);
    } else if (is_ws(c) || strchr("{}[],:", c)) {
      i++;
    } else if (c == 't' || c == 'n') {
      i += 4; /* true, null: cJSON checked the letters */
    } else if (c == 'f') {
      i += 5;
    } else {
      *why = "unexpected character (only space, tab and CR are whitespace; RFC 8259 §2)";
      return i + 1;
    }
  }
  return 0;
}

/* Decodes the JSON string literal S[0, n) (quotes included, already
 * validated) into a cJSON-allocated C string with U+0000 as C0 80. */
static char *decode_mutf8(const char *s, size_t n) {
  GString *out = g_string_sized_new(n);
  for (size_t i = 1; i + 1 < n; i++) {
    if (s[i] != '\\') {
      g_string_append_c(out, s[i]);
      continue;
    }
    char e = s[++i];
    switch (e) {
    case 'b':
      g_string_append_c(out, '\b');
      break;
    case 'f':
      g_string_append_c(out, '\f');
      break;
    case 'n':
      g_string_append_c(out, '\n');
      break;
    case 'r':
      g_string_append_c(out, '\r');
      break;
    case 't':
      g_string_append_c(out, '\t');
      break;
    case 'u': {
      gunichar u = (gunichar)g_ascii_strtoull((char[5]){s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0},
                                              NULL, 16);
      i += 4;
      if (u >= 0xd800 && u <= 0xdbff && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u') {
        gunichar lo = (gunichar)g_ascii_strtoull(
            (char[5]){s[i + 3], s[i + 4], s[i + 5], s[i + 6], 0}, NULL, 16);
        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
      if (u == 0)
        g_string_append(out, "\xc0\x80");
      else
        g_string_append_unichar(out, u);
      break;
    }
    default:
      g_string_append_c(out, e);
      break; /* " \ / */
    }
  }
  char *res = cJSON_malloc(out->len + 1);
  g_assert(res);
  memcpy(res, out->str, out->len + 1);
  g_string_free(out, TRUE);
  return res;
}

static char *copy_literal(const char *s, size_t n) {
  char *res = cJSON_malloc(n + 1);
  g_assert(res);
  memcpy(res, s, n);
  res[n] = '\0';
  return res;
}

static bool short_int(const char *s, size_t n) {
  size_t digits = n - (s[0] == '-');
  if (digits > EXACT_DIGITS)
    return false;
  for (size_t i = s[0] == '-'; i < n; i++)
    if (!g_ascii_isdigit(s[i]))
      return false;
  return true;
}

/* Pins the literals of LINE to cJSON's items in document order. */
static void pin_literals(cJSON *it, const char *line, const GArray *toks, guint *k) {
  if (it->string) {
    g_assert(*k < toks->len);
    const tok *t = &g_array_index(toks, tok, (*k)++);
    g_assert(t->kind == TOK_STRING && t->is_key);
    if (t->has_nul && !(it->type & cJSON_StringIsConst)) {
      cJSON_free(it->string);
      it->string = decode_mutf8(line + t->start, t->len);
    }
  }
  if (cJSON_IsNumber(it) || cJSON_IsString(it)) {
    g_assert(*k < toks->len);
    const tok *t = &g_array_index(toks, tok, (*k)++);
    g_assert(!t->is_key && (t->kind == TOK_NUMBER) == (bool)cJSON_IsNumber(it));
    if (t->kind == TOK_NUMBER && !short_int(line + t->start, t->len)) {
      g_assert(it->valuestring == NULL);
      it->valuestring = copy_literal(line + t->start, t->len);
    } else if (t->has_nul) {
      cJSON_free(it->valuestring);
      it->valuestring = decode_mutf8(line + t->start, t->len);
    }
  }
  for (cJSON *c = it->child; c; c = c->next)
    pin_literals(c, line, toks, k);
}

cJSON *trace_read__parse_value(const char *text, size_t len) {
  cJSON *j = cJSON_ParseWithLength(text, len);
  if (!j)
    return NULL;
  GArray *toks = g_array_new(FALSE, FALSE, sizeof(tok));
  const char *why = NULL;
  if (scan_line(text, len, toks, &why) == 0) {
    guint k = 0;
    pin_literals(j, text, toks, &k);
  }
  g_array_free(toks, TRUE);
  return j;
}

/* --- lines ------------------------------------------------------------ */

/* Reads more input into buf; false at the end of input or on error. A
 * read(2) returns what a pipe has so far, so a reader following a live
 * writer sees each record as soon as it is written. */
static bool fill(trace_reader *r, GError **io) {
  if (r->eof)
    return false;
  if (r->pos > 0) {
    g_string_erase(r->buf, 0, (gssize)r->pos);
    r->scan -= r->pos;
    r->pos = 0;
  }
  size_t old = r->buf->len;
  g_string_set_size(r->buf, old + r->chunk);
  ssize_t got;
  do {
    got = read(r->fd, r->buf->str + old, r->chunk);
  } while (got < 0 && errno == EINTR);
  int e = errno;
  g_string_set_size(r->buf, old + (got > 0 ? (size_t)got : 0));
  if (got < 0) {
    r->eof = true;
    g_set_error(io, TRACE_READ_ERROR, TRACE_READ_ERROR_IO, "%s", g_strerror(e));
    return false;
  }
  if (got == 0)
    r->eof = true;
  return got > 0;
}

/* The next line, NUL-terminated in place, without its newline. */
static trace_read_status next_line(trace_reader *r, char **line, size_t *len) {
  for (;;) {
    char *base = r->buf->str;
    char *nl = memchr(base + r->scan, '\n', r->buf->len - r->scan);
    if (nl) {
      *line = base + r->pos;
      *len = (size_t)(nl - *line);
      *nl = '\0';
      r->pos = r->scan = (size_t)(nl - base) + 1;
      r->lines++;
      return TRACE_READ_OK;
    }
    r->scan = r->buf->len;
    GError *io = NULL;
    if (fill(r, &io))
      continue;
    if (io) {
      trace_read_status st =
          fail(r, r->lines + 1, TRACE_READ_ERROR_IO, "read error: %s", io->message);
      g_error_free(io);
      return st;
    }
    if (r->pos == r->buf->len)
      return TRACE_READ_EOF;
    return fail(r, r->lines + 1, TRACE_READ_ERROR_SYNTAX,
                "truncated trace: the last line has no newline (expected every record to end "
                "with \\n)");
  }
}

/* Parses LINE (the line just read) into one JSON object (*out, owned). */
static trace_read_status parse_object(trace_reader *r, const char *line, size_t len, cJSON **out) {
  uint64_t ln = r->lines;
  const char *nul = memchr(line, '\0', len);
  if (nul)
    return fail(r, ln, TRACE_READ_ERROR_SYNTAX,
                "expected UTF-8 JSON text, got a NUL byte at column %zu", (size_t)(nul - line) + 1);
  const char *bad;
  if (!g_utf8_validate(line, (gssize)len, &bad))
    return fail(r, ln, TRACE_READ_ERROR_SYNTAX,
                "expected UTF-8 text, got invalid UTF-8 at column %zu", (size_t)(bad - line) + 1);
  size_t i = 0;
  while (i < len && (is_ws(line[i]) || line[i] == '\f' || line[i] == '\v'))
    i++;
  if (i == len)
    return fail(r, ln, TRACE_READ_ERROR_SYNTAX, "expected a record, got a blank line");
  const char *end = NULL;
  cJSON *j = cJSON_ParseWithLengthOpts(line, len + 1, &end, true);
  if (!j) {
    size_t col = end && end >= line ? (size_t)(end - line) + 1 : 1;
    return fail(r, ln, TRACE_READ_ERROR_SYNTAX,
                "expected one JSON object, got invalid JSON at column %zu", col);
  }
  const char *why = NULL;
  size_t col = scan_line(line, len, r->toks, &why);
  if (col) {
    cJSON_Delete(j);
    return fail(r, ln, TRACE_READ_ERROR_SYNTAX, "column %zu: %s", col, why);
  }
  if (!cJSON_IsObject(j)) {
    const char *k = json_kind(j);
    cJSON_Delete(j);
    return fail(r, ln, TRACE_READ_ERROR_SYNTAX, "expected a JSON object, got %s", k);
  }
  guint k = 0;
  pin_literals(j, line, r->toks, &k);
  g_assert(k == r->toks->len);
  *out = j;
  return TRACE_READ_OK;
}

/* Reads a line and parses it into one JSON object (*out, owned). */
static trace_read_status read_object(trace_reader *r, cJSON **out) {
  char *line = NULL;
  size_t len = 0;
  trace_read_status st = next_line(r, &line, &len);
  if (st != TRACE_READ_OK)
    return st;
  r->raw = line;
  r->raw_len = len;
  return parse_object(r, line, len, out);
}

/* --- records ---------------------------------------------------------- */

/* Checks KEY of REC as an integer; on failure sets the RECORD error. */
static bool need_int(trace_reader *r, const cJSON *rec, const char *key, const char *what,
                     int64_t *out) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(rec, key);
  if (!it) {
    fail(r, r->lines, TRACE_READ_ERROR_RECORD, "missing key \"%s\": expected %s", key, what);
    return false;
  }
  switch (item_int(it, true, out, NULL)) {
  case NUM_OK:
    return true;
  case NUM_NOT_NUMBER:
    fail(r, r->lines, TRACE_READ_ERROR_RECORD, "\"%s\": expected %s, got %s", key, what,
         json_kind(it));
    return false;
  case NUM_NOT_INTEGER:
    fail(r, r->lines, TRACE_READ_ERROR_RECORD,
         "\"%s\": expected %s, got a number with a fraction or exponent", key, what);
    return false;
  case NUM_RANGE:
    fail(r, r->lines, TRACE_READ_ERROR_RECORD, "\"%s\": expected %s, got %s out of int64 range",
         key, what, it->valuestring ? it->valuestring : "a number");
    return false;
  }
  g_assert_not_reached();
}

/* RFC-free house rule: "ev" is dotted lower-case words, e.g. tcp.connect. */
static bool kind_syntax(const char *s) {
  bool word = false;
  for (; *s; s++) {
    if (g_ascii_islower(*s) || g_ascii_isdigit(*s) || *s == '_') {
      word = true;
    } else if (*s == '.' && word) {
      word = false;
    } else {
      return false;
    }
  }
  return word;
}

static bool unique_keys(trace_reader *r, const cJSON *rec) {
  int n = cJSON_GetArraySize(rec);
  GHashTable *seen = n > 16 ? g_hash_table_new(g_str_hash, g_str_equal) : NULL;
  const char *dup = NULL;
  for (const cJSON *a = rec->child; a && !dup; a = a->next) {
    if (seen) {
      if (!g_hash_table_add(seen, a->string))
        dup = a->string;
      continue;
    }
    for (const cJSON *b = rec->child; b != a; b = b->next)
      if (strcmp(a->string, b->string) == 0)
        dup = a->string;
  }
  if (seen)
    g_hash_table_destroy(seen);
  if (dup) {
    GString *q = g_string_new(NULL);
    fail(r, r->lines, TRACE_READ_ERROR_RECORD, "expected each key once, got %s twice",
         quote(q, dup));
    g_string_free(q, TRUE);
    return false;
  }
  return true;
}

static trace_read_status check_header(trace_reader *r, const cJSON *h) {
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(h, "format");
  GString *q = g_string_new(NULL);
  trace_read_status st = TRACE_READ_OK;
  int64_t v = 0;
  if (!fmt && cJSON_GetObjectItemCaseSensitive(h, "t")) {
    st = fail(r, 1, TRACE_READ_ERROR_FORMAT,
              "expected the header record {\"format\":\"" TRACE_FORMAT_NAME
              "\",...} first, got an event record (the header is missing)");
  } else if (!fmt) {
    st =
        fail(r, 1, TRACE_READ_ERROR_FORMAT,
             "not a mailsim trace: missing key \"format\": expected the string \"" TRACE_FORMAT_NAME
             "\"");
  } else if (!cJSON_IsString(fmt)) {
    st = fail(r, 1, TRACE_READ_ERROR_FORMAT,
              "not a mailsim trace: \"format\": expected the string \"" TRACE_FORMAT_NAME
              "\", got %s",
              json_kind(fmt));
  } else if (strcmp(fmt->valuestring, TRACE_FORMAT_NAME) != 0) {
    st = fail(r, 1, TRACE_READ_ERROR_FORMAT,
              "not a mailsim trace: \"format\": expected \"" TRACE_FORMAT_NAME "\", got %s",
              quote(q, fmt->valuestring));
  } else if (!need_int(r, h, "version", "an integer (the format version)", &v)) {
    st = TRACE_READ_FAIL;
  } else if (v > TRACE_FORMAT_VERSION) {
    st = fail(r, 1, TRACE_READ_ERROR_VERSION,
              "trace format version %" PRId64
              " is newer than this build reads: expected version %d (use a newer mailsim)",
              v, TRACE_FORMAT_VERSION);
  } else if (v < 1) {
    st = fail(r, 1, TRACE_READ_ERROR_VERSION,
              "unknown trace format version %" PRId64 ": expected version %d", v,
              TRACE_FORMAT_VERSION);
  } else if (!unique_keys(r, h)) {
    st = TRACE_READ_FAIL;
  }
  g_string_free(q, TRUE);
  return st;
}

static trace_read_status check_event(trace_reader *r, const cJSON *e) {
  uint64_t ln = r->lines;
  if (cJSON_GetObjectItemCaseSensitive(e, "format") && !cJSON_GetObjectItemCaseSensitive(e, "t"))
    return fail(r, ln, TRACE_READ_ERROR_RECORD,
                "expected an event record, got a second header record (a trace has one header, "
                "on line 1)");
  int64_t t, id;
  if (!need_int(r, e, "t", "an integer (time in ns)", &t) ||
      !need_int(r, e, "id", "an integer (event id)", &id))
    return TRACE_READ_FAIL;
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(e, "ev");
  GString *q = g_string_new(NULL);
  trace_read_status st = TRACE_READ_OK;
  const cJSON *cause = cJSON_GetObjectItemCaseSensitive(e, "cause");
  int64_t c = 0;
  if (!ev) {
    st = fail(r, ln, TRACE_READ_ERROR_RECORD,
              "missing key \"ev\": expected a string (the event kind)");
  } else if (!cJSON_IsString(ev)) {
    st = fail(r, ln, TRACE_READ_ERROR_RECORD, "\"ev\": expected a string (the event kind), got %s",
              json_kind(ev));
  } else if (!kind_syntax(ev->valuestring)) {
    st = fail(r, ln, TRACE_READ_ERROR_RECORD,
              "\"ev\": expected a dotted kind of lower-case words like \"tcp.connect\", got %s",
              quote(q, ev->valuestring));
  } else if (t < 0) {
    st = fail(r, ln, TRACE_READ_ERROR_RECORD, "\"t\": expected a time >= 0, got %" PRId64, t);
  } else if (r->have_event && t < r->last_t) {
    st = fail(r, ln, TRACE_READ_ERROR_ORDER,
              "time goes backwards: expected \"t\" >= %" PRId64 " (line %" PRIu64 "), got %" PRId64,
              r->last_t, r->last_t_line, t);
  } else if (id < 0 || (uint64_t)id != r->last_id + 1) {
    st = fail(r, ln, TRACE_READ_ERROR_ORDER,
              "\"id\": expected %" PRIu64 " (ids count 1, 2, 3... in file order), got %" PRId64,
              r->last_id + 1, id);
  } else if (cause && !need_int(r, e, "cause", "an integer (id of an earlier event)", &c)) {
    st = TRACE_READ_FAIL;
  } else if (cause && (c < 0 || c >= id)) {
    st = fail(r, ln, TRACE_READ_ERROR_RECORD,
              "\"cause\": expected the id of an earlier event (0 to %" PRId64 "), got %" PRId64,
              id - 1, c);
  } else if (!unique_keys(r, e)) {
    st = TRACE_READ_FAIL;
  } else {
    r->have_event = true;
    r->last_t = t;
    r->last_t_line = ln;
    r->last_id = (uint64_t)id;
  }
  g_string_free(q, TRUE);
  return st;
}

/* --- reader ----------------------------------------------------------- */

static trace_reader *reader_new(const char *name, size_t chunk) {
  trace_reader *r = g_new0(trace_reader, 1);
  r->name = g_strdup(name);
  r->chunk = chunk;
  r->fd = -1;
  r->buf = g_string_sized_new(chunk + 1);
  r->toks = g_array_new(FALSE, FALSE, sizeof(tok));
  return r;
}

/* Reads and checks the header; frees R and returns NULL on failure. */
static trace_reader *reader_start(trace_reader *r, GError **err) {
  cJSON *h = NULL;
  trace_read_status st = read_object(r, &h);
  if (st == TRACE_READ_EOF)
    fail(r, 1, TRACE_READ_ERROR_FORMAT,
         "expected the header record {\"format\":\"" TRACE_FORMAT_NAME
         "\",...}, got an empty file");
  else if (st == TRACE_READ_OK && check_header(r, h) == TRACE_READ_OK)
    r->header = h;
  else
    cJSON_Delete(h);
  if (r->error) {
    g_propagate_error(err, r->error);
    r->error = NULL;
    trace_reader_free(r);
    return NULL;
  }
  r->rec_line = 1;
  return r;
}

trace_reader *trace_reader_open(const char *path, GError **err) {
  return trace_read__open_chunked(path, READ_CHUNK, err);
}

trace_reader *trace_read__open_chunked(const char *path, size_t chunk, GError **err) {
  g_assert(path && chunk > 0);
  int fd;
  bool own = true;
  if (strcmp(path, "-") == 0) {
    fd = STDIN_FILENO;
    own = false;
  } else {
    do {
      fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
  }
  if (fd < 0) {
    int e = errno;
    g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_IO, "%s: cannot open trace: %s", path,
                g_strerror(e));
    return NULL;
  }
  trace_reader *r = reader_new(strcmp(path, "-") == 0 ? "<stdin>" : path, chunk);
  r->fd = fd;
  r->own_fd = own;
  return reader_start(r, err);
}

trace_reader *trace_reader_new_memory(const char *name, const char *data, size_t len,
                                      GError **err) {
  g_assert(name && (data || len == 0));
  trace_reader *r = reader_new(name, len + 1);
  g_string_append_len(r->buf, data, (gssize)len);
  r->eof = true;
  return reader_start(r, err);
}

void trace_reader_free(trace_reader *r) {
  if (!r)
    return;
  if (r->fd >= 0 && r->own_fd)
    close(r->fd);
  cJSON_Delete(r->header);
  cJSON_Delete(r->rec);
  trace_rec__free(r->frec);
  if (r->error)
    g_error_free(r->error);
  g_array_free(r->toks, TRUE);
  g_string_free(r->buf, TRUE);
  g_free(r->name);
  g_free(r);
}

const cJSON *trace_reader_header(const trace_reader *r) { return r->header; }

uint64_t trace_reader_line(const trace_reader *r) { return r->rec_line; }

const char *trace_reader_raw(const trace_reader *r, size_t *len) {
  if (len)
    *len = r->raw_len;
  return r->raw;
}

/* The start of the two next functions: false with *ST set when the reader
 * has failed or reached the end; else drops the previous record. */
static bool next_begin(trace_reader *r, GError **err, trace_read_status *st) {
  if (r->error) {
    g_propagate_error(err, g_error_copy(r->error));
    *st = TRACE_READ_FAIL;
    return false;
  }
  if (r->at_eof) {
    *st = TRACE_READ_EOF;
    return false;
  }
  cJSON_Delete(r->rec);
  r->rec = NULL;
  r->raw = NULL;
  r->raw_len = 0;
  return true;
}

/* The end of the two next functions: notes the record's line, the end, or
 * passes the error on. Returns ST. */
static trace_read_status next_end(trace_reader *r, trace_read_status st, GError **err) {
  switch (st) {
  case TRACE_READ_OK:
    r->rec_line = r->lines;
    break;
  case TRACE_READ_EOF:
    r->at_eof = true;
    break;
  case TRACE_READ_FAIL:
    r->raw = NULL;
    r->raw_len = 0;
    g_propagate_error(err, g_error_copy(r->error));
    break;
  }
  return st;
}

trace_read_status trace_reader_next(trace_reader *r, const cJSON **rec, GError **err) {
  g_assert(r && rec);
  *rec = NULL;
  trace_read_status st;
  if (!next_begin(r, err, &st))
    return st;
  if (r->frec)
    trace_rec__clear(r->frec);
  cJSON *e = NULL;
  st = read_object(r, &e);
  if (st == TRACE_READ_OK) {
    r->rec = e;
    st = check_event(r, e); /* frees r->rec on failure */
  }
  if (next_end(r, st, err) == TRACE_READ_OK)
    *rec = r->rec;
  return st;
}

/* --- the fast path (trace_rec.h) ------------------------------------------- */

/* check_event() on an indexed record; false (state untouched) if the
 * record breaks a rule, so the full path can name it. */
static bool fast_envelope(trace_reader *r, const trace_rec *rec) {
  int64_t t, id, c;
  const char *ev;
  if (!trace_rec_int(rec, "t", &t) || !trace_rec_int(rec, "id", &id) ||
      !(ev = trace_rec_str(rec, "ev")) || !kind_syntax(ev))
    return false;
  if (t < 0 || (r->have_event && t < r->last_t) || id < 0 || (uint64_t)id != r->last_id + 1)
    return false;
  if (trace_rec_has(rec, "cause") && (!trace_rec_int(rec, "cause", &c) || c < 0 || c >= id))
    return false;
  r->have_event = true;
  r->last_t = t;
  r->last_t_line = r->lines;
  r->last_id = (uint64_t)id;
  return true;
}

trace_read_status trace_reader_next_rec(trace_reader *r, const trace_rec **rec, GError **err) {
  g_assert(r && rec);
  *rec = NULL;
  trace_read_status st;
  if (!next_begin(r, err, &st))
    return st;
  if (!r->frec)
    r->frec = trace_rec__new();
  char *line = NULL;
  size_t len = 0;
  st = next_line(r, &line, &len);
  if (st == TRACE_READ_OK) {
    r->raw = line;
    r->raw_len = len;
    if (!trace_rec__scan(r->frec, line, len) || !fast_envelope(r, r->frec)) {
      /* the full path: the same record, or the error in its words */
      trace_rec__clear(r->frec);
      cJSON *e = NULL;
      st = parse_object(r, line, len, &e);
      if (st == TRACE_READ_OK) {
        r->rec = e;
        st = check_event(r, e); /* frees r->rec on failure */
      }
      if (st == TRACE_READ_OK) {
        trace_rec__set_tree(r->frec, r->rec);
        r->rec = NULL;
      }
    }
  }
  if (next_end(r, st, err) == TRACE_READ_OK)
    *rec = r->frec;
  return st;
}
