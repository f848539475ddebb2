/* sim_sched.h — the event queue and clock of one world.
 *
 * Events are ordered by (time, insertion sequence): equal times run in the
 * order they were scheduled (FIFO), which makes the order a documented total
 * order independent of the data structure. Scheduling in the past is a bug
 * and aborts. Cancelling is lazy: the entry stays in the queue, its callback
 * is forgotten, and it is skipped when it reaches the front.
 *
 * Structure (chosen by measurement, see bench/README.md): 16-byte entries
 * (time, sequence<<26 | slot) with callbacks in a slab, kept in a 4-ary
 * heap while fewer than ~8k are queued and in a radix heap above (simulated
 * time is monotone); the heap fuses pop and push — the popped root stays a
 * hole until the callback either schedules (the new event drops into the
 * hole: one sift instead of two) or returns. Events scheduled a fixed
 * delay of 1 s or more ahead wait in a FIFO per delay ("lanes") with only
 * its head in the heap. Events less than 50 ms ahead (packets in flight)
 * go, when one takes them, to one of four FIFOs in (time, sequence) order
 * ("runs") kept beside the heap: the front is the smaller of the heap's
 * root and the first run head, so most events never enter the heap.
 *
 * Callbacks may schedule, cancel and stop; they must not call run/step.
 */
#ifndef MAILSIM_SIM_SCHED_H
#define MAILSIM_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_time.h"

typedef void (*sim_event_fn)(void *a, void *b);
/* Identifies a scheduled event; 0 is never a valid id. */
typedef uint64_t sim_event_id;

typedef struct sim_sched sim_sched;

typedef enum {
  SIM_RUN_IDLE,    /* no event left */
  SIM_RUN_UNTIL,   /* the next event is later than the limit */
  SIM_RUN_STOPPED, /* sim_sched_stop() was called */
} sim_run_result;

sim_sched *sim_sched_new(void);
void sim_sched_free(sim_sched *s);

sim_time sim_sched_now(const sim_sched *s);
/* Schedules FN(A, B) at time T >= now. Returns its id. */
sim_event_id sim_sched_at(sim_sched *s, sim_time t, sim_event_fn fn, void *a, void *b);
/* Schedules at now + DELAY (DELAY >= 0; saturates at SIM_TIME_NEVER). */
sim_event_id sim_sched_after(sim_sched *s, sim_time delay, sim_event_fn fn, void *a, void *b);
/* Cancels a pending event. Returns false if ID already ran, was cancelled or
 * is 0. */
bool sim_sched_cancel(sim_sched *s, sim_event_id id);
/* Number of pending (not cancelled) events. */
size_t sim_sched_pending(const sim_sched *s);
/* Time of the earliest pending event, SIM_TIME_NEVER if none. */
sim_time sim_sched_next_time(sim_sched *s);
/* Total events run. */
uint64_t sim_sched_executed(const sim_sched *s);

/* An external source of events kept outside the queue (a scenario's
 * traffic: thousands of messages whose times are known in advance, with
 * no entry, slot or callback record each until they are due). FN(CTX)
 * runs the source's event due now and returns the time of its next one
 * (>= now, SIM_TIME_NEVER when it has no more). The source's events are
 * ordered as if all of them had been scheduled at the moment of this call,
 * one after the other in the source's own order: at equal times they run
 * after the events scheduled before this call and before every event
 * scheduled after it — the order sim_sched_at calls would have given, so a
 * world built either way runs the same events in the same order. FIRST is
 * the time of its first event (>= now; SIM_TIME_NEVER: none). One source
 * per scheduler, set once. While it has an event it counts as one pending
 * event (sim_sched_pending) and its time is seen by sim_sched_next_time. */
typedef sim_time (*sim_source_fn)(void *ctx);
void sim_sched_set_source(sim_sched *s, sim_time first, sim_source_fn fn, void *ctx);

/* Runs events with time <= UNTIL in order. Returns SIM_RUN_UNTIL when the
 * next event is later than UNTIL (the clock is then set to UNTIL),
 * SIM_RUN_IDLE when none is left (the clock stays at the last event run, so
 * a caller can tell when the world went quiet), SIM_RUN_STOPPED after
 * stop(). */
sim_run_result sim_sched_run(sim_sched *s, sim_time until);
/* Runs the single next event, if any. Returns false when idle. */
bool sim_sched_step(sim_sched *s);
/* Makes run() return after the current callback. */
void sim_sched_stop(sim_sched *s);

#endif
