/* dns_res.c — the resolver engine: lookups and their tasks, choosing the
 * delegation and the server, sending with retransmission, timers, actions
 * and events. Reading a response is in dns_res_resp.c.
 *
 * The algorithm is RFC 1034 §5.3.3: answer from the cache if possible
 * (step 1); else find the closest enclosing delegation whose servers can
 * be reached, from the cache or the root hints (step 2); send to the best
 * server (step 3) and read the response (step 4, dns_res_resp.c). A
 * glueless NS name is resolved by a sub-lookup (the "SLIST" addresses of
 * §5.3.3 step 2), bounded by max_depth. Retransmission follows RFC 1035
 * §7.2: each server is given cfg.timeouts in turn, then the next server,
 * the whole lookup bounded by total_timeout. Every retransmission draws a
 * fresh query id and source port (RFC 5452 §9.2, §10). A server that never
 * answered is held dead for a while and asked last (RFC 2308 §7.2).
 * Identical questions in flight are resolved once (RFC 5452 §5 advises
 * against parallel identical queries, which make spoofing easier). */
#include "dns_res_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_S INT64_C(1000000000)

static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

static GArray *rr_array(void) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(dns_rr));
  g_array_set_clear_func(a, rr_clear_cb);
  return a;
}

void dns_res__rrs_append(GArray *dst, const GArray *src) {
  for (guint i = 0; i < src->len; i++) {
    dns_rr c;
    dns_rr_copy(&c, &g_array_index(src, dns_rr, i));
    g_array_append_val(dst, c);
  }
}

dns_res__nm *dns_res__nm_new(const dns_name *n) {
  dns_res__nm *p = g_malloc((size_t)n->len + 1);
  p[0] = n->len;
  memcpy(p + 1, n->wire, n->len);
  return p;
}

bool dns_res__nm_equal(const dns_res__nm *p, const dns_name *n) {
  if (p[0] != n->len)
    return false;
  for (size_t i = 0; i < n->len; i++) {
    uint8_t a = p[1 + i], b = n->wire[i];
    if (a != b && g_ascii_tolower(a) != g_ascii_tolower(b))
      return false;
  }
  return true;
}

const char *dns_res_mode_name(dns_res_mode m) {
  static const char *const n[DNS_RES_MODE_COUNT] = {"recursive", "stub"};
  return (unsigned)m < DNS_RES_MODE_COUNT ? n[m] : "unknown";
}

const char *dns_res_transport_name(dns_res_transport t) {
  static const char *const n[DNS_RES_TRANSPORT_COUNT] = {"udp", "tcp"};
  return (unsigned)t < DNS_RES_TRANSPORT_COUNT ? n[t] : "unknown";
}

const char *dns_res_act_kind_name(dns_res_act_kind k) {
  static const char *const n[DNS_RES_ACT_COUNT] = {"udp", "tcp", "close"};
  return (unsigned)k < DNS_RES_ACT_COUNT ? n[k] : "unknown";
}

const char *dns_res_net_error_name(dns_res_net_error e) {
  static const char *const n[DNS_RES_NET_COUNT] = {"unreachable", "refused", "reset", "closed"};
  return (unsigned)e < DNS_RES_NET_COUNT ? n[e] : "unknown";
}

const char *dns_res_ev_kind_name(dns_res_ev_kind k) {
  static const char *const n[DNS_RES_EV_COUNT] = {"query",     "response",  "dropped", "timeout",
                                                  "net_error", "cache_hit", "done"};
  return (unsigned)k < DNS_RES_EV_COUNT ? n[k] : "unknown";
}

static const char *state_name(dns_res__state s) {
  static const char *const n[DNS_RES__STATE_COUNT] = {"start", "query", "wait_ns", "done"};
  return (unsigned)s < DNS_RES__STATE_COUNT ? n[s] : "unknown";
}

void dns_res__enter(dns_res *r, dns_res__task *t, dns_res__state s) {
  bool ok;
  switch (t->state) {
  case DNS_RES__START:
    ok = s == DNS_RES__QUERY || s == DNS_RES__WAIT_NS || s == DNS_RES__DONE;
    break;
  case DNS_RES__QUERY:
    ok = s != DNS_RES__START || t->action == 0;
    break;
  case DNS_RES__WAIT_NS:
    ok = s != DNS_RES__START;
    break;
  case DNS_RES__DONE:
  default:
    ok = false;
    break;
  }
  if (!ok)
    g_error("dns_res__enter: illegal transition %s -> %s", state_name(t->state), state_name(s));
  if (r->env.trace) {
    dns_name sn;
    dns_res__sname(t, &sn);
    char *n = dns_name_to_text(&sn), tb[16];
    char *line = g_strdup_printf("lookup %" G_GUINT64_FORMAT " depth %d %s %s: %s -> %s", t->lk->id,
                                 t->depth, n, dns_type_to_text(t->qtype, tb), state_name(t->state),
                                 state_name(s));
    r->env.trace(r->env.user, line);
    g_free(line);
    g_free(n);
  }
  t->state = s;
}

void dns_res_config_defaults(dns_res_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->mode = DNS_RES_RECURSIVE;
  cfg->timeouts[0] = 1 * NS_PER_S;
  cfg->timeouts[1] = 2 * NS_PER_S;
  cfg->ntimeouts = 2;
  cfg->total_timeout = 10 * NS_PER_S;
  cfg->max_cname = 8;
  cfg->max_depth = 4;
  cfg->max_queries = 64;
  cfg->edns_size = 1232;
  cfg->dead_ttl = 60 * NS_PER_S;
  cfg->cache = true;
  dns_cache_config_defaults(&cfg->cache_cfg);
}

