/* scn_fault_apply.h — a scenario's faults wired into its running world.
 *
 * Network faults are scheduled on the kernel (sim_net: links down/up,
 * parameters changed and restored, crash/restart). Host faults go through
 * the hooks the services offer (hosts/: mta_host_set_fault_hooks,
 * dns_auth_set_fault, tls_host_set_fault, mailbox_host_set_full,
 * disk_set_full): the engines in protocols/ know nothing of faults.
 *
 * Records (traces/FORMAT.md "Faults"): fault.start / fault.end at the
 * window's edges of every kind the kernel does not trace itself, and one
 * record per act: fault.reply, fault.cut, fault.tarpit, fault.dns.
 */
#ifndef MAILSIM_SCN_FAULT_APPLY_H
#define MAILSIM_SCN_FAULT_APPLY_H

#include "host.h"
#include "scn.h"
#include "scn_dns.h"
#include "scn_mailworld.h"

typedef struct scn_fault_world scn_fault_world;

/* Schedules every fault of C on the world of HOSTS (by scenario index),
 * its DNS and its mail services (MAIL may be NULL when it has none). All
 * are borrowed and must outlive the result. */
scn_fault_world *scn_fault_apply(const scn_config *c, host *const *hosts, scn_dns *dns,
                                 scn_mailworld *mail);
/* Frees the fault state (before the services and the world; it cancels
 * nothing: the world's events die with the world). NULL is a no-op. */
void scn_fault_world_free(scn_fault_world *fw);

#endif
