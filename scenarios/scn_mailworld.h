/* scn_mailworld.h — the mail services of a scenario world: the user
 * directory, the TLS identities, and on each host the service its role
 * names — MTAs ("mta"), mailbox hosts ("mailbox"), mail clients ("mua") —
 * with the scenario's users, messages and fetch schedules.
 */
#ifndef MAILSIM_SCN_MAILWORLD_H
#define MAILSIM_SCN_MAILWORLD_H

#include <glib.h>

#include "host.h"
#include "scn.h"
#include "scn_dns.h"

typedef struct scn_mailworld scn_mailworld;

/* Builds the services of C on HOSTS (by scenario index), using DNS's stub
 * resolvers. */
scn_mailworld *scn_mailworld_new(const scn_config *c, host *const *hosts, scn_dns *dns);
/* Frees the services (before the world; see host.h). */
void scn_mailworld_free(scn_mailworld *mw);

/* Counters at the end of a run. */
typedef struct {
  uint64_t composed, accepted, fetched, failed; /* mail clients */
  uint64_t delivered;                           /* into mailboxes */
  uint64_t queued;                              /* still in MTA queues */
  size_t violations;                            /* invariant breaches */
} scn_mail_totals;

/* Sums the services' counters; appends a description of each invariant
 * violation to VIOLATIONS (may be NULL). */
void scn_mailworld_totals(scn_mailworld *mw, scn_mail_totals *t, GPtrArray *violations);
/* The MTAs, in scenario order: the node of the I-th, and the queue ids
 * it holds now (appended to IDS as new strings, mta_host_queue_ids). */
size_t scn_mailworld_mta_count(const scn_mailworld *mw);
const char *scn_mailworld_mta_node(const scn_mailworld *mw, size_t i);
void scn_mailworld_mta_queue(const scn_mailworld *mw, size_t i, GPtrArray *ids);
/* True when the world has any mail service. */
bool scn_mailworld_any(const scn_mailworld *mw);

#endif
