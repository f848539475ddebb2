/* host.c — a node, its disk and the crash fan-out to its services. */
#include "host.h"

typedef struct {
  host_crash_fn fn;
  void *user;
} crash_sub;

struct host {
  sim_world *w;
  sim_node *node;
  char *role;
  disk *disk;
  GArray *subs; /* crash_sub, in registration order */
  struct mail_tally *tally;
};

static void node_hook(void *user, sim_node *n, bool crashed) {
  (void)n;
  host *h = user;
  for (guint i = 0; i < h->subs->len; i++) {
    crash_sub *s = &g_array_index(h->subs, crash_sub, i);
    s->fn(s->user, crashed);
  }
}

host *host_new(sim_world *w, const char *name, const char *role, bool router) {
  host *h = g_new0(host, 1);
  h->w = w;
  h->node = sim_net_add_node(sim_world_net(w), name, router);
  h->role = g_strdup(role);
  h->disk = disk_new(0);
  h->subs = g_array_new(FALSE, FALSE, sizeof(crash_sub));
  sim_node_set_hook(h->node, node_hook, h);
  return h;
}

void host_free(host *h) {
  if (!h)
    return;
  disk_free(h->disk);
  g_array_unref(h->subs);
  g_free(h->role);
  g_free(h);
}

sim_node *host_node(const host *h) { return h->node; }
sim_world *host_world(const host *h) { return h->w; }
const char *host_name(const host *h) { return sim_node_name(h->node); }
const char *host_role(const host *h) { return h->role; }
disk *host_disk(host *h) { return h->disk; }
sim_rng *host_rng(host *h) { return sim_node_rng(h->node); }
sim_time host_now(const host *h) { return sim_world_now(h->w); }
trace_writer *host_trace(const host *h, sim_detail detail) { return sim_world_trace(h->w, detail); }

void host_set_tally(host *h, struct mail_tally *t) { h->tally = t; }
struct mail_tally *host_tally(const host *h) { return h->tally; }

void host_on_crash(host *h, host_crash_fn fn, void *user) {
  crash_sub s = {fn, user};
  g_array_append_val(h->subs, s);
}
