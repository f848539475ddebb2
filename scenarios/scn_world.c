/* scn_world.c — scenario config -> world, run, end record, summary. */
#include "scn_world.h"

#include <inttypes.h>

#include "bulk.h"
#include "mail_tally.h"
#include "scn_dns.h"
#include "scn_fault_apply.h"
#include "scn_mailworld.h"
#include "sim_net.h"
#include "trace_check.h"

__extension__ typedef unsigned __int128 u128;

typedef struct {
  const scn_traffic *cfg;
  bulk_source *src;
  bulk_sink *sink; /* borrowed from the sink table */
} stream;

typedef struct {
  char *key; /* "host:port" */
  bulk_sink *sink;
} sink_entry;

/* A DNS lookup of the scenario's traffic and its outcome. */
typedef struct {
  scn_world *sw;
  const scn_traffic *cfg;
  int from;
  bool done;
  uint16_t rcode;
  guint answers;
  sim_time asked, answered;
} lookup;

struct scn_world {
  const scn_config *cfg;
  sim_world *w;
  trace_writer *tw;
  GPtrArray *hosts;   /* host*, by scenario index */
  scn_dns *dns;
  scn_mailworld *mail;
  GArray *streams;    /* stream */
  GPtrArray *sinks;   /* sink_entry*, in creation order */
  GPtrArray *lookups; /* lookup* */
  mail_tally *tally;
  scn_fault_world *faults;
  trace_check *check;   /* the invariants, fed by the writer's tap */
  trace_writer *own_tw; /* a null writer when the caller gave none */
  scn_world_progress_fn progress;
  void *progress_user;
  sim_time ended_at;
  uint64_t events;
  GPtrArray *gateways;   /* host*: live mode's gateways, in creation order */
  GPtrArray *gw_targets; /* char*: their target host names */
  bool all_ok; /* the end record's "ok" */
};

static void sink_crash(void *user, bool crashed) { bulk_sink_node_changed(user, crashed); }
static void source_crash(void *user, bool crashed) { bulk_source_node_changed(user, crashed); }

static host *host_of(scn_world *sw, const char *name) {
  return sw->hosts->pdata[scn_find_host(sw->cfg, name)];
}

static bulk_sink *sink_for(scn_world *sw, sim_node *n, uint16_t port) {
  char *key = g_strdup_printf("%s:%u", sim_node_name(n), port);
  for (guint i = 0; i < sw->sinks->len; i++) {
    sink_entry *e = sw->sinks->pdata[i];
    if (g_str_equal(e->key, key)) {
      g_free(key);
      return e->sink;
    }
  }
  sink_entry *e = g_new0(sink_entry, 1);
  e->key = key;
  e->sink = bulk_sink_new(n, port);
  g_ptr_array_add(sw->sinks, e);
  host_on_crash(host_of(sw, sim_node_name(n)), sink_crash, e->sink);
  return e->sink;
}

static void sink_entry_free(void *p) {
  sink_entry *e = p;
  bulk_sink_free(e->sink);
  g_free(e->key);
  g_free(e);
}

static void lookup_done(void *user, const dns_client_result *r) {
  lookup *l = user;
  scn_world *sw = l->sw;
  l->done = true;
  l->rcode = r->rcode;
  l->answers = r->rrs->len;
  l->answered = sim_world_now(sw->w);
  trace_writer *tw = sim_world_trace(sw->w, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, l->answered, "app.lookup.done");
  trace_key_str(tw, "node", l->cfg->from);
  trace_key_str(tw, "qname", l->cfg->name);
  char tb[16], rb[16];
  trace_key_str(tw, "qtype", dns_type_to_text(l->cfg->qtype, tb));
  trace_key_str(tw, "rcode", dns_rcode_to_text(r->rcode, rb));
  trace_arr_begin(tw, "answers");
  GString *txt = g_string_new(NULL);
  for (guint i = 0; i < r->rrs->len; i++) {
    g_string_truncate(txt, 0);
    dns_rr_append_text(&g_array_index(r->rrs, dns_rr, i), txt);
    trace_key_str(tw, NULL, txt->str);
  }
  g_string_free(txt, TRUE);
  trace_arr_end(tw);
  trace_key_int(tw, "took", l->answered - l->asked);
  trace_end(tw);
}

