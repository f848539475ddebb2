/* dns_client.c — per-lookup callbacks over a stub dns_res engine.
 *
 * A pending lookup keeps only what its callback gets (rcode, the answer
 * records taken from the engine's DONE event, from_cache, reason): MTAs
 * have thousands in flight during a queue run. */
#include "dns_client.h"

#include <stddef.h>
#include <string.h>

#include "dns_driver.h"
#include "dns_idvec.h"

typedef struct {
  dns_client *c;
  uint64_t id; /* the engine's lookup id */
  dns_client_fn fn;
  void *user;
  sim_event_id deliver;
  /* the result, once done, until delivered */
  GArray *rrs; /* of dns_rr, taken from the DONE event; NULL until done */
  const char *reason;
  uint16_t rcode;
  bool from_cache;
} pending;

struct dns_client {
  host *h;
  dns_driver *drv;
  /* pending*, in lookup (= id) order; its block shrinks after a burst (a
   * queue run asks for thousands at once, then for a few) */
  dns_idvec pend;
  pending *spare; /* the last delivered lookup's block, for the next lookup */
};

/* The pending lookup ID, or NULL: binary searched (an MTA's queue run has
 * thousands in flight). */
static pending *find(const dns_client *c, uint64_t id) {
  gssize at = dns_idvec_find(&c->pend, id);
  return at < 0 ? NULL : c->pend.v[at];
}

static void pending_free(pending *p) {
  if (p->rrs)
    g_array_free(p->rrs, TRUE);
  g_free(p);
}

/* Removes P (present) from the pending lookups without freeing it. */
static void pending_remove(dns_client *c, pending *p) {
  gssize at = dns_idvec_find(&c->pend, p->id);
  g_assert(at >= 0 && c->pend.v[at] == p);
  dns_idvec_remove_at(&c->pend, (guint)at);
}

/* Frees every pending lookup (their deliveries cancelled) and the block. */
static void pending_drop_all(dns_client *c) {
  for (guint i = 0; i < c->pend.n; i++) {
    pending *p = c->pend.v[i];
    if (p->deliver)
      sim_world_cancel(host_world(c->h), p->deliver);
    pending_free(p);
  }
  dns_idvec_clear(&c->pend);
}

static void deliver(void *a, void *b) {
  (void)b;
  pending *p = a;
  dns_client *c = p->c;
  GArray *rrs = p->rrs;
  dns_client_result r = {p->rcode, rrs, p->from_cache, p->reason};
  dns_client_fn fn = p->fn;
  void *user = p->user;
  pending_remove(c, p);
  /* the block is the next lookup's (the callback often starts one) */
  p->rrs = NULL;
  if (!c->spare)
    c->spare = p;
  else
    pending_free(p);
  fn(user, &r);
  /* the records back to the engine: the next cache hit's array */
  dns_res *e = dns_driver_engine(c->drv);
  if (e)
    dns_res_give_rrs(e, rrs);
  else if (rrs)
    g_array_free(rrs, TRUE);
}

static void on_done(void *user, dns_res_event *ev) {
  dns_client *c = user;
  pending *p = find(c, ev->lookup);
  if (!p)
    return; /* cancelled */
  p->rcode = ev->rcode;
  p->from_cache = ev->from_cache;
  p->reason = ev->reason; /* a static string */
  p->rrs = ev->rrs;       /* taken: the driver clears the rest */
  ev->rrs = NULL;
  /* Never call back inside dns_client_lookup: deliver from an event. */
  p->deliver = sim_world_after(host_world(c->h), 0, deliver, p, NULL);
}

static void on_crash(void *user, bool crashed) {
  dns_client *c = user;
  if (!crashed)
    return;
  pending_drop_all(c);
}

dns_client *dns_client_new(host *h, const sim_addr *resolver) {
  dns_client *c = g_new0(dns_client, 1);
  c->h = h;
  dns_idvec_init(&c->pend, offsetof(pending, id));
  char addr[SIM_ADDR_BUFSZ];
  dns_res_server srv = {NULL, sim_addr_format(resolver, addr), 53};
  dns_res_config cfg;
  dns_res_config_defaults(&cfg);
  cfg.mode = DNS_RES_STUB;
  cfg.servers = &srv;
  cfg.nservers = 1;
  cfg.ipv6 = true;
  /* A stub waits longer than its recursive resolver, which may itself be
   * waiting on a dead name server: resolv.conf's defaults (timeout:5,
   * attempts:2). */
  cfg.timeouts[0] = cfg.timeouts[1] = 5 * SIM_S;
  cfg.ntimeouts = 2;
  cfg.total_timeout = 30 * SIM_S;
  cfg.done_answer_only = true; /* on_done reads rrs alone */
  c->drv = dns_driver_new(h, &cfg, on_done, c);
  host_on_crash(h, on_crash, c); /* after the driver's: it drops the engine first */
  return c;
}

void dns_client_free(dns_client *c) {
  if (!c)
    return;
  pending_drop_all(c);
  g_free(c->spare);
  dns_driver_free(c->drv);
  g_free(c);
}

uint64_t dns_client_lookup(dns_client *c, const char *qname, uint16_t qtype, dns_client_fn fn,
                           void *user) {
  dns_name n;
  if (dns_name_from_text(&n, qname) != DNS_OK || !dns_driver_engine(c->drv))
    return 0;
  pending *p = c->spare ? c->spare : g_new(pending, 1);
  c->spare = NULL;
  memset(p, 0, sizeof *p);
  p->c = c;
  p->fn = fn;
  p->user = user;
  /* The id is known only when lookup returns, but DONE may come inside it
   * (a cache hit): give the pending entry the next id the engine will use. */
  p->id = dns_res_stats_peek(dns_driver_engine(c->drv))->lookups + 1;
  dns_idvec_add(&c->pend, p); /* its id above every other's */
  uint64_t id = dns_driver_lookup(c->drv, &n, qtype);
  g_assert(id == p->id);
  return id;
}

void dns_client_cancel(dns_client *c, uint64_t id) {
  pending *p = find(c, id);
  if (!p)
    return;
  if (p->deliver)
    sim_world_cancel(host_world(c->h), p->deliver);
  else
    dns_driver_cancel(c->drv, id);
  pending_remove(c, p);
  pending_free(p);
}

const dns_res_stats *dns_client_stats(const dns_client *c) {
  dns_res *e = dns_driver_engine(c->drv);
  return e ? dns_res_stats_peek(e) : NULL;
}
