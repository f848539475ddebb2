/* mail_tally.h — the run's mail counters, fed by the msg.* writers.
 *
 * Every mail_trace_* call (mail_trace.h) on a host that has a tally
 * (host_set_tally) also counts here, whatever the trace's detail and even
 * with no trace at all, so a run's summary and end record do not depend on
 * what was recorded. Counting is deterministic: it depends only on the
 * order of the calls (simulated time order), never on a clock.
 *
 * Delivery delay: for each msg.deliver of a message that was submitted
 * (msg.submit), the simulated time from its first submission to this
 * storage, one sample per recipient stored. DSNs and messages that entered
 * without a submission count as delivered but give no sample.
 */
#ifndef MAILSIM_MAIL_TALLY_H
#define MAILSIM_MAIL_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_time.h"

typedef struct mail_tally mail_tally;

mail_tally *mail_tally_new(void);
/* NULL is a no-op. */
void mail_tally_free(mail_tally *t);

/* The writers' hooks (MSG is the Message-ID without <>, borrowed). */
void mail_tally_submit(mail_tally *t, const char *msg, size_t nrcpts, sim_time now);
/* CLIENT: deferred by a mail client (its own retry), else by an MTA. */
void mail_tally_defer(mail_tally *t, const char *msg, bool client);
void mail_tally_bounce(mail_tally *t, const char *msg);
void mail_tally_deliver(mail_tally *t, const char *msg, sim_time now);
/* Records that MSG was stored in MAILBOX; true (and one more duplicate
 * counted) if it was stored there before — the same message delivered
 * twice, e.g. after a connection cut between the final dot and its 250
 * (RFC 1047). Not a loss, not a violation. */
bool mail_tally_duplicate(mail_tally *t, const char *msg, const char *mailbox);
void mail_tally_fetch(mail_tally *t);
void mail_tally_fail(mail_tally *t);

typedef struct {
  uint64_t submitted;       /* messages accepted at submission (msg.submit) */
  uint64_t submitted_rcpts; /* their recipients */
  uint64_t delivered;       /* recipients stored in mailboxes (msg.deliver), DSNs included */
  uint64_t deferred;        /* distinct messages an MTA deferred at least once */
  uint64_t retries;         /* deferrals by MTAs (each one schedules another try) */
  uint64_t client_retries;  /* deferrals by mail clients */
  uint64_t bounced;         /* recipients bounced (msg.bounce) */
  uint64_t failed;          /* recipients a mail client gave up (msg.fail) */
  uint64_t fetched;         /* messages downloaded by clients (msg.fetch) */
  uint64_t duplicates;      /* deliveries of a message to a mailbox it was already in */
  uint64_t delay_samples;   /* deliveries with a known submission time */
  uint64_t unsubmitted;     /* deliveries of messages never submitted (DSNs) */
  sim_time delay_p50, delay_p95, delay_max; /* nearest rank; 0 with no sample */
} mail_tally_stats;

/* Fills OUT (sorts the samples; call at the end of a run, or any time). */
void mail_tally_get(mail_tally *t, mail_tally_stats *out);

#endif