static void lookup_start(void *a, void *b) {
  (void)b;
  lookup *l = a;
  l->asked = sim_world_now(l->sw->w);
  dns_client_lookup(scn_dns_client(l->sw->dns, l->from), l->cfg->name, l->cfg->qtype, lookup_done,
                    l);
}

scn_world *scn_world_build(const scn_config *c, uint64_t seed, trace_writer *tw,
                           sim_detail detail) {
  scn_world *sw = g_new0(scn_world, 1);
  sw->cfg = c;
  if (!tw) { /* untraced: the records are still made, for the checker */
    tw = sw->own_tw = trace_writer_new_null();
    detail = SIM_DETAIL_MESSAGES;
  }
  sw->tw = tw;
  sw->check = trace_check_new();
  trace_writer_set_tap(tw, (trace_tap_fn)trace_check_feed_line, sw->check);
  sw->w = sim_world_new(seed);
  sim_world_set_trace(sw->w, tw, detail);
  sw->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)host_free);
  sw->streams = g_array_new(FALSE, TRUE, sizeof(stream));
  sw->sinks = g_ptr_array_new_with_free_func(sink_entry_free);
  sw->lookups = g_ptr_array_new_with_free_func(g_free);
  sw->gateways = g_ptr_array_new_with_free_func((GDestroyNotify)host_free);
  sw->gw_targets = g_ptr_array_new_with_free_func(g_free);
  sim_net *net = sim_world_net(sw->w);

  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    host *ho = host_new(sw->w, h->name, h->role, g_str_equal(h->role, "router"));
    g_ptr_array_add(sw->hosts, ho);
    for (guint k = 0; k < h->addrs->len; k++) {
      sim_addr a;
      bool ok = sim_addr_parse(h->addrs->pdata[k], &a);
      g_assert(ok); /* validated by the loader */
      sim_node_add_addr(host_node(ho), &a);
    }
  }
  for (guint i = 0; i < c->links->len; i++) {
    const scn_link *l = &g_array_index(c->links, scn_link, i);
    sim_link *sl = sim_net_add_link(net, sim_net_find_node(net, l->a), sim_net_find_node(net, l->b),
                                    &l->params);
    if (!l->up)
      sim_net_link_set_up(net, sl, false);
  }
  sw->tally = mail_tally_new();
  for (guint i = 0; i < sw->hosts->len; i++)
    host_set_tally(sw->hosts->pdata[i], sw->tally);
  sw->dns = scn_dns_new(c, (host *const *)sw->hosts->pdata);
  sw->mail = scn_mailworld_new(c, (host *const *)sw->hosts->pdata, sw->dns);
  for (guint i = 0; i < c->traffic->len; i++) {
    const scn_traffic *t = &g_array_index(c->traffic, scn_traffic, i);
    if (t->kind == SCN_TRAFFIC_LOOKUP) {
      lookup *l = g_new0(lookup, 1);
      l->sw = sw;
      l->cfg = t;
      l->from = scn_find_host(c, t->from);
      g_ptr_array_add(sw->lookups, l);
      sim_world_at(sw->w, t->at, lookup_start, l, NULL);
      continue;
    }
    sim_node *from = sim_net_find_node(net, t->from);
    sim_node *to = sim_net_find_node(net, t->to);
    const sim_addr *dst = sim_node_addr(to, 4);
    if (!dst)
      dst = sim_node_addr(to, 6);
    stream s = {t, NULL, sink_for(sw, to, t->port)};
    s.src = bulk_source_new(from, dst, t->port, t->bytes, t->at);
    host_on_crash(host_of(sw, t->from), source_crash, s.src);
    g_array_append_val(sw->streams, s);
  }
  sw->faults = scn_fault_apply(c, (host *const *)sw->hosts->pdata, sw->dns, sw->mail);
  return sw;
}

