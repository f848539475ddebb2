/* sim_tcp.h — TCP-like reliable byte streams over the simulated network.
 *
 * What is modelled: the three-way handshake (SYN, SYN-ACK, ACK), MSS
 * segmentation (MSS = path MTU - 40 for IPv4, - 60 for IPv6), 40/60 header
 * octets on every segment, a fixed receive window (flow control; no
 * congestion control), cumulative ACKs with the receiver keeping
 * out-of-order segments, retransmission on RTO (RFC 6298: SRTT/RTTVAR,
 * initial 1 s, minimum 200 ms, maximum 60 s, Karn's rule, exponential
 * backoff) and on three duplicate ACKs, FIN with half close, RST for a
 * closed port or an unknown connection, connect timeout (SYN retries) and
 * a retransmission limit, keepalive probes on idle connections so both ends
 * of a cut path learn of it. Bytes are delivered in order, exactly once.
 *
 * Model details: sender-side silly-window avoidance, no Nagle and no
 * delayed ACK (each arriving segment is acknowledged at the end of its
 * arrival event, piggybacked on data the callbacks sent if any), no SACK
 * and no congestion control (up to the peer's window in flight; fast
 * retransmit and NewReno-style partial-ACK retransmission repair losses;
 * a timeout sends again from the first unacknowledged byte, go-back-N).
 * Every segment, pure ACKs included, costs 40 (IPv4) or 60 (IPv6) header
 * octets on every link: ACKs take serialization time and queue space.
 * TIME_WAIT lasts 60 s after closed(NORMAL), unseen by the owner. An open
 * connection keeps a keepalive timer pending, so a world with open
 * connections never runs idle: run it until a time.
 *
 * Callbacks never run inside the call that caused them (they are scheduled
 * events), so a callback may call any function here, including close/abort
 * of the connection it is called for. After closed() the connection is
 * freed by the kernel: don't touch it again.
 *
 * Trace (protocol detail): tcp.connect, tcp.accept, tcp.established,
 * tcp.refused, tcp.reset, tcp.timeout, tcp.close — each with the node(s),
 * the connection id, and the addresses and ports.
 */
#ifndef MAILSIM_SIM_TCP_H
#define MAILSIM_SIM_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "sim_net.h"

typedef struct sim_tcp_conn sim_tcp_conn;
typedef struct sim_tcp_listener sim_tcp_listener;

typedef enum {
  SIM_TCP_CLOSED_NORMAL,  /* both sides closed (FIN exchanged) */
  SIM_TCP_CLOSED_REFUSED, /* connect got an RST: nothing listening */
  SIM_TCP_CLOSED_RESET,   /* the peer reset the connection */
  SIM_TCP_CLOSED_TIMEOUT, /* connect, retransmission or keepalive timeout */
  SIM_TCP_CLOSED_ABORTED, /* this side called sim_tcp_abort() */
  SIM_TCP_CLOSED_CRASH,   /* this node crashed (callback not called: see hook) */
  SIM_TCP_CLOSED_COUNT
} sim_tcp_reason;
const char *sim_tcp_reason_name(sim_tcp_reason r);

typedef struct {
  /* The handshake completed (active side) / the connection was accepted. */
  void (*connected)(void *user, sim_tcp_conn *c);
  /* In-order bytes arrived. */
  void (*data)(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len);
  /* The peer sent FIN: no more data will arrive. */
  void (*eof)(void *user, sim_tcp_conn *c);
  /* Everything sent so far was acknowledged. */
  void (*drained)(void *user, sim_tcp_conn *c);
  /* The connection is over; it is freed after this returns. */
  void (*closed)(void *user, sim_tcp_conn *c, sim_tcp_reason why);
} sim_tcp_callbacks;

typedef struct {
  sim_time connect_timeout;   /* 0 = 30 s (SYN retries until then) */
  uint32_t max_retries;       /* 0 = 8 retransmissions of one segment */
  sim_time keepalive_idle;    /* 0 = 60 s; then probes every 10 s, 3 lost = timeout */
  uint32_t window;            /* receive window in bytes; 0 = 65535 */
} sim_tcp_options;

/* ACCEPT is called with each new connection (as a scheduled event, once
 * the handshake completed); it returns the callbacks and user pointer for
 * it (through *cb, *user). Leaving *cb NULL refuses it: the kernel sends an
 * RST and forgets the connection. connected() follows for accepted ones. */
typedef void (*sim_tcp_accept_fn)(void *lis_user, sim_tcp_conn *c, const sim_tcp_callbacks **cb,
                                  void **user);

/* NULL if PORT already has a listener on N. Connections already accepted
 * live on after unlisten; handshakes not yet complete are reset. NULL is a
 * no-op for unlisten. */
sim_tcp_listener *sim_tcp_listen(sim_node *n, uint16_t port, sim_tcp_accept_fn accept,
                                 void *user);
void sim_tcp_unlisten(sim_tcp_listener *l);

/* Opens a connection from node N to TO:PORT. OPT may be NULL. Never fails
 * at once: errors come as closed(REFUSED/TIMEOUT). */
sim_tcp_conn *sim_tcp_connect(sim_node *n, const sim_addr *to, uint16_t port,
                              const sim_tcp_options *opt, const sim_tcp_callbacks *cb,
                              void *user);
/* Queues LEN bytes (copied); they leave as the window allows. May be called
 * before connected() (sent once established). Ignored once the connection
 * is over (closed() pending); calling it after sim_tcp_close is a bug
 * (aborts the program). */
void sim_tcp_send(sim_tcp_conn *c, const void *buf, size_t len);
/* Sends FIN after the queued bytes (half close: data still arrives). A
 * second call does nothing. closed(NORMAL) comes once both FINs are
 * exchanged and acknowledged. */
void sim_tcp_close(sim_tcp_conn *c);
/* Sends RST and ends the connection at once (closed(ABORTED) follows). */
void sim_tcp_abort(sim_tcp_conn *c);

uint64_t sim_tcp_id(const sim_tcp_conn *c);  /* unique in the world, from 1 */
sim_node *sim_tcp_node(const sim_tcp_conn *c);
const sim_addr *sim_tcp_local_addr(const sim_tcp_conn *c);
const sim_addr *sim_tcp_remote_addr(const sim_tcp_conn *c);
uint16_t sim_tcp_local_port(const sim_tcp_conn *c);
uint16_t sim_tcp_remote_port(const sim_tcp_conn *c);
/* When the peer's application wrote byte OFFSET (counted from 0) of the
 * stream this end receives: the time of the sim_tcp_send() call that
 * queued it. -1 if unknown (the peer end is gone, or never wrote that far).
 * The viewer draws a protocol line from this time to its arrival. The
 * kernel keeps write times only while the world records at protocol detail
 * or finer (the only records that carry them): at message detail this is
 * -1. */
sim_time sim_tcp_peer_write_time(const sim_tcp_conn *c, uint64_t offset);
/* Bytes queued but not yet acknowledged. */
size_t sim_tcp_unacked(const sim_tcp_conn *c);
/* Maximum segment size in use (path MTU at connect/accept - 40 or 60). */
uint32_t sim_tcp_mss(const sim_tcp_conn *c);

#endif
