/* dns_tcp.c — the RFC 1035 §4.2.2 two-octet length prefix for DNS over TCP,
 * framing and a split-tolerant deframer (RFC 7766 §8: several messages, and
 * pipelined queries, per connection). */
#include "dns_tcp.h"

struct dns_tcp {
  GByteArray *buf; /* unconsumed input; always starts at a frame boundary */
};

dns_tcp *dns_tcp_new(void) {
  dns_tcp *d = g_new0(dns_tcp, 1);
  d->buf = g_byte_array_new();
  return d;
}

void dns_tcp_free(dns_tcp *d) {
  if (!d)
    return;
  g_byte_array_free(d->buf, TRUE);
  g_free(d);
}

void dns_tcp_feed(dns_tcp *d, const uint8_t *data, size_t len) {
  g_assert(len <= G_MAXUINT);
  if (len)
    g_byte_array_append(d->buf, data, (guint)len);
}

GBytes *dns_tcp_next(dns_tcp *d) {
  if (d->buf->len < 2)
    return NULL;
  size_t n = ((size_t)d->buf->data[0] << 8) | d->buf->data[1];
  if (d->buf->len < 2 + n)
    return NULL;
  GBytes *msg = g_bytes_new(d->buf->data + 2, n);
  g_byte_array_remove_range(d->buf, 0, (guint)(2 + n));
  return msg;
}

size_t dns_tcp_pending(const dns_tcp *d) { return d->buf->len; }

void dns_tcp_frame(const uint8_t *msg, size_t len, GByteArray *out) {
  g_assert(len <= 65535);
  uint8_t p[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  g_byte_array_append(out, p, 2);
  if (len)
    g_byte_array_append(out, msg, (guint)len);
}