void scn_world_free(scn_world *sw) {
  if (!sw)
    return;
  /* Services first (they may cancel their events), then the world (it
   * drops connections without callbacks), then the hosts (host.h). */
  scn_mailworld_free(sw->mail);
  scn_dns_free(sw->dns);
  for (guint i = 0; i < sw->streams->len; i++)
    bulk_source_free(g_array_index(sw->streams, stream, i).src);
  g_array_unref(sw->streams);
  g_ptr_array_unref(sw->sinks);
  g_ptr_array_unref(sw->lookups);
  sim_world_free(sw->w);
  scn_fault_world_free(sw->faults);
  g_ptr_array_unref(sw->hosts);
  g_ptr_array_unref(sw->gateways);
  g_ptr_array_unref(sw->gw_targets);
  mail_tally_free(sw->tally);
  trace_writer_set_tap(sw->tw, NULL, NULL);
  trace_check_free(sw->check);
  trace_writer_free(sw->own_tw);
  g_free(sw);
}

sim_world *scn_world_sim(scn_world *sw) { return sw->w; }

const trace_check *scn_world_check(const scn_world *sw) { return sw->check; }

uint64_t scn_world_submitted(scn_world *sw) {
  mail_tally_stats ts;
  mail_tally_get(sw->tally, &ts);
  return ts.submitted;
}

static bool stream_ok(const stream *s) {
  const bulk_stats *got = bulk_sink_find(s->sink, s->src);
  return got && got->finished && got->intact && got->bytes == s->cfg->bytes;
}

static bool x_taken(const GArray *xs, int64_t x) {
  for (guint k = 0; k < xs->len; k++)
    if (g_array_index(xs, int64_t, k) == x)
      return true;
  return false;
}

static void write_header_extra(void *user, trace_writer *tw) {
  const scn_world *sw = user;
  const scn_config *c = sw->cfg;
  trace_obj_begin(tw, "roles");
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    /* The viewer's finer roles for MTAs: where the host sits in the trip. */
    const char *role = h->role;
    if (g_str_equal(role, "mta"))
      role = h->mta.submission ? "submission" : h->mta.mailbox_host ? "mx" : "relay";
    trace_key_str(tw, h->name, role);
  }
  for (guint i = 0; i < sw->gateways->len; i++)
    trace_key_str(tw, host_name(sw->gateways->pdata[i]), "gateway");
  trace_obj_end(tw);
  /* Positions given by the scenario, for the viewer. */
  trace_obj_begin(tw, "pos");
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (!h->has_pos)
      continue;
    trace_arr_begin(tw, h->name);
    trace_key_int(tw, NULL, h->x);
    trace_key_int(tw, NULL, h->y);
    trace_arr_end(tw);
  }
  /* Gateways in a row above the scenario's hosts, each over its target
   * (moved right while another gateway stands there). */
  int64_t top = INT64_MAX;
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    if (h->has_pos && h->y < top)
      top = h->y;
  }
  GArray *xs = g_array_new(FALSE, FALSE, sizeof(int64_t));
  for (guint i = 0; i < sw->gateways->len; i++) {
    const scn_host *t =
        &g_array_index(c->hosts, scn_host, scn_find_host(c, sw->gw_targets->pdata[i]));
    if (!t->has_pos)
      continue;
    int64_t x = t->x;
    while (x_taken(xs, x))
      x += 11;
    g_array_append_val(xs, x);
    trace_arr_begin(tw, host_name(sw->gateways->pdata[i]));
    trace_key_int(tw, NULL, x);
    trace_key_int(tw, NULL, top - 6);
    trace_arr_end(tw);
  }
  g_array_unref(xs);
  trace_obj_end(tw);
  if (sw->gateways->len) { /* live mode (mailsim serve): gateway -> target */
    trace_obj_begin(tw, "live");
    for (guint i = 0; i < sw->gateways->len; i++)
      trace_key_str(tw, host_name(sw->gateways->pdata[i]), sw->gw_targets->pdata[i]);
    trace_obj_end(tw);
  }
}

void scn_world_set_progress(scn_world *sw, scn_world_progress_fn fn, void *user) {
  sw->progress = fn;
  sw->progress_user = user;
}

/* With a progress callback the run goes in slices of simulated time, the
 * callback between slices. Slicing changes nothing the world sees: no
 * event runs between slices, and a slice ending early (SIM_RUN_UNTIL) only
 * moves the clock to where the next slice starts from. */
