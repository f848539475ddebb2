/* scn_world.h — a loaded scenario turned into a running world.
 *
 * Builds the nodes, addresses, links, traffic applications and scheduled
 * faults of a scenario config, runs the world for the scenario's duration
 * (or until nothing is left to do), writes the trace's header first and its
 * end record last, and summarises the outcome.
 */
#ifndef MAILSIM_SCN_WORLD_H
#define MAILSIM_SCN_WORLD_H

#include <glib.h>

#include "scn.h"
#include "sim_world.h"
#include "trace.h"
#include "trace_check.h"

typedef struct scn_world scn_world;

/* Builds the world of C with SEED (the caller passes c->seed unless
 * overridden). TW may be NULL; it is borrowed. C must outlive the world. */
scn_world *scn_world_build(const scn_config *c, uint64_t seed, trace_writer *tw,
                           sim_detail detail);
void scn_world_free(scn_world *sw);
sim_world *scn_world_sim(scn_world *sw);

/* Called between slices of the run with the simulated time reached, the
 * scenario's end (SIM_TIME_NEVER: until idle) and the events run so far.
 * For progress displays: it must not touch the world. Optional. */
typedef void (*scn_world_progress_fn)(void *user, sim_time now, sim_time end, uint64_t events);
void scn_world_set_progress(scn_world *sw, scn_world_progress_fn fn, void *user);

/* Runs to the end of the scenario and writes the end record. Returns true
 * if every stream of the scenario arrived complete and intact. */
bool scn_world_run(scn_world *sw);

/* The invariants checked on the run's records (traces/CHECK.md): complete
 * once scn_world_run returned. Borrowed. With TW NULL the world still
 * makes its msg.* records, into a null writer, for this check. */
const trace_check *scn_world_check(const scn_world *sw);

/* Messages accepted at submission so far (for rates). */
uint64_t scn_world_submitted(scn_world *sw);

/* Appends a human summary (several lines) of the finished run to OUT. */
void scn_world_summary(const scn_world *sw, GString *out);

#endif
