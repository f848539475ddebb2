/* mta_retry.h — when to try a deferred message again, and when to give up,
 * following the documented default behaviour of three real MTAs.
 *
 * Times are int64 nanoseconds of simulated time. Every rule below names its
 * source; the arithmetic is done in whole seconds where the real MTA does it
 * in time_t, so the schedules match theirs to the second.
 *
 * postfix (the default) — Postfix ≥ 2.4, src/qmgr/qmgr_active.c and
 *   postconf(5):
 *   - a new message is tried at once (incoming queue);
 *   - after an attempt at T that leaves recipients deferred: if
 *     T >= arrival + maximal_queue_lifetime (5 d; bounce_queue_lifetime 5 d
 *     for a null-sender message) the message expires and bounces
 *     (qmgr_active_done_25_generic); otherwise the queue file's time stamp
 *     is set to T + delay with delay = clamp(T − arrival,
 *     minimal_backoff_time 300 s, maximal_backoff_time 4000 s)
 *     (qmgr_active_done_3_generic: "we look at actual time in queue, not
 *     time since last delivery attempt");
 *   - the deferred queue is scanned every queue_run_delay (300 s); a file
 *     is taken when its stamp is at most one second in the future
 *     (qmgr_active_feed: skip when st_mtime > time() + 1);
 *   - delay_warning_time is 0 (off) by default.
 * exim — Exim 4 spec ch. 32 "Retry configuration", src/retry.c retry_update,
 *   default rule `* * F,2h,15m; G,16h,1h,1.5; F,4d,6h`:
 *   - the rule in force is the first whose cutoff is >= the failing time
 *     (for a per-message model: the message's age);
 *   - F,cutoff,i: next = T + i;
 *   - G,cutoff,i,m: lastgap = min(previous predicted gap, actual gap);
 *     next = T + (lastgap < i ? i : lastgap·m) (integer seconds, m in
 *     thousandths, as retry.c computes it);
 *   - the gap is capped by retry_interval_max (24 h);
 *   - delay_warning 24h (repeated every 24 h: the last item of the time
 *     list repeats);
 *   - past the last cutoff the address times out at that attempt: bounce.
 *   Retry times are earliest times: with queue_run > 0 (Debian's
 *   QUEUEINTERVAL is 30m) the attempt happens at the first queue run at or
 *   after them. The profile's default queue_run is 0 (attempt exactly at
 *   the retry time), which gives the rule's own table.
 * opensmtpd — OpenSMTPD usr.sbin/smtpd/scheduler_ramqueue.c and smtpd.h,
 *   smtpd.conf(5):
 *   - an envelope of retry count n is scheduled at arrival + 400·n² s
 *     (BACKOFF_TRANSFER; scheduler_next skips steps already in the past);
 *   - it expires at arrival + ttl ("queue ttl", default 4d, SMTPD_QUEUE_EXPIRY)
 *     whether or not an attempt is due then: no attempt, bounce at that
 *     instant (rq_queue_schedule);
 *   - "bounce warn-interval" default 4h (recorded, not acted upon here).
 */
#ifndef MAILSIM_MTA_RETRY_H
#define MAILSIM_MTA_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MTA_SEC INT64_C(1000000000)
#define MTA_MIN (60 * MTA_SEC)
#define MTA_HOUR (3600 * MTA_SEC)
#define MTA_DAY (86400 * MTA_SEC)

typedef enum {
  MTA_RETRY_POSTFIX,
  MTA_RETRY_EXIM,
  MTA_RETRY_OPENSMTPD,
  MTA_RETRY__COUNT
} mta_retry_kind;
/* "postfix", "exim", "opensmtpd". */
const char *mta_retry_kind_name(mta_retry_kind k);
/* Parses a name given by mta_retry_kind_name; false when unknown. */
bool mta_retry_kind_parse(const char *name, mta_retry_kind *out);

/* One Exim retry rule item: F (fixed) or G (geometric). */
typedef struct {
  char algo;           /* 'F' or 'G' */
  int64_t cutoff;      /* applies while the failing time is <= cutoff */
  int64_t interval;    /* F: the interval; G: the starting (minimum) interval */
  uint32_t mult_milli; /* G: multiplier × 1000 (1.5 → 1500) */
} mta_retry_rule;

#define MTA_RETRY_MAX_RULES 8

