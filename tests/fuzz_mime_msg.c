/* libFuzzer target for the MIME parser and everything that reads its
 * tree: IMAP views, section ranges, decoding, the display. Built only
 * with clang; run in CI for a short, seeded burst (see tests/meson.build).
 * Any crash, sanitizer report or broken range invariant is a failure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_display.h"
#include "mime_imap.h"
#include "mime_imap_grammar.h"
#include "mime_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean check(const mime_part *p, void *ud) {
  gsize len = *(gsize *)ud;
  if (p->hdr_off + p->hdr_len != p->body_off || p->body_off + p->body_len > len)
    abort();
  return TRUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mime_limits lim;
  mime_limits_default(&lim);
  if (size && (data[0] & 1)) {
    lim.max_depth = 4;
    lim.max_parts = 20;
    lim.max_fields = 8;
  }
  mime_msg *m = mime_msg_parse(data, size, &lim);
  gsize len = size;
  mime_msg_walk(m, check, &len);
  char *bs = mime_imap_bodystructure(m, TRUE), *b = mime_imap_bodystructure(m, FALSE);
  char *env = mime_imap_envelope(mime_msg_root(m));
  if (!ig_check_body(bs, TRUE) || !ig_check_body(b, FALSE) || !ig_check_envelope(env))
    abort(); /* IMAP strings must stay well-formed whatever the input */
  g_free(bs);
  g_free(b);
  g_free(env);
  static const char *const secs[] = {"1",      "2",        "1.1",    "1.2",  "2.1",
                                     "1.MIME", "2.HEADER", "2.TEXT", "TEXT", "HEADER"};
  for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
    gsize off, n;
    if (mime_imap_section_range(m, secs[i], &off, &n) && off + n > size)
      abort();
    const mime_part *p = mime_msg_find(m, secs[i]);
    if (p)
      g_bytes_unref(mime_part_decode(m, p, NULL));
  }
  mime_display_free(mime_display_new(m));
  mime_msg_free(m);
  return 0;
}
