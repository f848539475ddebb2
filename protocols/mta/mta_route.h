/* mta_route.h — where a recipient's mail goes: local mailbox host,
 * per-domain overrides (transport map, smarthost), or the domain's MX
 * records (RFC 5321 §5.1) with implicit MX, null MX (RFC 7505) and
 * MX-points-to-self; then the ordered list of hosts to try, and the
 * bookkeeping of sessions per destination (concurrency, reuse).
 *
 * Sans-I/O: the host does the DNS lookups and passes the answers in;
 * randomness (equal-preference shuffling) comes from the caller's stream.
 *
 * Use:
 *   mta_route_plan(r, domain, &plan)         LOCAL / LOOKUP_MX / LOOKUP_HOST
 *   (host resolves plan.lookup: MX, then A/AAAA of each exchange)
 *   mta_route_decide(r, &plan, &answer, rand, user, &d)
 *   for (c = mta_route_next(&d); c; c = mta_route_next(&d))
 *     connect to c; on connection failure or a 4xx/5xx greeting:
 *       mta_route_failed(&d, code, esc, text) and loop; else deliver.
 *   exhausted: d.code/esc/text say why (a deferral, 4.4.1 by default).
 */
#ifndef MAILSIM_MTA_ROUTE_H
#define MAILSIM_MTA_ROUTE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mta_route mta_route;

/* The caller's random stream (e.g. the node's): a uniform 64-bit value. */
typedef uint64_t (*mta_rand_fn)(void *user);

typedef struct {
  const char *domain;       /* a domain this MTA delivers locally */
  const char *mailbox_host; /* the host that stores its mail */
  uint16_t port;            /* 0 = 24 (LMTP) */
} mta_route_local;

typedef struct {
  const char *domain;  /* recipient domain, or "*" for every non-local domain */
  const char *nexthop; /* "[host]" = that host, no MX lookup; "name" = MX lookup of name */
  uint16_t port;       /* 0 = 25 */
} mta_route_override;

/* Strings are copied by mta_route_new. */
typedef struct {
  const char *const *self_names; /* this host's names (MX-to-self detection) */
  size_t nself_names;
  const char *const *self_addrs; /* and addresses */
  size_t nself_addrs;
  const mta_route_local *locals;
  size_t nlocals;
  const mta_route_override *overrides; /* exact domains win over "*" */
  size_t noverrides;
  unsigned
      max_candidates; /* addresses tried per delivery (Postfix smtp_mx_address_limit 5); 0 = all */
  unsigned dest_concurrency; /* sessions per destination (Postfix
                                default_destination_concurrency_limit 20) */
  int64_t reuse_time_limit;  /* a session is reused only this long after it opened
                                (Postfix smtp_connection_reuse_time_limit 300 s); 0 = for ever */
} mta_route_config;

/* Defaults: no names, no locals, no overrides, 5 candidates, 20 sessions,
 * 300 s reuse. */
void mta_route_config_init(mta_route_config *cfg);

mta_route *mta_route_new(const mta_route_config *cfg);
void mta_route_free(mta_route *r);

typedef enum {
  MTA_ROUTE_LOCAL,       /* deliver to plan.host:plan.port (mailbox host) */
  MTA_ROUTE_LOOKUP_MX,   /* look up MX of plan.lookup, then addresses */
  MTA_ROUTE_LOOKUP_HOST, /* look up A/AAAA of plan.lookup only ([host] override) */
  MTA_ROUTE_PLAN__COUNT
} mta_route_plan_kind;
const char *mta_route_plan_kind_name(mta_route_plan_kind k);

/* A plan; strings borrowed from the router (valid until mta_route_free),
 * except nexthop, which is owned by the plan: mta_route_plan_clear. */
typedef struct { /* 32 octets: the pointers first (an MTA keeps one per next hop) */
  const char *host;   /* LOCAL: mailbox host */
  const char *lookup; /* the name to resolve */
  char *nexthop;      /* grouping key for the queue and session pool: the lower-cased
                         domain, "[host]" or the override name */
  mta_route_plan_kind kind;
  uint16_t port;
} mta_route_plan;

/* Plans delivery for recipient domain DOMAIN (case-insensitive, a trailing
 * dot ignored). */
void mta_route_plan_for(const mta_route *r, const char *domain, mta_route_plan *plan);
void mta_route_plan_clear(mta_route_plan *plan);
/* The plan's nexthop for DOMAIN alone, written into BUF (N octets) when
 * it fits: returns BUF, else a new string (the caller frees a result that
 * is not BUF; BUF may be NULL when N is 0). */
char *mta_route_nexthop_into(const mta_route *r, const char *domain, char *buf, size_t n);

typedef enum {
  MTA_DNS_OK,       /* records given */
  MTA_DNS_NODATA,   /* the name exists, no record of that type */
  MTA_DNS_NXDOMAIN, /* the name does not exist */
  MTA_DNS_TEMPFAIL, /* SERVFAIL, timeout */
  MTA_DNS__COUNT
} mta_dns_status;
const char *mta_dns_status_name(mta_dns_status s);

/* One exchange of an MX answer with its address lookups (A then AAAA, in
 * the order the resolver returned them). */
typedef struct {
  uint16_t pref;
  const char *name; /* "." or "" for a null MX */
  mta_dns_status addr_status;
  const char *const *addrs;
  size_t naddrs;
} mta_route_mx;

