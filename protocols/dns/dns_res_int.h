/* dns_res_int.h — internals shared by the files of the dns_res module
 * (dns_res.c: lookups, tasks, actions, timers; dns_res_resp.c: reading a
 * response and caching what it teaches). Not for other modules. */
#ifndef MAILSIM_DNS_RES_INT_H
#define MAILSIM_DNS_RES_INT_H

#include "dns_idvec.h"
#include "dns_res.h"
#include "dns_tcp.h"

#include <stddef.h>
#include <string.h>

/* A name held at its length (a task has thousands of siblings in flight
 * during an MTA's queue run, and a dns_name is 256 octets): one g_malloc'd
 * block, the length octet then the wire form. Read it into a dns_name on
 * the stack with dns_res__nm_get. */
typedef uint8_t dns_res__nm;

dns_res__nm *dns_res__nm_new(const dns_name *n);
static inline void dns_res__nm_get(const dns_res__nm *p, dns_name *out) {
  out->len = p[0];
  memcpy(out->wire, p + 1, p[0]);
}
/* True if P is N, ignoring ASCII case (as dns_name_equal). */
bool dns_res__nm_equal(const dns_res__nm *p, const dns_name *n);

/* One server address to ask: an NS name and, once known, an address.
 * The configured servers' entries borrow both from the resolver (which
 * outlives its tasks); the others own theirs. */
typedef struct {
  dns_res__nm *name;
  char *addr; /* "" while unknown */
  uint16_t port;
  bool done;     /* asked (or its resolution tried) in this delegation */
  bool borrowed; /* name and addr are the resolver's */
} dns_res__srv;

/* Task states. Legal transitions (dns_res__enter asserts them):
 *   START   -> QUERY (a server asked) | WAIT_NS (a glueless NS name is
 *              being resolved) | DONE (from the cache, or no servers)
 *   QUERY   -> QUERY (retransmission, next server, TCP) | START (a
 *              referral or a CNAME restarts the search) | WAIT_NS | DONE
 *   WAIT_NS -> QUERY | WAIT_NS | DONE
 *   DONE    is final: the task is freed. */
typedef enum {
  DNS_RES__START,
  DNS_RES__QUERY,
  DNS_RES__WAIT_NS,
  DNS_RES__DONE,
  DNS_RES__STATE_COUNT
} dns_res__state;

typedef struct dns_res__lookup dns_res__lookup;
typedef struct dns_res__task dns_res__task;

/* Resolving one (name, type): the top task of a lookup, or a sub-lookup
 * of a glueless NS name's address (parent set). Only the deepest task of a
 * lookup is ever active. */
struct dns_res__task {
  dns_res__lookup *lk;
  dns_res__task *parent, *child;
  /* Of dns_rr, each NULL until it has records (rrs_give makes it empty
   * for the DONE event). */
  GArray *cnames;    /* the chain followed */
  GArray *answer;    /* the final RRsets */
  GArray *authority; /* the SOA of a negative answer */
  const char *reason;
  /* The delegation being asked. */
  dns_res__nm *zone;  /* NULL: the root */
  dns_res__srv *srvs; /* NSRVS of them, allocated at that size, or &srv1 (the
                       * configured server when it is the only one); NULL when none */
  dns_res__srv srv1;
  size_t tries;       /* attempts to srvs[cur] over the current transport */
  guint nsrvs;
  guint cur; /* index of the server asked */
  dns_res_transport tr;
  int depth;
  dns_res__state state;
  uint16_t qtype, rcode;
  bool no_edns;    /* this server answered EDNS with FORMERR/NOTIMP */
  bool miss_known; /* the cache has no (qname, qtype) now: step's first read skipped */
  uint8_t name_cap; /* octets the block holds for qname's wire form */
  /* The attempt in flight (action != 0): only what matches its answer
   * (RFC 5452 §9.1: id, port, question = sname, qtype, class IN) is
   * kept, the query itself goes out with the action. */
  uint16_t qid, sport;
  uint64_t action;
  int64_t deadline;
  dns_tcp *tcp;
  dns_res__nm *sname;  /* current name after CNAMEs; NULL: qname */
  dns_res__nm qname[]; /* asked for, held at its length (see dns_res__nm) */
};

