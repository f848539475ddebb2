/* mta_deliver.c — the MTA's delivery side: queue runs, next hops, DNS
 * resolution, delivery agents (one SMTP client session walking the
 * candidate hosts of its next hop), results into the queue.
 *
 * Model (Postfix qmgr + smtp, simplified):
 *   - a queue run takes every due message (mta_queue_due), begins its
 *     attempt and puts each unfinished recipient on the waiting list of
 *     its next hop (grouped at store time by mta_route);
 *   - a next hop resolves once per busy period: MX (RFC 5321 §5.1), then
 *     A (and AAAA) of each exchange, or of the domain itself (implicit MX);
 *     mta_route_decide gives the candidate order, or a bounce (null MX
 *     RFC 7505, MX-to-self 5.4.6, NXDOMAIN) or a deferral (SERVFAIL);
 *   - at most process_limit agents delivering at once (Postfix
 *     default_process_limit 100: each smtp(8) delivery is a process; a
 *     session idle in the connection cache holds none, as scache keeps
 *     it): a next hop that finds the limit reached waits in a first come,
 *     first served line and is served when a delivery ends or goes idle
 *     (a next hop whose agent ends while others wait goes to the back);
 *   - up to dest_concurrency agents per next hop; an agent sends one
 *     transaction per message (at most rcpt_limit recipients, Postfix
 *     smtp_destination_recipient_limit 50), then takes the next waiting
 *     message over the same connection (reuse, for at most 300 s after it
 *     opened: Postfix smtp_connection_reuse_time_limit); with nothing waiting the
 *     session stays open conn_cache_time for mail to come (for its next
 *     hop, or another whose first address it is connected to), then QUIT;
 *   - a failure before MAIL (connect refused or timed out, 4xx/5xx
 *     greeting or EHLO) moves the agent to the next candidate with the same
 *     messages (Postfix smtp_skip_5xx_greeting); when none is left its
 *     recipients and everything waiting for that hop are deferred with
 *     the last reason (Postfix marks the destination dead);
 *   - STARTTLS when offered (RFC 3207; Postfix smtp_tls_security_level
 *     may): a failed handshake is retried once with the same host in clear;
 *     with the policy "encrypt" TLS is required: no STARTTLS or a failed
 *     handshake fails that host (4.7.5, RFC 3463 "cryptographic failure")
 *     and the agent moves on to the next, then defers;
 *   - results: mta_queue_result per recipient; when a message has every
 *     result its attempt ends (mta__finish_attempt).
 */
#include <string.h>

#include "mail_trace.h"
#include "mta_int.h"

/* A next hop's states. Legal transitions (dest_enter):
 *   IDLE      -> RESOLVING (work arrived)
 *   RESOLVING -> READY (candidates) | IDLE (bounced or deferred at once)
 *   READY     -> IDLE (no work and no session left) */
typedef enum { D_IDLE, D_RESOLVING, D_READY, D__COUNT } dest_state;

typedef struct mta__target {
  char *name;
  uint16_t pref;
  GPtrArray *addrs; /* char* (freed with it) */
  unsigned pending;
  bool temp, nx, nodata;
} target;

typedef struct mta__lookup {
  mta__dest *d;
  target *t;   /* NULL: the MX lookup */
  uint64_t id; /* dns_client id */
} lookup;

/* A lookup's block: the host's spare (one: a resolution's lookups come
 * one after the other, MX then addresses), else a new one. */
static lookup *lookup_alloc(mta_host *m) {
  lookup *l = m->spare_lookup ? g_steal_pointer(&m->spare_lookup) : g_new(lookup, 1);
  memset(l, 0, sizeof *l);
  return l;
}

static void lookup_put(mta_host *m, lookup *l) {
  if (!m->spare_lookup && m->up)
    m->spare_lookup = l;
  else
    g_free(l);
}

struct mta__dest {
  mta_host *m;
  char *name;
  mta_route_plan plan;
  uint8_t state; /* dest_state */
  bool touched;
  bool used;    /* asked for since the last sweep (sweep_idle_dests) */
  bool blocked; /* in m->blocked, waiting for the process limit */
  unsigned agents;
  /* What a next hop at work holds (waiting recipients, its resolution),
   * made when needed and freed when it goes idle: a next hop at rest (most
   * of them, in a queue full of deferred mail) holds neither this nor a
   * decision (issue #6: 72 octets, a 80-octet chunk, was 152 and 160). */
  struct dwork *w;
  mta_route_decision *dec; /* the route decided, or NULL */
};

typedef struct dwork {
  GArray *waiting; /* mta_queue_ref, or NULL */
  guint head;
  guint peak; /* the most waiting has held (waiting_drop) */
  mta_dns_status mx_status;
  GPtrArray *mx;      /* target*, or NULL */
  target *host;       /* implicit MX / [host]: the name's own addresses */
  GPtrArray *lookups; /* lookup*, pending, or NULL */
} dwork;

/* One message's recipients for one transaction: one allocation. */
typedef struct mta__txn {
  uint64_t cookie;
  uint32_t qid;
  uint32_t n;     /* recipients */
  uint32_t idx[]; /* their indexes in the message */
} txn;

/* A transaction of at most TXN_SMALL recipients lives in a block of that
 * room, which the host keeps when it ends (up to MTA__TXN_SPARES) for the
 * next (pick). */
#define TXN_SMALL 4

typedef struct mta__agent {
  mta_host *m;
  mta__dest *d;
  uint64_t sid;
  mta_route_decision dec;
  const mta_route_candidate *cand;
  smtp_cli *cli;
  session *s;
  smtp_glue_trace tr;
  GPtrArray *txns;  /* txn*, sent on the current connection */
  GPtrArray *retry; /* txn*, for the next connection */
  uint64_t next_cookie;
  bool connected, early_failed, tls_failed, plain;
  bool idle;       /* in the connection cache, waiting for work */
  bool busy;       /* counted in m->busy (delivering) */
  sim_time opened; /* when the current connection was opened */
  sim_event_id idle_timer;
  int fail_code;
  char *fail_esc, *fail_text;
  char *tls_reason; /* the last handshake failure, or NULL */
} agent;

static void dispatch(mta__dest *d);
static void agent_connect(agent *a);

/* ---- the process limit ---- */

static void set_busy(agent *a, bool busy) {
  mta_host *m = a->m;
  if (a->busy == busy)
    return;
  a->busy = busy;
  if (busy) {
    m->busy++;
    if (m->busy > m->st.peak_busy)
      m->st.peak_busy = m->busy;
  } else {
    g_assert(m->busy > 0);
    m->busy--;
  }
}

