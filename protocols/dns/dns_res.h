/* dns_res.h — the caching DNS resolver engine, sans-I/O: recursive
 * (iterative resolution from root hints) or stub (forwarding with RD to
 * configured recursive resolvers).
 *
 * Standards: RFC 1034 §5.3.3 (the resolver algorithm), RFC 1035 §7 (resolver
 * implementation, §7.2 retransmission), RFC 2181 §5.4.1 (credibility), RFC
 * 2308 (negative caching), RFC 5452 (matching and anti-spoofing), RFC 7766
 * §5 (TCP fallback on TC), RFC 1035 §4.2.2 (TCP framing).
 *
 * The engine never reads a clock, opens a socket or calls out: the owner
 * (a host in hosts/, or a test) drives it:
 *
 *     dns_res *r = dns_res_new(&cfg, &env);
 *     uint64_t id = dns_res_lookup(r, &qname, DNS_T_MX, now);
 *     loop:
 *       while (dns_res_next_action(r, &act)) {    // do what it says
 *         UDP: send dns_res_action_bytes(&act) from act.sport to act.server:act.port;
 *              datagrams coming back -> dns_res_on_udp(r, act.id, from, ...)
 *         TCP: connect to act.server:act.port and write its bytes (framed; act.data);
 *              stream bytes coming back -> dns_res_on_tcp_bytes(r, act.id, ...)
 *         CLOSE: the engine is done with action act.id: release its port
 *              or close its connection; later input for it is ignored
 *         dns_res_action_clear(&act);
 *       }
 *       failures (ICMP unreachable, refused, reset, closed early)
 *                              -> dns_res_on_net_error(r, act.id, why, now)
 *       at dns_res_deadline(r) -> dns_res_tick(r, now)
 *       while (dns_res_next_event(r, &ev)) {      // trace, and results
 *         ... DNS_RES_EV_DONE carries a lookup's result ...
 *         dns_res_event_clear(&ev);
 *       }
 * Every call that takes input may queue actions and events; the owner pulls
 * them after each call. Every UDP or TCP action is eventually followed by a
 * CLOSE action with the same id.
 *
 * Behaviour. Recursive mode: the closest delegation known (cached NS with
 * addresses, else the root hints) is asked with RD=0; referrals are followed
 * downwards with their glue (only in-bailiwick glue is believed); NS names
 * without glue are resolved by a sub-lookup, at most max_depth deep; CNAME
 * chains are followed up to max_cname links. Each server is tried with the
 * timeouts of cfg.timeouts in turn (the retransmission backoff), then the
 * next server; a TC answer is asked again over TCP from the same server;
 * errors, lame answers and network errors move to the next server at once,
 * except FORMERR or NOTIMP without OPT to a query with EDNS, which is asked
 * again of the same server without EDNS (RFC 6891 §7).
 * A server that never answered is held dead for dead_ttl: every lookup
 * asks it only after the others (RFC 2308 §7.2).
 * A lookup that has not finished within total_timeout, has sent max_queries
 * queries, or has run out of servers completes with SERVFAIL. Stub mode:
 * the forwarders are the only servers, asked with RD=1; referrals and lame
 * answers from them are errors.
 *
 * Matching (RFC 5452 §9.1): a reply counts only if it comes from the server
 * address and port asked, carries the query id and the same question; any
 * other reply is dropped, counted (stats.mismatched / stats.malformed) and
 * reported as a DNS_RES_EV_DROPPED event, and the attempt keeps waiting.
 * Over TCP, where replies cannot be forged, a frame that does not decode
 * or match ends the attempt instead (the server is skipped).
 *
 * Randomness: query ids, UDP source ports and (when cfg.shuffle) the order
 * of an NS set come from env.rand only, so the same draws give the same
 * actions byte for byte. Outputs never depend on hash order. */
#ifndef MAILSIM_DNS_RES_H
#define MAILSIM_DNS_RES_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_cache.h"
#include "dns_name.h"
#include "dns_resp.h"
#include "dns_wire.h"

typedef struct dns_res dns_res;

enum {
  DNS_RES_ADDR_MAX = 48,     /* an address as text, NUL included */
  DNS_RES_QUERY_INLINE = 96, /* a UDP query up to this long is kept in its action */
  DNS_RES_TIMEOUTS_MAX = 8,
};

typedef enum { DNS_RES_RECURSIVE, DNS_RES_STUB, DNS_RES_MODE_COUNT } dns_res_mode;
typedef enum { DNS_RES_UDP, DNS_RES_TCP, DNS_RES_TRANSPORT_COUNT } dns_res_transport;

