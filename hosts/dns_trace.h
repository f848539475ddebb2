/* dns_trace.h — dns.query and dns.response records from wire packets.
 *
 * Written by the host that RECEIVES the packet, when it arrives; "sent" is
 * when the other host sent it, so the viewer draws the arrow in flight:
 *   dns.query    {"conn","from","to","sent","proto","qid","qname","qtype"}
 *   dns.response {"conn","from","to","sent","proto","qid","qname","qtype",
 *                 "rcode","aa","tc","answers":[presentation text...]}
 * both followed by "src", "dst", "wire".
 * "conn" is the receiving end's TCP connection id, 0 over UDP. A packet
 * that does not decode gets "error" (the decoder's error name) instead of
 * the message keys.
 */
#ifndef MAILSIM_DNS_TRACE_H
#define MAILSIM_DNS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "sim_net.h"

/* Writes one record (ev "dns.query" or "dns.response") for PKT. FROM and
 * FROM_PORT are the sender's address and port (named by its node when it
 * has one), TO the receiving node, TO_ADDR (NULL: TO's first address of
 * FROM's family) and TO_PORT where the packet arrived. After the keys above
 * come "src" and "dst" (the packet's endpoints, "addr:port") and "wire"
 * (bytes: the DNS message itself, without the TCP length prefix), so that
 * `mailsim pcap` can rebuild the packet. */
void dns_trace_packet(sim_world *w, const char *ev, uint64_t conn, const sim_addr *from,
                      uint16_t from_port, const sim_node *to, const sim_addr *to_addr,
                      uint16_t to_port, sim_time sent, bool tcp, const uint8_t *pkt, size_t len);

#endif
