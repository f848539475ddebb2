/* libFuzzer target: the SMTP client engine fed arbitrary server replies in
 * data-chosen chunks, with STARTTLS and AUTH configured by the first byte. */
#include <stdint.h>
#include <string.h>

#include "smtp_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  data++, size--;
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.tls = (smtp_cli_tls_policy)(mode % 3);
  if (mode & 4)
    cfg.auth_user = "alice", cfg.auth_pass = "secret";
  cfg.use_pipelining = mode & 8;
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
  static const smtp_cmd_rcpt rc[] = {{"a@b.c", 0, NULL}, {"d@e.f", SMTP_NOTIFY_NEVER, NULL}};
  smtp_cmd_mail mail = {.from = "x@y.z", .ret = SMTP_RET_HDRS};
  smtp_cli_message m = {&mail, rc, 2, (const uint8_t *)".a\n\xc3\xa4\r", 6, 1};
  smtp_cli_send(cli, &m, 0);
  int64_t now = 0;
  size_t pos = 0;
  for (;;) {
    smtp_cli_event ev;
    bool closed = false;
    while (smtp_cli_next_event(cli, &ev)) {
      if (ev.type == SMTP_CLI_EV_STARTTLS)
        smtp_cli_tls_started(cli, now);
      closed |= ev.type == SMTP_CLI_EV_CLOSE;
    }
    size_t n;
    smtp_cli_output_peek(cli, &n);
    smtp_cli_output_consume(cli, n, now);
    if (closed || pos >= size)
      break;
    size_t k = 1 + data[pos] % 37;
    if (k > size - pos)
      k = size - pos;
    smtp_cli_feed(cli, data + pos, k, ++now);
    pos += k;
  }
  smtp_cli_tick(cli, INT64_MAX);
  smtp_cli_connection_lost(cli, INT64_MAX);
  smtp_cli_free(cli);
  return 0;
}