const char *dns_res_mode_name(dns_res_mode m);           /* "recursive", "stub" */
const char *dns_res_transport_name(dns_res_transport t); /* "udp", "tcp" */

/* A server: a root hint (recursive) or a forwarder (stub). The address is
 * opaque text to the engine ("192.0.2.1"): the host maps it to its own
 * addresses. Addresses learned from glue are written as dotted quads (A)
 * or RFC 5952 text (AAAA). */
typedef struct {
  const char *name; /* host name, e.g. "a.root-servers.net." (may be NULL) */
  const char *addr; /* required */
  uint16_t port;    /* 0 means 53 */
} dns_res_server;

typedef struct {
  dns_res_mode mode;
  const dns_res_server *servers; /* root hints or forwarders; copied by _new */
  size_t nservers;               /* >= 1 */
  /* Retransmission (RFC 1035 §7.2): attempt i to one server waits
   * timeouts[i]; after ntimeouts attempts the next server is asked. */
  int64_t timeouts[DNS_RES_TIMEOUTS_MAX];
  size_t ntimeouts;      /* 1..DNS_RES_TIMEOUTS_MAX */
  int64_t total_timeout; /* a lookup gives SERVFAIL after this long */
  int max_cname;         /* CNAME links followed per lookup */
  int max_depth;         /* nesting of sub-lookups for glueless NS names */
  int max_queries;       /* queries one lookup (with sub-lookups) may send */
  uint16_t edns_size;    /* EDNS payload size advertised; 0: no EDNS */
  int64_t dead_ttl;      /* a server that never answered (all its timeouts, or
                          * unreachable/refused) is asked last for this long,
                          * by every lookup; 0 disables; at most 5 min (RFC 2308 §7.2) */
  bool shuffle;          /* shuffle each NS set with env.rand (else zone order) */
  bool ipv6;             /* also use AAAA glue and addresses */
  bool cache;            /* keep a cache (recursive mode needs it for speed, not correctness) */
  bool done_events_only; /* queue DONE events only (an owner that traces none of
                          * the others); counters are kept all the same */
  bool done_answer_only; /* DONE events carry rrs only: cnames and authority are
                          * NULL (an owner that reads the answer alone) */
  bool done_empty_null;  /* DONE events' cnames and authority are NULL when they
                          * would be empty (no array made for nothing) */
  dns_cache_config cache_cfg;
} dns_res_config;

/* Defaults: recursive, no servers (set them), timeouts {1 s, 2 s},
 * total_timeout 10 s, max_cname 8, max_depth 4, max_queries 64, edns_size
 * 1232, dead_ttl 60 s, no shuffle, IPv4 only, cache on with
 * dns_cache_config_defaults. */
void dns_res_config_defaults(dns_res_config *cfg);

/* The environment: the only source of randomness. RAND returns 64 random
 * bits each call (the host passes the node's stream); USER is passed back.
 * TRACE (may be NULL) receives a line for every state transition of the
 * engine's tasks ("lookup 3 depth 0 example.org. MX: start -> query"), for
 * debugging; it must not call back into the engine. */
typedef struct {
  uint64_t (*rand)(void *user);
  void *user;
  void (*trace)(void *user, const char *line);
} dns_res_env;

/* A new engine. CFG and ENV are copied (the server strings too); a config
 * outside the documented ranges is a bug and aborts. */
dns_res *dns_res_new(const dns_res_config *cfg, const dns_res_env *env);
/* Frees the engine, its cache and all pending work; NULL is a no-op. */
void dns_res_free(dns_res *r);

/* Starts resolving QNAME/QTYPE (class IN) at NOW. Returns the lookup id
 * (1, 2, ... in order). The answer may already be known (a cache hit): then
 * the DONE event is queued before this returns and no action is. If a
 * lookup for the same name and type is in flight, this one joins it: no
 * query is sent, and it completes with the same result right after it. */
uint64_t dns_res_lookup(dns_res *r, const dns_name *qname, uint16_t qtype, int64_t now);

/* Abandons lookup ID: no DONE event follows for it. Its actions are
 * closed, unless other lookups joined it: then the first of those takes
 * its work over. Returns false if ID is not pending. */
bool dns_res_cancel(dns_res *r, uint64_t id, int64_t now);

typedef enum {
  DNS_RES_ACT_UDP,
  DNS_RES_ACT_TCP,
  DNS_RES_ACT_CLOSE,
  DNS_RES_ACT_COUNT
} dns_res_act_kind;
const char *dns_res_act_kind_name(dns_res_act_kind k); /* "udp", "tcp", "close" */

