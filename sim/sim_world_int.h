/* sim_world_int.h — the world's fields, for the kernel files of sim/ only:
 * the accessors the packet path calls for every packet (the clock, the
 * trace at a detail, scheduling) inlined. Other layers use sim_world.h. */
#ifndef MAILSIM_SIM_WORLD_INT_H
#define MAILSIM_SIM_WORLD_INT_H

#include "sim_sched_int.h"
#include "sim_world.h"

struct sim_world {
  uint64_t seed;
  sim_sched *sched;
  const sim_time *now; /* the scheduler's clock (sim_sched__clock) */
  sim_net *net;
  trace_writer *tw;
  sim_detail detail;
};

static inline sim_time sim_world__now(const sim_world *w) { return *w->now; }
static inline trace_writer *sim_world__trace(const sim_world *w, sim_detail detail) {
  return detail <= w->detail ? w->tw : NULL;
}
static inline sim_event_id sim_world__at(sim_world *w, sim_time t, sim_event_fn fn, void *a,
                                         void *b) {
  return sim_sched_at(w->sched, t, fn, a, b);
}
static inline sim_event_id sim_world__after(sim_world *w, sim_time delay, sim_event_fn fn, void *a,
                                            void *b) {
  return sim_sched_after(w->sched, delay, fn, a, b);
}
static inline bool sim_world__cancel(sim_world *w, sim_event_id id) {
  return sim_sched_cancel(w->sched, id);
}

#endif
