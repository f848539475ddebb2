/* dns_driver.c — dns_res actions over the simulated UDP and TCP. */
#include "dns_driver.h"

#include <stddef.h>
#include <string.h>

#include "dns_idvec.h"
#include "dns_tcp.h"
#include "dns_trace.h"
#include "sim_tcp.h"
#include "sim_udp.h"

/* An action in flight (a stub has one per lookup during a queue run's
 * burst): the server's address is needed only to start it. */
typedef struct {
  dns_driver *d;
  uint64_t id;
  dns_res_act_kind kind;
  sim_udp_sock *udp;
  sim_tcp_conn *tcp;
  GBytes *query;     /* TCP: sent once connected */
  dns_tcp *deframer; /* TCP: for the trace only */
} act;

struct dns_driver {
  host *h;
  dns_res_config cfg;
  dns_res_server *servers; /* owned copies of cfg.servers */
  dns_res *res;            /* NULL while the host is down */
  dns_driver_done_fn done;
  void *user;
  /* act*, in action id order (ids grow as actions start, removal keeps
   * order: binary searched); the block halves when a quarter full */
  dns_idvec acts;
  GPtrArray *closing; /* act*: TCP connections we closed, until they end */
  act *spare;         /* a UDP act at rest, its socket unbound (or NULL): the next query's */
  sim_event_id timer;
  sim_time timer_at;
  bool pumping;
};

static void pump(dns_driver *d);

static uint64_t draw(void *user) { return sim_rng_u64(host_rng(user)); }

static void act_free(act *a) {
  if (a->query)
    g_bytes_unref(a->query);
  dns_tcp_free(a->deframer);
  g_free(a);
}

/* --- UDP ------------------------------------------------------------- */

static void udp_recv(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t port,
                     const uint8_t *buf, size_t len) {
  act *a = user;
  dns_driver *d = a->d;
  dns_trace_packet(host_world(d->h), "dns.response", 0, from, port, host_node(d->h), NULL,
                   sim_udp_port(s), sim_udp_sent_time(s), false, buf, len);
  char text[SIM_ADDR_BUFSZ];
  dns_res_on_udp(d->res, a->id, sim_addr_format(from, text), port, buf, len, host_now(d->h));
  pump(d);
}

static void udp_unreachable(void *user, sim_udp_sock *s, const sim_addr *to, uint16_t port) {
  (void)s, (void)to, (void)port;
  act *a = user;
  dns_res_on_net_error(a->d->res, a->id, DNS_RES_NET_UNREACHABLE, host_now(a->d->h));
  pump(a->d);
}

static const sim_udp_callbacks udp_cb = {udp_recv, udp_unreachable};

/* --- TCP ------------------------------------------------------------- */

static void tcp_connected(void *user, sim_tcp_conn *c) {
  act *a = user;
  gsize n;
  const uint8_t *p = g_bytes_get_data(a->query, &n);
  sim_tcp_send(c, p, n);
}

static void tcp_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  act *a = user;
  dns_driver *d = a->d;
  dns_tcp_feed(a->deframer, buf, len);
  GBytes *m;
  while ((m = dns_tcp_next(a->deframer)) != NULL) {
    gsize n;
    const uint8_t *p = g_bytes_get_data(m, &n);
    dns_trace_packet(host_world(d->h), "dns.response", sim_tcp_id(c), sim_tcp_remote_addr(c),
                     sim_tcp_remote_port(c), host_node(d->h), sim_tcp_local_addr(c),
                     sim_tcp_local_port(c), sim_tcp_peer_write_time(c, 0), true, p, n);
    g_bytes_unref(m);
  }
  dns_res_on_tcp_bytes(d->res, a->id, buf, len, host_now(d->h));
  pump(d);
}

static void tcp_eof(void *user, sim_tcp_conn *c) {
  (void)user;
  sim_tcp_close(c);
}

static void tcp_drained(void *user, sim_tcp_conn *c) { (void)user, (void)c; }

static void tcp_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)c;
  act *a = user;
  dns_driver *d = a->d;
  a->tcp = NULL;
  if (a->kind == DNS_RES_ACT_CLOSE) {  /* we closed it: the action is over */
    g_ptr_array_remove(d->closing, a); /* frees it */
    return;
  }
  dns_res_net_error e = why == SIM_TCP_CLOSED_REFUSED   ? DNS_RES_NET_REFUSED
                        : why == SIM_TCP_CLOSED_RESET   ? DNS_RES_NET_RESET
                        : why == SIM_TCP_CLOSED_TIMEOUT ? DNS_RES_NET_UNREACHABLE
                                                        : DNS_RES_NET_CLOSED;
  dns_res_on_net_error(d->res, a->id, e, host_now(d->h));
  pump(d);
}

