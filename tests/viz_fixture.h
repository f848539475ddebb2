/* viz_fixture.h — a synthetic journey trace for the viewer's tests and
 * benchmark, written with the trace writer in the records of the mail
 * layers' draft (notes/TRACE-EVENTS-DRAFT.md): compose, submission over
 * SMTP with STARTTLS, an MX lookup, relay, greylisting and a deferral, a
 * link fault, the retry, delivery, an IMAP fetch and display.
 *
 * Topology (latencies): laptop.alice.example -5ms- r1; msa.alice.example,
 * relay.alice.example, ns.example, mx.bob.example, imap.bob.example
 * -1ms- r1; phone.bob.example -2ms- r1 (link 6, down 100 s..260 s).
 */
#ifndef MAILSIM_VIZ_FIXTURE_H
#define MAILSIM_VIZ_FIXTURE_H

#include <stdint.h>

#include "trace.h"

#define FIX_MS INT64_C(1000000)
#define FIX_S INT64_C(1000000000)
/* Time one journey spans (its events lie in [t0, t0 + FIX_JOURNEY_SPAN)). */
#define FIX_JOURNEY_SPAN (500 * FIX_S)

enum {
  FIX_ROLES = 1, /* a "roles" object in the header */
  FIX_POS = 2,   /* a "pos" object in the header */
};
void viz_fixture_header(trace_writer *tw, unsigned flags);
/* One journey of message KEY starting at T0; connection ids from
 * CONN_BASE + 1 upward (uses 8). */
void viz_fixture_journey(trace_writer *tw, const char *key, int64_t t0, uint64_t conn_base);
/* Header (FLAGS) + one journey of "m1" at 1 s + "end": the tests' trace. */
char *viz_fixture_trace_flags(unsigned flags, size_t *len);
/* The same with FIX_ROLES. */
char *viz_fixture_trace(size_t *len);

#endif