dns_res *dns_res_new(const dns_res_config *cfg, const dns_res_env *env) {
  g_assert(cfg && env && env->rand);
  g_assert(cfg->mode < DNS_RES_MODE_COUNT && cfg->nservers >= 1 && cfg->servers);
  g_assert(cfg->ntimeouts >= 1 && cfg->ntimeouts <= DNS_RES_TIMEOUTS_MAX);
  for (size_t i = 0; i < cfg->ntimeouts; i++)
    g_assert(cfg->timeouts[i] > 0);
  g_assert(cfg->dead_ttl >= 0 && cfg->dead_ttl <= 300 * NS_PER_S); /* RFC 2308 §7.2 */
  g_assert(cfg->total_timeout > 0 && cfg->max_cname >= 0 && cfg->max_depth >= 0 &&
           cfg->max_queries >= 1);
  dns_res *r = g_new0(dns_res, 1);
  r->cfg = *cfg;
  r->env = *env;
  r->servers = g_new0(dns_res_server, cfg->nservers);
  r->srv_names = g_new0(dns_res__nm *, cfg->nservers);
  for (size_t i = 0; i < cfg->nservers; i++) {
    g_assert(cfg->servers[i].addr && strlen(cfg->servers[i].addr) < DNS_RES_ADDR_MAX);
    r->servers[i].name = g_strdup(cfg->servers[i].name ? cfg->servers[i].name : ".");
    dns_name probe;
    if (dns_name_from_text(&probe, r->servers[i].name) != DNS_OK)
      g_error("dns_res_new: bad server name %s", r->servers[i].name);
    r->srv_names[i] = dns_res__nm_new(&probe);
    r->servers[i].addr = g_strdup(cfg->servers[i].addr);
    r->servers[i].port = cfg->servers[i].port ? cfg->servers[i].port : 53;
  }
  r->cfg.servers = r->servers;
  if (cfg->cache)
    r->cache = dns_cache_new(&cfg->cache_cfg);
  r->lookups = g_ptr_array_new();
  dns_idvec_init(&r->open, offsetof(dns_res__task, action));
  r->dead = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

  r->next_lookup = 1;
  r->next_action = 1;
  return r;
}

/* Empties T's servers, freeing what the entries own. */
static void srvs_clear(dns_res__task *t) {
  for (guint i = 0; i < t->nsrvs; i++)
    if (!t->srvs[i].borrowed) {
      g_free(t->srvs[i].name);
      g_free(t->srvs[i].addr);
    }
  if (t->srvs != &t->srv1)
    g_free(t->srvs);
  t->srvs = NULL;
  t->nsrvs = 0;
}

static void task_free(dns_res *r, dns_res__task *t) {
  if (!t)
    return;
  g_assert(t->action == 0);
  if (t->cnames) /* the three are NULL once moved into a DONE event */
    g_array_free(t->cnames, TRUE);
  if (t->answer)
    g_array_free(t->answer, TRUE);
  if (t->authority)
    g_array_free(t->authority, TRUE);
  srvs_clear(t);
  g_free(t->zone);
  g_free(t->sname);
  /* kept as the next task's block: the one with room for the longer name */
  if (!r->spare_task || r->spare_task->name_cap < t->name_cap) {
    g_free(r->spare_task);
    r->spare_task = t;
  } else {
    g_free(t);
  }
}

void dns_res_action_clear(dns_res_action *act) {
  if (act->data)
    g_bytes_unref(act->data);
  act->data = NULL;
  act->qlen = 0;
}

const uint8_t *dns_res_action_bytes(const dns_res_action *act, size_t *len) {
  if (act->data) {
    gsize n;
    const uint8_t *p = g_bytes_get_data(act->data, &n);
    *len = n;
    return p;
  }
  *len = act->qlen;
  return act->qlen ? act->q : NULL;
}

void dns_res_event_clear(dns_res_event *ev) {
  if (ev->rrs)
    g_array_free(ev->rrs, TRUE);
  if (ev->cnames)
    g_array_free(ev->cnames, TRUE);
  if (ev->authority)
    g_array_free(ev->authority, TRUE);
  ev->rrs = ev->cnames = ev->authority = NULL;
}

/* Closes every attempt of the chain from T down and frees it. */
static void chain_free(dns_res *r, dns_res__task *t) {
  while (t) {
    dns_res__task *c = t->child;
    dns_res__close_attempt(r, t);
    task_free(r, t);
    t = c;
  }
}

void dns_res_free(dns_res *r) {
  if (!r)
    return;
  for (guint i = 0; i < r->lookups->len; i++) {
    dns_res__lookup *lk = g_ptr_array_index(r->lookups, i);
    chain_free(r, lk->top);
    if (lk->waiters)
      g_ptr_array_free(lk->waiters, TRUE);
    g_free(lk);
  }
  g_ptr_array_free(r->lookups, TRUE);
  g_free(r->spare_lookup);
  g_free(r->spare_task);
  dns_idvec_clear(&r->open);
  g_hash_table_destroy(r->dead);
  for (size_t i = r->act_head; i < r->act_len; i++)
    dns_res_action_clear(&r->acts[i]);
  g_free(r->acts);
  for (size_t i = r->ev_head; i < r->ev_len; i++)
    dns_res_event_clear(&r->evs[i]);
  g_free(r->evs);
  dns_cache_free(r->cache);
  if (r->scratch)
    g_array_free(r->scratch, TRUE);
  for (size_t i = 0; i < r->cfg.nservers; i++) {
    g_free((char *)r->servers[i].name);
    g_free((char *)r->servers[i].addr);
    g_free(r->srv_names[i]);
  }
  g_free(r->servers);
  g_free(r->srv_names);
  g_free(r);
}

/* ---- events and actions ------------------------------------------------ */

/* Once every queued event is given, the queue starts over; a block
 * grown past one event (a burst) is let go, a block of one is kept (a
 * host's stub has one event at a time: no block per lookup). */
static void evs_rewind(dns_res *r) {
  if (r->ev_head < r->ev_len)
    return;
  if (r->ev_cap > 1) {
    g_free(r->evs);
    r->evs = NULL;
    r->ev_cap = 0;
  }
  r->ev_head = r->ev_len = 0;
}

dns_res_event *dns_res__event(dns_res *r, dns_res_ev_kind kind, dns_res__task *t, int64_t now) {
  if (r->cfg.done_events_only && kind != DNS_RES_EV_DONE)
    return NULL; /* nobody would read it */
  evs_rewind(r);
  if (r->ev_len == r->ev_cap) {
    r->ev_cap = r->ev_cap ? 2 * r->ev_cap : 1;
    r->evs = g_renew(dns_res_event, r->evs, r->ev_cap);
  }
  dns_res_event *ev = &r->evs[r->ev_len++];
  memset(ev, 0, sizeof *ev);
  ev->kind = kind;
  ev->t = now;
  if (kind != DNS_RES_EV_DONE) { /* lookup_done gives a DONE event its arrays */
    ev->rrs = rr_array();
    ev->cnames = rr_array();
    ev->authority = rr_array();
  }
  dns_name_set_root(&ev->zone);
  dns_name_set_root(&ev->server_name);
  ev->resp = DNS_RESP_COUNT;
  if (t) {
    ev->lookup = t->lk->id;
    dns_res__sname(t, &ev->qname);
    ev->qtype = t->qtype;
    if (t->action) {
      const dns_res__srv *s = &t->srvs[t->cur];
      ev->action = t->action;
      dns_res__zone(t, &ev->zone);
      dns_res__nm_get(s->name, &ev->server_name);
      g_strlcpy(ev->server, s->addr, sizeof ev->server);
      ev->port = s->port;
      ev->transport = t->tr;
      ev->qid = t->qid;
    }
  }
  return ev;
}