static const sim_tcp_callbacks tcp_cb = {tcp_connected, tcp_data, tcp_eof, tcp_drained, tcp_closed};

/* --- actions, events, timer -------------------------------------------- */

/* A UDP act's socket bound to PORT (else an ephemeral port): the spare's
 * socket bound again, or a new one. */
static void udp_bind(dns_driver *d, act *a, uint16_t port) {
  if (a->udp) {
    if (sim_udp_rebind(a->udp, port, &udp_cb, a) || sim_udp_rebind(a->udp, 0, &udp_cb, a))
      return;
    sim_udp_close(a->udp); /* no port at all: as a failed bind */
    a->udp = NULL;
    return;
  }
  a->udp = sim_udp_bind(host_node(d->h), port, &udp_cb, a);
  if (!a->udp)
    a->udp = sim_udp_bind(host_node(d->h), 0, &udp_cb, a);
}

/* Frees the spare act and its unbound socket (not the kernel's to free). */
static void spare_drop(dns_driver *d) {
  if (!d->spare)
    return;
  sim_udp_close(d->spare->udp);
  act_free(d->spare);
  d->spare = NULL;
}

static void start_action(dns_driver *d, dns_res_action *x) {
  /* A UDP query takes the spare act (a host's engine mostly has one query
   * in flight at a time: no act block, no socket block per query). */
  act *a = x->kind == DNS_RES_ACT_UDP && d->spare ? d->spare : g_new0(act, 1);
  if (a == d->spare)
    d->spare = NULL;
  a->d = d;
  a->id = x->id;
  a->kind = x->kind;
  sim_addr server;
  if (!sim_addr_parse(x->server, &server)) {
    /* Not an address we can reach: tell the engine at once. */
    if (a->udp) { /* the spare's socket: not needed */
      sim_udp_close(a->udp);
      a->udp = NULL;
    }
    dns_idvec_add(&d->acts, a);
    dns_res_on_net_error(d->res, a->id, DNS_RES_NET_UNREACHABLE, host_now(d->h));
    return;
  }
  dns_idvec_add(&d->acts, a);
  size_t n;
  const uint8_t *p = dns_res_action_bytes(x, &n);
  if (x->kind == DNS_RES_ACT_UDP) {
    udp_bind(d, a, x->sport);
    sim_udp_send(a->udp, &server, x->port, p, n);
  } else {
    a->query = g_bytes_ref(x->data);
    a->deframer = dns_tcp_new();
    a->tcp = sim_tcp_connect(host_node(d->h), &server, x->port, NULL, &tcp_cb, a);
  }
}

static void close_action(dns_driver *d, uint64_t id) {
  gssize at = dns_idvec_find(&d->acts, id);
  if (at < 0)
    return;
  act *a = d->acts.v[at];
  dns_idvec_remove_at(&d->acts, (guint)at);
  if (a->udp)
    sim_udp_unbind(a->udp);
  if (a->tcp) {
    /* Closed politely; the act lives until the connection says closed. */
    a->kind = DNS_RES_ACT_CLOSE;
    g_ptr_array_add(d->closing, a);
    sim_tcp_close(a->tcp);
    return;
  }
  if (a->kind == DNS_RES_ACT_UDP && !d->spare) {
    d->spare = a; /* kept with its socket, unbound */
    return;
  }
  sim_udp_close(a->udp); /* unbound: freed */
  act_free(a);
}

static void trace_event(dns_driver *d, const dns_res_event *ev) {
  trace_writer *tw = host_trace(d->h, SIM_DETAIL_PROTOCOL);
  if (!tw)
    return;
  char tb[16], rb[16];
  char *qname = dns_name_to_text(&ev->qname);
  if (ev->kind == DNS_RES_EV_CACHE_HIT) {
    trace_event_begin(tw, host_now(d->h), "dns.cache_hit");
    trace_key_str(tw, "node", host_name(d->h));
    trace_key_str(tw, "qname", qname);
    trace_key_str(tw, "qtype", dns_type_to_text(ev->qtype, tb));
    trace_key_str(tw, "rcode", dns_rcode_to_text(ev->rcode, rb));
    trace_end(tw);
  } else if (ev->kind == DNS_RES_EV_TIMEOUT) {
    trace_event_begin(tw, host_now(d->h), "dns.timeout");
    trace_key_str(tw, "node", host_name(d->h));
    trace_key_str(tw, "server", ev->server);
    trace_key_uint(tw, "qid", ev->qid);
    trace_key_str(tw, "qname", qname);
    trace_key_str(tw, "qtype", dns_type_to_text(ev->qtype, tb));
    trace_end(tw);
  }
  g_free(qname);
}