static void run_loop(scn_world *sw) {
  sim_time end = sw->cfg->duration;
  if (!sw->progress) {
    sim_world_run(sw->w, end);
    return;
  }
  sim_time slice = end == SIM_TIME_NEVER ? SIM_MIN : end / 1000 + 1;
  for (;;) {
    sim_time now = sim_world_now(sw->w);
    sim_time next = end - now <= slice ? end : now + slice;
    sim_run_result r = sim_world_run(sw->w, next);
    sw->progress(sw->progress_user, sim_world_now(sw->w), end,
                 sim_sched_executed(sim_world_sched(sw->w)));
    if (r != SIM_RUN_UNTIL || next == end)
      break;
  }
}

static void write_dns_stats(scn_world *sw, trace_writer *tw) {
  scn_dns_stats ds;
  scn_dns_get_stats(sw->dns, &ds);
  trace_obj_begin(tw, "dns");
  trace_key_uint(tw, "lookups", ds.stub_lookups);
  trace_key_uint(tw, "from_cache", ds.stub_from_cache);
  trace_key_uint(tw, "resolver_lookups", ds.res_lookups);
  trace_key_uint(tw, "resolver_from_cache", ds.res_from_cache);
  trace_key_uint(tw, "queries", ds.queries);
  trace_obj_end(tw);
}

void scn_world_begin(scn_world *sw) {
  sim_net_write_header(sim_world_net(sw->w), sw->cfg->name, write_header_extra, sw);
}

bool scn_world_run(scn_world *sw) {
  scn_world_begin(sw);
  run_loop(sw);
  return scn_world_finish(sw);
}

host *scn_world_host(scn_world *sw, const char *name) {
  int i = scn_find_host(sw->cfg, name);
  return i < 0 ? NULL : sw->hosts->pdata[i];
}

host *scn_world_add_gateway(scn_world *sw, const char *target, GError **err) {
  host *t = scn_world_host(sw, target);
  if (!t) {
    g_set_error(err, g_quark_from_static_string("scn-world"), 1, "%s: not a host of scenario %s",
                target, sw->cfg->name);
    return NULL;
  }
  sim_net *net = sim_world_net(sw->w);
  char *name = g_strdup_printf("live-%s", target);
  g_assert(!sim_net_find_node(net, name)); /* one gateway per target */
  host *gw = host_new(sw->w, name, "gateway", false);
  g_free(name);
  host_set_tally(gw, sw->tally);
  /* 100.64.0.0/10, shared address space (RFC 6598): never a scenario's
   * public address in practice; skip any taken. */
  for (uint32_t k = 1;; k++) {
    sim_addr a = {.family = 4,
                  .b = {100, (uint8_t)(64 + (k >> 16)), (uint8_t)(k >> 8), (uint8_t)k}};
    if ((uint8_t)k != 0 && (uint8_t)k != 255 && sim_node_add_addr(host_node(gw), &a))
      break;
  }
  sim_link_params lp = {.latency = SIM_MS, .bandwidth_bps = 1000000000};
  sim_net_add_link(net, host_node(gw), host_node(t), &lp);
  g_ptr_array_add(sw->gateways, gw);
  g_ptr_array_add(sw->gw_targets, g_strdup(target));
  return gw;
}

const char *scn_world_ca_pem(const scn_world *sw) { return scn_mailworld_ca_pem(sw->mail); }