static bool at_limit(const mta_host *m) {
  return m->process_limit && m->busy >= m->process_limit;
}

static void block(mta__dest *d) {
  if (d->blocked)
    return;
  d->blocked = true;
  g_ptr_array_add(d->m->blocked, d);
  d->m->st.limit_waits++;
}

static void unblock_fire(void *p, void *b) {
  (void)b;
  mta_host *m = p;
  m->unblock_ev = 0;
  while (m->blocked->len && !at_limit(m)) {
    mta__dest *d = m->blocked->pdata[0];
    g_ptr_array_remove_index(m->blocked, 0);
    d->blocked = false;
    dispatch(d);
  }
}

/* A slot may have come free: the waiting next hops get their turn from
 * the event loop (never inside the pump of the agent that freed it). */
static void schedule_unblock(mta_host *m) {
  if (m->blocked->len && !m->unblock_ev && !at_limit(m))
    m->unblock_ev = sim_world_after(host_world(m->h), 0, unblock_fire, m, NULL);
}

static void dest_enter(mta__dest *d, dest_state to) {
  static const unsigned legal[D__COUNT] = {
      [D_IDLE] = 1u << D_RESOLVING,
      [D_RESOLVING] = 1u << D_READY | 1u << D_IDLE,
      [D_READY] = 1u << D_IDLE,
  };
  static const char *const names[D__COUNT] = {"IDLE", "RESOLVING", "READY"};
  g_assert((unsigned)to < D__COUNT);
  if (!(legal[d->state] & (1u << to)))
    g_error("mta dest_enter: %s: illegal transition %s -> %s", d->name, names[d->state], names[to]);
  d->state = (uint8_t)to;
}
static void agent_idle(agent *a);

/* ---- helpers ---- */

static size_t waiting_len(const mta__dest *d) {
  return d->w && d->w->waiting ? d->w->waiting->len - d->w->head : 0;
}
static guint lookups_len(const mta__dest *d) {
  return d->w && d->w->lookups ? d->w->lookups->len : 0;
}

/* D's work state, made if it has none. */
static dwork *work(mta__dest *d) {
  if (!d->w) {
    d->w = d->m->spare_work ? g_steal_pointer(&d->m->spare_work) : g_new(dwork, 1);
    memset(d->w, 0, sizeof *d->w);
  }
  return d->w;
}

/* Frees D's work state once it holds nothing (no waiting list, lookups,
 * targets or host: the status is meaningful only while resolving). */
static void work_release(mta__dest *d) {
  dwork *w = d->w;
  if (w && !w->waiting && !w->lookups && !w->mx && !w->host) {
    if (d->m->spare_work)
      g_free(w);
    else
      d->m->spare_work = w;
    d->w = NULL;
  }
}

static void txn_free(txn *t) { g_free(t); }

/* T is done with: kept for the next transaction (pick), or freed. */
static void txn_put(mta_host *m, txn *t) {
  if (t->n <= TXN_SMALL && m->n_spare_txn < MTA__TXN_SPARES && m->up)
    m->spare_txn[m->n_spare_txn++] = t;
  else
    g_free(t);
}

/* Longest waiting list kept as the host's spare (8 octets an entry). */
#define WAITING_KEEP 64

/* A waiting list: the host's spare, else a new one. */
static GArray *waiting_new(mta_host *m) {
  return m->spare_waiting ? g_steal_pointer(&m->spare_waiting)
                          : g_array_new(FALSE, FALSE, sizeof(mta_queue_ref));
}

/* REFS is done with (it held at most PEAK entries): kept, emptied, as the
 * host's spare while small (one a host: a queue run's next hops take and
 * give back one each in turn), else freed. */
static void waiting_drop(mta_host *m, GArray *refs, guint peak) {
  if (!refs)
    return;
  if (m->spare_waiting || peak > WAITING_KEEP || !m->up) {
    g_array_free(refs, TRUE);
    return;
  }
  g_array_set_size(refs, 0);
  m->spare_waiting = refs;
}

/* Message ids gathered while results are applied, on the stack while few. */
typedef struct {
  uint32_t *v;
  guint n, cap;
  uint32_t stack[32];
} qid_list;

static void qids_init(qid_list *l) {
  l->v = l->stack;
  l->n = 0;
  l->cap = G_N_ELEMENTS(l->stack);
}

static void qids_add(qid_list *l, uint32_t qid) {
  if (l->n == l->cap) {
    l->cap *= 2;
    if (l->v == l->stack) {
      l->v = g_new(uint32_t, l->cap);
      memcpy(l->v, l->stack, sizeof l->stack);
    } else
      l->v = g_renew(uint32_t, l->v, l->cap);
  }
  l->v[l->n++] = qid;
}

static void qids_clear(qid_list *l) {
  if (l->v != l->stack)
    g_free(l->v);
}

/* Frees T; its block and (emptied) address list are kept as the host's
 * spare while the list is small (a resolution has a target or a few, one
 * after the other). */
static void target_free(mta_host *m, target *t) {
  if (!t)
    return;
  g_free(t->name);
  if (!m->spare_target && m->up && t->addrs->len <= 16) {
    g_ptr_array_set_size(t->addrs, 0);
    m->spare_target = t;
    return;
  }
  g_ptr_array_free(t->addrs, TRUE);
  g_free(t);
}

/* A target named NAME (taken: g_free'd with it). */
static target *target_take(mta_host *m, char *name, uint16_t pref) {
  target *t = m->spare_target;
  if (t) {
    m->spare_target = NULL;
    GPtrArray *addrs = t->addrs;
    memset(t, 0, sizeof *t);
    t->addrs = addrs;
  } else {
    t = g_new0(target, 1);
    t->addrs = g_ptr_array_new_with_free_func(g_free);
  }
  t->name = name;
  t->pref = pref;
  return t;
}

static target *target_new(mta_host *m, const char *name, uint16_t pref) {
  return target_take(m, g_strdup(name), pref);
}

static mta_dns_status target_status(const target *t) {
  if (t->addrs->len)
    return MTA_DNS_OK;
  if (t->temp)
    return MTA_DNS_TEMPFAIL;
  return t->nx ? MTA_DNS_NXDOMAIN : MTA_DNS_NODATA;
}

/* Frees what a resolution was made of: its (finished or cancelled) lookups,
 * the MX targets and the implicit-MX host. */
