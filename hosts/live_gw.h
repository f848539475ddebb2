/* live_gw.h — the gateway node of live mode: where connections and
 * datagrams from outside the simulation enter it.
 *
 * A gateway is a simulated host with its own link to one target host. Each
 * outside input is replayed here as what a simulated client on the gateway
 * would do: an outside TCP connection becomes a sim_tcp connection from the
 * gateway to TARGET:PORT, its bytes are sent on it, its half close becomes
 * sim_tcp_close, its reset sim_tcp_abort; an outside datagram is sent from
 * a fresh UDP socket of the gateway, and the first answer to that socket
 * (within 30 s of simulated time) comes back. What the simulated server
 * sends is handed to the OUT callbacks, which write it to the real socket
 * (live) or drop it (replay): the gateway never reads a clock or a socket.
 *
 * Inputs are keyed by an ID chosen by the caller (unique across all the
 * gateways of a world). Inputs for an unknown, closed or half-closed ID are
 * ignored (the outside may lag behind the simulation). Every input must be
 * given between runs of the world (sim_world_run), never from inside a
 * simulation callback: so a recorded input replays at the same point.
 *
 * Trace (messages detail): live.open {"node","conn","live","to","port"}
 * when a connection enters, live.close {"node","conn","live","reason"} when
 * it ends, live.dgram {"node","live","to","port","size"} for a datagram.
 *
 * Teardown: free the gateways before the world (host.h): live_gw_free
 * cancels its timers and forgets its connections without touching them.
 */
#ifndef MAILSIM_LIVE_GW_H
#define MAILSIM_LIVE_GW_H

#include <stdint.h>

#include "host.h"
#include "sim_tcp.h"

typedef struct live_gw live_gw;

/* Where the simulated server's answers go. Called from inside the run;
 * they must not give the gateway inputs (see above). */
typedef struct {
  /* Bytes for the outside client of connection ID. */
  void (*data)(void *user, uint64_t id, const uint8_t *buf, size_t len);
  /* The simulated server half-closed connection ID (no more bytes). */
  void (*eof)(void *user, uint64_t id);
  /* Connection ID is over (after any data and eof). */
  void (*closed)(void *user, uint64_t id, sim_tcp_reason why);
  /* The answer to datagram ID. */
  void (*datagram)(void *user, uint64_t id, const uint8_t *buf, size_t len);
} live_gw_out;

/* A gateway on host GW (created by the caller, linked to the target) for
 * the target host TARGET (borrowed; its first IPv4 address, else IPv6, is
 * where inputs go). OUT is borrowed and must outlive the gateway. */
live_gw *live_gw_new(host *gw, host *target, const live_gw_out *out, void *user);
void live_gw_free(live_gw *g);

host *live_gw_host(const live_gw *g);
host *live_gw_target(const live_gw *g);

/* A connection ID from outside to the target's PORT. ID must be new. */
void live_gw_open(live_gw *g, uint64_t id, uint16_t port);
/* Bytes from the outside client of ID. */
void live_gw_send(live_gw *g, uint64_t id, const uint8_t *buf, size_t len);
/* The outside client of ID half-closed (no more bytes will come). */
void live_gw_shutdown(live_gw *g, uint64_t id);
/* The outside client of ID is gone (reset, or dropped by live mode). */
void live_gw_abort(live_gw *g, uint64_t id);
/* A datagram ID from outside to the target's PORT. */
void live_gw_datagram(live_gw *g, uint64_t id, uint16_t port, const uint8_t *buf, size_t len);

/* Bytes of connection ID sent into the world and not yet acknowledged by
 * the target (0 for an unknown ID): live mode stops reading a client while
 * this is large. */
size_t live_gw_pending(const live_gw *g, uint64_t id);

/* Connections and datagrams still open. */
unsigned live_gw_open_count(const live_gw *g);

#endif
