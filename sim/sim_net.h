/* sim_net.h — the simulated network: nodes, addresses, links, routes,
 * packets.
 *
 * A node is a machine (host or router) with one or more IPv4/IPv6
 * addresses. A link joins two nodes and has, per direction, a FIFO queue
 * with a byte limit (drop-tail), a bandwidth (serialization delay), a
 * latency plus jitter (drawn from the link's own stream), a loss
 * probability (also from the link's stream) and an MTU; links go up and
 * down. Packets never overtake each other on a link direction: jitter delays
 * a packet but never reorders it.
 *
 * Routing is static shortest path by total latency, recomputed when the
 * topology changes (a link going down does NOT reroute: packets routed over
 * a down link are dropped, as a cut cable would; call sim_net_reroute() to
 * model a routing protocol converging). Ties between equal paths are broken
 * deterministically: fewer hops, then the lowest next-hop node index, where
 * node indices follow creation order.
 *
 * Faults: sim_net_link_set_up(), sim_net_link_set_params() and
 * sim_node_crash()/sim_node_restart(). A
 * crashed node sends and receives nothing; its transport state (sockets,
 * connections, listeners, timers registered through the transport) is
 * dropped without any packet being sent; the owner is told through the crash
 * hook so it can drop what it held in memory and keep what it stored on
 * disk. After a restart, packets for connections it no longer knows get an
 * RST.
 *
 * Trace (fault.* at every detail level; at packet detail also net.send,
 * net.recv, net.drop with a reason: loss, queue, down, no_route, mtu, and
 * node_down for a packet reaching a crashed node). Keys: traces/NET-EVENTS.md.
 *
 * Model details (see sim_net.c): a hop costs serialization
 * ceil(wire_octets * 8e9 / bandwidth_bps) ns behind the packets queued
 * before it, then latency + jitter; queue occupancy counts packets whose
 * serialization has not ended; a lost packet still takes its serialization
 * time. Among equal-cost parallel links to the same next hop, the link
 * created first wins. Paths only transit routers.
 */
#ifndef MAILSIM_SIM_NET_H
#define MAILSIM_SIM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_world.h"

typedef struct sim_node sim_node;
typedef struct sim_link sim_link;

typedef struct {
  uint8_t family; /* 4 or 6; 0 = unset */
  uint8_t b[16];  /* network order; IPv4 uses b[0..3] */
} sim_addr;

/* Parses an IPv4 or IPv6 literal; false (OUT untouched) if TEXT is not one. */
bool sim_addr_parse(const char *text, sim_addr *out);
/* Presentation form; BUF of at least SIM_ADDR_BUFSZ. Returns BUF. */
#define SIM_ADDR_BUFSZ 48
char *sim_addr_format(const sim_addr *a, char *buf);
bool sim_addr_equal(const sim_addr *a, const sim_addr *b);

/* Link parameters; zero means the default noted. */
typedef struct {
  sim_time latency;        /* one-way propagation delay */
  sim_time jitter;         /* extra delay, uniform in [0, jitter] per packet */
  uint64_t bandwidth_bps;  /* 0 = infinite (no serialization delay) */
  uint64_t queue_bytes;    /* per direction; 0 = 256 KiB */
  uint32_t loss_ppm;       /* loss probability in parts per million */
  uint32_t mtu;            /* 0 = 1500 */
} sim_link_params;

/* The network of a world (created with the world). */
sim_net *sim_net_of(sim_world *w);

/* Creates a node. NAME must be unique in the world (stable: it names the
 * node's random stream "node:NAME"). ROUTER nodes forward packets; hosts
 * don't. */
sim_node *sim_net_add_node(sim_net *net, const char *name, bool router);
/* False if the address already belongs to a node. */
bool sim_node_add_addr(sim_node *n, const sim_addr *a);
sim_node *sim_net_find_node(sim_net *net, const char *name);
sim_node *sim_net_node_by_addr(sim_net *net, const sim_addr *a);
size_t sim_net_node_count(const sim_net *net);
sim_node *sim_net_node_at(sim_net *net, size_t i);
const char *sim_node_name(const sim_node *n);
size_t sim_node_index(const sim_node *n);
/* The node's first address of FAMILY (4 or 6), or NULL. */
const sim_addr *sim_node_addr(const sim_node *n, int family);
sim_world *sim_node_world(const sim_node *n);
bool sim_node_is_up(const sim_node *n);
sim_net *sim_node_net(const sim_node *n);
bool sim_node_is_router(const sim_node *n);
size_t sim_node_addr_count(const sim_node *n);
const sim_addr *sim_node_addr_at(const sim_node *n, size_t i);
/* The node's stream "node:NAME" (borrowed). The kernel draws from it for
 * ephemeral ports and TCP initial sequence numbers. */