static void dest_free_answers(mta__dest *d) {
  if (!d->w)
    return;
  if (d->w->lookups) { /* kept, emptied, as the host's spare (a few pointers) */
    if (!d->m->spare_lookups && d->m->up && d->w->lookups->len <= 16) {
      g_ptr_array_set_size(d->w->lookups, 0);
      d->m->spare_lookups = d->w->lookups;
    } else {
      g_ptr_array_free(d->w->lookups, TRUE);
    }
  }
  d->w->lookups = NULL;
  if (d->w->mx) { /* the list kept, emptied, as the host's spare while small */
    for (guint i = 0; i < d->w->mx->len; i++)
      target_free(d->m, d->w->mx->pdata[i]);
    if (!d->m->spare_mx && d->m->up && d->w->mx->len <= 16) {
      g_ptr_array_set_size(d->w->mx, 0);
      d->m->spare_mx = d->w->mx;
    } else {
      g_ptr_array_free(d->w->mx, TRUE);
    }
  }
  d->w->mx = NULL;
  target_free(d->m, d->w->host);
  d->w->host = NULL;
}

static void dest_clear_resolution(mta__dest *d) {
  for (guint i = 0; i < lookups_len(d); i++) {
    lookup *l = d->w->lookups->pdata[i];
    if (d->m->dns)
      dns_client_cancel(d->m->dns, l->id);
    lookup_put(d->m, l);
  }
  dest_free_answers(d);
  if (d->dec) {
    if (d->m->spare_dec) {
      mta_route_decision_clear(d->dec);
      g_free(d->dec);
    } else { /* kept with its candidates' block (mta_route_redecide) */
      mta_route_decision_reset(d->dec);
      d->m->spare_dec = d->dec;
    }
    d->dec = NULL;
  }
}

static void dest_free(mta__dest *d) {
  dest_clear_resolution(d);
  if (d->w && d->w->waiting)
    g_array_free(d->w->waiting, TRUE);
  g_free(d->w);
  if (d->name != d->plan.nexthop)
    g_free(d->name);
  mta_route_plan_clear(&d->plan);
  g_free(d);
}

static mta__dest *dest_get(mta_host *m, const char *name, const char *rcpt) {
  mta__dest *d = g_hash_table_lookup(m->dest_idx, name);
  if (d) {
    d->used = true;
    return d;
  }
  d = g_new0(mta__dest, 1);
  d->m = m;
  const char *at = strrchr(rcpt, '@');
  mta_route_plan_for(m->route, at ? at + 1 : rcpt, &d->plan);
  /* The name is the plan's next hop (the queue grouped by it): one copy. */
  d->name = d->plan.nexthop && strcmp(d->plan.nexthop, name) == 0 ? d->plan.nexthop : g_strdup(name);
  g_hash_table_insert(m->dest_idx, d->name, d);
  g_ptr_array_add(m->dests, d);
  return d;
}

/* One recipient's outcome; true when its message has every result. */
static bool apply(mta_host *m, uint32_t qid, uint32_t i, const mta_queue_result_args *ra) {
  sim_time now = host_now(m->h);
  mta_queue_result(m->q, qid, i, ra, now);
  if (ra->state == MTA_RCPT_DELIVERED)
    m->st.rcpt_delivered++;
  else if (ra->state == MTA_RCPT_DEFERRED)
    m->st.rcpt_deferred++;
  else
    m->st.rcpt_bounced++;
  const mta_msg *qm = mta__msg_get(m, qid);
  if (ra->state == MTA_RCPT_BOUNCED && !*mta_queue_msg_sender(qm)) { /* never reported: trace it now */
    char *why = ra->code ? g_strdup_printf("%d %s %s", ra->code, ra->esc ? ra->esc : "",
                                           ra->text ? ra->text : "")
                         : g_strdup(ra->text ? ra->text : "");
    char qidbuf[MTA__QID_BUFSZ], tagbuf[MTA__TAG_BUFSZ];
    mail_trace_bounce(m->h, mta__tag(m, qm, tagbuf), mta__qid_text(qm, qidbuf), qm->rcpts[i].addr,
                      why, "");
    g_free(why);
  }
  uint32_t *outstanding = mta_queue_user(m->q, qid);
  g_assert(*outstanding > 0);
  return --*outstanding == 0;
}

/* Every waiting recipient of D gets STATE with the reason. */
static void fail_waiting(mta__dest *d, mta_rcpt_state state, int code, const char *esc,
                         const char *text) {
  mta_host *m = d->m;
  if (!d->w)
    return;
  GArray *refs = d->w->waiting;
  guint head = d->w->head, peak = d->w->peak;
  d->w->waiting = NULL;
  d->w->head = d->w->peak = 0;
  work_release(d);
  if (!refs)
    return;
  mta_queue_result_args ra = {state, code, esc, text, NULL};
  qid_list done;
  qids_init(&done);
  for (guint k = head; k < refs->len; k++) {
    mta_queue_ref r = g_array_index(refs, mta_queue_ref, k);
    if (apply(m, r.qid, r.rcpt, &ra))
      qids_add(&done, r.qid);
  }
  for (guint k = 0; k < done.n; k++)
    mta__finish_attempt(m, done.v[k]);
  qids_clear(&done);
  waiting_drop(m, refs, peak);
}

static void waiting_add(mta__dest *d, mta_queue_ref ref) {
  if (!work(d)->waiting)
    d->w->waiting = waiting_new(d->m);
  g_array_append_val(d->w->waiting, ref);
  if (d->w->waiting->len > d->w->peak)
    d->w->peak = d->w->waiting->len;
}

/* ---- resolution ---- */

static void resolved(mta__dest *d);

static mta_dns_status rcode_status(const dns_client_result *r, uint16_t qtype, guint *n) {
  *n = 0;
  for (guint i = 0; i < r->rrs->len; i++)
    *n += g_array_index(r->rrs, dns_rr, i).type == qtype;
  if (r->rcode == 0)
    return *n ? MTA_DNS_OK : MTA_DNS_NODATA;
  return r->rcode == 3 ? MTA_DNS_NXDOMAIN : MTA_DNS_TEMPFAIL;
}

static void got_addr(void *user, const dns_client_result *r);
static void got_mx(void *user, const dns_client_result *r);

