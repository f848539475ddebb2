/* imap_framer.c — IMAP command framing (see imap_framer.h).
 *
 * RFC 3501 §4.3: a literal is "{" number "}" CRLF followed by that many
 * octets; the command goes on after it on the same logical line. §7.5: the
 * server sends a continuation request before a synchronizing literal.
 * RFC 7888: "{n+}" needs none. A command whose synchronizing literal is
 * too large ends at once with an error (the client waits for our answer
 * and then abandons it); a too-large non-synchronizing literal is skipped
 * byte by byte. Lines longer than max_line are discarded up to their LF.
 */
#include "imap_framer.h"

#include <glib.h>
#include <string.h>

struct imap_framer {
  size_t max_line, max_literal;
  GByteArray *in;    /* input; consumed up to head (dropped at the next feed) */
  size_t head;       /* octets of in already framed */
  GByteArray *cmd;   /* the command being assembled */
  GByteArray *done;  /* the last command returned (kept valid) */
  size_t seg_start;  /* start of the current line in cmd */
  uint64_t lit_left; /* literal bytes still to read */
  bool skipping;     /* the current command is already in error */
  bool raw;
  bool grown; /* IN or CMD held more than FRAMER_KEEP_MAX octets */
  char *err_tag;
  const char *err;
};

/* The largest buffer imap_framer_reset keeps (an APPEND literal is a whole
 * message: a recycled framer does not hold on to it). */
#define FRAMER_KEEP_MAX (64u << 10)

imap_framer *imap_framer_new(size_t max_line, size_t max_literal) {
  g_assert(max_line >= 16);
  imap_framer *f = g_new0(imap_framer, 1);
  f->max_line = max_line;
  f->max_literal = max_literal;
  /* Sized for usual lines, so that they need no regrowth. */
  f->in = g_byte_array_sized_new(256);
  f->cmd = g_byte_array_sized_new(128);
  f->done = g_byte_array_new();
  return f;
}

void imap_framer_free(imap_framer *f) {
  if (!f)
    return;
  g_byte_array_unref(f->in);
  g_byte_array_unref(f->cmd);
  g_byte_array_unref(f->done);
  g_free(f->err_tag);
  g_free(f);
}

void imap_framer_reset(imap_framer *f, size_t max_line, size_t max_literal) {
  g_assert(f && max_line >= 16);
  g_free(f->err_tag);
  imap_framer kept = {.in = f->in, .cmd = f->cmd, .done = f->done};
  if (f->grown) {
    g_byte_array_unref(kept.in);
    g_byte_array_unref(kept.cmd);
    g_byte_array_unref(kept.done);
    kept.in = g_byte_array_sized_new(256);
    kept.cmd = g_byte_array_sized_new(128);
    kept.done = g_byte_array_new();
  }
  g_byte_array_set_size(kept.in, 0);
  g_byte_array_set_size(kept.cmd, 0);
  g_byte_array_set_size(kept.done, 0);
  kept.max_line = max_line;
  kept.max_literal = max_literal;
  *f = kept;
}

void imap_framer_feed(imap_framer *f, const void *data, size_t len) {
  /* The octets framed go now: a frame returned may have pointed at them. */
  if (f->head == f->in->len)
    g_byte_array_set_size(f->in, 0);
  else if (f->head)
    g_byte_array_remove_range(f->in, 0, (guint)f->head);
  f->head = 0;
  g_byte_array_append(f->in, data, (guint)len);
  f->grown |= f->in->len > FRAMER_KEEP_MAX;
}

void imap_framer_set_max_literal(imap_framer *f, size_t max_literal) {
  f->max_literal = max_literal;
}

void imap_framer_set_raw(imap_framer *f, bool raw) { f->raw = raw; }

void imap_framer_discard(imap_framer *f) {
  g_byte_array_set_size(f->in, 0);
  f->head = 0;
  g_byte_array_set_size(f->cmd, 0);
  f->lit_left = 0;
  f->skipping = false;
}

