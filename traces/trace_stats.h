/* trace_stats.h — research statistics of a trace, in one pass: what
 * `mailsim stats` prints and plots.
 *
 * Inputs are the msg.* records (hosts/mail_trace.h), policy.greylist and
 * the dns.* records (traces/FORMAT.md). Every number is an integer (times
 * in ns, counts); ratios reach output as fixed decimals computed with
 * integer arithmetic (trace_stats_fixed), so the output is the same on
 * every build. Definitions (also in traces/STATS.md):
 *
 * - Messages: every Message-ID named by a msg.* record (user mail and the
 *   DSNs the MTAs generate). Recipients: the distinct (msg, rcpt) pairs
 *   named anywhere (rcpts arrays and "rcpt" keys).
 * - Origin of a message: its first msg.submit; else its msg.compose; else
 *   its first msg.queue (a message generated inside an MTA, e.g. a DSN).
 * - Delivery delay: one sample per msg.deliver record, its t minus the
 *   message's origin (records before any origin give no sample). The CDF
 *   is the sorted samples; percentiles use the nearest-rank method
 *   (the smallest sample with at least p % of samples <= it).
 * - Hop delay: for each transfer record (msg.submit, msg.relay,
 *   msg.deliver, msg.fetch), the time since the message reached the node
 *   it leaves: for submit/relay the latest arrival at "from" (compose,
 *   submit or relay into it, or its msg.queue for generated messages); for
 *   deliver the latest arrival at "node"; for fetch the msg.deliver at
 *   "from" into the same mailbox (else the latest msg.deliver at "from").
 *   Grouped by (kind, from node, to node) in order of first appearance.
 * - Retries: the msg.defer records of a message (every node, every
 *   recipient); histogram: number of messages with k retries.
 * - Queue length of an MTA (a node with a msg.queue record): +1 at each
 *   msg.queue, -1 at the msg.expire of the same (node, queue_id).
 * - Greylisting: a msg.defer whose reason contains "4.2.0" or "greylist"
 *   (ASCII case-insensitive) opens a wait for (msg, rcpt, node); the next
 *   msg.submit/msg.relay of that msg from that node carrying rcpt closes
 *   it: delay added = that t minus the first greylisted defer's t. A
 *   msg.bounce for it, or the trace's end, leaves it unresolved.
 *   policy.greylist records with a "pass-delayed" verdict ("verdict" or
 *   "result" key) and an integer "waited" (ns) are a second source.
 * - DNS cache, per node: hits = dns.cache_hit records of the node,
 *   queries = dns.query records it sent ("from" = node; every upstream
 *   attempt that arrived, TCP retries included), timeouts = its
 *   dns.timeout records; hit rate = hits / (hits + queries). Nodes that
 *   neither sent a query nor hit their cache are not listed.
 */
#ifndef MAILSIM_TRACE_STATS_H
#define MAILSIM_TRACE_STATS_H

#include <glib.h>
#include <stdint.h>

#include "trace_read.h"

/* Summary of a sample of int64 values. n = 0: every other field is 0. */
typedef struct {
  uint64_t n;
  int64_t min, p50, p95, max;
  int64_t mean; /* integer mean, rounded toward zero */
} trace_stats_summary;

typedef struct {
  const char *msg, *rcpt, *node; /* node: where it was stored */
  int64_t t, delay;              /* ns */
} trace_stats_delivery;

/* One hop group: a kind of transfer between two nodes. */
typedef struct {
  const char *kind;      /* "submit", "relay", "deliver", "fetch" */
  const char *from, *to; /* deliver: both the storing node */
  GArray *delays;        /* int64_t, in trace order */
  trace_stats_summary sum;
} trace_stats_hop;

/* One hop sample. */
typedef struct {
  const trace_stats_hop *hop; /* its group (borrowed from trace_stats.hops) */
  const char *msg;
  int64_t t, delay; /* t: the transfer record's time */
} trace_stats_hop_sample;

typedef struct {
  const char *msg;
  int64_t origin;          /* ns; -1 when unknown */
  const char *origin_kind; /* "submit", "compose", "queue" or "" (static) */
  uint32_t rcpts, delivered, bounced, failed;
  uint32_t retries; /* msg.defer records */
} trace_stats_msg;

