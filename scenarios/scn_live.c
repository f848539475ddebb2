/* scn_live.c — live mode's world: gateways, inputs, journal, replay. */
#include "scn_live.h"

#include <string.h>

struct scn_live {
  scn_world *sw;
  sim_world *w;
  GPtrArray *gws;     /* live_gw*, by gateway index */
  GPtrArray *targets; /* char*, by gateway index */
  live_journal *journal;
};

#define LIVE_ERROR (g_quark_from_static_string("scn-live"))

scn_live *scn_live_new(const scn_config *c, uint64_t seed, trace_writer *tw, sim_detail detail,
                       const char *const *targets, size_t n, const live_gw_out *out, void *user,
                       GError **err) {
  scn_live *l = g_new0(scn_live, 1);
  l->sw = scn_world_build(c, seed, tw, detail);
  l->w = scn_world_sim(l->sw);
  l->gws = g_ptr_array_new_with_free_func((GDestroyNotify)live_gw_free);
  l->targets = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < n; i++) {
    if (scn_live_gateway(l, targets[i]) >= 0)
      continue;
    host *gw = scn_world_add_gateway(l->sw, targets[i], err);
    if (!gw) {
      scn_live_free(l);
      return NULL;
    }
    g_ptr_array_add(l->gws, live_gw_new(gw, scn_world_host(l->sw, targets[i]), out, user));
    g_ptr_array_add(l->targets, g_strdup(targets[i]));
  }
  scn_world_begin(l->sw);
  return l;
}

void scn_live_free(scn_live *l) {
  if (!l)
    return;
  g_ptr_array_unref(l->gws); /* before the world (host.h) */
  g_ptr_array_unref(l->targets);
  scn_world_free(l->sw);
  g_free(l);
}

void scn_live_set_journal(scn_live *l, live_journal *j) { l->journal = j; }

int scn_live_gateway(const scn_live *l, const char *name) {
  for (guint i = 0; i < l->targets->len; i++)
    if (!strcmp(l->targets->pdata[i], name))
      return (int)i;
  return -1;
}

void scn_live_run_to(scn_live *l, sim_time t) {
  if (t > sim_world_now(l->w))
    sim_world_run(l->w, t);
}

sim_time scn_live_now(const scn_live *l) { return sim_world_now(l->w); }

void scn_live_input(scn_live *l, live_input *in) {
  in->t = sim_world_now(l->w);
  if (l->journal)
    live_journal_write(l->journal, in);
  live_gw *g = in->kind == LIVE_IN_OPEN || in->kind == LIVE_IN_DGRAM
                   ? (in->gw < l->gws->len ? l->gws->pdata[in->gw] : NULL)
                   : NULL;
  switch (in->kind) {
  case LIVE_IN_OPEN:
    if (g)
      live_gw_open(g, in->id, in->port);
    break;
  case LIVE_IN_DGRAM:
    if (g)
      live_gw_datagram(g, in->id, in->port, in->buf, in->len);
    break;
  case LIVE_IN_DATA:
  case LIVE_IN_SHUT:
  case LIVE_IN_ABORT:
    /* The connection lives on one gateway; the others ignore the id. */
    for (guint i = 0; i < l->gws->len; i++) {
      if (in->kind == LIVE_IN_DATA)
        live_gw_send(l->gws->pdata[i], in->id, in->buf, in->len);
      else if (in->kind == LIVE_IN_SHUT)
        live_gw_shutdown(l->gws->pdata[i], in->id);
      else
        live_gw_abort(l->gws->pdata[i], in->id);
    }
    break;
  case LIVE_IN_END:
    break;
  default:
    g_assert_not_reached();
  }
}

size_t scn_live_pending(const scn_live *l, uint64_t id) {
  size_t n = 0;
  for (guint i = 0; i < l->gws->len; i++)
    n += live_gw_pending(l->gws->pdata[i], id);
  return n;
}

bool scn_live_finish(scn_live *l) { return scn_world_finish(l->sw); }
scn_world *scn_live_world(scn_live *l) { return l->sw; }

/* Replay: the answers go nowhere. */
static void drop_data(void *u, uint64_t id, const uint8_t *b, size_t n) {
  (void)u, (void)id, (void)b, (void)n;
}
static void drop_eof(void *u, uint64_t id) { (void)u, (void)id; }
static void drop_closed(void *u, uint64_t id, sim_tcp_reason r) { (void)u, (void)id, (void)r; }
static const live_gw_out replay_out = {drop_data, drop_eof, drop_closed, drop_data};

int scn_live_replay(const char *journal_path, const char *trace_path, GError **err) {
  live_journal_header h;
  live_journal_reader *r = live_journal_open(journal_path, &h, err);
  if (!r)
    return 2;
  int status = 2;
  scn_live *l = NULL;
  trace_writer *tw = NULL;
  sim_detail detail;
  scn_config *c = scn_parse(h.scenario_file, h.scenario, strlen(h.scenario), err);
  if (!c)
    goto out;
  if (!sim_detail_parse(h.detail, &detail)) {
    g_set_error(err, LIVE_ERROR, 1, "%s: line 1: detail %s: expected messages, protocol or packets",
                journal_path, h.detail);
    goto out;
  }
  tw = trace_writer_new_file(trace_path, err);
  if (!tw)
    goto out;
  l = scn_live_new(c, h.seed, tw, detail, (const char *const *)h.gateways->pdata, h.gateways->len,
                   &replay_out, NULL, err);
  if (!l)
    goto out;
  for (unsigned line = 2;; line++) {
    live_input in;
    int got = live_journal_next(r, &in, err);
    if (got < 0)
      goto out;
    if (got == 0) {
      g_set_error(err, LIVE_ERROR, 1, "%s: no end record (the session did not stop cleanly)",
                  journal_path);
      goto out;
    }
    if (in.t < scn_live_now(l)) {
      g_set_error(err, LIVE_ERROR, 1, "%s:%u: time %" G_GINT64_FORMAT " goes backwards",
                  journal_path, line, (gint64)in.t);
      goto out;
    }
    scn_live_run_to(l, in.t);
    if (scn_live_now(l) != in.t) {
      g_set_error(err, LIVE_ERROR, 1,
                  "%s:%u: the world stopped at %" G_GINT64_FORMAT " ns, not at %" G_GINT64_FORMAT
                  " ns: the journal does not match this scenario or build",
                  journal_path, line, (gint64)scn_live_now(l), (gint64)in.t);
      status = 1;
      goto out;
    }
    sim_time t = in.t;
    scn_live_input(l, &in);
    g_assert(in.t == t);
    if (in.kind == LIVE_IN_END)
      break;
  }
  scn_live_finish(l);
  status = trace_writer_close(tw, err) ? 0 : 2;
out:
  scn_live_free(l);
  trace_writer_free(tw);
  scn_config_free(c);
  live_journal_header_clear(&h);
  live_journal_reader_free(r);
  return status;
}
