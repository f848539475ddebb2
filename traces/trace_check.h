/* trace_check.h — the mail invariants, checked on trace records.
 *
 * One checker for both uses: the simulator feeds it every record as it is
 * written (trace_writer_set_tap: the end record then carries what it
 * found), and `mailsim check-trace` feeds it the records of a trace file.
 * Both see the same records in the same order, so they report the same
 * violations, word for word. The invariants and exactly what is checked
 * are in traces/CHECK.md:
 *
 *   no-loss, bounce-of-bounce, delivery-after-bounce, wrong-mailbox,
 *   uid-order, lifetime, hop-limit, liveness.
 *
 * Only header, msg.*, fault.* and end records matter, so the result does
 * not depend on the trace's detail (event ids do: each violation names the
 * ids of its own file). Bad input never aborts: a record missing a key the
 * check needs is skipped.
 */
#ifndef MAILSIM_TRACE_CHECK_H
#define MAILSIM_TRACE_CHECK_H

#include <cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
  TRACE_CHECK_NO_LOSS,
  TRACE_CHECK_BOUNCE_OF_BOUNCE,
  TRACE_CHECK_DELIVERY_AFTER_BOUNCE,
  TRACE_CHECK_WRONG_MAILBOX,
  TRACE_CHECK_UID_ORDER,
  TRACE_CHECK_LIFETIME,
  TRACE_CHECK_HOP_LIMIT,
  TRACE_CHECK_LIVENESS,
  TRACE_CHECK__COUNT
} trace_check_invariant;
/* "no-loss", "bounce-of-bounce", "delivery-after-bounce", "wrong-mailbox",
 * "uid-order", "lifetime", "hop-limit", "liveness". */
const char *trace_check_invariant_name(trace_check_invariant inv);

#define TRACE_CHECK_MAX_IDS 3

/* One violation; owned by the checker. */
typedef struct {
  trace_check_invariant inv;
  char *msg;                         /* the Message-ID (without <>) */
  char *hosts;                       /* the node names involved, comma-separated */
  uint64_t ids[TRACE_CHECK_MAX_IDS]; /* the events that show it, in file order */
  unsigned nids;
  char *text; /* one line, starting with the invariant's name and ": " */
} trace_check_violation;

typedef struct trace_check trace_check;

/* How long after healing (and after the retry schedule's longest wait,
 * twice) a message may still sit in a queue: connection and DNS timeouts,
 * the transfer itself. See CHECK.md "liveness". */
#define TRACE_CHECK_SLACK_NS (INT64_C(15) * 60 * 1000000000)
/* The longest retry wait assumed when msg.queue does not say (postfix:
 * maximal_backoff_time 4000 s plus a queue run of 300 s and its rounding). */
#define TRACE_CHECK_DEFAULT_GAP_NS (INT64_C(4600) * 1000000000)

trace_check *trace_check_new(void);
/* NULL is a no-op. */
void trace_check_free(trace_check *tc);

/* The header record (node roles). Optional; call before any event. */
void trace_check_header(trace_check *tc, const cJSON *header);
/* One event record, in file order. The "end" record finishes the check at
 * its time (unless trace_check_finish was called already) and keeps its
 * "violations" array (what the run itself reported). */
void trace_check_feed(trace_check *tc, const cJSON *rec);
/* A record's text (without its newline), header or event: reads the
 * records that matter (header, msg.submit, relay, queue, defer, bounce,
 * deliver and expire, fault.*, end) and feeds them, through trace_rec's
 * scanner (no cJSON tree; a line the scanner declines is parsed in full).
 * For a writer's tap (trace.h); ignores what it cannot parse. */
void trace_check_feed_line(trace_check *tc, const char *line, size_t len);
/* What NODE's queue holds at the end (its queue ids, N of them): from the
 * end record's "queues" (offline) or the MTAs themselves (online), before
 * trace_check_finish. An entry the trace leaves open whose host does not
 * hold it was lost (no-loss). Without this call, open entries are taken to
 * be still queued. */
void trace_check_end_queue(trace_check *tc, const char *node, const char *const *queue_ids,
                           size_t n);
/* Ends the check at END (the time the run ended): the end-of-run rules
 * (no-loss of unqueued mail, lifetime, liveness). Later calls and a later
 * end record change nothing. */
void trace_check_finish(trace_check *tc, int64_t end);
bool trace_check_finished(const trace_check *tc);

size_t trace_check_count(const trace_check *tc);
/* The I-th violation in the order found (I < count); borrowed. */
const trace_check_violation *trace_check_at(const trace_check *tc, size_t i);
/* Why liveness was not checked for some queued message, or NULL when it
 * was checked wherever it applied (borrowed; e.g. "mx1 still crashed at
 * the end"). */
const char *trace_check_liveness_note(const trace_check *tc);
/* Messages (queue entries) seen accepted by an MTA or mailbox host. */
uint64_t trace_check_accepted(const trace_check *tc);

/* The end record's "violations" (what the run reported), or NULL when the
 * trace had no end record or it had no such key; borrowed. */
const GPtrArray *trace_check_reported(const trace_check *tc);
/* True when the re-check found exactly the violations the end record
 * reported (same texts, same order); also true when the end record
 * reported none because it had no mail and none were found. */
bool trace_check_agrees(const trace_check *tc);

/* Checks the trace at PATH ("-" = standard input): reads every record,
 * finishes at the end record (or, with none, at the last record's time).
 * NULL with *ERR set when the trace cannot be read (the reader's error). */
trace_check *trace_check_file(const char *path, GError **err);

#endif