bool dns_res_next_event(dns_res *r, dns_res_event *ev) {
  if (r->ev_head >= r->ev_len) {
    evs_rewind(r);
    return false;
  }
  *ev = r->evs[r->ev_head++]; /* its arrays move out */
  return true;
}

/* Once every queued action is taken, the queue starts over; a block of
 * two actions is kept (a close and the next send come together), one
 * grown past that in a burst is let go. */
enum { ACTS_KEEP = 2 };

static void acts_rewind(dns_res *r) {
  if (r->act_head < r->act_len)
    return;
  if (r->act_cap > ACTS_KEEP) {
    g_free(r->acts);
    r->acts = NULL;
    r->act_cap = 0;
  }
  r->act_head = r->act_len = 0;
}

/* Queues a new action (zeroed) and returns it for filling before the
 * next is queued. */
static dns_res_action *action_new(dns_res *r) {
  acts_rewind(r);
  if (r->act_len == r->act_cap) {
    r->act_cap = r->act_cap ? 2 * r->act_cap : ACTS_KEEP;
    r->acts = g_renew(dns_res_action, r->acts, r->act_cap);
  }
  dns_res_action *a = &r->acts[r->act_len++];
  memset(a, 0, sizeof *a);
  return a;
}

bool dns_res_next_action(dns_res *r, dns_res_action *act) {
  if (r->act_head >= r->act_len) {
    acts_rewind(r);
    return false;
  }
  *act = r->acts[r->act_head++]; /* its data moves out */
  return true;
}

/* Removes T (present) from the attempts in flight. */
static void open_remove(dns_res *r, dns_res__task *t) {
  gssize at = dns_idvec_find(&r->open, t->action);
  g_assert(at >= 0 && r->open.v[at] == t);
  dns_idvec_remove_at(&r->open, (guint)at);
}

void dns_res__close_attempt(dns_res *r, dns_res__task *t) {
  if (!t->action)
    return;
  dns_res_action *a = action_new(r);
  a->kind = DNS_RES_ACT_CLOSE;
  a->id = t->action;
  a->lookup = t->lk->id;
  const dns_res__srv *s = &t->srvs[t->cur];
  g_strlcpy(a->server, s->addr, sizeof a->server);
  a->port = s->port;
  a->sport = t->sport;
  a->qid = t->qid;
  open_remove(r, t);
  t->action = 0;
  dns_tcp_free(t->tcp);
  t->tcp = NULL;
}

void dns_res__send(dns_res *r, dns_res__task *t, int64_t now) {
  g_assert(t->action == 0 && t->cur < t->nsrvs);
  dns_res__lookup *lk = t->lk;
  if (lk->queries >= r->cfg.max_queries) {
    dns_res__finish(r, t, DNS_RCODE_SERVFAIL, "query_limit", now);
    return;
  }
  const dns_res__srv *s = &t->srvs[t->cur];
  g_assert(s->addr[0]);
  t->qid = (uint16_t)(r->env.rand(r->env.user) & 0xffff);
  t->sport = (uint16_t)(1024 + r->env.rand(r->env.user) % (65536 - 1024));
  bool stub = r->cfg.mode == DNS_RES_STUB;
  dns_name sn;
  dns_res__sname(t, &sn);
  /* the query goes out with the action; the task keeps qid, sname, qtype
   * (the octets of dns_resp_make_query's message, encoded directly) */
  uint8_t buf[DNS_UDP_MIN];
  dns_enc_result res = {0};
  res.len = dns_msg_encode_query(t->qid, &sn, t->qtype, stub,
                                 dns_res__edns_sent(r, t) ? r->cfg.edns_size : 0, buf, sizeof buf);
  if (res.len == 0) /* one question of at most 255 octets and an OPT always fit */
    g_error("dns_res__send: query does not encode");
  dns_res_action *a = action_new(r);
  a->id = t->action = r->next_action++;
  a->lookup = lk->id;
  g_strlcpy(a->server, s->addr, sizeof a->server);
  a->port = s->port;
  a->sport = t->sport;
  a->qid = t->qid;
  if (t->tr == DNS_RES_TCP) {
    a->kind = DNS_RES_ACT_TCP;
    GByteArray *f = g_byte_array_new();
    dns_tcp_frame(buf, res.len, f);
    a->data = g_byte_array_free_to_bytes(f);
    t->tcp = dns_tcp_new();
    r->st.tcp_queries++;
  } else {
    a->kind = DNS_RES_ACT_UDP;
    if (res.len <= sizeof a->q) {
      memcpy(a->q, buf, res.len);
      a->qlen = (uint16_t)res.len;
    } else {
      a->data = g_bytes_new(buf, res.len);
    }
  }
  dns_idvec_add(&r->open, t); /* its action id above every other's */
  t->deadline = now + r->cfg.timeouts[t->tries];
  t->tries++;
  lk->queries++;
  lk->sent = true;
  r->st.queries++;
  dns_res__enter(r, t, DNS_RES__QUERY);
  dns_res__event(r, DNS_RES_EV_QUERY, t, now);
}

/* ---- servers ----------------------------------------------------------- */

/* An address as text: A as "%u.%u.%u.%u" writes it (without printf: a
 * referral's glue and every cached server address goes through here),
 * AAAA by inet_ntop. */
void dns_res__addr_text(const dns_rr *rr, char out[DNS_RES_ADDR_MAX]) {
  if (rr->type == DNS_T_A) {
    char *p = out;
    for (int i = 0; i < 4; i++) {
      unsigned v = rr->rd.a[i];
      if (v >= 100)
        *p++ = (char)('0' + v / 100);
      if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
      *p++ = (char)('0' + v % 10);
      *p++ = i < 3 ? '.' : '\0';
    }
  } else if (!inet_ntop(AF_INET6, rr->rd.aaaa, out, DNS_RES_ADDR_MAX))
    out[0] = '\0';
}

/* Inserts an entry for NAME at ADDR into T's servers after position AT
 * (or at the end). */
static void srv_insert(dns_res__task *t, guint at, const dns_name *name, const char *addr) {
  for (guint i = 0; i < t->nsrvs; i++) { /* one entry per (name, address) */
    const dns_res__srv *o = &t->srvs[i];
    if (o->addr[0] && strcmp(o->addr, addr) == 0 && dns_res__nm_equal(o->name, name))
      return;
  }
  g_assert(strlen(addr) < DNS_RES_ADDR_MAX);
  if (at > t->nsrvs)
    at = t->nsrvs;
  if (t->srvs == &t->srv1) { /* out of the task, into a block */
    t->srvs = g_new(dns_res__srv, t->nsrvs + 1);
    t->srvs[0] = t->srv1;
  } else {
    t->srvs = g_renew(dns_res__srv, t->srvs, t->nsrvs + 1); /* at its size: most have one */
  }
  memmove(&t->srvs[at + 1], &t->srvs[at], (t->nsrvs - at) * sizeof *t->srvs);
  t->nsrvs++;
  dns_res__srv *s = &t->srvs[at];
  memset(s, 0, sizeof *s);
  s->name = dns_res__nm_new(name);
  s->addr = g_strdup(addr);
  s->port = 53;
}