sim_rng *sim_node_rng(sim_node *n);

/* Creates a bidirectional link, up; its stream is "link:A-B" (names in the
 * order given). Adding a link is a topology change: routes are recomputed
 * over the links up now, as by sim_net_reroute(). sim_link_params_peek
 * gives the parameters with defaults applied, as the header writes them. */
sim_link *sim_net_add_link(sim_net *net, sim_node *a, sim_node *b, const sim_link_params *p);
size_t sim_net_link_count(const sim_net *net);
sim_link *sim_net_link_at(sim_net *net, size_t i);
const sim_link_params *sim_link_params_peek(const sim_link *l);
sim_node *sim_link_end(const sim_link *l, int side); /* side 0 or 1 */
void sim_net_link_set_up(sim_net *net, sim_link *l, bool up);
bool sim_link_is_up(const sim_link *l);
/* Recomputes routes over the links that are up now. */
void sim_net_reroute(sim_net *net);
/* Schedules sim_net_link_set_up(net, l, up) at time T (a fault). */
sim_event_id sim_net_link_set_up_at(sim_net *net, sim_link *l, sim_time t, bool up);
size_t sim_link_index(const sim_link *l);
/* Changes L's parameters from now on (a fault: a latency spike, a loss
 * burst; defaults applied as by sim_net_add_link). Packets already on the
 * link keep the arrival time they were given; a packet never overtakes one
 * sent before it on the same direction, whatever the new latency. Routes
 * are not recomputed. Traces fault.link_params {link, a, b, latency_ns,
 * jitter_ns, bandwidth_bps, loss_ppm}. */
void sim_net_link_set_params(sim_net *net, sim_link *l, const sim_link_params *p);
/* Schedules sim_net_link_set_params at time T (P is copied). */
sim_event_id sim_net_link_set_params_at(sim_net *net, sim_link *l, sim_time t,
                                        const sim_link_params *p);
/* The neighbour FROM forwards to on the way to TO under the current routes;
 * NULL if none (or FROM == TO). */
sim_node *sim_net_next_hop(sim_net *net, sim_node *from, sim_node *to);
/* Packet counters since the world began (any pointer may be NULL): put on a
 * link, delivered to their destination node, dropped (any reason). */
void sim_net_counters(const sim_net *net, uint64_t *sent, uint64_t *delivered,
                      uint64_t *dropped);

/* Crash and restart. HOOK(user, node, crashed) is called on both, from
 * inside sim_node_crash/sim_node_restart, after the kernel dropped the
 * node's transport state: every sim_tcp_conn, sim_tcp_listener and
 * sim_udp_sock of the node is freed (don't close them afterwards; no
 * closed() callback is made). Crashing an already crashed node, or
 * restarting a running one, does nothing. Don't crash a node from inside
 * a callback of one of its own sockets: schedule it with sim_node_crash_at. */
typedef void (*sim_node_hook)(void *user, sim_node *n, bool crashed);
void sim_node_set_hook(sim_node *n, sim_node_hook hook, void *user);
void sim_node_crash(sim_node *n);
void sim_node_restart(sim_node *n);
/* Schedules a crash / restart at time T (faults). */
sim_event_id sim_node_crash_at(sim_node *n, sim_time t);
sim_event_id sim_node_restart_at(sim_node *n, sim_time t);

/* Writes the header record of the trace: format, version, scenario name,
 * seed, detail, and the topology (nodes with addresses, links with
 * parameters). EXTRA, if not NULL, is called before the record ends to add
 * keys of the caller's (e.g. roles). */
typedef void (*sim_header_extra)(void *user, trace_writer *tw);
void sim_net_write_header(sim_net *net, const char *scenario, sim_header_extra extra,
                          void *user);

#endif
