/* sim_sched_int.h — internals of sim_sched shared with its tests. */
#ifndef MAILSIM_SIM_SCHED_INT_H
#define MAILSIM_SIM_SCHED_INT_H

#include "sim_sched.h"

/* The scheduler's clock, for inlined reads of now (sim_world_int.h); valid
 * until sim_sched_free. */
const sim_time *sim_sched__clock(const sim_sched *s);
/* Lowers the sequence limit at which pending events are renumbered
 * (normally 2^38), so tests can exercise renumbering. */
void sim_sched__set_seq_limit(sim_sched *s, uint64_t limit);
/* Sets the queue sizes (entries, cancelled included) at which the queue
 * moves from the 4-ary heap to the radix heap (ON) and back (below OFF);
 * OFF < ON. ON = 1, OFF = 0 keeps it a radix heap once anything is queued. */
void sim_sched__set_radix_limits(sim_sched *s, size_t on, size_t off);
/* Lowers the delay from which events may wait in a lane (normally 1 s),
 * so tests can exercise lanes with short delays. */
void sim_sched__set_lane_min(sim_sched *s, sim_time min);
/* Sets the delay below which events may go to a run (normally 50 ms); 0:
 * no runs, every event in the heap or radix heap. */
void sim_sched__set_run_max(sim_sched *s, sim_time max);
/* Entries in the runs, heads included. */
size_t sim_sched__run_entries(const sim_sched *s);
/* Entries waiting in lanes behind their heads (not in the heap). */
size_t sim_sched__lane_waiting(const sim_sched *s);
/* How many times cancelled entries were dropped in bulk (compaction). */
size_t sim_sched__compactions(const sim_sched *s);
/* Whether the entries are in the radix heap now. */
bool sim_sched__is_radix(const sim_sched *s);
/* Entries the radix heap's bucket arrays have room for (their capacity). */
size_t sim_sched__bucket_room(const sim_sched *s);

#endif