typedef struct {
  dns_res_act_kind kind;
  uint64_t id;     /* action id: 1, 2, ... ; CLOSE names an earlier UDP/TCP action */
  uint64_t lookup; /* the lookup it serves */
  char server[DNS_RES_ADDR_MAX];
  uint16_t port;  /* server port */
  uint16_t sport; /* source port drawn from env.rand (UDP; a hint for TCP) */
  uint16_t qid;
  /* The octets (read them with dns_res_action_bytes): TCP: the query with
   * its two-octet length prefix in DATA; UDP: the datagram in Q (QLEN
   * octets) when it fits, the usual query (no block per query), else in
   * DATA; CLOSE: none. DATA is owned by the action (NULL: none). */
  GBytes *data;
  uint16_t qlen;
  uint8_t q[DNS_RES_QUERY_INLINE];
} dns_res_action;

/* The action's octets (see above) and their count in *LEN: NULL and 0 for
 * CLOSE. Borrowed from ACT: valid while it is, until
 * dns_res_action_clear. */
const uint8_t *dns_res_action_bytes(const dns_res_action *act, size_t *len);

/* Moves the next action into ACT (caller calls dns_res_action_clear).
 * Returns false, ACT untouched, if there is none. */
bool dns_res_next_action(dns_res *r, dns_res_action *act);
void dns_res_action_clear(dns_res_action *act);

/* A datagram for UDP action ID from FROM:FROM_PORT (FROM written as the
 * action's server was, since addresses are compared as text). Ignored (stats.late) if
 * ID is not an open action; dropped if it does not match (see above). An
 * ID naming a TCP action is a bug. */
void dns_res_on_udp(dns_res *r, uint64_t id, const char *from, uint16_t from_port,
                    const uint8_t *data, size_t len, int64_t now);

/* Stream bytes from the connection of TCP action ID, in any split. Ignored
 * if ID is not open. A frame that is not a matching response ends the
 * attempt (the server is skipped). An ID naming a UDP action is a bug. */
void dns_res_on_tcp_bytes(dns_res *r, uint64_t id, const uint8_t *data, size_t len, int64_t now);

typedef enum {
  DNS_RES_NET_UNREACHABLE, /* ICMP unreachable, no route */
  DNS_RES_NET_REFUSED,     /* TCP connection refused */
  DNS_RES_NET_RESET,       /* TCP connection reset */
  DNS_RES_NET_CLOSED,      /* TCP connection closed before the answer */
  DNS_RES_NET_COUNT
} dns_res_net_error;
const char *dns_res_net_error_name(dns_res_net_error e);

/* The host reports that action ID failed: the server is skipped at once.
 * Ignored if ID is not open. */
void dns_res_on_net_error(dns_res *r, uint64_t id, dns_res_net_error why, int64_t now);

/* The earliest time at which dns_res_tick must be called, or INT64_MAX.
 * Costs O(pending lookups), like dns_res_tick. */
int64_t dns_res_deadline(const dns_res *r);
/* Handles every timeout due at NOW (retransmissions, lookup deadlines). */
void dns_res_tick(dns_res *r, int64_t now);

typedef enum {
  DNS_RES_EV_QUERY,     /* a query was sent (an action was queued) */
  DNS_RES_EV_RESPONSE,  /* a matching response arrived */
  DNS_RES_EV_DROPPED,   /* a reply was ignored (mismatch, malformed, wrong source) */
  DNS_RES_EV_TIMEOUT,   /* an attempt timed out */
  DNS_RES_EV_NET_ERROR, /* the host reported a network error */
  DNS_RES_EV_CACHE_HIT, /* a step was answered from the cache */
  DNS_RES_EV_DONE,      /* a lookup completed */
  DNS_RES_EV_COUNT
} dns_res_ev_kind;
const char *dns_res_ev_kind_name(dns_res_ev_kind k); /* "query", "response", ... */

