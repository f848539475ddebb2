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

/* The services on host I (by scenario index; borrowed), or NULL: its MTA,
 * its mailbox service, its TLS identity. For fault injection. */
struct mta_host;
struct mailbox_host;
struct tls_host;
struct mta_host *scn_mailworld_mta(scn_mailworld *mw, int i);
struct mailbox_host *scn_mailworld_mailbox(scn_mailworld *mw, int i);
struct tls_host *scn_mailworld_tls(scn_mailworld *mw, int i);

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
/* The world CA's certificate (PEM), or NULL without mail TLS. */
const char *scn_mailworld_ca_pem(const scn_mailworld *mw);
/* The delay greylisting added, grouped by the sending MTA's retry profile
 * and the MX's greylisting delay: from the MX filters' PASS_DELAYED
 * verdicts (mx_filters_delays), one sample per recipient, the time from
 * the triplet's first attempt to its acceptance. */
typedef struct {
  const char *profile; /* "postfix", "exim", "opensmtpd", or "other" (a client no MTA
                          of the scenario has the address of); static */
  sim_time delay;      /* the MX's greylisting delay */
  uint64_t n;
  sim_time min, max, sum;
} scn_greylist_row;
/* Rows ordered by profile (postfix, exim, opensmtpd, other) then delay;
 * a new array (empty when nothing was greylisted). C is the world's
 * config. */
GArray *scn_mailworld_greylist(const scn_mailworld *mw, const scn_config *c);

/* With the config's keep_messages: every mailbox host's msg.kept records
 * (the messages stored at the end of the run). Call before the end record. */
void scn_mailworld_write_kept(scn_mailworld *mw);
/* The MTAs, in scenario order: the node of the I-th, and the queue ids
 * it holds now (appended to IDS as new strings, mta_host_queue_ids). */
size_t scn_mailworld_mta_count(const scn_mailworld *mw);
const char *scn_mailworld_mta_node(const scn_mailworld *mw, size_t i);
void scn_mailworld_mta_queue(const scn_mailworld *mw, size_t i, GPtrArray *ids);
/* True when the world has any mail service. */
bool scn_mailworld_any(const scn_mailworld *mw);

#endif