/* Address records for NAME from the cache into T's servers after AT; count. */
static guint srvs_from_cache(dns_res *r, dns_res__task *t, guint at, const dns_name *name,
                             int64_t now) {
  if (!r->cache)
    return 0;
  guint k = 0;
  const uint16_t types[2] = {DNS_T_A, DNS_T_AAAA};
  for (int ti = 0; ti < (r->cfg.ipv6 ? 2 : 1); ti++) {
    GArray *a = rr_array();
    if (dns_cache_get(r->cache, name, types[ti], DNS_C_IN, now, a, NULL) == DNS_CACHE_RRSET)
      for (guint i = 0; i < a->len; i++) {
        char txt[DNS_RES_ADDR_MAX];
        dns_res__addr_text(&g_array_index(a, dns_rr, i), txt);
        if (txt[0]) {
          guint before = t->nsrvs;
          srv_insert(t, at + k, name, txt);
          k += t->nsrvs - before;
        }
      }
    g_array_free(a, TRUE);
  }
  return k;
}

/* Adds the servers of NS name NS: addresses from GLUE (may be NULL), else
 * from the cache, else one entry without address to resolve later. */
static void add_ns(dns_res *r, dns_res__task *t, const dns_name *ns, const GArray *glue,
                   int64_t now) {
  guint before = t->nsrvs;
  if (glue)
    for (guint i = 0; i < glue->len; i++) {
      const dns_rr *rr = &g_array_index(glue, dns_rr, i);
      if (!dns_name_equal(&rr->owner, ns) ||
          !(rr->type == DNS_T_A || (r->cfg.ipv6 && rr->type == DNS_T_AAAA)))
        continue;
      char txt[DNS_RES_ADDR_MAX];
      dns_res__addr_text(rr, txt);
      if (txt[0])
        srv_insert(t, G_MAXUINT, ns, txt);
    }
  if (t->nsrvs == before)
    srvs_from_cache(r, t, G_MAXUINT, ns, now);
  if (t->nsrvs == before)
    srv_insert(t, G_MAXUINT, ns, ""); /* glueless: resolve it when needed */
}

/* Shuffles the NS records of A in place (Fisher-Yates over env.rand). */
static void ns_shuffle(dns_res *r, GArray *a) {
  if (!r->cfg.shuffle)
    return;
  for (guint i = a->len; i > 1; i--) {
    guint j = (guint)(r->env.rand(r->env.user) % i);
    if (j != i - 1) {
      dns_rr tmp = g_array_index(a, dns_rr, i - 1);
      g_array_index(a, dns_rr, i - 1) = g_array_index(a, dns_rr, j);
      g_array_index(a, dns_rr, j) = tmp;
    }
  }
}

static void srvs_reset(dns_res__task *t, const dns_name *zone) {
  srvs_clear(t);
  g_free(t->zone);
  t->zone = zone->len == 1 ? NULL : dns_res__nm_new(zone); /* the root: NULL */
  t->cur = 0;
  t->tries = 0;
  t->tr = DNS_RES_UDP;
}

void dns_res__set_delegation(dns_res *r, dns_res__task *t, const dns_name *zone, GArray *ns,
                             const GArray *glue, int64_t now) {
  ns_shuffle(r, ns);
  srvs_reset(t, zone);
  for (guint i = 0; i < ns->len; i++)
    add_ns(r, t, &g_array_index(ns, dns_rr, i).rd.name, glue, now);
}

/* Root hints or forwarders: the configured servers. */
static void srvs_from_config(dns_res *r, dns_res__task *t) {
  dns_name root;
  dns_name_set_root(&root);
  srvs_reset(t, &root);
  /* one server (a stub's forwarder): in the task, no block */
  t->srvs = r->cfg.nservers == 1 ? &t->srv1 : g_new0(dns_res__srv, r->cfg.nservers);
  memset(t->srvs, 0, r->cfg.nservers * sizeof *t->srvs);
  t->nsrvs = (guint)r->cfg.nservers;
  for (size_t i = 0; i < r->cfg.nservers; i++) {
    dns_res__srv *s = &t->srvs[i];
    s->name = r->srv_names[i];
    s->addr = (char *)r->servers[i].addr;
    s->port = r->servers[i].port;
    s->borrowed = true;
  }
}

/* RFC 1034 §5.3.3 step 2: the closest cached delegation above T's name
 * whose servers can be reached: some NS with a known address, or named
 * outside the zone (so it can be resolved elsewhere). Else the hints. */
static void find_servers(dns_res *r, dns_res__task *t, int64_t now) {
  if (r->cfg.mode == DNS_RES_RECURSIVE && r->cache) {
    dns_name sn;
    dns_res__sname(t, &sn);
    for (int k = dns_name_labels(&sn); k >= 0; k--) {
      dns_name z;
      dns_name_suffix(&sn, k, &z);
      GArray *ns = rr_array();
      if (dns_cache_get(r->cache, &z, DNS_T_NS, DNS_C_IN, now, ns, NULL) == DNS_CACHE_RRSET) {
        dns_res__set_delegation(r, t, &z, ns, NULL, now);
        bool reachable = false;
        for (guint i = 0; i < ns->len; i++)
          reachable = reachable || !dns_name_is_under(&g_array_index(ns, dns_rr, i).rd.name, &z);
        for (guint i = 0; i < t->nsrvs && !reachable; i++)
          reachable = t->srvs[i].addr[0] != '\0';
        g_array_free(ns, TRUE);
        if (reachable)
          return;
        continue;
      }
      g_array_free(ns, TRUE);
    }
  }
  srvs_from_config(r, t);
}

/* The first NS entry without address not yet tried. */
static bool srvs_find_glueless(const dns_res__task *t, guint *at) {
  for (guint i = 0; i < t->nsrvs; i++) {
    const dns_res__srv *s = &t->srvs[i];
    if (!s->done && !s->addr[0]) {
      *at = i;
      return true;
    }
  }
  return false;
}

