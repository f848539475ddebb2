/* net_fixture.h — topologies and small applications shared by the network
 * and transport suites (test_sim_net, test_sim_udp, test_sim_tcp). */
#ifndef MAILSIM_NET_FIXTURE_H
#define MAILSIM_NET_FIXTURE_H

#include <glib.h>

#include "sim_net.h"
#include "sim_tcp.h"
#include "sim_udp.h"

/* A line h1 - r1 - r2 - h2 (3 links: l[0] h1-r1, l[1] r1-r2, l[2] r2-h2).
 * h1 = 10.0.0.1 and fd00::1, h2 = 10.0.1.1 and fd00::2, r1 = 10.0.2.1,
 * r2 = 10.0.2.2. P applies to every link; MID (if not NULL) replaces it
 * for r1-r2. */
typedef struct {
  sim_world *w;
  sim_net *net;
  sim_node *h1, *r1, *r2, *h2;
  sim_link *l[3];
  sim_addr a1, a2, a1v6, a2v6, ar1, ar2;
  trace_writer *tw;
} fx_line;

void fx_line_init(fx_line *f, uint64_t seed, const sim_link_params *p, const sim_link_params *mid,
                  sim_detail detail);
void fx_line_clear(fx_line *f);
sim_addr fx_addr(const char *text);

/* The byte at stream offset I of the test pattern. */
static inline uint8_t fx_pattern(uint64_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

/* A sink server: accepts on a port, checks each byte against the pattern,
 * closes on EOF (after echoing ECHO bytes if set), records what happened. */
typedef struct {
  sim_world *w;
  sim_tcp_listener *lis;
  sim_tcp_conn *conn;
  uint64_t received;
  uint64_t bad; /* bytes that differ from the pattern */
  sim_time last_byte_at;
  uint64_t want; /* last_byte_at is set when received reaches want */
  int accepted, eofs, closed;
  sim_tcp_reason reason;
  sim_time closed_at;
  size_t echo; /* bytes of pattern to send back on EOF */
  bool refuse; /* leave *cb NULL in accept */
} fx_sink;

void fx_sink_listen(fx_sink *s, sim_world *w, sim_node *n, uint16_t port);

/* A source client: connects, sends N pattern bytes in CHUNK pieces (all at
 * once if CHUNK is 0) right after connect, then closes (if CLOSE). */
typedef struct {
  sim_world *w;
  sim_tcp_conn *conn;
  uint64_t n;
  bool close;
  int connected, eofs, drained, closed;
  sim_time connected_at, drained_at, closed_at;
  sim_tcp_reason reason;
  uint64_t received; /* echoed bytes */
  uint64_t bad;
} fx_source;

void fx_source_start(fx_source *s, sim_node *from, const sim_addr *to, uint16_t port, uint64_t n,
                     bool close, const sim_tcp_options *opt);

/* Number of lines of the memory trace TW containing NEEDLE. */
size_t fx_count(trace_writer *tw, const char *needle);

#endif