typedef struct {
  int64_t t;
  int64_t len; /* queue length after the changes at t */
} trace_stats_point;

typedef struct {
  const char *node;
  GArray *curve;      /* trace_stats_point, one per time the length changed */
  int64_t peak, last; /* largest length in curve, and the final one */
  int64_t mean_milli; /* time-weighted mean length x 1000 over [0, end] */
  uint64_t unmatched; /* msg.expire without an open msg.queue */
} trace_stats_queue;

typedef struct {
  const char *msg, *rcpt, *node; /* node: the one that was deferred */
  int64_t t;                     /* first greylisted defer */
  int64_t delay;                 /* ns added; -1 unresolved */
} trace_stats_grey;

typedef struct {
  const char *node;
  uint64_t hits, queries, timeouts;
} trace_stats_dns;

/* Every string in the structures below is interned in NAMES (one copy of
 * each node, message and recipient name), owned by the trace_stats. */
typedef struct {
  GStringChunk *names;
  int64_t end;                         /* t of the last record (0 if none) */
  uint64_t records;                    /* event records read */
  uint64_t messages, recipients;       /* see above */
  uint64_t delivered, bounced, failed; /* distinct (msg, rcpt) pairs */
  uint64_t deferrals, dsns;            /* msg.defer records; DSN ids named by msg.bounce */
  GPtrArray *msgs;                     /* trace_stats_msg*, in order of first appearance */
  GPtrArray *deliveries;               /* trace_stats_delivery*, in trace order */
  GArray *delays;                      /* int64_t: the delivery delays, sorted (the CDF) */
  trace_stats_summary delay;
  GPtrArray *hops;              /* trace_stats_hop* */
  GPtrArray *hop_samples;       /* trace_stats_hop_sample*, in trace order */
  GArray *retry_hist;           /* uint64_t: [k] = messages with k retries */
  GPtrArray *queues;            /* trace_stats_queue*, in order of first msg.queue */
  GPtrArray *grey;              /* trace_stats_grey*, in order of first defer */
  uint64_t grey_defers;         /* greylisted msg.defer records */
  trace_stats_summary grey_sum; /* of the resolved greylist delays */
  GArray *grey_policy;          /* int64_t: "waited" of pass-delayed policy.greylist */
  trace_stats_summary grey_policy_sum;
  GPtrArray *dns;                               /* trace_stats_dns*, in order of first appearance */
  uint64_t dns_hits, dns_queries, dns_timeouts; /* totals */
} trace_stats;

/* Reads R to its end and computes the statistics. NAME names the trace in
 * error messages ("NAME:LINE: ..."). NULL with *ERR (TRACE_READ_ERROR) on a
 * read error or a msg.* record lacking a key it needs. The result is
 * owned by the caller (trace_stats_free). */
trace_stats *trace_stats_read(trace_reader *r, const char *name, GError **err);
void trace_stats_free(trace_stats *s);

/* Nearest-rank percentile P (0..100) of SORTED[0..N-1] (N > 0). */
int64_t trace_stats_percentile(const int64_t *sorted, size_t n, unsigned p);
/* Summary of N values (any order; V is not modified). */
trace_stats_summary trace_stats_summarize(const int64_t *v, size_t n);
/* Appends NUM/DEN as a decimal with DECIMALS digits, rounded half up
 * (NUM >= 0, DEN > 0; "0.000"-style "-" when DEN == 0). Integer only. */
void trace_stats_fixed(GString *out, uint64_t num, uint64_t den, unsigned decimals);
/* Appends a duration in seconds with 3 decimals ("12.345"), rounded half
 * away from zero. */
void trace_stats_seconds(GString *out, int64_t ns);

/* The text summary (what `mailsim stats` prints). */
void trace_stats_write_text(const trace_stats *s, GString *out);
/* The CSV rows (header first; columns in traces/STATS.md):
 * section,key,node,peer,msg,rcpt,t_ns,value */
void trace_stats_write_csv(const trace_stats *s, GString *out);

#endif
