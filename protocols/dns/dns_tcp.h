/* dns_tcp.h — DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): each
 * message is preceded by a two-octet big-endian length.
 *
 * The deframer is a sans-I/O engine: feed it whatever bytes arrived (any
 * split, several messages per connection), then pull whole messages one at
 * a time. It never fails on input: a zero-length frame is returned as an
 * empty message (its decode then fails with DNS_ERR_SHORT), and since a
 * frame is at most 65535 octets, buffered input beyond complete frames is
 * bounded by 65536 octets plus what the caller feeds before pulling. */
#ifndef MAILSIM_DNS_TCP_H
#define MAILSIM_DNS_TCP_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dns_tcp dns_tcp;

dns_tcp *dns_tcp_new(void);
void dns_tcp_free(dns_tcp *d); /* NULL is a no-op */

/* Appends LEN octets of stream input (copied). */
void dns_tcp_feed(dns_tcp *d, const uint8_t *data, size_t len);

/* The next whole message, in arrival order, as new bytes (caller unrefs),
 * or NULL if no complete frame is buffered yet. */
GBytes *dns_tcp_next(dns_tcp *d);

/* Octets buffered that do not yet form a whole frame (0 at a clean message
 * boundary: a connection closed now lost nothing). */
size_t dns_tcp_pending(const dns_tcp *d);

/* Appends the two-octet length and MSG (LEN <= 65535) to OUT. */
void dns_tcp_frame(const uint8_t *msg, size_t len, GByteArray *out);

#endif
