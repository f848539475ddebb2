/* bulk.h — a bulk byte stream between two hosts (generic traffic).
 *
 * A source connects at a given time, sends N bytes of a known pattern and
 * closes; a sink accepts any number of such streams on a port, checks every
 * byte against the pattern and records when the first and last bytes came.
 * Used by the small network scenarios, the kernel tests and benchmarks.
 *
 * Trace (messages detail): app.stream.start at the source when it
 * connects, app.stream.done at the sink when the sender's FIN arrives (with
 * bytes, whether they matched, and the duration from the source's connect).
 * Both name the connection.
 *
 * Lifetime: the _free functions never touch the kernel, so they may run
 * before or after sim_world_free() (which drops connections and listeners
 * without calling back).
 */
#ifndef MAILSIM_BULK_H
#define MAILSIM_BULK_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_tcp.h"

/* Byte I of every stream. */
static inline uint8_t bulk_pattern(uint64_t i) { return (uint8_t)((i * 131u) ^ (i >> 11)); }

typedef struct {
  uint64_t bytes;        /* sent (source) or received (sink) */
  bool intact;           /* every byte matched the pattern, in order */
  bool finished;         /* source: closed normally; sink: FIN seen */
  sim_tcp_reason reason; /* how the connection ended */
  bool ended;
  sim_time started;      /* source: connect call; sink: accept */
  sim_time first_byte, last_byte; /* sink only */
  uint64_t conn;         /* connection id */
  uint16_t local_port;   /* source's port: pairs a source with a sink record */
} bulk_stats;

typedef struct bulk_sink bulk_sink;
typedef struct bulk_source bulk_source;

/* Listens on PORT of node N. */
bulk_sink *bulk_sink_new(sim_node *n, uint16_t port);
void bulk_sink_free(bulk_sink *s);
/* Number of streams seen so far and each one's stats (borrowed). */
size_t bulk_sink_count(const bulk_sink *s);
const bulk_stats *bulk_sink_stats(const bulk_sink *s, size_t i);
/* Tells the sink its node crashed (its listener and connections are gone)
 * or restarted (it listens again). */
void bulk_sink_node_changed(bulk_sink *s, bool crashed);
/* The record of the stream from SRC, or NULL if it never arrived. */
const bulk_stats *bulk_sink_find(const bulk_sink *s, const bulk_source *src);

/* Schedules a stream of BYTES from N to TO:PORT starting at AT. */
bulk_source *bulk_source_new(sim_node *n, const sim_addr *to, uint16_t port, uint64_t bytes,
                             sim_time at);
void bulk_source_free(bulk_source *s);
const bulk_stats *bulk_source_stats(const bulk_source *s);
/* Tells the source its node crashed: its connection is gone (reason
 * SIM_TCP_CLOSED_CRASH). A restarted node does not resume the stream. */
void bulk_source_node_changed(bulk_source *s, bool crashed);
sim_node *bulk_source_node(const bulk_source *s);
sim_node *bulk_sink_node(const bulk_sink *s);

#endif
