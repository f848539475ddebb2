/* fuzz_mailbox_srv.c — libFuzzer target for the IMAP and POP3 server
 * engines over a small mailstore. First byte: bit 0 selects POP3, the rest
 * the feed step. Properties: no crash or leak under ASan/UBSan, and the
 * server's output does not depend on how the input is split. */
#include <stdint.h>
#include <string.h>

#include "imap_srv.h"
#include "mailstore.h"
#include "mailstore_imap.h"
#include "mailstore_pop3.h"
#include "pop3_srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mailstore *store(void) {
  mailstore *st = mailstore_new(1);
  mailstore_user_add(st, "bob", 4096, 20);
  static const char *const m[] = {"Subject: a\r\nFrom: x@y\r\n\r\nbody\r\n.dot\r\n",
                                  "Subject: b\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n"};
  for (int i = 0; i < 2; i++) {
    GBytes *b = g_bytes_new_static(m[i], strlen(m[i]));
    mailstore_deliver(st, "bob", NULL, b, i, NULL);
    g_bytes_unref(b);
  }
  return st;
}

static GString *run(const uint8_t *p, size_t n, size_t step, bool pop) {
  mailstore *st = store();
  GString *out = g_string_new(NULL);
  imap_srv_config ic = {.hostname = "h", .max_line = 512, .max_literal = 2048};
  pop3_srv_config pc = {.hostname = "h"};
  imap_srv *is = pop ? NULL : imap_srv_new(&ic, NULL, 0);
  pop3_srv *ps = pop ? pop3_srv_new(&pc, NULL, 0) : NULL;
  for (size_t off = 0; off <= n; off += step) {
    size_t k = MIN(step, n - off);
    const uint8_t *o;
    size_t on;
    if (pop) {
      pop3_srv_feed(ps, p + off, k, 0);
      pop3_srv_event ev;
      while (pop3_srv_next_event(ps, &ev))
        if (ev.kind == POP3_SRV_EV_AUTH) {
          mailstore_err e;
          mailstore_pop3 *d = mailstore_pop3_open(st, ev.user, 1, &e);
          pop3_srv_auth_answer(ps, ev.id, d ? POP3_AUTH_OK : POP3_AUTH_FAIL,
                               d ? &mailstore_pop3_ops : NULL, d);
        } else if (ev.kind == POP3_SRV_EV_STLS) {
          pop3_srv_tls_done(ps, true);
        }
      o = pop3_srv_output_peek(ps, &on);
      g_string_append_len(out, (const char *)o, (gssize)on);
      pop3_srv_output_consume(ps, on);
    } else {
      imap_srv_feed(is, p + off, k, 0);
      imap_srv_event ev;
      while (imap_srv_next_event(is, &ev))
        if (ev.kind == IMAP_SRV_EV_AUTH) {
          mailstore_imap *h = mailstore_imap_open(st, ev.user);
          imap_srv_auth_answer(is, ev.id, h ? IMAP_AUTH_OK : IMAP_AUTH_FAIL,
                               h ? &mailstore_imap_ops : NULL, h);
        } else if (ev.kind == IMAP_SRV_EV_STARTTLS) {
          imap_srv_tls_done(is, true);
        }
      o = imap_srv_output_peek(is, &on);
      g_string_append_len(out, (const char *)o, (gssize)on);
      imap_srv_output_consume(is, on);
    }
    if (k == 0)
      break;
  }
  imap_srv_free(is);
  pop3_srv_free(ps);
  mailstore_free(st);
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 8192)
    return 0;
  bool pop = data[0] & 1;
  size_t step = (size_t)(data[0] >> 1) % 23 + 1;
  GString *a = run(data + 1, size - 1, step, pop);
  GString *b = run(data + 1, size - 1, size, pop);
  if (a->len != b->len || memcmp(a->str, b->str, a->len) != 0)
    __builtin_trap(); /* output depends on the split */
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  return 0;
}
