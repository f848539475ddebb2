/* fuzz_mailbox_cli.c — libFuzzer target for the IMAP and POP3 client
 * engines facing a hostile server: the input is the server's byte stream.
 * First byte: bit 0 selects POP3, the rest the feed step. Properties: no
 * crash or leak under ASan/UBSan, and the client's events and output do
 * not depend on how the stream is split. STARTTLS is off: after it the
 * clients rightly drop whatever arrived with the server's answer
 * (injection defence), which makes behaviour split-dependent by design. */
#include <stdint.h>
#include <string.h>

#include "imap_cli.h"
#include "pop3_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GString *run(const uint8_t *p, size_t n, size_t step, bool pop) {
  GString *log = g_string_new(NULL), *out = g_string_new(NULL);
  imap_cli_config ic = {.user = "bob",
                        .pass = "pw",
                        .mark_seen = true,
                        .move_to = "Arch",
                        .idle = true,
                        .max_message = 4096};
  pop3_cli_config pc = {.user = "bob", .pass = "pw", .delete_after = true, .max_message = 4096};
  imap_cli *ic_ = pop ? NULL : imap_cli_new(&ic, NULL, 0);
  pop3_cli *pc_ = pop ? pop3_cli_new(&pc, NULL, 0) : NULL;
  for (size_t off = 0; off < n; off += step) {
    size_t k = MIN(step, n - off);
    const uint8_t *o;
    size_t on;
    if (pop) {
      pop3_cli_feed(pc_, p + off, k, 0);
      pop3_cli_event ev;
      while (pop3_cli_next_event(pc_, &ev)) {
        g_string_append_printf(log, "%d:%s;", ev.kind, ev.text ? ev.text : "");
        if (ev.kind == POP3_CLI_EV_MESSAGE)
          g_string_append_len(log, g_bytes_get_data(ev.data, NULL),
                              (gssize)g_bytes_get_size(ev.data));
        if (ev.kind == POP3_CLI_EV_STLS)
          pop3_cli_tls_done(pc_, true);
      }
      o = pop3_cli_output_peek(pc_, &on);
      g_string_append_len(out, (const char *)o, (gssize)on);
      pop3_cli_output_consume(pc_, on);
    } else {
      imap_cli_feed(ic_, p + off, k, 0);
      imap_cli_event ev;
      while (imap_cli_next_event(ic_, &ev)) {
        g_string_append_printf(log, "%d:%s:%u;", ev.kind, ev.text ? ev.text : "", ev.uid);
        if (ev.kind == IMAP_CLI_EV_STARTTLS)
          imap_cli_tls_done(ic_, true);
      }
      o = imap_cli_output_peek(ic_, &on);
      g_string_append_len(out, (const char *)o, (gssize)on);
      imap_cli_output_consume(ic_, on);
    }
  }
  imap_cli_free(ic_);
  pop3_cli_free(pc_);
  g_string_append(log, "\n--- output\n");
  g_string_append_len(log, out->str, (gssize)out->len);
  g_string_free(out, TRUE);
  return log;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 16384)
    return 0;
  bool pop = data[0] & 1;
  size_t step = (size_t)(data[0] >> 1) % 23 + 1;
  GString *a = run(data + 1, size - 1, step, pop);
  GString *b = run(data + 1, size - 1, size, pop);
  if (a->len != b->len || memcmp(a->str, b->str, a->len) != 0)
    __builtin_trap(); /* behaviour depends on the split */
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  return 0;
}