/* A profile: plain data, filled by mta_retry_profile_init, then adjustable. */
typedef struct {
  mta_retry_kind kind;
  int64_t queue_run;       /* period of the queue runner; 0 = attempt exactly when due */
  int64_t queue_run_phase; /* the runner fires at phase + k·queue_run */
  int64_t scan_slack;      /* postfix: a file stamped up to this far ahead is taken (1 s) */
  int64_t lifetime;        /* postfix maximal_queue_lifetime, opensmtpd ttl; exim: last cutoff */
  int64_t bounce_lifetime; /* the same for a null-sender message (postfix bounce_queue_lifetime) */
  int64_t delay_warning;   /* first "still delayed" DSN after this age; 0 = off */
  bool delay_warning_repeat; /* exim: then again every delay_warning */
  /* postfix */
  int64_t min_backoff, max_backoff;
  /* exim */
  mta_retry_rule rules[MTA_RETRY_MAX_RULES];
  unsigned nrules;
  int64_t retry_interval_max;
  /* opensmtpd */
  int64_t backoff_base; /* 400 s for relaying (BACKOFF_TRANSFER) */
  /* Outbound concurrency (the profile's MTA, not its retry rules): at
   * most PROCESS_LIMIT deliveries at once in all, DEST_CONCURRENCY to one
   * next hop. postfix: default_process_limit 100 (the smtp transport's
   * maxproc), default_destination_concurrency_limit 20; exim: queue_run_max
   * 5 runners x remote_max_parallel 4 (globals.c), no per-destination
   * limit; opensmtpd: limit.c maxconn_per_source 100 (one source address)
   * and maxconn_per_host 10. */
  unsigned process_limit;
  unsigned dest_concurrency;
} mta_retry_profile;

/* The documented defaults of KIND (see the top of this file). */
void mta_retry_profile_init(mta_retry_profile *p, mta_retry_kind kind);

/* Parses an Exim retry rule list ("F,2h,15m; G,16h,1h,1.5; F,4d,6h",
 * spec ch. 32: items separated by ';', F,cutoff,interval or
 * G,cutoff,interval,multiplier; times are digits with w/d/h/m/s units,
 * combinable as in "1h30m"; cutoffs strictly increasing) into P's rules
 * and lifetime (the last cutoff). Returns false with *ERR set (a new
 * string) and P unchanged on any error; at most MTA_RETRY_MAX_RULES items. */
bool mta_retry_exim_rules_parse(mta_retry_profile *p, const char *text, char **err);

/* Per-message retry memory (Exim's G rule needs the previous gap). Zero it
 * when the message is queued; the functions below keep it. 16 bytes. */
typedef struct {
  int64_t last_try; /* time of the last failed attempt */
  int64_t next_try; /* the retry time computed then (before queue-run rounding) */
} mta_retry_state;

/* Does P write a retry memory (mta_retry_state) between attempts? Only
 * Exim's profile does (its retry record); the others leave it zero. */
bool mta_retry_keeps_state(const mta_retry_profile *p);

typedef enum {
  MTA_RETRY_DEFER,  /* try again at *next */
  MTA_RETRY_BOUNCE, /* give up now: the attempt just made was the last */
  MTA_RETRY_EXPIRE, /* no further attempt: bounce at *next (opensmtpd ttl) */
  MTA_RETRY_VERDICT__COUNT
} mta_retry_verdict;
const char *mta_retry_verdict_name(mta_retry_verdict v);

/* After a failed attempt at NOW (some recipients deferred). ARRIVAL is when
 * the message was queued, ATTEMPTS the attempts made so far including this
 * one (>= 1; the first attempt resets ST), NULL_SENDER selects the bounce
 * lifetime where the MTA has one. Stores the time of the next attempt (or
 * of the expiry) in *NEXT, always >= NOW, and returns the verdict. */
mta_retry_verdict mta_retry_after_failure(const mta_retry_profile *p, mta_retry_state *st,
                                          int64_t arrival, unsigned attempts, bool null_sender,
                                          int64_t now, int64_t *next);

/* Has a queued message of ARRIVAL expired at NOW without a further attempt?
 * True only for profiles that expire on a timer (opensmtpd); postfix and
 * exim decide after an attempt. */
bool mta_retry_expired(const mta_retry_profile *p, int64_t arrival, bool null_sender, int64_t now);

/* When the delay warning number WARNED + 1 (RFC 3464 Action: delayed) of a
 * message that arrived at ARRIVAL falls due, or INT64_MAX for none:
 * postfix delay_warning_time (0 = off by default, one warning), exim
 * delay_warning (24h, repeated), opensmtpd "bounce warn-interval" (4h,
 * one). Postfix checks it after an attempt, the others on a timer; the
 * caller decides when to look. */
int64_t mta_retry_warning_at(const mta_retry_profile *p, int64_t arrival, unsigned warned);

/* The first queue-runner time at or after T (T itself when queue_run is 0). */
int64_t mta_retry_queue_run_at(const mta_retry_profile *p, int64_t t);

/* The whole schedule of a message that arrives at ARRIVAL and whose every
 * attempt fails instantly: attempt times (the first is ARRIVAL) written to
 * TIMES (at most MAX), the count returned, the bounce time in *BOUNCE_AT.
 * For tables and documentation. */
size_t mta_retry_schedule(const mta_retry_profile *p, int64_t arrival, bool null_sender,
                          int64_t *times, size_t max, int64_t *bounce_at);

#endif
