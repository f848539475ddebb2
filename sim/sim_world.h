/* sim_world.h — one simulated world: clock, event queue, random streams,
 * network and trace.
 *
 * There is no global state: every kernel object hangs off a world, so
 * several worlds can run side by side in one process (tests, sweeps).
 * The world borrows its trace writer; it never closes it.
 */
#ifndef MAILSIM_SIM_WORLD_H
#define MAILSIM_SIM_WORLD_H

#include <stdint.h>

#include "sim_rng.h"
#include "sim_sched.h"
#include "sim_time.h"
#include "trace.h"

/* How much the trace records; each level includes the ones above it. */
typedef enum {
  SIM_DETAIL_MESSAGES, /* msg.*, policy.*, fault.*, end */
  SIM_DETAIL_PROTOCOL, /* + tcp.*, udp.*, tls.*, dns.*, smtp/imap/pop3 lines */
  SIM_DETAIL_PACKETS,  /* + net.* for every packet */
  SIM_DETAIL_COUNT
} sim_detail;

const char *sim_detail_name(sim_detail d);
/* Parses "messages", "protocol" or "packets"; false if none matches. */
bool sim_detail_parse(const char *s, sim_detail *out);

typedef struct sim_world sim_world;
typedef struct sim_net sim_net;

sim_world *sim_world_new(uint64_t seed);
void sim_world_free(sim_world *w);

uint64_t sim_world_seed(const sim_world *w);
sim_time sim_world_now(const sim_world *w);
sim_sched *sim_world_sched(sim_world *w);
sim_net *sim_world_net(sim_world *w);

/* Attaches a trace (borrowed) recording at DETAIL. */
void sim_world_set_trace(sim_world *w, trace_writer *tw, sim_detail detail);
/* The trace if the world records at DETAIL or finer, else NULL (all trace
 * calls accept NULL). */
trace_writer *sim_world_trace(const sim_world *w, sim_detail detail);
sim_detail sim_world_detail(const sim_world *w);

/* Seeds OUT as the world's stream NAME (see sim_rng.h). */
void sim_world_stream(const sim_world *w, const char *name, sim_rng *out);

/* Shorthands for the world's scheduler. */
static inline sim_event_id sim_world_after(sim_world *w, sim_time delay, sim_event_fn fn, void *a,
                                           void *b) {
  return sim_sched_after(sim_world_sched(w), delay, fn, a, b);
}
static inline sim_event_id sim_world_at(sim_world *w, sim_time t, sim_event_fn fn, void *a,
                                        void *b) {
  return sim_sched_at(sim_world_sched(w), t, fn, a, b);
}
static inline bool sim_world_cancel(sim_world *w, sim_event_id id) {
  return sim_sched_cancel(sim_world_sched(w), id);
}
static inline sim_run_result sim_world_run(sim_world *w, sim_time until) {
  return sim_sched_run(sim_world_sched(w), until);
}

#endif