/* T's names read into OUT. */
static inline void dns_res__qname(const dns_res__task *t, dns_name *out) {
  dns_res__nm_get(t->qname, out);
}
static inline void dns_res__sname(const dns_res__task *t, dns_name *out) {
  dns_res__nm_get(t->sname ? t->sname : t->qname, out);
}
static inline void dns_res__zone(const dns_res__task *t, dns_name *out) {
  if (t->zone)
    dns_res__nm_get(t->zone, out);
  else
    dns_name_set_root(out);
}

/* A lookup the owner started. A lookup for the same (name, type) as one
 * already in flight joins it (primary set, no task of its own) and gets
 * the same result when it completes. */
struct dns_res__lookup {
  uint64_t id;
  int64_t start, deadline;
  int queries;
  bool sent;
  dns_res__task *top;       /* NULL for a joined lookup */
  dns_res__lookup *primary; /* the lookup joined, or NULL */
  GPtrArray *waiters;       /* dns_res__lookup* that joined this one, in id order */
};

struct dns_res {
  dns_res_config cfg;
  dns_res_server *servers; /* copies, with their strings */
  dns_res__nm **srv_names; /* the servers' names, parsed once (tasks borrow them) */
  dns_res_env env;
  dns_cache *cache;
  GArray *scratch;     /* of dns_rr, empty: cache reads in dns_res__step; NULL while taken */
  GPtrArray *lookups;  /* dns_res__lookup*, pending, in id order (binary searched by id) */
  /* Tasks with an attempt in flight, in action id order (ids grow as
   * attempts start and removal keeps order: binary searched); the block
   * halves when a quarter full. */
  dns_idvec open;      /* dns_res__task*, by action */
  GHashTable *dead;    /* "addr#port" -> int64_t until, lookup only (RFC 2308 §7.2) */
  /* Actions queued, by value: acts[act_head..act_len) of an act_cap
   * block (kept at rest while of ACTS_KEEP entries or fewer). */
  dns_res_action *acts;
  size_t act_head, act_len, act_cap;
  /* Events queued, by value: evs[ev_head..ev_len) of an ev_cap block,
   * NULL at rest (let go once every event is given). */
  dns_res_event *evs;
  size_t ev_head, ev_len, ev_cap;
  uint64_t next_lookup, next_action;
  dns_res_stats st;
  /* Blocks kept from the last lookup and task freed, for the next (a
   * host's engine mostly has one lookup at a time): at most one each. */
  dns_res__lookup *spare_lookup;
  dns_res__task *spare_task;
};

/* True if the query of T's attempt in flight carried an OPT record (as
 * dns_res__send makes it). */
static inline bool dns_res__edns_sent(const dns_res *r, const dns_res__task *t) {
  return !t->no_edns && r->cfg.edns_size != 0;
}

/* dns_res.c */
void dns_res__enter(dns_res *r, dns_res__task *t, dns_res__state s);
/* Queues a new event and returns it for filling; NULL (nothing queued)
 * for any kind but DONE when cfg.done_events_only. The event lies in
 * r->evs: fill it before queuing another. */
dns_res_event *dns_res__event(dns_res *r, dns_res_ev_kind kind, dns_res__task *t, int64_t now);
static inline void dns_res__set_reason(dns_res_event *ev, const char *why) {
  if (ev)
    ev->reason = why;
}
void dns_res__close_attempt(dns_res *r, dns_res__task *t);
void dns_res__server_failed(dns_res *r, dns_res__task *t, int64_t now);
void dns_res__step(dns_res *r, dns_res__task *t, int64_t now);
void dns_res__next_server(dns_res *r, dns_res__task *t, int64_t now);
void dns_res__send(dns_res *r, dns_res__task *t, int64_t now);
void dns_res__finish(dns_res *r, dns_res__task *t, uint16_t rcode, const char *reason, int64_t now);
void dns_res__set_delegation(dns_res *r, dns_res__task *t, const dns_name *zone, GArray *ns,
                             const GArray *glue, int64_t now);
bool dns_res__follow_cname(dns_res *r, dns_res__task *t, const dns_rr *cname, int64_t now);
void dns_res__rrs_append(GArray *dst, const GArray *src);
/* An A or AAAA record's address as text into OUT ("" if AAAA cannot be
 * written): what "%u.%u.%u.%u" and inet_ntop write. */
void dns_res__addr_text(const dns_rr *rr, char out[DNS_RES_ADDR_MAX]);

/* dns_res_resp.c */
void dns_res__on_message(dns_res *r, dns_res__task *t, const uint8_t *data, size_t len, bool tcp,
                         int64_t now);

#endif