/* Starts a lookup; false when the stub could not (its host is down). */
static bool ask(mta__dest *d, target *t, const char *name, uint16_t qtype) {
  mta_host *m = d->m;
  if (!m->dns)
    return false;
  lookup *l = lookup_alloc(m);
  l->d = d;
  l->t = t;
  l->id = dns_client_lookup(m->dns, name, qtype, t ? got_addr : got_mx, l);
  if (!l->id) {
    lookup_put(m, l);
    return false;
  }
  if (!work(d)->lookups)
    d->w->lookups = m->spare_lookups ? g_steal_pointer(&m->spare_lookups) : g_ptr_array_new();
  g_ptr_array_add(d->w->lookups, l);
  if (t)
    t->pending++;
  return true;
}

static void ask_addrs(mta__dest *d, target *t) {
  sim_addr lit;
  if (sim_addr_parse(t->name, &lit)) { /* an address literal: nothing to look up */
    g_ptr_array_add(t->addrs, g_strdup(t->name));
    return;
  }
  if (!ask(d, t, t->name, DNS_T_A))
    t->temp = true;
  if (d->m->ipv6 && !ask(d, t, t->name, DNS_T_AAAA))
    t->temp = true;
}

static void lookup_done(lookup *l) {
  g_ptr_array_remove(l->d->w->lookups, l);
  lookup_put(l->d->m, l);
}

static void got_addr(void *user, const dns_client_result *r) {
  lookup *l = user;
  mta__dest *d = l->d;
  target *t = l->t;
  lookup_done(l);
  t->pending--;
  guint n;
  mta_dns_status st = rcode_status(r, DNS_T_A, &n);
  for (guint i = 0; i < r->rrs->len; i++) {
    const dns_rr *rr = &g_array_index(r->rrs, dns_rr, i);
    sim_addr a = {0};
    if (rr->type == DNS_T_A) {
      a.family = 4;
      memcpy(a.b, rr->rd.a, 4);
    } else if (rr->type == DNS_T_AAAA) {
      a.family = 6;
      memcpy(a.b, rr->rd.aaaa, 16);
    } else {
      continue;
    }
    char buf[SIM_ADDR_BUFSZ];
    g_ptr_array_add(t->addrs, g_strdup(sim_addr_format(&a, buf)));
  }
  if (st == MTA_DNS_TEMPFAIL)
    t->temp = true;
  else if (st == MTA_DNS_NXDOMAIN)
    t->nx = true;
  if (lookups_len(d) == 0)
    resolved(d);
}

static char *name_text(const dns_name *n) {
  char *s = dns_name_to_text(n);
  size_t len = strlen(s);
  if (len > 1 && s[len - 1] == '.')
    s[len - 1] = 0;
  return s;
}

static void got_mx(void *user, const dns_client_result *r) {
  lookup *l = user;
  mta__dest *d = l->d;
  lookup_done(l);
  guint n;
  d->w->mx_status = rcode_status(r, DNS_T_MX, &n);
  if (d->w->mx_status == MTA_DNS_OK) {
    for (guint i = 0; i < r->rrs->len; i++) {
      const dns_rr *rr = &g_array_index(r->rrs, dns_rr, i);
      if (rr->type != DNS_T_MX)
        continue;
      target *t = target_take(d->m, name_text(&rr->rd.mx.exchange), rr->rd.mx.pref);
      if (!d->w->mx)
        d->w->mx = d->m->spare_mx ? g_steal_pointer(&d->m->spare_mx) : g_ptr_array_new();
      g_ptr_array_add(d->w->mx, t);
    }
    guint nmx = d->w->mx ? d->w->mx->len : 0;
    bool null_mx = nmx == 1 && strcmp(((target *)d->w->mx->pdata[0])->name, ".") == 0;
    for (guint i = 0; !null_mx && i < nmx; i++) {
      target *t = d->w->mx->pdata[i];
      if (strcmp(t->name, ".") != 0)
        ask_addrs(d, t);
    }
  } else if (d->w->mx_status == MTA_DNS_NODATA) {
    d->w->host = target_new(d->m, d->plan.lookup, 0); /* implicit MX (RFC 5321 §5.1) */
    ask_addrs(d, d->w->host);
  }
  if (lookups_len(d) == 0)
    resolved(d);
}

static void resolve(mta__dest *d) {
  dest_enter(d, D_RESOLVING);
  work(d)->mx_status = MTA_DNS_NODATA;
  if (d->plan.kind == MTA_ROUTE_LOCAL) {
    resolved(d);
    return;
  }
  if (d->plan.kind == MTA_ROUTE_LOOKUP_HOST) {
    d->w->host = target_new(d->m, d->plan.lookup, 0);
    ask_addrs(d, d->w->host);
  } else {
    sim_addr lit;
    if (sim_addr_parse(d->plan.lookup, &lit)) {
      d->w->host = target_new(d->m, d->plan.lookup, 0);
      ask_addrs(d, d->w->host);
    } else if (!ask(d, NULL, d->plan.lookup, DNS_T_MX)) {
      d->w->mx_status = MTA_DNS_TEMPFAIL;
    }
  }
  if (lookups_len(d) == 0)
    resolved(d);
}

static uint64_t node_rand(void *user) { return sim_rng_u64(user); }

static void resolved(mta__dest *d) {
  mta_host *m = d->m;
  /* The exchanges on the stack while they fit (a domain has a few). */
  guint nmx = d->w->mx ? d->w->mx->len : 0;
  mta_route_mx mbuf[8];
  mta_route_mx *mx = nmx <= G_N_ELEMENTS(mbuf) ? mbuf : g_new(mta_route_mx, nmx);
  for (guint i = 0; i < nmx; i++) {
    target *t = d->w->mx->pdata[i];
    mx[i] = (mta_route_mx){t->pref, t->name, target_status(t),
                           (const char *const *)t->addrs->pdata, t->addrs->len};
  }
  mta_route_answer a = {.mx_status = d->w->mx_status,
                        .mx = nmx ? mx : NULL,
                        .nmx = nmx,
                        .host_status = d->w->host ? target_status(d->w->host) : MTA_DNS_NODATA,
                        .host_addrs = d->w->host ? (const char *const *)d->w->host->addrs->pdata : NULL,
                        .nhost_addrs = d->w->host ? d->w->host->addrs->len : 0};
  if (!d->dec && m->spare_dec)
    d->dec = g_steal_pointer(&m->spare_dec); /* reset when it was put aside */
  else if (!d->dec)
    d->dec = g_new0(mta_route_decision, 1);
  /* made again in place: the candidates' block is reused when it fits */
  mta_route_redecide(m->route, &d->plan, &a, node_rand, host_rng(m->h), d->dec);
  if (mx != mbuf)
    g_free(mx);
  /* The decision holds its own copies: the answers are done with. */
  g_assert(lookups_len(d) == 0);
  dest_free_answers(d);
  if (d->dec->kind == MTA_ROUTE_TRY) {
    dest_enter(d, D_READY);
    dispatch(d);
    return;
  }
  dest_enter(d, D_IDLE);
  char *esc = g_strdup(d->dec->esc), *text = g_strdup(d->dec->text);
  int code = d->dec->code;
  mta_rcpt_state st = d->dec->kind == MTA_ROUTE_BOUNCE ? MTA_RCPT_BOUNCED : MTA_RCPT_DEFERRED;
  dest_clear_resolution(d);
  fail_waiting(d, st, code, esc, text);
  g_free(esc);
  g_free(text);
}

