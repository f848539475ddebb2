/* sim_world.c — the world object that owns a simulation's kernel state. */
#include "sim_world_int.h"

#include "sim_net_int.h"

#include <glib.h>
#include <string.h>

static const char *const detail_names[SIM_DETAIL_COUNT] = {"messages", "protocol", "packets"};

const char *sim_detail_name(sim_detail d) {
  g_assert((unsigned)d < SIM_DETAIL_COUNT);
  return detail_names[d];
}

bool sim_detail_parse(const char *s, sim_detail *out) {
  for (int i = 0; i < SIM_DETAIL_COUNT; i++) {
    if (strcmp(s, detail_names[i]) == 0) {
      *out = (sim_detail)i;
      return true;
    }
  }
  return false;
}

sim_world *sim_world_new(uint64_t seed) {
  sim_world *w = g_new0(sim_world, 1);
  w->seed = seed;
  w->sched = sim_sched_new();
  w->now = sim_sched__clock(w->sched);
  w->detail = SIM_DETAIL_PROTOCOL;
  w->net = sim_net__new(w);
  return w;
}

void sim_world_free(sim_world *w) {
  if (!w)
    return;
  sim_net__free(w->net);
  sim_sched_free(w->sched);
  g_free(w);
}

uint64_t sim_world_seed(const sim_world *w) { return w->seed; }
sim_time sim_world_now(const sim_world *w) { return sim_world__now(w); }
sim_sched *sim_world_sched(sim_world *w) { return w->sched; }
sim_net *sim_world_net(sim_world *w) { return w->net; }

void sim_world_set_trace(sim_world *w, trace_writer *tw, sim_detail detail) {
  g_assert((unsigned)detail < SIM_DETAIL_COUNT);
  w->tw = tw;
  w->detail = detail;
}

trace_writer *sim_world_trace(const sim_world *w, sim_detail detail) {
  return detail <= w->detail ? w->tw : NULL;
}

sim_detail sim_world_detail(const sim_world *w) { return w->detail; }

void sim_world_stream(const sim_world *w, const char *name, sim_rng *out) {
  sim_rng_init(out, w->seed, name);
}
