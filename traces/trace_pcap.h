/* trace_pcap.h — packets for Wireshark/tshark from a trace recorded at
 * packet detail.
 *
 * Every packet the simulation put on a link from its source node (the
 * `net.send` records whose node owns the packet's source address, which
 * carry the packet's `payload`, traces/FORMAT.md) becomes one frame of a
 * classic libpcap file (LINKTYPE_ETHERNET, nanosecond magic 0xa1b23c4d,
 * timestamps = simulated time since the run's start): an Ethernet header
 * (locally administered MACs 02:00:00:00:HH:LL from the sender's and the
 * next hop's node index), IPv4 (RFC 791; DF set, TTL 64, an identification
 * counter per source node) or IPv6 (RFC 8200; hop limit 64), then TCP
 * (RFC 9293 §3.1: 20-octet header, no options, the simulation's own
 * sequence and acknowledgement numbers, flags and window, which is clamped
 * to 65535), UDP (RFC 768) or an ICMP/ICMPv6 port unreachable (RFC 792,
 * RFC 4443 §3.1) quoting the datagram's IP and UDP headers. Checksums are
 * the RFC 1071 Internet checksum over the RFC 9293 §3.1 / RFC 8200 §8.1
 * pseudo-headers. Retransmissions appear because the simulation sent them;
 * packets later lost on the way appear too (the capture is at the sender).
 *
 * TLS: the payload is what went on the wire, so TLS records are real TLS.
 * The `tls.keylog` records (packet detail, one per TLS client, NSS key log
 * lines) are collected into KEYLOG when asked, ready to be written as an
 * SSLKEYLOGFILE that Wireshark uses to decrypt the sessions.
 *
 * Protocol detail. A trace recorded at protocol detail has connections
 * and protocol lines but no packets: the packets are rebuilt from them
 * (trace_pcap_rebuild.c says what is exact and what is modelled): SYN,
 * SYN-ACK, ACK; one write per group of lines sent together, each line +
 * CRLF, cut at the MSS; an ACK per write; FINs or RST; DNS from the
 * records' "wire". Not shown: what the trace does not record (message
 * bodies, IMAP literals, POP3 multi-line bodies, anything after a
 * STARTTLS switch: TLS is shown only at packet detail) and
 * retransmissions. The stats count what was left out.
 *
 * A trace at messages detail, a net.send without its payload, an
 * address or port that does not parse, a record lacking a key: an error in
 * the TRACE_READ_ERROR domain naming the file and line; never an abort.
 */
#ifndef MAILSIM_TRACE_PCAP_H
#define MAILSIM_TRACE_PCAP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_read.h"

typedef struct {
  uint64_t frames; /* packets written */
  uint64_t tcp, udp, icmp;
  uint64_t keylog_lines;
  /* Protocol detail (rebuilt, see below): */
  bool rebuilt;
  uint64_t tls_sessions_hidden; /* connections whose data stops at STARTTLS */
  uint64_t tls_lines_hidden;    /* recorded lines not shown: they went inside TLS */
  uint64_t dns_without_wire;    /* DNS records without "wire" (older traces): not shown */
} trace_pcap_stats;

/* Reads R (named NAME in messages) to its end and appends a whole pcap
 * file (global header and frames) to OUT. KEYLOG (may be NULL) receives
 * the key log lines, each ending in LF. ST (may be NULL) gets counts.
 * False with *ERR on a bad trace; OUT and KEYLOG then hold a partial
 * result the caller should discard. */
bool trace_pcap_write(trace_reader *r, const char *name, GByteArray *out, GString *keylog,
                      trace_pcap_stats *st, GError **err);

/* The RFC 1071 Internet checksum: the ones' complement of the ones'
 * complement sum of P[0..N) as 16-bit big-endian words (an odd last octet
 * padded with zero), SUM being a partial sum to start from (a
 * pseudo-header's). The value goes into the header as is (big-endian). */
uint16_t trace_pcap_checksum(const uint8_t *p, size_t n, uint32_t sum);

#endif