/* True if NAME is already being resolved by T or one of its parents. */
static bool resolving(const dns_res__task *t, const dns_name *name) {
  for (; t; t = t->parent)
    if ((t->sname && dns_res__nm_equal(t->sname, name)) || dns_res__nm_equal(t->qname, name))
      return true;
  return false;
}

static dns_res__task *task_new(dns_res *r, dns_res__lookup *lk, dns_res__task *parent,
                               const dns_name *qname, uint16_t qtype) {
  /* One block: the task and its name at its length (the spare block
   * when the name fits in it). */
  dns_res__task *t = r->spare_task;
  if (t && t->name_cap >= qname->len) {
    r->spare_task = NULL;
    uint8_t cap = t->name_cap;
    memset(t, 0, sizeof *t);
    t->name_cap = cap;
  } else {
    t = g_malloc0(sizeof *t + (size_t)qname->len + 1);
    t->name_cap = qname->len;
  }
  t->lk = lk;
  t->parent = parent;
  t->depth = parent ? parent->depth + 1 : 0;
  t->qname[0] = qname->len;
  memcpy(t->qname + 1, qname->wire, qname->len);
  t->qtype = qtype;
  /* cnames, answer, authority: made when records come (most tasks in
   * flight have none) */
  /* zone NULL (the root); srvs: made by find_servers (a cache hit never asks one) */
  t->state = DNS_RES__START;
  return t;
}

static bool is_dead(const dns_res *r, const dns_res__srv *s, int64_t now) {
  if (g_hash_table_size(r->dead) == 0)
    return false; /* the usual case: no key to format */
  char key[DNS_RES_ADDR_MAX + 8];
  snprintf(key, sizeof key, "%s#%u", s->addr, s->port);
  const int64_t *until = g_hash_table_lookup(r->dead, key);
  return until && *until > now;
}

/* RFC 2308 §7.2: remember a server that did not answer at all, for
 * dead_ttl (at most five minutes), so other lookups ask it last. */
static void mark_dead(dns_res *r, const dns_res__srv *s, int64_t now) {
  if (r->cfg.dead_ttl <= 0)
    return;
  if (g_hash_table_size(r->dead) >= 1024) { /* drop what has expired */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, r->dead);
    while (g_hash_table_iter_next(&it, &k, &v))
      if (*(int64_t *)v <= now)
        g_hash_table_iter_remove(&it);
  }
  int64_t *until = g_new(int64_t, 1);
  *until = now + r->cfg.dead_ttl;
  g_hash_table_replace(r->dead, g_strdup_printf("%s#%u", s->addr, s->port), until);
  r->st.dead_marked++;
}

/* The first server not yet asked that has an address, skipping servers
 * held dead unless DEAD_TOO. */
static bool pick_server(const dns_res *r, const dns_res__task *t, int64_t now, bool dead_too,
                        guint *at) {
  for (guint i = 0; i < t->nsrvs; i++) {
    const dns_res__srv *s = &t->srvs[i];
    if (!s->done && s->addr[0] && (dead_too || !is_dead(r, s, now))) {
      *at = i;
      return true;
    }
  }
  return false;
}

/* Asks the next server of T: live ones in order, then glueless NS names
 * (resolved by a sub-lookup), then servers held dead as a last resort. */
void dns_res__next_server(dns_res *r, dns_res__task *t, int64_t now) {
  g_assert(t->action == 0 && !t->child);
  for (;;) {
    guint i;
    bool found = pick_server(r, t, now, false, &i);
    bool glueless = !found && srvs_find_glueless(t, &i);
    if (!found && !glueless)
      found = pick_server(r, t, now, true, &i);
    if (found) {
      t->cur = i;
      t->tries = 0;
      t->tr = DNS_RES_UDP;
      t->no_edns = false;
      dns_res__send(r, t, now);
      return;
    }
    if (!glueless)
      break;
    dns_res__srv *s = &t->srvs[i];
    s->done = true;
    dns_name ns;
    dns_res__nm_get(s->name, &ns);
    if (srvs_from_cache(r, t, i + 1, &ns, now) > 0)
      continue;
    if (r->cfg.mode != DNS_RES_RECURSIVE || t->depth >= r->cfg.max_depth || resolving(t, &ns))
      continue;
    /* A glueless NS (RFC 1034 §5.3.3 step 2): resolve its address first. */
    dns_res__task *c = task_new(r, t->lk, t, &ns, DNS_T_A);
    t->child = c;
    t->cur = i;
    dns_res__enter(r, t, DNS_RES__WAIT_NS);
    dns_res__step(r, c, now);
    return;
  }
  dns_res__finish(r, t, DNS_RCODE_SERVFAIL, "no_servers", now);
}

void dns_res__server_failed(dns_res *r, dns_res__task *t, int64_t now) {
  dns_res__close_attempt(r, t);
  t->srvs[t->cur].done = true;
  dns_res__next_server(r, t, now);
}

/* ---- steps ------------------------------------------------------------- */

/* Appends CNAME to T's chain and moves T's name to its target. False (T
 * finished with SERVFAIL) on a loop or past the limit (RFC 1034 §3.6.2). */
bool dns_res__follow_cname(dns_res *r, dns_res__task *t, const dns_rr *cname, int64_t now) {
  const dns_name *target = &cname->rd.name;
  bool loop = dns_res__nm_equal(t->qname, target);
  if (!t->cnames)
    t->cnames = rr_array();
  for (guint i = 0; i < t->cnames->len && !loop; i++)
    loop = dns_name_equal(target, &g_array_index(t->cnames, dns_rr, i).owner);
  dns_rr c;
  dns_rr_copy(&c, cname);
  g_array_append_val(t->cnames, c);
  if (loop || (int)t->cnames->len > r->cfg.max_cname) {
    dns_res__finish(r, t, DNS_RCODE_SERVFAIL, loop ? "cname_loop" : "cname_limit", now);
    return false;
  }
  g_free(t->sname);
  t->sname = dns_res__nm_new(target);
  return true;
}

static void cache_hit_event(dns_res *r, dns_res__task *t, uint16_t rcode, bool positive,
                            const GArray *rrs, int64_t now) {
  r->st.cache_hits++;
  if (r->cfg.done_events_only)
    return; /* not queued: no copy of the records */
  dns_res_event *ev = dns_res__event(r, DNS_RES_EV_CACHE_HIT, t, now);
  ev->rcode = rcode;
  dns_res__rrs_append(positive ? ev->rrs : ev->authority, rrs);
}

/* Moves T's answer records (a negative cache answer's SOA, read into
 * the empty answer array) into T's authority records. */
static void answer_to_authority(dns_res__task *t) {
  if (!t->authority || t->authority->len == 0) { /* always, in fact: the records move */
    GArray *empty = t->authority;
    t->authority = t->answer;
    t->answer = empty;
  } else {
    dns_res__rrs_append(t->authority, t->answer);
    g_array_set_size(t->answer, 0);
  }
}

