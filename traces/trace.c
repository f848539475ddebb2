/* trace.c — the JSON Lines trace writer.
 *
 * Records are assembled in a GString and written whole on trace_end(), so a
 * reader never sees half a record unless the process died mid-write (which
 * the reader reports as a truncated line). Nesting is tracked with a small
 * stack of "a value was written at this level" flags to place commas.
 * Usage errors (a key outside a record, unbalanced ends) are bugs and abort.
 */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TRACE_MAX_DEPTH 32

struct trace_writer {
  FILE *fp;          /* NULL for a memory writer */
  bool own_fp;
  GString *mem;      /* memory writer output */
  GString *rec;      /* the record being built */
  int depth;         /* 0 = outside a record */
  bool in_array[TRACE_MAX_DEPTH];
  bool has_value[TRACE_MAX_DEPTH];
  uint64_t records;
  uint64_t next_event_id;
  int write_errno;   /* first write error, sticky */
  bool discard;      /* a null writer: records go nowhere (but to the tap) */
  trace_tap_fn tap;  /* sees every finished record */
  void *tap_user;
};

static trace_writer *writer_new(void) {
  trace_writer *tw = g_new0(trace_writer, 1);
  tw->rec = g_string_sized_new(256);
  tw->next_event_id = 1;
  return tw;
}

trace_writer *trace_writer_new_file(const char *path, GError **err) {
  FILE *fp;
  bool own = true;
  if (strcmp(path, "-") == 0) {
    fp = stdout;
    own = false;
  } else {
    fp = fopen(path, "w");
  }
  if (!fp) {
    int e = errno;
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot write trace: %s", path,
                g_strerror(e));
    return NULL;
  }
  trace_writer *tw = writer_new();
  tw->fp = fp;
  tw->own_fp = own;
  return tw;
}

trace_writer *trace_writer_new_memory(void) {
  trace_writer *tw = writer_new();
  tw->mem = g_string_sized_new(4096);
  return tw;
}

trace_writer *trace_writer_new_null(void) {
  trace_writer *tw = writer_new();
  tw->discard = true;
  return tw;
}

void trace_writer_set_tap(trace_writer *tw, trace_tap_fn fn, void *user) {
  g_assert(tw);
  tw->tap = fn;
  tw->tap_user = user;
}

const GString *trace_writer_peek_memory(const trace_writer *tw) {
  g_assert(tw && tw->mem);
  return tw->mem;
}

uint64_t trace_writer_records(const trace_writer *tw) { return tw ? tw->records : 0; }

bool trace_writer_close(trace_writer *tw, GError **err) {
  if (!tw)
    return true;
  g_assert(tw->depth == 0);
  if (tw->fp) {
    if (fflush(tw->fp) != 0 && !tw->write_errno)
      tw->write_errno = errno ? errno : EIO;
    if (tw->own_fp && fclose(tw->fp) != 0 && !tw->write_errno)
      tw->write_errno = errno ? errno : EIO;
    tw->fp = NULL;
  }
  if (tw->write_errno) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(tw->write_errno),
                "cannot write trace: %s", g_strerror(tw->write_errno));
    return false;
  }
  return true;
}

void trace_writer_free(trace_writer *tw) {
  if (!tw)
    return;
  trace_writer_close(tw, NULL);
  if (tw->mem)
    g_string_free(tw->mem, TRUE);
  g_string_free(tw->rec, TRUE);
  g_free(tw);
}

/* --- escaping --------------------------------------------------------- */

static void put_u00(GString *out, unsigned c) {
  static const char hex[] = "0123456789abcdef";
  char u[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 0xf], hex[c & 0xf]};
  g_string_append_len(out, u, 6);
}

static bool short_escape(GString *out, unsigned char c) {
  switch (c) {
  case '"': g_string_append_len(out, "\\\"", 2); return true;
  case '\\': g_string_append_len(out, "\\\\", 2); return true;
  case '\n': g_string_append_len(out, "\\n", 2); return true;
  case '\r': g_string_append_len(out, "\\r", 2); return true;
  case '\t': g_string_append_len(out, "\\t", 2); return true;
  default: return false;
  }
}

/* Octets that stand for themselves inside a JSON string: 0x20..0x7e but
 * '"' and '\\'. */
#define P8(x) x, x, x, x, x, x, x, x
static const bool plain_tab[256] = {
    P8(0), P8(0), P8(0), P8(0),                   /* 0x00..0x1f */
    1, 1, 0, 1, 1, 1, 1, 1, P8(1), P8(1), P8(1),  /* 0x20..0x3f: '"' is 0x22 */
    P8(1), P8(1), P8(1), 1, 1, 1, 1, 0, 1, 1, 1,  /* 0x40..0x5f: '\\' is 0x5c */
    P8(1), P8(1), P8(1), 1, 1, 1, 1, 1, 1, 1, 0,  /* 0x60..0x7f: DEL is 0x7f */
};
#undef P8

/* The length of the run of plain octets at S[0..N). */
static inline size_t plain_run(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n && plain_tab[s[i]])
    i++;
  return i;
}

void trace_escape_bytes(GString *out, const void *p, size_t n) {
  const unsigned char *s = p;
  g_string_append_c(out, '"');
  for (size_t i = 0; i < n;) {
    size_t run = plain_run(s + i, n - i);
    if (run) {
      g_string_append_len(out, (const char *)s + i, (gssize)run);
      i += run;
      continue;
    }
    unsigned char c = s[i++];
    if (!short_escape(out, c))
      put_u00(out, c);
  }
  g_string_append_c(out, '"');
}