/* ---- agents ---- */

/* An agent walks its next hop's candidates with its own cursor and last
 * failure (mta_route_decision_borrow): the candidate list is the hop's
 * decision's, which stays as it is while the hop has an agent (it is only
 * cleared or made again with none), not copied per attempt. */

/* The next message waiting for D (its recipients for D, up to the limit). */
static txn *pick(mta__dest *d) {
  mta_host *m = d->m;
  if (!waiting_len(d))
    return NULL;
  uint32_t qid = g_array_index(d->w->waiting, mta_queue_ref, d->w->head).qid;
  uint32_t n = 0;
  while (d->w->head + n < d->w->waiting->len && n < m->rcpt_limit &&
         g_array_index(d->w->waiting, mta_queue_ref, d->w->head + n).qid == qid)
    n++;
  txn *t = n <= TXN_SMALL && m->n_spare_txn ? m->spare_txn[--m->n_spare_txn]
                                            : g_malloc(sizeof *t + MAX(n, TXN_SMALL) * sizeof t->idx[0]);
  t->cookie = 0;
  t->qid = qid;
  t->n = n;
  for (uint32_t i = 0; i < n; i++) {
    mta_queue_ref r = g_array_index(d->w->waiting, mta_queue_ref, d->w->head);
    mta_queue_take(m->q, r.qid, r.rcpt);
    t->idx[i] = r.rcpt;
    d->w->head++;
  }
  if (d->w->head == d->w->waiting->len) {
    g_array_set_size(d->w->waiting, 0);
    d->w->head = 0;
  }
  return t;
}

static void send_txn(agent *a, txn *t) {
  mta_host *m = a->m;
  const mta_msg *qm = mta__msg_get(m, t->qid);
  size_t len;
  const uint8_t *data = mta__body(m, qm->body_id, &len);
  g_assert(data); /* the record and body are written together */
  smtp_cmd_mail mail = {.from = (char *)mta_queue_msg_sender(qm)}; /* borrowed for the call */
  smtp_cmd_rcpt rbuf[16], *rc = t->n <= G_N_ELEMENTS(rbuf) ? rbuf : g_new(smtp_cmd_rcpt, t->n);
  memset(rc, 0, t->n * sizeof *rc);
  for (uint32_t i = 0; i < t->n; i++)
    rc[i].to = (char *)qm->rcpts[t->idx[i]].addr;
  t->cookie = ++a->next_cookie;
  g_ptr_array_add(a->txns, t);
  smtp_cli_message msg = {&mail, rc, t->n, data, len, t->cookie};
  smtp_cli_send(a->cli, &msg, host_now(m->h));
  if (rc != rbuf)
    g_free(rc);
}

static bool early_stage(smtp_cli_stage s) {
  return s == SMTP_CLI_STAGE_CONNECT || s == SMTP_CLI_STAGE_HELO || s == SMTP_CLI_STAGE_STARTTLS ||
         s == SMTP_CLI_STAGE_AUTH;
}

static void idle_expired(void *p, void *b) {
  (void)b;
  agent *a = p;
  a->idle_timer = 0;
  if (!a->idle)
    return;
  a->idle = false;
  mta_route_set_idle(a->m->route, a->sid, false); /* closing: not for reuse */
  smtp_cli_quit(a->cli, host_now(a->m->h));
  session_kick(a->s);
}

static void agent_idle(agent *a) {
  mta_host *m = a->m;
  a->idle = true;
  set_busy(a, false);
  schedule_unblock(m);
  mta_route_set_idle(m->route, a->sid, true);
  a->idle_timer = sim_world_after(host_world(m->h), m->conn_cache_time, idle_expired, a, NULL);
}

/* A cached session takes the next message for its hop. */
static void agent_wake(agent *a) {
  mta_host *m = a->m;
  if (a->idle_timer)
    sim_world_cancel(host_world(m->h), a->idle_timer);
  a->idle_timer = 0;
  a->idle = false;
  set_busy(a, true);
  send_txn(a, pick(a->d));
  session_kick(a->s);
}

static void on_result(agent *a, const smtp_cli_event *ev) {
  mta_host *m = a->m;
  txn *t = NULL;
  for (guint i = 0; i < a->txns->len && !t; i++)
    if (((txn *)a->txns->pdata[i])->cookie == ev->cookie)
      t = a->txns->pdata[i];
  g_assert(t && ev->nrcpts == t->n);
  g_ptr_array_remove(a->txns, t);
  bool early = ev->n_ok == 0;
  for (size_t i = 0; i < ev->nrcpts && early; i++)
    early = early_stage(ev->rcpts[i].stage);
  if (early && ev->nrcpts) {
    /* The host failed before MAIL: these messages go to the next one. */
    if (!a->early_failed) {
      a->early_failed = true;
      a->fail_code = ev->rcpts[0].code;
      g_free(a->fail_esc);
      g_free(a->fail_text);
      a->fail_esc = g_strdup(ev->rcpts[0].esc);
      a->fail_text = ev->rcpts[0].local ? NULL : g_strdup(ev->rcpts[0].text);
    }
    g_ptr_array_add(a->retry, t);
    return;
  }
  bool done = false;
  for (size_t i = 0; i < ev->nrcpts; i++) {
    mta_queue_result_args ra;
    mta_queue_result_from_smtp(&ev->rcpts[i], a->cand->host, &ra);
    done = apply(m, t->qid, t->idx[i], &ra);
  }
  if (done)
    mta__finish_attempt(m, t->qid);
  else
    mta__rewrite(m, t->qid);
  txn_put(m, t);
  /* Connection reuse: the next message waiting for this hop; none: keep
   * the session a moment for mail still to come (Postfix on-demand
   * connection cache, smtp_connection_cache_time_limit 2 s). */
  bool fresh = host_now(m->h) - a->opened < m->reuse_time_limit;
  if (!a->early_failed && a->s && session_is_open(a->s) && a->txns->len == 0) {
    txn *next = fresh ? pick(a->d) : NULL;
    if (next)
      send_txn(a, next);
    else if (m->conn_cache_time > 0 && fresh)
      agent_idle(a);
    else
      smtp_cli_quit(a->cli, host_now(m->h));
  }
}