/* The resolver's scratch array for cache reads (empty), taken out of R
 * while in use: a step inside may need one too. */
static GArray *scratch_take(dns_res *r) {
  GArray *a = r->scratch ? r->scratch : rr_array();
  r->scratch = NULL;
  return a;
}

static void scratch_put(dns_res *r, GArray *a) {
  g_array_set_size(a, 0);
  if (r->scratch)
    g_array_free(a, TRUE);
  else
    r->scratch = a;
}

void dns_res__step(dns_res *r, dns_res__task *t, int64_t now) {
  g_assert(t->state == DNS_RES__START && t->action == 0);
  /* The cache's records are read into the scratch array, which becomes
   * the task's answer on a hit (a miss appends nothing): no array per
   * lookup for them. */
  while (r->cache) { /* RFC 1034 §5.3.3 step 1 */
    g_assert(!t->answer || t->answer->len == 0);
    dns_name sn;
    dns_res__sname(t, &sn);
    GArray *a = scratch_take(r);
    /* dns_res_lookup may have asked already, at this NOW */
    dns_cache_kind k = t->miss_known
                           ? DNS_CACHE_MISS
                           : dns_cache_get(r->cache, &sn, t->qtype, DNS_C_IN, now, a, NULL);
    t->miss_known = false;
    if (k != DNS_CACHE_MISS) {
      if (t->answer)
        g_array_free(t->answer, TRUE);
      t->answer = a;
      uint16_t rcode = k == DNS_CACHE_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
      cache_hit_event(r, t, rcode, k == DNS_CACHE_RRSET, t->answer, now);
      if (k != DNS_CACHE_RRSET)
        answer_to_authority(t);
      dns_res__finish(r, t, rcode, NULL, now);
      return;
    }
    if (t->qtype != DNS_T_CNAME) {
      k = dns_cache_get(r->cache, &sn, DNS_T_CNAME, DNS_C_IN, now, a, NULL);
      if (k == DNS_CACHE_RRSET && a->len >= 1) {
        /* follow_cname may finish (and free) T: the CNAME's records are not T's */
        cache_hit_event(r, t, DNS_RCODE_NOERROR, true, a, now);
        bool go = dns_res__follow_cname(r, t, &g_array_index(a, dns_rr, 0), now);
        scratch_put(r, a);
        if (!go)
          return;
        continue;
      }
    }
    scratch_put(r, a); /* empty, or a negative entry's SOA */
    break;
  }
  find_servers(r, t, now);
  dns_res__next_server(r, t, now);
}

/* The index of pending lookup ID in r->lookups, or -1: the array is in
 * id order (ids grow, removal keeps order), so a binary search. */
static gssize lookup_at(const dns_res *r, uint64_t id) {
  return dns_idvec_search(r->lookups->pdata, r->lookups->len, offsetof(dns_res__lookup, id), id);
}

static void lookup_remove(dns_res *r, dns_res__lookup *lk) {
  gssize at = lookup_at(r, lk->id);
  g_assert(at >= 0 && g_ptr_array_index(r->lookups, at) == lk);
  g_ptr_array_remove_index(r->lookups, (guint)at); /* keeps id order */
  if (lk->waiters)
    g_ptr_array_free(lk->waiters, TRUE);
  if (!r->spare_lookup) /* the next lookup's block */
    r->spare_lookup = lk;
  else
    g_free(lk);
}

/* The records of *SRC for a DONE event: a copy, or with TAKE, *SRC
 * itself (moved: *SRC becomes NULL, so T must not be used after). */
static GArray *rrs_give(GArray **src, bool take, bool null_empty) {
  if (null_empty && (!*src || (*src)->len == 0))
    return NULL; /* cfg.done_empty_null; an empty array stays T's */
  if (!*src) /* never made: no records */
    return rr_array();
  if (take) {
    GArray *a = *src;
    *src = NULL;
    return a;
  }
  GArray *a = rr_array();
  dns_res__rrs_append(a, *src);
  return a;
}

/* Queues LK's DONE event with T's result. TAKE: T's last use (its arrays
 * move into the event instead of being copied). */
static void lookup_done(dns_res *r, dns_res__lookup *lk, dns_res__task *t, uint16_t rcode,
                        const char *reason, int64_t now, bool take) {
  dns_res_event *ev = dns_res__event(r, DNS_RES_EV_DONE, NULL, now);
  ev->joined = lk->primary != NULL;
  ev->lookup = lk->id;
  dns_res__qname(t, &ev->qname);
  ev->qtype = t->qtype;
  ev->rcode = rcode;
  ev->reason = reason;
  bool lean = r->cfg.done_answer_only; /* cnames, authority: NULL (T keeps and frees them) */
  bool nul = r->cfg.done_empty_null;   /* cnames, authority: NULL when empty */
  if (rcode != DNS_RCODE_SERVFAIL) {
    ev->rrs = rrs_give(&t->answer, take, false);
    ev->authority = lean ? NULL : rrs_give(&t->authority, take, nul);
  } else {
    ev->rrs = rr_array();
    ev->authority = lean || nul ? NULL : rr_array();
  }
  ev->cnames = lean ? NULL : rrs_give(&t->cnames, take, nul);
  ev->from_cache = !lk->sent;
  ev->elapsed = now - lk->start;
  r->st.done++;
  if (rcode == DNS_RCODE_SERVFAIL)
    r->st.servfail++;
  if (ev->from_cache)
    r->st.from_cache++;
}

void dns_res__finish(dns_res *r, dns_res__task *t, uint16_t rcode, const char *reason,
                     int64_t now) {
  dns_res__close_attempt(r, t);
  g_assert(!t->child);
  dns_res__enter(r, t, DNS_RES__DONE);
  t->rcode = rcode;
  t->reason = reason;
  dns_res__task *p = t->parent;
  if (!p) {
    dns_res__lookup *lk = t->lk;
    guint nw = lk->waiters ? lk->waiters->len : 0;
    lookup_done(r, lk, t, rcode, reason, now, nw == 0);
    for (guint i = 0; i < nw; i++) {
      dns_res__lookup *w = g_ptr_array_index(lk->waiters, i);
      lookup_done(r, w, t, rcode, reason, now, i + 1 == nw);
      lookup_remove(r, w);
    }
    task_free(r, t);
    lookup_remove(r, lk);
    return;
  }
  /* A sub-lookup of an NS address: hand the addresses to the parent. */
  guint at = p->cur + 1;
  dns_name qn;
  dns_res__qname(t, &qn);
  if (rcode == DNS_RCODE_NOERROR && t->answer)
    for (guint i = 0; i < t->answer->len; i++) {
      const dns_rr *rr = &g_array_index(t->answer, dns_rr, i);
      if (rr->type != DNS_T_A && !(r->cfg.ipv6 && rr->type == DNS_T_AAAA))
        continue;
      char txt[DNS_RES_ADDR_MAX];
      dns_res__addr_text(rr, txt);
      if (txt[0]) {
        guint before = p->nsrvs;
        srv_insert(p, at, &qn, txt);
        at += p->nsrvs - before;
      }
    }
  p->child = NULL;
  task_free(r, t);
  dns_res__next_server(r, p, now);
}