bool scn_world_finish(scn_world *sw) {
  trace_writer_sync(sw->tw); /* the checker may run on the writer's thread */
  sw->ended_at = sim_world_now(sw->w);
  sw->events = sim_sched_executed(sim_world_sched(sw->w));

  bool all_ok = true;
  trace_writer *tw = sw->tw;
  scn_mailworld_write_kept(sw->mail);
  /* What each MTA holds now: the end record lists it, the checker uses it. */
  size_t nmta = scn_mailworld_mta_count(sw->mail);
  GPtrArray **held = g_new0(GPtrArray *, nmta + 1);
  for (size_t i = 0; i < nmta; i++) {
    held[i] = g_ptr_array_new_with_free_func(g_free);
    scn_mailworld_mta_queue(sw->mail, i, held[i]);
    trace_check_end_queue(sw->check, scn_mailworld_mta_node(sw->mail, i),
                          (const char *const *)held[i]->pdata, held[i]->len);
  }
  trace_check_finish(sw->check, sw->ended_at);
  GPtrArray *host_viol = g_ptr_array_new_with_free_func(g_free);
  trace_event_begin(tw, sw->ended_at, "end");
  trace_key_uint(tw, "events", sw->events);
  trace_arr_begin(tw, "streams");
  for (guint i = 0; i < sw->streams->len; i++) {
    const stream *s = &g_array_index(sw->streams, stream, i);
    const bulk_stats *got = bulk_sink_find(s->sink, s->src);
    bool ok = stream_ok(s);
    all_ok &= ok;
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "from", s->cfg->from);
    trace_key_str(tw, "to", s->cfg->to);
    trace_key_uint(tw, "port", s->cfg->port);
    trace_key_uint(tw, "bytes", s->cfg->bytes);
    trace_key_uint(tw, "delivered", got ? got->bytes : 0);
    trace_key_bool(tw, "ok", ok);
    if (got && got->bytes)
      trace_key_int(tw, "last_byte", got->last_byte);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  trace_arr_begin(tw, "lookups");
  for (guint i = 0; i < sw->lookups->len; i++) {
    const lookup *l = sw->lookups->pdata[i];
    char tb[16], rb[16];
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "from", l->cfg->from);
    trace_key_str(tw, "qname", l->cfg->name);
    trace_key_str(tw, "qtype", dns_type_to_text(l->cfg->qtype, tb));
    trace_key_bool(tw, "done", l->done);
    if (l->done)
      trace_key_str(tw, "rcode", dns_rcode_to_text(l->rcode, rb));
    trace_obj_end(tw);
    all_ok &= l->done;
  }
  trace_arr_end(tw);
  if (scn_mailworld_any(sw->mail)) {
    scn_mail_totals mt;
    scn_mailworld_totals(sw->mail, &mt, host_viol);
    trace_obj_begin(tw, "mail");
    trace_key_uint(tw, "composed", mt.composed);
    trace_key_uint(tw, "accepted", mt.accepted);
    trace_key_uint(tw, "delivered", mt.delivered);
    trace_key_uint(tw, "fetched", mt.fetched);
    trace_key_uint(tw, "failed", mt.failed);
    trace_key_uint(tw, "queued", mt.queued);
    mail_tally_stats ts;
    mail_tally_get(sw->tally, &ts);
    trace_key_uint(tw, "submitted", ts.submitted);
    trace_key_uint(tw, "submitted_rcpts", ts.submitted_rcpts);
    trace_key_uint(tw, "deferred", ts.deferred);
    trace_key_uint(tw, "retries", ts.retries);
    trace_key_uint(tw, "client_retries", ts.client_retries);
    trace_key_uint(tw, "bounced", ts.bounced);
    trace_key_uint(tw, "delivered_dsns", ts.unsubmitted);
    trace_key_uint(tw, "duplicates", ts.duplicates);
    trace_key_uint(tw, "delay_samples", ts.delay_samples);
    trace_key_int(tw, "delay_p50_ns", ts.delay_p50);
    trace_key_int(tw, "delay_p95_ns", ts.delay_p95);
    trace_key_int(tw, "delay_max_ns", ts.delay_max);
    trace_obj_end(tw);
    trace_arr_begin(tw, "violations");
    for (size_t i = 0; i < trace_check_count(sw->check); i++)
      trace_key_str(tw, NULL, trace_check_at(sw->check, i)->text);
    trace_arr_end(tw);
    all_ok &= trace_check_count(sw->check) == 0 && host_viol->len == 0 && mt.failed == 0;
  }
  write_dns_stats(sw, tw);
  trace_key_bool(tw, "ok", all_ok);
  if (nmta) {
    trace_obj_begin(tw, "queues");
    for (size_t i = 0; i < nmta; i++) {
      trace_arr_begin(tw, scn_mailworld_mta_node(sw->mail, i));
      for (guint k = 0; k < held[i]->len; k++)
        trace_key_str(tw, NULL, held[i]->pdata[k]);
      trace_arr_end(tw);
      g_ptr_array_unref(held[i]);
    }
    trace_obj_end(tw);
  }
  g_free(held);
  /* The MTAs' own account (mta_host_check): a second opinion, kept by the
   * simulator outside the machines; written only when it found something. */
  if (host_viol->len) {
    trace_arr_begin(tw, "host_violations");
    for (guint i = 0; i < host_viol->len; i++)
      trace_key_str(tw, NULL, host_viol->pdata[i]);
    trace_arr_end(tw);
  }
  g_ptr_array_unref(host_viol);
  sw->all_ok = all_ok;
  trace_end(tw);
  return all_ok;
}