static void cli_pump(void *owner, session *s) {
  agent *a = owner;
  smtp_cli_event ev;
  while (a->cli && smtp_cli_next_event(a->cli, &ev)) {
    switch (ev.type) {
    case SMTP_CLI_EV_RESULT:
      on_result(a, &ev);
      break;
    case SMTP_CLI_EV_STARTTLS:
      session_start_tls(s, tls_host_conn(a->m->tls, TLS_CONN_CLIENT, a->cand->host));
      break;
    case SMTP_CLI_EV_CLOSE:
      session_close(s);
      break;
    default:
      g_assert_not_reached();
    }
  }
}

static void agent_end(agent *a) {
  mta_host *m = a->m;
  mta__dest *d = a->d;
  g_assert(a->txns->len == 0 && a->retry->len == 0);
  if (a->idle_timer)
    sim_world_cancel(host_world(m->h), a->idle_timer);
  mta_route_closed(m->route, a->sid);
  d->agents--;
  set_busy(a, false);
  g_ptr_array_remove(m->agents, a);
  mta_route_decision_clear(&a->dec);
  if (a->fail_esc) /* mostly none: no free(NULL) calls an agent */
    g_free(a->fail_esc);
  if (a->fail_text)
    g_free(a->fail_text);
  if (a->tls_reason)
    g_free(a->tls_reason);
  if (m->n_spare_agent < MTA__AGENT_SPARES && m->up) { /* kept, with its two (empty) lists */
    m->spare_agent[m->n_spare_agent++] = a;
  } else {
    g_ptr_array_free(a->txns, TRUE);
    g_ptr_array_free(a->retry, TRUE);
    g_free(a);
  }
  if (m->blocked->len && d->state == D_READY && waiting_len(d))
    block(d); /* others were waiting first: to the back of the line */
  else
    dispatch(d);
  schedule_unblock(m);
}

/* Every candidate failed: this agent's messages and everything waiting
 * for the hop are deferred with the last reason. */
static void agent_exhausted(agent *a) {
  mta_host *m = a->m;
  qid_list done;
  qids_init(&done);
  mta_queue_result_args ra = {MTA_RCPT_DEFERRED, a->dec.code, a->dec.esc, a->dec.text, NULL};
  for (guint k = 0; k < a->retry->len; k++) {
    txn *t = a->retry->pdata[k];
    for (uint32_t i = 0; i < t->n; i++)
      if (apply(m, t->qid, t->idx[i], &ra))
        qids_add(&done, t->qid);
    txn_put(m, t);
  }
  g_ptr_array_set_size(a->retry, 0);
  for (guint k = 0; k < done.n; k++)
    mta__finish_attempt(m, done.v[k]);
  qids_clear(&done);
  fail_waiting(a->d, MTA_RCPT_DEFERRED, a->dec.code, a->dec.esc, a->dec.text);
  agent_end(a);
}

static const char *reason_text(sim_tcp_reason why) {
  switch (why) {
  case SIM_TCP_CLOSED_REFUSED:
    return "Connection refused";
  case SIM_TCP_CLOSED_TIMEOUT:
    return "Connection timed out";
  case SIM_TCP_CLOSED_RESET:
    return "Connection reset by peer";
  default:
    return "lost connection";
  }
}

/* The SMTP client of the connection being opened, created when the
 * connection is up (cli_connected), as of the moment it was opened: its
 * greeting timeout runs from there, as when it was created before
 * connecting. */
static smtp_cli *cli_create(agent *a) {
  mta_host *m = a->m;
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = m->hostname;
  bool tls = tls_host_on(m->tls, a->d->plan.kind == MTA_ROUTE_LOCAL ? TLS_HOST_LMTP : TLS_HOST_RELAY);
  cfg.tls = !tls || a->plain                  ? SMTP_CLI_TLS_NEVER
            : m->tls_policy == MTA_TLS_ENCRYPT ? SMTP_CLI_TLS_REQUIRED
                                               : SMTP_CLI_TLS_OPPORTUNISTIC;
  cfg.quit_when_idle = false;
  smtp_env env = smtp_glue_env_on(&a->tr, false, m->h);
  smtp_glue_attach(&a->tr, a->s);
  return smtp_cli_renew(smtp_cli_take(&m->spare_cli), &cfg, &env, a->opened);
}

static void cli_closed(void *owner, session *s, sim_tcp_reason why) {
  agent *a = owner;
  mta_host *m = a->m;
  sim_time now = host_now(m->h);
  /* Never connected (refused, timed out): no client was made. Its only
   * trace would be the "GREETING -> CLOSED" state record at protocol
   * detail, so only then is one made to write it. */
  if (!a->cli && host_trace(m->h, SIM_DETAIL_PROTOCOL))
    a->cli = cli_create(a);
  if (a->cli) {
    smtp_cli_connection_lost(a->cli, now);
    cli_pump(a, s);
  }
  if (m->up) /* the block kept for the next connection (either side) */
    session_keep(&m->spare_s, a->s);
  else
    session_free(a->s);
  a->s = NULL;
  smtp_cli_keep_upto(&m->spare_cli, a->cli, MTA__ENGINE_SPARES);
  a->cli = NULL;
  if (!a->retry->len) {
    agent_end(a);
    return;
  }
  if (a->tls_failed && !a->plain && m->tls_policy == MTA_TLS_MAY) {
    a->plain = true; /* the same host once more, in clear */
    a->dec.next--;
  } else if (a->tls_failed) { /* policy encrypt: this host fails */
    char *text = g_strdup_printf("TLS is required, but the handshake failed: %s",
                                 a->tls_reason ? a->tls_reason : "unknown");
    mta_route_failed(&a->dec, 454, "4.7.5", text);
    g_free(text);
    a->plain = false;
  } else {
    const char *text = a->fail_text ? a->fail_text : reason_text(why);
    mta_route_failed(&a->dec, a->fail_code, a->fail_esc, text);
    a->plain = false;
  }
  agent_connect(a);
}