/* ---- the API ----------------------------------------------------------- */

/* Lookup ID of QNAME/QTYPE answered at once by the cache (K, the records
 * in A, taken): the DONE event a new task would have queued from its
 * first step (dns_res__step, dns_res__finish, lookup_done), without
 * making the lookup and its task. */
static void done_from_cache(dns_res *r, uint64_t id, const dns_name *qname, uint16_t qtype,
                            dns_cache_kind k, GArray *a, int64_t now) {
  uint16_t rcode = k == DNS_CACHE_NXDOMAIN ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
  r->st.cache_hits++;
  dns_res_event *ev = dns_res__event(r, DNS_RES_EV_DONE, NULL, now);
  ev->lookup = id;
  ev->qname.len = qname->len;
  memcpy(ev->qname.wire, qname->wire, qname->len);
  ev->qtype = qtype;
  ev->rcode = rcode;
  /* a negative entry's SOA goes to the authority section */
  bool lean = r->cfg.done_answer_only, nul = r->cfg.done_empty_null;
  ev->rrs = k == DNS_CACHE_RRSET ? a : rr_array();
  if (k == DNS_CACHE_RRSET)
    ev->authority = lean || nul ? NULL : rr_array();
  else if (lean || (nul && a->len == 0))
    scratch_put(r, a);
  else
    ev->authority = a;
  ev->cnames = lean || nul ? NULL : rr_array();
  ev->from_cache = true;
  r->st.done++;
  r->st.from_cache++;
}

uint64_t dns_res_lookup(dns_res *r, const dns_name *qname, uint16_t qtype, int64_t now) {
  uint64_t id = r->next_lookup++;
  r->st.lookups++;
  dns_res__lookup *join = NULL;
  for (guint i = 0; !join && i < r->lookups->len; i++) {
    dns_res__lookup *o = g_ptr_array_index(r->lookups, i);
    if (o->top && o->top->qtype == qtype && dns_res__nm_equal(o->top->qname, qname))
      join = o;
  }
  /* Answered by the cache at once (RFC 1034 §5.3.3 step 1), when nothing
   * but the DONE event is wanted (no CACHE_HIT event, no state trace):
   * the lookup and its task need not exist. */
  bool miss_known = false;
  if (!join && r->cache && r->cfg.done_events_only && !r->env.trace) {
    GArray *a = scratch_take(r);
    dns_cache_kind k = dns_cache_get(r->cache, qname, qtype, DNS_C_IN, now, a, NULL);
    if (k != DNS_CACHE_MISS) {
      done_from_cache(r, id, qname, qtype, k, a, now);
      return id;
    }
    scratch_put(r, a);
    miss_known = true;
  }
  dns_res__lookup *lk = r->spare_lookup ? r->spare_lookup : g_new(dns_res__lookup, 1);
  r->spare_lookup = NULL;
  memset(lk, 0, sizeof *lk);
  lk->id = id;
  lk->start = now;
  lk->deadline = now + r->cfg.total_timeout;
  g_ptr_array_add(r->lookups, lk);
  if (join) {
    /* The same question in flight: share its answer, send nothing. */
    lk->primary = join;
    if (!join->waiters)
      join->waiters = g_ptr_array_new();
    g_ptr_array_add(join->waiters, lk);
    r->st.joined++;
    return id;
  }
  lk->top = task_new(r, lk, NULL, qname, qtype);
  lk->top->miss_known = miss_known;
  dns_res__step(r, lk->top, now);
  return id;
}

static dns_res__lookup *lookup_find(dns_res *r, uint64_t id) {
  gssize at = lookup_at(r, id);
  return at < 0 ? NULL : g_ptr_array_index(r->lookups, at);
}

bool dns_res_cancel(dns_res *r, uint64_t id, int64_t now) {
  (void)now;
  dns_res__lookup *lk = lookup_find(r, id);
  if (!lk)
    return false;
  if (lk->primary) {
    g_ptr_array_remove(lk->primary->waiters, lk);
  } else if (lk->waiters && lk->waiters->len > 0) {
    /* Others joined it: the first of them takes the work over. */
    dns_res__lookup *w = g_ptr_array_steal_index(lk->waiters, 0);
    w->primary = NULL;
    w->top = lk->top;
    w->deadline = lk->deadline;
    w->queries = lk->queries;
    w->sent = lk->sent;
    for (guint i = 0; i < lk->waiters->len; i++)
      ((dns_res__lookup *)g_ptr_array_index(lk->waiters, i))->primary = w;
    w->waiters = lk->waiters;
    lk->waiters = NULL;
    for (dns_res__task *t = w->top; t; t = t->child)
      t->lk = w;
    lk->top = NULL;
  } else {
    chain_free(r, lk->top);
  }
  lookup_remove(r, lk);
  return true;
}

static dns_res__task *open_task(dns_res *r, uint64_t id) {
  gssize at = dns_idvec_find(&r->open, id);
  return at < 0 ? NULL : r->open.v[at];
}

void dns_res_on_udp(dns_res *r, uint64_t id, const char *from, uint16_t from_port,
                    const uint8_t *data, size_t len, int64_t now) {
  dns_res__task *t = open_task(r, id);
  if (!t) {
    r->st.late++;
    return;
  }
  if (t->tr != DNS_RES_UDP)
    g_error("dns_res_on_udp: action %" G_GUINT64_FORMAT " is TCP", id);
  const dns_res__srv *s = &t->srvs[t->cur];
  if (!from || strcmp(from, s->addr) != 0 || from_port != s->port) {
    r->st.mismatched++; /* RFC 5452 §9.1: the source must be the server asked */
    dns_res__set_reason(dns_res__event(r, DNS_RES_EV_DROPPED, t, now), "source");
    return;
  }
  dns_res__on_message(r, t, data, len, false, now);
}