typedef struct {
  mta_dns_status mx_status; /* LOOKUP_HOST plans ignore the MX part */
  const mta_route_mx *mx;
  size_t nmx;
  /* The addresses of the looked-up name itself (implicit MX, or [host]). */
  mta_dns_status host_status;
  const char *const *host_addrs;
  size_t nhost_addrs;
} mta_route_answer;

typedef struct {
  const char *host; /* exchange name (in the decision's block) */
  const char *addr;
  uint16_t pref;
  uint16_t port;
} mta_route_candidate;

typedef enum {
  MTA_ROUTE_TRY,    /* candidates to try in order */
  MTA_ROUTE_BOUNCE, /* permanent: code/esc/text, no connection (null MX, loop, no such domain) */
  MTA_ROUTE_DEFER,  /* temporary (DNS failure, every candidate failed) */
  MTA_ROUTE_DECISION__COUNT
} mta_route_decision_kind;
const char *mta_route_decision_kind_name(mta_route_decision_kind k);

/* A decision (owned by the caller: mta_route_decision_clear). Its strings
 * are read only: static texts or the decision's own (which ones, the
 * decision knows); the candidates and their names are one allocation. */
typedef struct {
  mta_route_decision_kind kind;
  int code;                        /* BOUNCE/DEFER: 5xx/4xx the MTA reports for the recipient */
  const char *esc;                 /* "5.1.10", "5.4.6", "4.4.3", ... */
  const char *text;                /* the reason in words */
  mta_route_candidate *candidates; /* ncandidates, in the order to try (NULL when none) */
  guint ncandidates;
  guint next;        /* cursor of mta_route_next */
  bool implicit_mx;  /* no MX: the domain's own addresses (RFC 5321 §5.1) */
  bool self_dropped; /* this host was among the MX and was dropped with
                        the entries of lower preference */
  uint8_t owns;      /* private: what mta_route_decision_clear frees */
  /* private: the candidates' block's size (when owned), and a block kept
   * by mta_route_decision_reset for the next mta_route_redecide */
  size_t cand_room;
  void *room;
  size_t room_size;
} mta_route_decision;

/* Decides from ANSWER (for PLAN): see the top of this file for the rules;
 * RAND/USER shuffle equal preferences (RFC 5321 §5.1 "SHOULD pick one at
 * random"; RAND may be NULL for the given order). */
void mta_route_decide(const mta_route *r, const mta_route_plan *plan, const mta_route_answer *a,
                      mta_rand_fn rand, void *user, mta_route_decision *d);
void mta_route_decision_clear(mta_route_decision *d);
/* mta_route_decide into D, a decision already made, cleared, reset or
 * zeroed (never an uninitialized one): what D held is let go, but for its
 * candidates' block, which the new candidates reuse when they fit. */
void mta_route_redecide(const mta_route *r, const mta_route_plan *plan, const mta_route_answer *a,
                        mta_rand_fn rand, void *user, mta_route_decision *d);
/* Clears D, keeping its candidates' block for a later mta_route_redecide
 * (mta_route_decision_clear frees it). */
void mta_route_decision_reset(mta_route_decision *d);
/* DST walks SRC's candidates from the first with its own cursor and
 * reasons: the candidates are borrowed (SRC must stay as it is until DST
 * is cleared), the reasons copied when SRC owns them. */
void mta_route_decision_borrow(mta_route_decision *dst, const mta_route_decision *src);

/* The next candidate to try, or NULL when none is left: then D is DEFER
 * with the last failure's reason. */
const mta_route_candidate *mta_route_next(mta_route_decision *d);
/* The candidate returned last failed (connection refused/timed out, 4xx or
 * 5xx greeting, Postfix smtp_skip_5xx_greeting): CODE (0 = no reply), ESC
 * and TEXT describe it. */
void mta_route_failed(mta_route_decision *d, int code, const char *esc, const char *text);

/* ---- sessions per destination ---- */

/* May another session to NEXTHOP be opened (below dest_concurrency)? */
bool mta_route_may_open(const mta_route *r, const char *nexthop);
/* Session SID (the caller's id, > 0, unique) to NEXTHOP opened at NOW, busy.
 * NEXTHOP is borrowed until mta_route_closed(SID) (no copy a session: a
 * queue run's burst opens one per next hop and MTA). */
void mta_route_opened(mta_route *r, const char *nexthop, uint64_t sid, int64_t now);
/* Session SID became idle (its transaction ended) or busy again. */
void mta_route_set_idle(mta_route *r, uint64_t sid, bool idle);
/* Session SID closed (unknown SID: a bug, asserts). */
void mta_route_closed(mta_route *r, uint64_t sid);
/* The idle session to NEXTHOP to reuse at NOW (lowest id, within the reuse
 * time limit), marked busy; 0 when none. */
uint64_t mta_route_reuse(mta_route *r, const char *nexthop, int64_t now);
/* Sessions open to NEXTHOP. */
unsigned mta_route_open_count(const mta_route *r, const char *nexthop);
/* Idle sessions past the reuse time limit at NOW, to close: appended to
 * SIDS (GArray of uint64_t) in id order. */
size_t mta_route_expired_idle(const mta_route *r, int64_t now, GArray *sids);

#endif