static void cli_connected(void *owner, session *s) {
  (void)s;
  agent *a = owner;
  a->connected = true;
  a->cli = cli_create(a);
  session_set_engine(s, a->cli);
  /* The retry list emptied first (the transactions go to a->txns), its
   * entries walked from the stack while few. */
  guint n = a->retry->len;
  void *sbuf[16], **again = n <= G_N_ELEMENTS(sbuf) ? sbuf : g_new(void *, n);
  if (n)
    memcpy(again, a->retry->pdata, n * sizeof *again);
  g_ptr_array_set_size(a->retry, 0);
  for (guint i = 0; i < n; i++)
    send_txn(a, again[i]);
  if (again != sbuf)
    g_free(again);
}

static void cli_tls(void *owner, session *s, const tls_conn_event *ev) {
  agent *a = owner;
  if (ev->type == TLS_CONN_EV_ESTABLISHED) {
    smtp_cli_tls_started(a->cli, host_now(a->m->h));
  } else if (ev->type == TLS_CONN_EV_FAILED) {
    a->tls_failed = true;
    g_free(a->tls_reason);
    a->tls_reason = g_strdup(ev->reason ? ev->reason : "");
    session_abort(s);
  }
}

static const session_owner cli_owner = {
    .pump = cli_pump, .closed = cli_closed, .connected = cli_connected, .tls_event = cli_tls};

static bool cand_addr(mta_host *m, const char *text, sim_addr *out) {
  if (sim_addr_parse(text, out))
    return true;
  sim_node *n = sim_net_find_node(sim_world_net(host_world(m->h)), text);
  const sim_addr *a = n ? sim_node_addr(n, 4) : NULL;
  if (!a && n)
    a = sim_node_addr(n, 6);
  if (!a)
    return false;
  *out = *a;
  return true;
}

static void agent_connect(agent *a) {
  mta_host *m = a->m;
  sim_addr sa;
  for (;;) {
    a->cand = mta_route_next(&a->dec);
    if (!a->cand) {
      agent_exhausted(a);
      return;
    }
    if (cand_addr(m, a->cand->addr, &sa))
      break;
    mta_route_failed(&a->dec, 0, NULL, "no address");
  }
  a->connected = a->early_failed = a->tls_failed = false;
  a->fail_code = 0;
  if (a->fail_text)
    g_free(a->fail_text);
  a->fail_text = NULL;
  /* The client and the messages wait until the connection is up
   * (cli_connected): a refused or timed-out connection never makes an
   * SMTP client nor copies a body into one (a queue run's burst of
   * connections to dead destinations held ~1 KiB of client per attempt). */
  a->opened = host_now(m->h);
  a->s = session_connect_in(session_take(&m->spare_s), m->h, &sa, a->cand->port, NULL,
                            &smtp_glue_cli_ops, NULL, &cli_owner, a);
  m->st.sessions_out++;
}

static void agent_new(mta__dest *d) {
  mta_host *m = d->m;
  agent *a = m->n_spare_agent ? m->spare_agent[--m->n_spare_agent] : NULL;
  if (a) { /* an ended agent's block and lists (agent_end) */
    GPtrArray *txns = a->txns, *retry = a->retry;
    memset(a, 0, sizeof *a);
    a->txns = txns;
    a->retry = retry;
  } else {
    a = g_new0(agent, 1);
    a->txns = g_ptr_array_new();
    a->retry = g_ptr_array_new();
  }
  a->m = m;
  a->d = d;
  a->sid = ++m->next_sid;
  mta_route_decision_borrow(&a->dec, d->dec);
  set_busy(a, true);
  mta_route_opened(m->route, d->name, a->sid, host_now(m->h));
  d->agents++;
  g_ptr_array_add(m->agents, a);
  g_ptr_array_add(a->retry, pick(d));
  agent_connect(a);
}

static agent *agent_by_sid(mta_host *m, uint64_t sid) {
  for (guint i = 0; i < m->agents->len; i++)
    if (((agent *)m->agents->pdata[i])->sid == sid)
      return m->agents->pdata[i];
  g_assert_not_reached();
}

/* An idle cached session, kept for another next hop, to D's first
 * candidate address (Postfix looks its connection cache up by next hop,
 * then by each server address before connecting). */
static agent *cached_by_addr(mta_host *m, mta__dest *d) {
  if (!d->dec || !d->dec->ncandidates)
    return NULL;
  const mta_route_candidate *c0 = &d->dec->candidates[0];
  for (guint i = 0; i < m->agents->len; i++) {
    agent *a = m->agents->pdata[i];
    if (a->idle && a->d != d && a->cand && a->cand->port == c0->port &&
        host_now(m->h) - a->opened < m->reuse_time_limit && strcmp(a->cand->addr, c0->addr) == 0)
      return a;
  }
  return NULL;
}

/* Hands idle agent A over to next hop D, then wakes it. */
static void agent_move(agent *a, mta__dest *d) {
  mta_host *m = a->m;
  mta__dest *old = a->d;
  mta_route_closed(m->route, a->sid);
  old->agents--;
  a->sid = ++m->next_sid;
  mta_route_opened(m->route, d->name, a->sid, host_now(m->h));
  d->agents++;
  a->d = d;
  mta_route_decision_clear(&a->dec);
  mta_route_decision_borrow(&a->dec, d->dec);
  a->cand = mta_route_next(&a->dec); /* the address it is connected to */
  agent_wake(a);
  dispatch(old); /* it may have nothing left */
}

static void dispatch(mta__dest *d) {
  mta_host *m = d->m;
  while (d->state == D_READY && waiting_len(d)) {
    if (at_limit(m)) { /* every delivery process is busy: wait for one */
      block(d);
      break;
    }
    uint64_t sid = mta_route_reuse(m->route, d->name, host_now(m->h));
    agent *cached;
    if (sid)
      agent_wake(agent_by_sid(m, sid));
    else if (!mta_route_may_open(m->route, d->name))
      break;
    else if ((cached = cached_by_addr(m, d)) != NULL)
      agent_move(cached, d);
    else
      agent_new(d);
  }
  if (d->state == D_READY && !waiting_len(d) && d->agents == 0) {
    dest_enter(d, D_IDLE); /* resolve again next time (the stub caches) */
    dest_clear_resolution(d);
    if (d->w) {
      waiting_drop(m, d->w->waiting, d->w->peak);
      d->w->waiting = NULL;
      d->w->peak = 0;
    }
    work_release(d);
  }
}