void scn_world_result_get(const scn_world *sw, scn_world_result *r) {
  memset(r, 0, sizeof *r);
  r->events = sw->events;
  r->end = sw->ended_at;
  r->ok = sw->all_ok;
  if (scn_mailworld_any(sw->mail)) {
    scn_mail_totals mt;
    scn_mailworld_totals(sw->mail, &mt, NULL);
    mail_tally_stats ts;
    mail_tally_get(sw->tally, &ts);
    r->composed = mt.composed;
    r->submitted = ts.submitted;
    r->submitted_rcpts = ts.submitted_rcpts;
    r->delivered = mt.delivered;
    r->bounced = ts.bounced;
    r->failed = mt.failed;
    r->queued = mt.queued;
    r->deferred = ts.deferred;
    r->retries = ts.retries;
    r->client_retries = ts.client_retries;
    r->dsns = ts.unsubmitted;
    r->fetched = mt.fetched;
    r->violations = mt.violations;
    r->delay_samples = ts.delay_samples;
    r->delay_p50 = ts.delay_p50;
    r->delay_p95 = ts.delay_p95;
    r->delay_max = ts.delay_max;
  }
  scn_dns_stats ds;
  scn_dns_get_stats(sw->dns, &ds);
  r->dns_lookups = ds.stub_lookups + ds.res_lookups;
  r->dns_from_cache = ds.stub_from_cache + ds.res_from_cache;
}

/* "12.3%" in integer arithmetic (per mille, rounded down). */
static void append_rate(GString *out, uint64_t part, uint64_t whole) {
  if (!whole) {
    g_string_append(out, "-");
    return;
  }
  uint64_t pm = (uint64_t)(((u128)part * 1000) / whole);
  g_string_append_printf(out, "%" PRIu64 ".%" PRIu64 "%%", pm / 10, pm % 10);
}

GArray *scn_world_greylist(const scn_world *sw) {
  return scn_mailworld_greylist(sw->mail, sw->cfg);
}

/* Whole seconds, rounded to the nearest. */
static int64_t secs(sim_time t) { return (t + SIM_S / 2) / SIM_S; }

static void greylist_summary(const scn_world *sw, GString *out) {
  GArray *rows = scn_world_greylist(sw);
  if (rows->len)
    g_string_append(out, "greylisting: added delay by retry profile (first attempt to "
                         "acceptance at the MX, per recipient)\n");
  for (guint i = 0; i < rows->len; i++) {
    const scn_greylist_row *r = &g_array_index(rows, scn_greylist_row, i);
    g_string_append_printf(out,
                           "  %-10s greylist delay %5" PRId64 " s: %3" PRIu64
                           " passed, added mean %" PRId64 " s, min %" PRId64 " s, max %" PRId64
                           " s\n",
                           r->profile, secs(r->delay), r->n, secs(r->sum / (sim_time)r->n),
                           secs(r->min), secs(r->max));
  }
  g_array_free(rows, TRUE);
}

