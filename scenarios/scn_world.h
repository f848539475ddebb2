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

#include "host.h"
#include "scn.h"
#include "scn_mailworld.h" /* scn_greylist_row */
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
 * if every stream of the scenario arrived complete and intact. The same as
 * scn_world_begin, running the world, then scn_world_finish. */
bool scn_world_run(scn_world *sw);

/* The pieces of scn_world_run, for a caller that runs the world itself
 * (live mode): begin writes the trace header (once, before any event),
 * finish writes the end record at the current time and returns what
 * scn_world_run returns. */
void scn_world_begin(scn_world *sw);
bool scn_world_finish(scn_world *sw);

/* The host of scenario host NAME, or NULL. */
host *scn_world_host(scn_world *sw, const char *name);

/* Live mode: adds a gateway host "live-TARGET" (role "gateway", not a
 * router) with an address in 100.64.0.0/10 (RFC 6598) and its own link to
 * host TARGET (1 ms, 1 Gbit/s). Call before scn_world_begin. The header
 * then marks it: role "gateway" in "roles", and "live": {gateway: target}.
 * Returns the gateway host (owned by the world), or NULL with ERR when
 * TARGET is not a host of the scenario. */
host *scn_world_add_gateway(scn_world *sw, const char *target, GError **err);

/* The world CA's certificate (PEM), or NULL when the world has no TLS. */
const char *scn_world_ca_pem(const scn_world *sw);
/* The invariants checked on the run's records (traces/CHECK.md): complete
 * once scn_world_run returned. Borrowed. With TW NULL the world still
 * makes its msg.* records, into a null writer, for this check. */
const trace_check *scn_world_check(const scn_world *sw);

/* Messages accepted at submission so far (for rates). */
uint64_t scn_world_submitted(scn_world *sw);

/* The delay greylisting added, by retry profile and greylisting delay
 * (scn_mailworld_greylist): a new GArray of scn_greylist_row. */
GArray *scn_world_greylist(const scn_world *sw);

/* The end record's numbers, for sweeps (cli/cmd_sweep.c); valid after
 * scn_world_run. Mail counts are 0 in worlds without mail services. */
typedef struct {
  uint64_t events;
  sim_time end; /* when the run ended */
  bool ok;      /* the end record's "ok" */
  uint64_t composed, submitted, submitted_rcpts, delivered, bounced, failed, queued;
  uint64_t deferred, retries, client_retries, dsns, fetched, violations;
  uint64_t delay_samples;
  sim_time delay_p50, delay_p95, delay_max;
  uint64_t dns_lookups, dns_from_cache; /* stubs and recursive resolvers together */
} scn_world_result;
void scn_world_result_get(const scn_world *sw, scn_world_result *r);

/* Appends a human summary (several lines) of the finished run to OUT;
 * when greylisting let mail through after a wait, a section
 * "greylisting: added delay by retry profile" with one line per profile
 * and greylisting delay. */
void scn_world_summary(const scn_world *sw, GString *out);

#endif
