/* scn_live.h — a scenario world driven from outside: live mode's gateways,
 * inputs and journal, shared by `mailsim serve` (real sockets) and
 * `mailsim replay` (the journal, no sockets).
 *
 * The caller runs the world in slices (scn_live_run_to) and gives each
 * outside input between slices (scn_live_input): it enters at the world's
 * current time and is journaled with it. Replay does the same calls with
 * the journaled times, so the world — and its trace — is the same byte for
 * byte (live_journal.h).
 */
#ifndef MAILSIM_SCN_LIVE_H
#define MAILSIM_SCN_LIVE_H

#include <glib.h>

#include "live_gw.h"
#include "live_journal.h"
#include "scn.h"
#include "scn_world.h"

typedef struct scn_live scn_live;

/* Builds the world of C (seed, trace TW at DETAIL, all borrowed) with one
 * gateway per host name in TARGETS (in order; a name twice is one
 * gateway), writes the trace header. OUT receives what the simulated
 * servers answer. NULL with ERR when a target is not a host of C. */
scn_live *scn_live_new(const scn_config *c, uint64_t seed, trace_writer *tw, sim_detail detail,
                       const char *const *targets, size_t n, const live_gw_out *out, void *user,
                       GError **err);
/* Frees the world (after scn_live_finish, or to abandon it). */
void scn_live_free(scn_live *l);

/* Journals every later input to J (borrowed; NULL: none). */
void scn_live_set_journal(scn_live *l, live_journal *j);
/* The gateway index of target host NAME, or -1. */
int scn_live_gateway(const scn_live *l, const char *name);

/* Runs the world's events up to time T (nothing if T <= now). */
void scn_live_run_to(scn_live *l, sim_time t);
sim_time scn_live_now(const scn_live *l);

/* Gives IN to the world at the current time (IN->t is set to it),
 * journaling it first. LIVE_IN_END only journals. */
void scn_live_input(scn_live *l, live_input *in);

/* Bytes of outside connection ID not yet taken by its target
 * (live_gw_pending). */
size_t scn_live_pending(const scn_live *l, uint64_t id);

/* Writes the end record; returns what scn_world_run would. */
bool scn_live_finish(scn_live *l);
scn_world *scn_live_world(scn_live *l);

/* Replays the journal at JOURNAL_PATH into a trace at TRACE_PATH. Returns
 * 0, or 2 with ERR on a bad journal or file, or 1 if the journal's times
 * cannot be reproduced (it does not belong to this build). */
int scn_live_replay(const char *journal_path, const char *trace_path, GError **err);

#endif