/* ---- queue runs ---- */

/* Forgets the next hops with nothing to do (idle, nothing waiting, no
 * session) and not asked for since the previous sweep: Postfix's qmgr
 * discards an in-core queue once it is empty (qmgr_queue_done), and a world
 * with many (MTA, destination) pairs would otherwise keep one for every
 * pair it ever sent to; the one-sweep grace keeps a busy next hop from
 * being rebuilt at every queue run, and an MTA with few next hops keeps
 * them all. Run where no caller holds a next hop. */
static void sweep_idle_dests(mta_host *m) {
  if (m->dests->len <= 32) /* a few: keep them (rebuilding costs more) */
    return;
  guint w = 0;
  for (guint i = 0; i < m->dests->len; i++) {
    mta__dest *d = m->dests->pdata[i];
    bool used = d->used;
    d->used = false;
    if (!used && d->state == D_IDLE && !waiting_len(d) && d->agents == 0 && !d->touched &&
        !d->blocked && lookups_len(d) == 0) {
      g_hash_table_remove(m->dest_idx, d->name);
      dest_free(d);
    } else {
      m->dests->pdata[w++] = d;
    }
  }
  g_ptr_array_set_size(m->dests, w);
}

/* Longest run lists kept for the next run. */
#define RUN_LIST_KEEP 64

void mta__run_queue(mta_host *m) {
  if (!m->up)
    return;
  sim_time now = host_now(m->h);
  sweep_idle_dests(m);
  mta__dsn_retry(m);
  /* The host's lists, taken (a run started inside this one makes its own). */
  GArray *qids = m->run_qids ? m->run_qids : g_array_new(FALSE, FALSE, sizeof(uint32_t));
  GPtrArray *touched = m->run_touched ? m->run_touched : g_ptr_array_new();
  m->run_qids = NULL;
  m->run_touched = NULL;
  mta_queue_due(m->q, now, qids);
  for (guint k = 0; k < qids->len; k++) {
    uint32_t qid = g_array_index(qids, uint32_t, k);
    if (!mta__begin(m, qid))
      continue;
    const mta_msg *qm = mta__msg_get(m, qid);
    uint32_t outstanding = 0;
    for (uint32_t i = 0; i < qm->nrcpts; i++) {
      const mta_rcpt *r = &qm->rcpts[i];
      if (r->state == MTA_RCPT_DELIVERED || r->state == MTA_RCPT_BOUNCED ||
          (r->flags & MTA_RCPT_F_INFLIGHT))
        continue;
      mta__dest *d = dest_get(m, mta_queue_rcpt_dest(m->q, r), r->addr);
      mta_queue_ref ref = {qid, i};
      waiting_add(d, ref);
      outstanding++;
      if (!d->touched) {
        d->touched = true;
        g_ptr_array_add(touched, d);
      }
    }
    *mta_queue_user(m->q, qid) = outstanding;
    if (outstanding == 0)
      mta__finish_attempt(m, qid);
  }
  for (guint k = 0; k < touched->len; k++) {
    mta__dest *d = touched->pdata[k];
    d->touched = false;
    if (d->state == D_IDLE)
      resolve(d);
    else if (d->state == D_READY)
      dispatch(d);
  }
  /* Given back while small: a run's lists do not grow the host for good. */
  if (!m->up || m->run_touched || touched->len > RUN_LIST_KEEP) {
    g_ptr_array_free(touched, TRUE);
  } else {
    g_ptr_array_set_size(touched, 0);
    m->run_touched = touched;
  }
  if (!m->up || m->run_qids || qids->len > RUN_LIST_KEEP) {
    g_array_free(qids, TRUE);
  } else {
    g_array_set_size(qids, 0);
    m->run_qids = qids;
  }
}

void mta__deliver_drop(mta_host *m) {
  for (guint i = 0; i < m->agents->len; i++) {
    agent *a = m->agents->pdata[i];
    if (a->idle_timer)
      sim_world_cancel(host_world(m->h), a->idle_timer);
    session_free(a->s);
    smtp_cli_free(a->cli);
    mta_route_closed(m->route, a->sid);
    mta_route_decision_clear(&a->dec);
    g_ptr_array_set_free_func(a->txns, (GDestroyNotify)txn_free);
    g_ptr_array_set_free_func(a->retry, (GDestroyNotify)txn_free);
    g_ptr_array_free(a->txns, TRUE);
    g_ptr_array_free(a->retry, TRUE);
    g_free(a->fail_esc);
    g_free(a->fail_text);
    g_free(a->tls_reason);
    g_free(a);
  }
  g_ptr_array_set_size(m->agents, 0);
  while (m->n_spare_agent) {
    agent *a = m->spare_agent[--m->n_spare_agent];
    g_ptr_array_free(a->txns, TRUE);
    g_ptr_array_free(a->retry, TRUE);
    g_free(a);
  }
  g_clear_pointer(&m->spare_cli, smtp_cli_free);
  while (m->n_spare_txn)
    g_free(m->spare_txn[--m->n_spare_txn]);
  m->busy = 0;
  g_ptr_array_set_size(m->blocked, 0);
  if (m->unblock_ev)
    sim_world_cancel(host_world(m->h), m->unblock_ev);
  m->unblock_ev = 0;
  for (guint i = 0; i < m->dests->len; i++)
    dest_free(m->dests->pdata[i]);
  g_ptr_array_set_size(m->dests, 0);
  g_hash_table_remove_all(m->dest_idx);
  g_clear_pointer(&m->spare_work, g_free); /* after the next hops: they put theirs aside */
  if (m->spare_waiting)
    g_array_free(g_steal_pointer(&m->spare_waiting), TRUE);
  g_clear_pointer(&m->spare_lookup, g_free);
  if (m->spare_target) {
    g_ptr_array_free(m->spare_target->addrs, TRUE);
    g_clear_pointer(&m->spare_target, g_free);
  }
  if (m->spare_mx)
    g_ptr_array_free(g_steal_pointer(&m->spare_mx), TRUE);
  if (m->spare_lookups)
    g_ptr_array_free(g_steal_pointer(&m->spare_lookups), TRUE);
  if (m->spare_dec)
    mta_route_decision_clear(m->spare_dec);
  g_clear_pointer(&m->spare_dec, g_free);
  if (m->run_qids)
    g_array_free(m->run_qids, TRUE);
  if (m->run_touched)
    g_ptr_array_free(m->run_touched, TRUE);
  m->run_qids = NULL;
  m->run_touched = NULL;
}
