/* smtp_cli_body.c — the message body as the client sends it after 354.
 *
 * RFC 5321 §2.3.8: lines end in CRLF only, so every CRLF, bare CR and bare
 * LF becomes CRLF (the client never emits a bare CR or LF, whatever the
 * message store holds — the sending half of the smuggling defence);
 * §4.5.2: a line starting with "." gets another "."; the data ends with
 * CRLF "." CRLF. RFC 1870 §3: SIZE counts the normalised octets without
 * the stuffing dots and the final dot line.
 */
#include "smtp_cli.h"

uint64_t smtp_cli_body_size(const uint8_t *data, size_t len) {
  uint64_t n = 0;
  bool bol = true;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = data[i];
    if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
      continue;
    bol = c == '\r' || c == '\n';
    n += bol ? 2 : 1;
  }
  return n + (bol ? 0 : 2);
}

void smtp_cli_encode_body(GString *out, const uint8_t *data, size_t len) {
  bool bol = true;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = data[i];
    if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
      continue; /* the LF ends this line */
    if (c == '\r' || c == '\n') {
      g_string_append(out, "\r\n");
      bol = true;
      continue;
    }
    if (bol && c == '.')
      g_string_append_c(out, '.'); /* RFC 5321 §4.5.2 */
    g_string_append_c(out, (char)c);
    bol = false;
  }
  if (!bol)
    g_string_append(out, "\r\n");
  g_string_append(out, ".\r\n");
}