size_t imap_framer_pending(const imap_framer *f) { return f->in->len - f->head; }

/* The tag is the first token of the command (RFC 3501 §9 tag: ASTRING-CHAR
 * except "+"). */
static char *tag_of(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n && i < 64 && p[i] > 0x20 && p[i] < 0x7f && !strchr("(){%*\"\\+", p[i]))
    i++;
  if (i == 0 || i >= n || p[i] != ' ')
    return NULL;
  return g_strndup((const char *)p, i);
}

/* Enters error mode. The tag is read from the command so far followed by
 * MORE (bytes not yet appended); the last 32 bytes of the current line are
 * kept, so a literal announcement at its end is still seen whatever the
 * split. */
static void start_skipping(imap_framer *f, const char *why, const uint8_t *more, size_t nmore) {
  if (!f->skipping) {
    GByteArray *t = g_byte_array_new();
    g_byte_array_append(t, f->cmd->data ? f->cmd->data : (const guint8 *)"", MIN(f->cmd->len, 80));
    if (t->len < 80 && nmore)
      g_byte_array_append(t, more, (guint)MIN(nmore, 80 - t->len));
    g_free(f->err_tag);
    f->err_tag = tag_of(t->data, t->len);
    g_byte_array_unref(t);
    f->err = why;
  }
  f->skipping = true;
  size_t line = f->cmd->len - f->seg_start;
  size_t keep = MIN(line, 32);
  if (keep)
    memmove(f->cmd->data, f->cmd->data + f->cmd->len - keep, keep);
  g_byte_array_set_size(f->cmd, (guint)keep);
  f->seg_start = 0;
}

static imap_frame error_frame(imap_framer *f) {
  imap_frame r = {IMAP_FRAME_ERROR, NULL, 0, f->err_tag, f->err};
  f->skipping = false;
  g_byte_array_set_size(f->cmd, 0);
  f->seg_start = 0;
  return r;
}

/* Does the line L (without its line end) end in a literal announcement?
 * Returns the digits' value in *N and whether it is synchronizing. */
static bool literal_at_end(const uint8_t *l, size_t n, uint64_t *val, bool *sync) {
  if (n < 3 || l[n - 1] != '}')
    return false;
  size_t e = n - 1;
  *sync = true;
  if (l[e - 1] == '+') {
    *sync = false;
    e--;
  }
  size_t b = e;
  while (b > 0 && g_ascii_isdigit(l[b - 1]))
    b--;
  if (b == e || b == 0 || l[b - 1] != '{' || e - b > 19)
    return false;
  uint64_t v = 0;
  for (size_t i = b; i < e; i++)
    v = v * 10 + (uint64_t)(l[i] - '0');
  if (e - b == 19 && v > UINT64_MAX / 2)
    return false;
  *val = v;
  return true;
}

/* While skipping, cmd keeps only the tail of the current line: enough to
 * see a literal announcement split across feeds. */
static void skip_append(imap_framer *f, const uint8_t *p, size_t n) {
  if (n > 32) {
    p += n - 32;
    n = 32;
  }
  g_byte_array_append(f->cmd, p, (guint)n);
  if (f->cmd->len > 32)
    g_byte_array_remove_range(f->cmd, 0, f->cmd->len - 32);
}

static void append(imap_framer *f, const uint8_t *p, size_t n) {
  if (!n)
    return;
  if (!f->skipping && f->cmd->len - f->seg_start + n > f->max_line)
    start_skipping(f, "line too long", p, n);
  if (f->skipping)
    skip_append(f, p, n);
  else
    g_byte_array_append(f->cmd, p, (guint)n);
  f->grown |= f->cmd->len > FRAMER_KEEP_MAX;
}

