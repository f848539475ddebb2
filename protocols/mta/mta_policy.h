/* mta_policy.h — the load and loop limits an MTA applies to its clients,
 * and the trace field it adds to every message it accepts.
 *
 *   sessions: at most max_sessions at once; one more gets 421 4.7.0 and
 *             the connection closes (RFC 5321 §3.8, §4.2.2 421 "closing");
 *   rate:     at most rate_limit events (e.g. messages, counted at MAIL)
 *             per client in any sliding window of rate_window; one more
 *             gets 450 4.7.1 (RFC 3463 X.7.1, Postfix anvil's
 *             smtpd_client_message_rate_limit);
 *   hops:     more than max_hops Received fields → 554 5.4.0 "too many
 *             hops" (RFC 5321 §6.3 loop detection; Postfix hopcount_limit 50);
 *   Received: RFC 5321 §4.4 time stamp with the RFC 3848 with-clause.
 * Time is passed in; nothing reads a clock. Rejected events are not
 * counted against the window.
 */
#ifndef MAILSIM_MTA_POLICY_H
#define MAILSIM_MTA_POLICY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime_trace.h"

typedef struct mta_policy mta_policy;

typedef struct {
  unsigned max_sessions; /* concurrent sessions; 0 = no limit */
  unsigned rate_limit;   /* events per client per window; 0 = no limit */
  int64_t rate_window;   /* ns (Postfix anvil_rate_time_unit 60 s) */
  unsigned max_hops;     /* Received fields allowed (Postfix hopcount_limit 50) */
} mta_policy_config;

/* Defaults: 100 sessions (Postfix default_process_limit), no rate limit,
 * a 60 s window, 50 hops. */
void mta_policy_config_init(mta_policy_config *cfg);

mta_policy *mta_policy_new(const mta_policy_config *cfg);
void mta_policy_free(mta_policy *p);

/* A refusal: code 0 means accepted. Strings are static. */
typedef struct {
  int code;
  const char *esc;
  const char *text;
} mta_policy_verdict;

/* A connection arrives: true and counted (end it with
 * mta_policy_session_end), or false with 421 4.7.0 in *V. */
bool mta_policy_session_begin(mta_policy *p, mta_policy_verdict *v);
void mta_policy_session_end(mta_policy *p); /* asserts a session is open */
unsigned mta_policy_sessions(const mta_policy *p);

/* A rate-limited event from CLIENT (its address) at NOW: true and counted
 * when fewer than rate_limit events were accepted in (NOW − window, NOW];
 * else false with 450 4.7.1 in *V. NOW must not go backwards per client
 * (asserted). */
bool mta_policy_rate(mta_policy *p, const char *client, int64_t now, mta_policy_verdict *v);
/* When CLIENT may next be accepted (NOW if now). */
int64_t mta_policy_rate_next(const mta_policy *p, const char *client, int64_t now);
/* Forgets clients with no event in the window ending at NOW. */
void mta_policy_prune(mta_policy *p, int64_t now);
size_t mta_policy_clients(const mta_policy *p);

/* Received fields in the header of MSG (lines starting "Received:" in any
 * case, up to the first empty line; folded continuations not counted):
 * mta_policy_scan_header's count. */
unsigned mta_policy_count_received(const uint8_t *msg, size_t len);
/* true when MSG has at most max_hops Received fields; else false with
 * 554 5.4.0 in *V. */
bool mta_policy_hops(const mta_policy *p, const uint8_t *msg, size_t len, mta_policy_verdict *v);
/* mta_policy_hops on a count the caller has (mta_policy_scan_header). */
bool mta_policy_hops_of(const mta_policy *p, unsigned received, mta_policy_verdict *v);

/* What the MTA reads of a message's header at DATA, in one pass. */
typedef struct {
  unsigned received; /* Received fields, as mta_policy_count_received says */
  /* The first Message-ID field's value as written (after the colon to its
   * last line's end, folding kept; a view into the message), as
   * mime_hdr_scan_get(MSG, LEN, 0, "Message-ID") finds it (fields end at
   * the empty line or the first line that is not one); NULL when none. */
  const char *msgid;
  size_t msgid_len;
} mta_policy_header;
/* Reads both from MSG (LEN octets) into *OUT (issue #6: the header was
 * scanned three times a hop). */
void mta_policy_scan_header(const uint8_t *msg, size_t len, mta_policy_header *out);

/* The RFC 3848 with-clause: "SMTP" (HELO), "ESMTP" (EHLO), +"S" with TLS,
 * +"A" with AUTH ("ESMTPSA"); "LMTP", "LMTPS", "LMTPA", "LMTPSA" for LMTP. */
const char *mta_policy_with(bool lmtp, bool ehlo, bool tls, bool auth);

/* The Received field for a session: R with its `with` taken from the flags
 * (R->with is ignored). Returns a new string (see mime_trace_received), or
 * NULL when R is refused. */
char *mta_policy_received(const mime_received *r, bool lmtp, bool ehlo, bool tls, bool auth);
/* The same into BUF when it fits (mime_trace_received_buf): the caller
 * frees a result that is not BUF. */
char *mta_policy_received_buf(const mime_received *r, bool lmtp, bool ehlo, bool tls, bool auth,
                              char *buf, size_t bufsz);

#endif
