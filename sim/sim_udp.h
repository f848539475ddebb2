/* sim_udp.h — UDP datagrams over the simulated network.
 *
 * A datagram larger than the path MTU is dropped (no fragmentation; DNS
 * keeps within 512 octets or EDNS sizes). A datagram to a port nobody
 * listens on makes the receiving node answer with an ICMP-like "port
 * unreachable", reported to the sender's socket as unreachable(). Delivery
 * is unreliable: loss and down links drop datagrams silently.
 *
 * Trace (protocol detail): udp.unreachable; at packet detail net.*.
 */
#ifndef MAILSIM_SIM_UDP_H
#define MAILSIM_SIM_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_net.h"

typedef struct sim_udp_sock sim_udp_sock;

typedef struct {
  void (*recv)(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t from_port,
               const uint8_t *buf, size_t len);
  /* A datagram this socket sent reached a closed port. */
  void (*unreachable)(void *user, sim_udp_sock *s, const sim_addr *to, uint16_t to_port);
} sim_udp_callbacks;

/* Binds PORT on node N (0 = an ephemeral port). NULL if the port is taken. */
sim_udp_sock *sim_udp_bind(sim_node *n, uint16_t port, const sim_udp_callbacks *cb, void *user);
/* Releases S's port (NULL: no-op) and frees S, bound or not. */
void sim_udp_close(sim_udp_sock *s);
/* Releases bound S's port (datagrams to it then find nobody) but keeps S
 * for sim_udp_rebind: a socket reused from query to query. An unbound
 * socket is its caller's: the node's crash frees only bound ones. */
void sim_udp_unbind(sim_udp_sock *s);
/* Binds unbound S as sim_udp_bind binds a new socket (PORT 0: an
 * ephemeral port, drawn the same way), with CB and USER. False, S still
 * unbound, if the port is taken. */
bool sim_udp_rebind(sim_udp_sock *s, uint16_t port, const sim_udp_callbacks *cb, void *user);
void sim_udp_send(sim_udp_sock *s, const sim_addr *to, uint16_t port, const void *buf, size_t len);
uint16_t sim_udp_port(const sim_udp_sock *s);
/* Inside recv(): when the datagram being delivered was sent. */
sim_time sim_udp_sent_time(const sim_udp_sock *s);
sim_node *sim_udp_node(const sim_udp_sock *s);

#endif