/* One event. Fields beyond kind, t and lookup are set as noted.
 *  QUERY/RESPONSE/DROPPED/TIMEOUT/NET_ERROR: action, qname/qtype (the
 *    question sent), zone (the delegation asked), server_name (may be the
 *    root), server, port, transport, qid;
 *  RESPONSE: rcode, resp (the classification), rrs = the answer section
 *    as received, aa;
 *  DROPPED: reason ("mismatch", "malformed", "source");
 *  NET_ERROR: reason = dns_res_net_error_name;
 *  CACHE_HIT: qname/qtype of the step, rcode (NOERROR or NXDOMAIN), rrs =
 *    the cached RRset (a CNAME for a chain step) with remaining TTLs, or for
 *    a negative entry authority = its SOA;
 *  DONE: qname/qtype of the lookup, rcode (NOERROR, NXDOMAIN or SERVFAIL),
 *    rrs = the final answer RRset(s) (owner = the last name of the CNAME
 *    chain; TTLs remaining when from the cache), cnames = the CNAME records
 *    followed, authority = the SOA of a negative answer (TTL = the negative
 *    TTL; absent if the zone gave none), from_cache (no query was sent),
 *    joined, elapsed (ns since dns_res_lookup), reason (SERVFAIL:
 *    "timeout", "no_servers", "cname_limit", "cname_loop", "query_limit";
 *    else NULL).
 * Lookup ids in events of a sub-lookup (an NS address) are those of the
 * lookup it serves. */
typedef struct {
  dns_res_ev_kind kind;
  int64_t t;
  uint64_t lookup;
  uint64_t action;
  dns_name qname;
  uint16_t qtype;
  dns_name zone;
  dns_name server_name;
  char server[DNS_RES_ADDR_MAX];
  uint16_t port;
  dns_res_transport transport;
  uint16_t qid;
  uint16_t rcode;
  dns_resp_kind resp;
  bool aa;
  const char *reason; /* static string or NULL */
  GArray *rrs;        /* of dns_rr; owned by the event; never NULL */
  GArray *cnames;     /* of dns_rr; owned by the event; never NULL (but see
                       * cfg.done_answer_only and cfg.done_empty_null) */
  GArray *authority;  /* of dns_rr; owned by the event; never NULL (idem) */
  bool from_cache;
  bool joined; /* DONE: shared the result of an identical lookup in flight */
  int64_t elapsed;
} dns_res_event;

/* Moves the next event into EV (caller calls dns_res_event_clear). Returns
 * false, EV untouched, if there is none. Events come in the order they
 * happened. */
bool dns_res_next_event(dns_res *r, dns_res_event *ev);
void dns_res_event_clear(dns_res_event *ev);
/* Gives back RRS (taken from an event of R; NULL: no-op), which R empties
 * and keeps for its next cache read or frees: an owner done with a DONE
 * event's records saves the next lookup an array. */
void dns_res_give_rrs(dns_res *r, GArray *rrs);

/* Builds the response a recursive server sends for query Q from the DONE
 * event EV (R is initialised here; caller clears it): Q's id, question, RD
 * and EDNS, RA set, EV's rcode, the CNAME chain then the final RRsets in
 * the answer section (RFC 1034 §4.3.2 step 3a; RFC 6604), and a negative
 * answer's SOA in the authority section (RFC 2308 §3). */
void dns_res_make_response(const dns_msg *q, const dns_res_event *ev, uint16_t edns_size,
                           dns_msg *r);

/* dns_msg_encode (BUF, LIMIT, FLAGS, RES as there) of the response
 * dns_res_make_response(Q, EV, EDNS_SIZE) builds, without building it:
 * the same octets, no copy of EV's records. Of Q only the header fields
 * and edns are read; its question is QQ (NULL: none), given apart so that
 * a server need not keep or decode Q's arrays to answer. EV's cnames and
 * authority may be NULL (no records). */
dns_err dns_res_encode_response(const dns_msg *q, const dns_question *qq, const dns_res_event *ev,
                                uint16_t edns_size, uint8_t *buf, size_t limit, unsigned flags,
                                dns_enc_result *res);

/* Counters: lookups started / completed / SERVFAIL / answered without a
 * query / joined to one in flight; queries sent (tcp_queries of them over
 * TCP), attempts timed out, network errors reported; replies dropped as
 * mismatched or malformed, for closed actions (late); servers skipped as
 * lame or broken; servers held dead; cache hits (steps). */
typedef struct {
  uint64_t lookups, done, servfail, from_cache;
  uint64_t queries, tcp_queries, timeouts, net_errors;
  uint64_t mismatched, malformed, late, lame, dead_marked;
  uint64_t cache_hits, joined;
} dns_res_stats;

/* Counters since creation (borrowed, valid until the next call). */
const dns_res_stats *dns_res_stats_peek(const dns_res *r);

/* The cache (borrowed; NULL when cfg.cache is off), for inspection. */
dns_cache *dns_res_cache_peek(dns_res *r);

/* Lookups started and not yet completed. */
size_t dns_res_pending(const dns_res *r);

#endif