static void timer_fire(void *a, void *b) {
  (void)b;
  dns_driver *d = a;
  d->timer = 0;
  d->timer_at = INT64_MAX;
  if (!d->res)
    return;
  dns_res_tick(d->res, host_now(d->h));
  pump(d);
}

static void arm(dns_driver *d) {
  sim_time at = d->res ? dns_res_deadline(d->res) : INT64_MAX;
  if (at == d->timer_at)
    return;
  if (d->timer)
    sim_world_cancel(host_world(d->h), d->timer);
  d->timer = 0;
  d->timer_at = at;
  if (at != INT64_MAX) {
    sim_time now = host_now(d->h);
    d->timer = sim_world_at(host_world(d->h), at > now ? at : now, timer_fire, d, NULL);
  }
}

static void pump(dns_driver *d) {
  if (d->pumping || !d->res)
    return; /* the outer pump picks up what this call queued */
  d->pumping = true;
  for (bool more = true; more && d->res;) {
    more = false;
    dns_res_action x;
    while (d->res && dns_res_next_action(d->res, &x)) {
      more = true;
      if (x.kind == DNS_RES_ACT_CLOSE)
        close_action(d, x.id);
      else
        start_action(d, &x);
      dns_res_action_clear(&x);
    }
    dns_res_event ev;
    while (d->res && dns_res_next_event(d->res, &ev)) {
      more = true;
      if (ev.kind == DNS_RES_EV_DONE)
        d->done(d->user, &ev);
      else
        trace_event(d, &ev);
      dns_res_event_clear(&ev);
    }
  }
  d->pumping = false;
  arm(d);
}

/* --- life cycle --------------------------------------------------------- */

static void engine_start(dns_driver *d) {
  dns_res_env env = {draw, d->h, NULL};
  d->res = dns_res_new(&d->cfg, &env);
}

static void drop_acts(dns_driver *d) {
  for (guint i = 0; i < d->acts.n; i++)
    act_free(d->acts.v[i]); /* nothing is traced or scheduled */
  dns_idvec_clear(&d->acts);
  g_ptr_array_set_size(d->closing, 0);
  spare_drop(d);
}

static void on_crash(void *user, bool crashed) {
  dns_driver *d = user;
  if (crashed) {
    drop_acts(d); /* the kernel freed their sockets */
    dns_res_free(d->res);
    d->res = NULL;
    arm(d);
  } else {
    engine_start(d);
  }
}

dns_driver *dns_driver_new(host *h, const dns_res_config *cfg, dns_driver_done_fn done,
                           void *user) {
  dns_driver *d = g_new0(dns_driver, 1);
  d->h = h;
  d->cfg = *cfg;
  /* Below protocol detail nothing but DONE is used (trace_event): the
   * engine need not build the other events. The detail is the world's,
   * set before its hosts. */
  d->cfg.done_events_only = host_trace(h, SIM_DETAIL_PROTOCOL) == NULL;
  d->servers = g_new0(dns_res_server, cfg->nservers);
  for (size_t i = 0; i < cfg->nservers; i++) {
    d->servers[i].name = g_strdup(cfg->servers[i].name);
    d->servers[i].addr = g_strdup(cfg->servers[i].addr);
    d->servers[i].port = cfg->servers[i].port;
  }
  d->cfg.servers = d->servers;
  d->done = done;
  d->user = user;
  dns_idvec_init(&d->acts, offsetof(act, id));
  d->closing = g_ptr_array_new_with_free_func((GDestroyNotify)act_free);
  d->timer_at = INT64_MAX;
  engine_start(d);
  host_on_crash(h, on_crash, d);
  return d;
}

void dns_driver_free(dns_driver *d) {
  if (!d)
    return;
  drop_acts(d);
  g_ptr_array_unref(d->closing);
  if (d->timer)
    sim_world_cancel(host_world(d->h), d->timer);
  dns_res_free(d->res);
  for (size_t i = 0; i < d->cfg.nservers; i++) {
    g_free((char *)d->servers[i].name);
    g_free((char *)d->servers[i].addr);
  }
  g_free(d->servers);
  g_free(d);
}

uint64_t dns_driver_lookup(dns_driver *d, const dns_name *qname, uint16_t qtype) {
  if (!d->res)
    return 0;
  uint64_t id = dns_res_lookup(d->res, qname, qtype, host_now(d->h));
  pump(d);
  return id;
}

void dns_driver_cancel(dns_driver *d, uint64_t id) {
  if (d->res && dns_res_cancel(d->res, id, host_now(d->h)))
    pump(d);
}

dns_res *dns_driver_engine(dns_driver *d) { return d->res; }
