/* scn_chaos.h — a scenario's fault space, and one fault schedule per seed.
 *
 * `mailsim chaos` runs a scenario under many seeds, each with faults drawn
 * from the scenario's fault space in the manner of swarm testing (Groce et
 * al., ISSTA 2012): the seed first decides which fault kinds are on and how
 * many faults of each, then draws the faults themselves (target and
 * window). Every fault heals inside the window, and so does every fault of
 * the scenario that would not; the run is extended so queues can drain
 * before the end (traces/CHECK.md "liveness").
 *
 * The space may be bounded by the scenario's optional top-level "chaos"
 * key (scenarios/FORMAT.md):
 *
 *   "chaos": {"kinds": ["link_down", "crash"],   default: every kind
 *             "links": ["a-b", ...],             default: every link
 *             "hosts": ["mx1", ...],             default: the hosts of the roles
 *                                                each kind needs
 *             "window": "1h",                    faults lie in [0, window]; default:
 *                                                half the duration (1h without one), at
 *                                                most 15 min past the last message sent
 *             "max_length": "20m",               longest fault; default window/2
 *             "max_faults": 3,                   most faults of one kind; default 3
 *             "drain": "3h",                     run at least this long after the window
 *             "permanent": false}                true: 5xx replies and MX records of
 *                                                other MTAs may be drawn (bounces)
 *
 * Fault kinds are a table (scn_chaos.c), one row per kind of scn_fault:
 * which targets it may hit (links, or hosts of the right roles: MTAs for
 * smtp_reply, tarpit and cut_after_dot, DNS servers of the mail domains'
 * zones for dns and dns_mx, mailbox hosts with users for mailbox_full...)
 * and the draw of its own fields (latency 50 ms-2 s, loss 1-30 %, reply
 * codes, attempts, names, TLS failures; FORMAT.md lists them). Every
 * drawn fault passes scn_fault_check.
 */
#ifndef MAILSIM_SCN_CHAOS_H
#define MAILSIM_SCN_CHAOS_H

#include <glib.h>
#include <stdint.h>

#include "scn.h"
#include "scn_json.h"

typedef struct scn_chaos scn_chaos;

/* The loader's hook: reads "chaos" of ROOT into C (nothing when absent). */
void scn_chaos_load(scn_json_ctx *x, scn_config *c, const cJSON *root);
/* NULL is a no-op. */
void scn_chaos_free(scn_chaos *ch);

/* Fault kinds the space knows, in table order (NULL-terminated). */
const char *const *scn_chaos_kind_names(void);

/* Draws the fault schedule of SEED into C (a freshly loaded config, which
 * it changes: faults appended, never-healing faults healed at the end of
 * the window, duration extended). Appends one line per drawn fault to
 * FAULTS if not NULL ("crash mx1.example.org 12.05min .. 20min", then the
 * kind's fields: "smtp_reply mx.example.org 3min .. 9min rcpt 451 rcpt
 * bob@ attempts 1-2"). Returns the
 * number of faults drawn; KINDS gets "link_down:2 crash:1" (or "-"). The
 * same config and seed always give the same schedule. */
size_t scn_chaos_draw(scn_config *c, uint64_t seed, GString *kinds, GString *faults);

#endif
