/* sim_sched_int.h — internals of sim_sched shared with its tests. */
#ifndef MAILSIM_SIM_SCHED_INT_H
#define MAILSIM_SIM_SCHED_INT_H

#include "sim_sched.h"

/* Lowers the sequence limit at which pending events are renumbered
 * (normally 2^38), so tests can exercise renumbering. */
void sim_sched__set_seq_limit(sim_sched *s, uint64_t limit);

#endif
