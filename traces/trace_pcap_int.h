/* trace_pcap_int.h — internals shared by trace_pcap.c (file, frames,
 * packet-detail traces) and trace_pcap_rebuild.c (protocol-detail traces). */
#ifndef MAILSIM_TRACE_PCAP_INT_H
#define MAILSIM_TRACE_PCAP_INT_H

#include "trace_pcap.h"

typedef struct {
  uint8_t family; /* 4 or 6 */
  uint8_t b[16];
  uint16_t port;
} trace_pcap__ep;

typedef struct {
  const char *name; /* file name for messages */
  trace_reader *r;
  GHashTable *node_index; /* node name -> index + 1 */
  GHashTable *addr_node;  /* canonical address text -> node index + 1 */
  GArray *ip_id;          /* uint32_t per node: the next IPv4 identification */
  GArray *gateway;        /* guint per node: the other end of its only link + 1, or 0 */
  bool rebuild;           /* protocol detail: connections rebuilt from their records */
  GByteArray *out;
  GString *keylog;
  trace_pcap_stats st;
} trace_pcap__ctx;

/* Sets *ERR to "NAME:LINE: EV: FMT WHAT" (TRACE_READ_ERROR_RECORD) and
 * returns false. */
bool trace_pcap__fail(trace_pcap__ctx *c, GError **err, const char *ev, const char *fmt,
                      const char *what);
/* "10.0.0.1:25" or "[fd00::1]:25"; false if S is neither. */
bool trace_pcap__parse_endpoint(const char *s, trace_pcap__ep *e);
/* The index + 1 of the node owning E's address, 0 if none. */
guint trace_pcap__addr_owner(trace_pcap__ctx *c, const trace_pcap__ep *e);
/* Appends a frame from node FROM to node TO (indices) at T: Ethernet, IP,
 * then L4 (its checksum in place). */
void trace_pcap__frame(trace_pcap__ctx *c, int64_t t, guint from, guint to,
                       const trace_pcap__ep *src, const trace_pcap__ep *dst, uint8_t proto,
                       const uint8_t *l4, size_t l4len);
/* A TCP segment (flags: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
void trace_pcap__tcp(trace_pcap__ctx *c, int64_t t, guint from, guint to, const trace_pcap__ep *src,
                     const trace_pcap__ep *dst, uint32_t seq, uint32_t ack, uint8_t flags,
                     uint32_t win, const uint8_t *pd, size_t plen);
/* A UDP datagram. */
void trace_pcap__udp(trace_pcap__ctx *c, int64_t t, guint from, guint to, const trace_pcap__ep *src,
                     const trace_pcap__ep *dst, const uint8_t *pd, size_t plen);
/* Reads the rest of a protocol-detail trace and appends its frames
 * (trace_pcap_rebuild.c). */
bool trace_pcap__rebuild(trace_pcap__ctx *c, GError **err);

#endif