/* The usual case: a whole command of one line, with no literal, lies in
 * the input at OFF and nothing of it was assembled yet. It is returned
 * where it lies (valid until the next framer call, which drops it) instead
 * of being copied out. False (nothing done) otherwise. */
static bool whole_line(imap_framer *f, size_t off, imap_frame *r) {
  if (f->skipping || f->lit_left || f->cmd->len || off >= f->in->len)
    return false;
  const guint8 *p = f->in->data + off;
  const guint8 *nl = memchr(p, '\n', f->in->len - off);
  if (!nl || (size_t)(nl - p) > f->max_line)
    return false; /* incomplete, or too long: the general path */
  size_t n = (size_t)(nl - p);
  if (n && p[n - 1] == '\r')
    n--;
  uint64_t lit;
  bool sync;
  if (!f->raw && literal_at_end(p, n, &lit, &sync))
    return false;
  f->head = off + (size_t)(nl - p) + 1;
  r->kind = IMAP_FRAME_COMMAND;
  r->data = n ? p : (const uint8_t *)"";
  r->len = n;
  return true;
}

imap_frame imap_framer_next(imap_framer *f) {
  imap_frame r = {IMAP_FRAME_NEED_MORE, NULL, 0, NULL, NULL};
  if (whole_line(f, f->head, &r))
    return r;
  size_t off = f->head;
  for (;;) {
    if (f->lit_left) {
      size_t take = f->in->len - off;
      if (take > f->lit_left)
        take = (size_t)f->lit_left;
      if (!take)
        break;
      if (!f->skipping)
        g_byte_array_append(f->cmd, f->in->data + off, (guint)take);
      f->grown |= f->cmd->len > FRAMER_KEEP_MAX;
      off += take;
      f->lit_left -= take;
      if (!f->lit_left)
        f->seg_start = f->cmd->len;
      continue;
    }
    if (off >= f->in->len)
      break;
    const guint8 *nl = memchr(f->in->data + off, '\n', f->in->len - off);
    if (!nl) {
      append(f, f->in->data + off, f->in->len - off);
      off = f->in->len;
      break;
    }
    size_t end = (size_t)(nl - f->in->data);
    append(f, f->in->data + off, end - off);
    off = end + 1;
    if (f->cmd->len > f->seg_start && f->cmd->data[f->cmd->len - 1] == '\r')
      g_byte_array_set_size(f->cmd, f->cmd->len - 1);
    uint64_t n;
    bool sync;
    size_t linelen = f->cmd->len - f->seg_start;
    const uint8_t *line = linelen ? f->cmd->data + f->seg_start : (const uint8_t *)"";
    if (!f->raw && literal_at_end(line, linelen, &n, &sync)) {
      if (!f->skipping && n > f->max_literal)
        start_skipping(f, "literal too large", NULL, 0);
      if (f->skipping) {
        g_byte_array_set_size(f->cmd, 0);
        if (sync) { /* the client waits: answer now, it abandons the command */
          r = error_frame(f);
          break;
        }
        f->lit_left = n; /* {n+}: skip the bytes */
        continue;
      }
      g_byte_array_append(f->cmd, (const guint8 *)"\r\n", 2);
      f->lit_left = n;
      f->seg_start = f->cmd->len;
      if (sync) { /* RFC 3501 §7.5, even for {0} */
        r.kind = IMAP_FRAME_CONTINUE;
        break;
      }
      continue;
    }
    if (f->skipping) {
      r = error_frame(f);
      break;
    }
    /* command complete */
    GByteArray *t = f->done;
    f->done = f->cmd;
    f->cmd = t;
    g_byte_array_set_size(f->cmd, 0);
    f->seg_start = 0;
    r.kind = IMAP_FRAME_COMMAND;
    r.data = f->done->len ? f->done->data : (const uint8_t *)"";
    r.len = f->done->len;
    break;
  }
  f->head = off; /* dropped at the next feed (the frame may point into it) */
  return r;
}