void trace_escape_text(GString *out, const char *s, size_t n) {
  g_string_append_c(out, '"');
  const char *end = s + n;
  while (s < end) {
    size_t run = plain_run((const unsigned char *)s, (size_t)(end - s));
    if (run) {
      g_string_append_len(out, s, (gssize)run);
      s += run;
      continue;
    }
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
      if (!short_escape(out, c))
        put_u00(out, c);
      s++;
      continue;
    }
    gunichar u = g_utf8_get_char_validated(s, end - s);
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      g_string_append_len(out, "\\ufffd", 6);
      s++;
      continue;
    }
    const char *next = g_utf8_next_char(s);
    g_string_append_len(out, s, next - s);
    s = next;
  }
  g_string_append_c(out, '"');
}

/* Decimal digits of V, without printf. */
static void put_u64(GString *out, uint64_t v) {
  char buf[20], *e = buf + sizeof buf, *d = e;
  do
    *--d = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  g_string_append_len(out, d, e - d);
}

/* --- records ---------------------------------------------------------- */

static void key_prefix(trace_writer *tw, const char *key) {
  g_assert(tw->depth > 0);
  int d = tw->depth - 1;
  if (tw->has_value[d])
    g_string_append_c(tw->rec, ',');
  tw->has_value[d] = true;
  if (tw->in_array[d]) {
    g_assert(key == NULL);
  } else {
    g_assert(key != NULL);
    trace_escape_text(tw->rec, key, strlen(key));
    g_string_append_c(tw->rec, ':');
  }
}

static void open_level(trace_writer *tw, bool array) {
  g_assert(tw->depth < TRACE_MAX_DEPTH);
  tw->in_array[tw->depth] = array;
  tw->has_value[tw->depth] = false;
  tw->depth++;
}

void trace_begin(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth == 0);
  g_string_truncate(tw->rec, 0);
  g_string_append_c(tw->rec, '{');
  open_level(tw, false);
}

uint64_t trace_event_begin(trace_writer *tw, int64_t t, const char *ev) {
  if (!tw)
    return 0;
  trace_begin(tw);
  uint64_t id = tw->next_event_id++;
  trace_key_int(tw, "t", t);
  trace_key_uint(tw, "id", id);
  trace_key_str(tw, "ev", ev);
  return id;
}

void trace_end(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth == 1 && !tw->in_array[0]);
  tw->depth = 0;
  g_string_append(tw->rec, "}\n");
  if (tw->tap)
    tw->tap(tw->tap_user, tw->rec->str, tw->rec->len - 1);
  if (tw->discard) {
    /* nothing to write */
  } else if (tw->mem) {
    g_string_append_len(tw->mem, tw->rec->str, tw->rec->len);
  } else if (fwrite(tw->rec->str, 1, tw->rec->len, tw->fp) != tw->rec->len && !tw->write_errno) {
    tw->write_errno = errno ? errno : EIO;
  }
  tw->records++;
}

void trace_key_int(trace_writer *tw, const char *key, int64_t v) {
  if (!tw)
    return;
  key_prefix(tw, key);
  if (v < 0) {
    g_string_append_c(tw->rec, '-');
    put_u64(tw->rec, (uint64_t)0 - (uint64_t)v);
  } else {
    put_u64(tw->rec, (uint64_t)v);
  }
}

void trace_key_uint(trace_writer *tw, const char *key, uint64_t v) {
  if (!tw)
    return;
  key_prefix(tw, key);
  put_u64(tw->rec, v);
}

void trace_key_bool(trace_writer *tw, const char *key, bool v) {
  if (!tw)
    return;
  key_prefix(tw, key);
  g_string_append(tw->rec, v ? "true" : "false");
}

void trace_key_null(trace_writer *tw, const char *key) {
  if (!tw)
    return;
  key_prefix(tw, key);
  g_string_append(tw->rec, "null");
}

void trace_key_strn(trace_writer *tw, const char *key, const char *utf8, size_t n) {
  if (!tw)
    return;
  key_prefix(tw, key);
  trace_escape_text(tw->rec, utf8, n);
}

void trace_key_str(trace_writer *tw, const char *key, const char *utf8) {
  if (!tw)
    return;
  if (!utf8) {
    trace_key_null(tw, key);
    return;
  }
  trace_key_strn(tw, key, utf8, strlen(utf8));
}

void trace_key_bytes(trace_writer *tw, const char *key, const void *p, size_t n) {
  if (!tw)
    return;
  key_prefix(tw, key);
  trace_escape_bytes(tw->rec, p, n);
}

void trace_key_printf(trace_writer *tw, const char *key, const char *fmt, ...) {
  if (!tw)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  trace_key_str(tw, key, s);
  g_free(s);
}

void trace_obj_begin(trace_writer *tw, const char *key) {
  if (!tw)
    return;
  key_prefix(tw, key);
  g_string_append_c(tw->rec, '{');
  open_level(tw, false);
}

void trace_obj_end(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth > 1 && !tw->in_array[tw->depth - 1]);
  tw->depth--;
  g_string_append_c(tw->rec, '}');
}

void trace_arr_begin(trace_writer *tw, const char *key) {
  if (!tw)
    return;
  key_prefix(tw, key);
  g_string_append_c(tw->rec, '[');
  open_level(tw, true);
}

void trace_arr_end(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth > 1 && tw->in_array[tw->depth - 1]);
  tw->depth--;
  g_string_append_c(tw->rec, ']');
}
