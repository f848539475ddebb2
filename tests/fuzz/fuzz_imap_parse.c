/* fuzz_imap_parse.c — libFuzzer target for the IMAP command framer and
 * parser: the input is a client byte stream, fed in pieces whose sizes come
 * from the first byte, every framed command parsed. Properties: no crash,
 * no leak, no read out of bounds (run under ASan/UBSan), and the framer
 * output is the same as when the stream is fed in one piece. */
#include <stdint.h>
#include <string.h>

#include "imap_framer.h"
#include "imap_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GString *frame_all(const uint8_t *p, size_t n, size_t step) {
  imap_framer *f = imap_framer_new(256, 1024);
  GString *log = g_string_new(NULL);
  for (size_t off = 0; off < n;) {
    size_t k = MIN(step, n - off);
    imap_framer_feed(f, p + off, k);
    off += k;
    for (;;) {
      imap_frame r = imap_framer_next(f);
      if (r.kind == IMAP_FRAME_NEED_MORE)
        break;
      g_string_append_printf(log, "%d:", r.kind);
      if (r.kind == IMAP_FRAME_COMMAND) {
        g_string_append_len(log, (const char *)r.data, (gssize)r.len);
        char *tag;
        const char *err;
        imap_cmd *c = imap_cmd_parse(r.data, r.len, &tag, &err);
        g_string_append_printf(log, "|%s|%s", c ? imap_verb_name(c->verb) : err,
                               c ? c->tag : (tag ? tag : "*"));
        imap_cmd_free(c);
        g_free(tag);
      } else if (r.kind == IMAP_FRAME_ERROR) {
        g_string_append_printf(log, "%s|%s", r.tag ? r.tag : "*", r.error);
      }
      g_string_append_c(log, '\n');
    }
  }
  imap_framer_free(f);
  return log;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t step = (size_t)data[0] % 17 + 1;
  GString *a = frame_all(data + 1, size - 1, step);
  GString *b = frame_all(data + 1, size - 1, size);
  if (a->len != b->len || memcmp(a->str, b->str, a->len) != 0)
    __builtin_trap(); /* split dependence */
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  return 0;
}
