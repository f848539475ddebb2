/* libFuzzer target: the SMTP server engine. The input's first byte picks
 * the configuration and how decisions are answered; the rest is the client
 * stream, fed in chunks whose sizes come from the data itself. Checks the
 * engine's own invariants (it asserts on misuse, so any abort is a bug). */
#include <stdint.h>
#include <string.h>

#include "smtp_srv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  data++, size--;
  smtp_srv_config cfg;
  smtp_srv_config_init(&cfg);
  cfg.bare_policy = mode & 1 ? SMTP_SRV_BARE_NORMALIZE : SMTP_SRV_BARE_REJECT;
  cfg.require_auth = mode & 2;
  cfg.require_tls_for_auth = mode & 4;
  cfg.max_size = mode & 8 ? 64 : 0;
  cfg.max_recipients = 3;
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  int64_t now = 0;
  size_t pos = 0, step = 0;
  while (!smtp_srv_closed(srv)) {
    smtp_srv_event ev;
    while (smtp_srv_next_event(srv, &ev)) {
      if (ev.type == SMTP_SRV_EV_STARTTLS)
        smtp_srv_tls_started(srv, now);
      else if (ev.id && ((mode >> 4) + step++) % 3 == 0)
        smtp_srv_reject(srv, ev.id, 550, NULL, NULL, now);
      else if (ev.id)
        smtp_srv_accept(srv, ev.id, now);
    }
    size_t n;
    smtp_srv_output_peek(srv, &n);
    smtp_srv_output_consume(srv, n);
    if (pos >= size)
      break;
    size_t k = 1 + data[pos] % 61;
    if (k > size - pos)
      k = size - pos;
    smtp_srv_feed(srv, data + pos, k, ++now);
    pos += k;
  }
  smtp_srv_tick(srv, INT64_MAX);
  smtp_srv_free(srv);
  return 0;
}