void dns_res_on_tcp_bytes(dns_res *r, uint64_t id, const uint8_t *data, size_t len, int64_t now) {
  dns_res__task *t = open_task(r, id);
  if (!t) {
    r->st.late++;
    return;
  }
  if (t->tr != DNS_RES_TCP)
    g_error("dns_res_on_tcp_bytes: action %" G_GUINT64_FORMAT " is UDP", id);
  dns_tcp_feed(t->tcp, data, len);
  GBytes *msg;
  while ((t = open_task(r, id)) && (msg = dns_tcp_next(t->tcp))) {
    gsize n;
    const uint8_t *p = g_bytes_get_data(msg, &n);
    dns_res__on_message(r, t, p, n, true, now);
    g_bytes_unref(msg);
  }
}

void dns_res_on_net_error(dns_res *r, uint64_t id, dns_res_net_error why, int64_t now) {
  dns_res__task *t = open_task(r, id);
  if (!t) {
    r->st.late++;
    return;
  }
  r->st.net_errors++;
  dns_res__set_reason(dns_res__event(r, DNS_RES_EV_NET_ERROR, t, now), dns_res_net_error_name(why));
  if (why == DNS_RES_NET_UNREACHABLE || why == DNS_RES_NET_REFUSED)
    mark_dead(r, &t->srvs[t->cur], now);
  dns_res__server_failed(r, t, now);
}

static dns_res__task *active_task(const dns_res__lookup *lk) {
  dns_res__task *t = lk->top;
  while (t && t->child)
    t = t->child;
  return t;
}

int64_t dns_res_deadline(const dns_res *r) {
  int64_t d = INT64_MAX;
  for (guint i = 0; i < r->lookups->len; i++) {
    const dns_res__lookup *lk = g_ptr_array_index(r->lookups, i);
    if (!lk->top)
      continue; /* joined: the lookup it joined has the timers */
    if (lk->deadline < d)
      d = lk->deadline;
    const dns_res__task *t = active_task(lk);
    if (t && t->action && t->deadline < d)
      d = t->deadline;
  }
  return d;
}

static void on_timeout(dns_res *r, dns_res__task *t, int64_t now) {
  r->st.timeouts++;
  dns_res__event(r, DNS_RES_EV_TIMEOUT, t, now);
  dns_res__close_attempt(r, t);
  if (t->tries < r->cfg.ntimeouts) { /* RFC 1035 §7.2: retransmit, backing off */
    dns_res__send(r, t, now);
    return;
  }
  mark_dead(r, &t->srvs[t->cur], now);
  dns_res__server_failed(r, t, now);
}

void dns_res_tick(dns_res *r, int64_t now) {
  /* Lookups in id order; each may complete (and leave the array). */
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  for (guint i = 0; i < r->lookups->len; i++)
    g_array_append_val(ids, ((dns_res__lookup *)g_ptr_array_index(r->lookups, i))->id);
  for (guint i = 0; i < ids->len; i++) {
    dns_res__lookup *lk = lookup_find(r, g_array_index(ids, uint64_t, i));
    if (!lk || !lk->top)
      continue;
    if (now >= lk->deadline) { /* the bound on the whole lookup */
      dns_res__task *t = active_task(lk);
      if (t->action) {
        r->st.timeouts++;
        dns_res__event(r, DNS_RES_EV_TIMEOUT, t, now);
      }
      dns_res__task *top = lk->top;
      chain_free(r, top->child);
      top->child = NULL;
      dns_res__finish(r, top, DNS_RCODE_SERVFAIL, "timeout", now);
      continue;
    }
    dns_res__task *t = active_task(lk);
    if (t && t->action && now >= t->deadline)
      on_timeout(r, t, now);
  }
  g_array_free(ids, TRUE);
}

void dns_res_make_response(const dns_msg *q, const dns_res_event *ev, uint16_t edns_size,
                           dns_msg *r) {
  g_assert(ev->kind == DNS_RES_EV_DONE);
  dns_msg_init(r);
  r->id = q->id;
  r->qr = true;
  r->opcode = q->opcode;
  r->rd = q->rd;
  r->ra = true;
  r->rcode = ev->rcode;
  const dns_question *qq = dns_msg_question(q);
  if (qq)
    dns_msg_add_question(r, &qq->name, qq->type, qq->rclass);
  if (q->edns.present && edns_size)
    dns_msg_set_edns(r, edns_size, q->edns.do_bit);
  for (guint i = 0; i < ev->cnames->len; i++)
    dns_msg_add_rr(r, DNS_SEC_ANSWER, &g_array_index(ev->cnames, dns_rr, i));
  for (guint i = 0; i < ev->rrs->len; i++)
    dns_msg_add_rr(r, DNS_SEC_ANSWER, &g_array_index(ev->rrs, dns_rr, i));
  for (guint i = 0; i < ev->authority->len; i++)
    dns_msg_add_rr(r, DNS_SEC_AUTHORITY, &g_array_index(ev->authority, dns_rr, i));
}

static void runs_of(const GArray *a, dns_rr_runs *x, int run) {
  if (a && a->len) {
    x->rrs[run] = (const dns_rr *)(const void *)a->data;
    x->n[run] = a->len;
  }
}

dns_err dns_res_encode_response(const dns_msg *q, const dns_question *qq, const dns_res_event *ev,
                                uint16_t edns_size, uint8_t *buf, size_t limit, unsigned flags,
                                dns_enc_result *res) {
  g_assert(ev->kind == DNS_RES_EV_DONE);
  dns_msg r; /* header and EDNS only, as dns_res_make_response sets them */
  dns_msg_init(&r);
  r.id = q->id;
  r.qr = true;
  r.opcode = q->opcode;
  r.rd = q->rd;
  r.ra = true;
  r.rcode = ev->rcode;
  if (q->edns.present && edns_size)
    dns_msg_set_edns(&r, edns_size, q->edns.do_bit);
  dns_rr_runs secs[DNS_SEC_COUNT];
  memset(secs, 0, sizeof secs);
  runs_of(ev->cnames, &secs[DNS_SEC_ANSWER], 0);
  runs_of(ev->rrs, &secs[DNS_SEC_ANSWER], 1);
  runs_of(ev->authority, &secs[DNS_SEC_AUTHORITY], 0);
  return dns_msg_encode_parts(&r, qq, qq ? 1 : 0, secs, buf, limit, flags, res);
}

void dns_res_give_rrs(dns_res *r, GArray *rrs) {
  if (!rrs)
    return;
  g_assert(g_array_get_element_size(rrs) == sizeof(dns_rr));
  scratch_put(r, rrs); /* emptied (its records cleared): kept or freed */
}

const dns_res_stats *dns_res_stats_peek(const dns_res *r) { return &r->st; }

dns_cache *dns_res_cache_peek(dns_res *r) { return r->cache; }

size_t dns_res_pending(const dns_res *r) { return r->lookups->len; }