void scn_world_summary(const scn_world *sw, GString *out) {
  char b1[SIM_TIME_BUFSZ], b2[SIM_TIME_BUFSZ];
  g_string_append_printf(out, "scenario  %s (seed %" PRIu64 ")\n", sw->cfg->name,
                         sim_world_seed(sw->w));
  g_string_append_printf(out, "simulated %s, %" PRIu64 " events\n",
                         sim_time_format_short(sw->ended_at, b1), sw->events);
  for (guint i = 0; i < sw->streams->len; i++) {
    const stream *s = &g_array_index(sw->streams, stream, i);
    const bulk_stats *got = bulk_sink_find(s->sink, s->src);
    g_string_append_printf(out, "stream    %s -> %s:%u  ", s->cfg->from, s->cfg->to, s->cfg->port);
    if (!got || got->bytes == 0) {
      g_string_append_printf(out, "0 of %" PRIu64 " bytes arrived", s->cfg->bytes);
    } else {
      sim_time took = got->last_byte - bulk_source_stats(s->src)->started;
      g_string_append_printf(out, "%" PRIu64 " of %" PRIu64 " bytes in %s", got->bytes,
                             s->cfg->bytes, sim_time_format_short(took, b2));
      if (took > 0) {
        /* kbit/s, integer arithmetic */
        uint64_t kbps = (uint64_t)(((u128)got->bytes * 8 * 1000000) / (uint64_t)took);
        g_string_append_printf(out, " (%" PRIu64 " kbit/s)", kbps);
      }
      g_string_append(out, stream_ok(s) ? ", complete and intact" : got->intact ? ", incomplete" : ", CORRUPT");
    }
    const bulk_stats *src = bulk_source_stats(s->src);
    if (src->ended && src->reason != SIM_TCP_CLOSED_NORMAL)
      g_string_append_printf(out, " [sender: %s]", sim_tcp_reason_name(src->reason));
    g_string_append_c(out, '\n');
  }
  if (scn_mailworld_any(sw->mail)) {
    scn_mail_totals mt;
    scn_mailworld_totals(sw->mail, &mt, NULL);
    mail_tally_stats ts;
    mail_tally_get(sw->tally, &ts);
    g_string_append_printf(
        out,
        "mail      %" PRIu64 " composed, %" PRIu64 " submitted (%" PRIu64 " recipients), %" PRIu64
        " delivered (%" PRIu64 " DSNs), %" PRIu64 " deferred, %" PRIu64 " bounced, %" PRIu64
        " failed at the client, %" PRIu64 " still queued; %" PRIu64 " fetched\n",
        mt.composed, ts.submitted, ts.submitted_rcpts, ts.delivered, ts.unsubmitted, ts.deferred,
        ts.bounced, mt.failed, mt.queued, mt.fetched);
    char b3[SIM_TIME_BUFSZ];
    if (ts.delay_samples)
      g_string_append_printf(
          out, "delay     submission to mailbox: p50 %s, p95 %s, max %s (%" PRIu64 " deliveries)\n",
          sim_time_format_short(ts.delay_p50, b1), sim_time_format_short(ts.delay_p95, b2),
          sim_time_format_short(ts.delay_max, b3), ts.delay_samples);
    g_string_append_printf(out, "retries   %" PRIu64 " by MTAs, %" PRIu64 " by mail clients\n",
                           ts.retries, ts.client_retries);
    size_t nv = trace_check_count(sw->check);
    if (nv == 0 && mt.violations == 0)
      g_string_append(out, "invariant all hold (nothing accepted was lost; traces/CHECK.md)\n");
    for (size_t i = 0; i < nv; i++)
      g_string_append_printf(out, "VIOLATED  %s\n", trace_check_at(sw->check, i)->text);
    if (mt.violations)
      g_string_append_printf(out, "VIOLATED  %zu by the MTAs' own account (end record)\n",
                             mt.violations);
    greylist_summary(sw, out);
  }
  scn_dns_stats ds;
  scn_dns_get_stats(sw->dns, &ds);
  if (ds.stub_lookups || ds.res_lookups) {
    g_string_append_printf(out, "dns       %" PRIu64 " lookups by hosts, ", ds.stub_lookups);
    append_rate(out, ds.stub_from_cache, ds.stub_lookups);
    g_string_append_printf(out, " from their caches; resolvers: %" PRIu64 " lookups, ",
                           ds.res_lookups);
    append_rate(out, ds.res_from_cache, ds.res_lookups);
    g_string_append_printf(out, " from their caches, %" PRIu64 " queries to name servers\n",
                           ds.queries);
  }
  for (guint i = 0; i < sw->lookups->len; i++) {
    const lookup *l = sw->lookups->pdata[i];
    char tb[16], rb[16];
    g_string_append_printf(out, "lookup    %s: %s %s  ", l->cfg->from, l->cfg->name,
                           dns_type_to_text(l->cfg->qtype, tb));
    if (l->done)
      g_string_append_printf(out, "%s, %u answer%s in %s\n", dns_rcode_to_text(l->rcode, rb),
                             l->answers, l->answers == 1 ? "" : "s",
                             sim_time_format_short(l->answered - l->asked, b2));
    else
      g_string_append(out, "no answer\n");
  }
}
