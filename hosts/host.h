/* host.h — a simulated machine: a network node, its disk, and the services
 * that run on it.
 *
 * Services (a DNS server, an MTA, a mailbox server, a mail client) register
 * for crash and restart. On a crash the kernel has already dropped every
 * socket and connection of the node; each service then drops what it held
 * in memory, keeping only what it stored on the host's disk. On restart each
 * service starts again from its disk (listens again, reloads its queue).
 * Services are told in registration order, so recovery is deterministic.
 *
 * Teardown: services are freed BEFORE the world. A service's _free may
 * cancel its own events but must not close or abort connections (the world
 * then frees them without calling anyone back). host_free comes last.
 */
#ifndef MAILSIM_HOST_H
#define MAILSIM_HOST_H

#include <stdbool.h>

#include "disk.h"
#include "sim_net.h"

typedef struct host host;

/* Creates the host and its node NAME (a router forwards packets). ROLE is
 * free text for people and the viewer ("mta", "mua", "dns", ...). */
host *host_new(sim_world *w, const char *name, const char *role, bool router);
/* Frees the host's own state (not the node: the world owns it). Touches
 * nothing of the world: call it before or after sim_world_free. */
void host_free(host *h);

sim_node *host_node(const host *h);
sim_world *host_world(const host *h);
const char *host_name(const host *h);
const char *host_role(const host *h);
disk *host_disk(host *h);
/* The node's random stream ("node:NAME"). */
sim_rng *host_rng(host *h);
/* Shorthand for sim_world_now. */
sim_time host_now(const host *h);
/* The trace at DETAIL, or NULL (see sim_world_trace). */
trace_writer *host_trace(const host *h, sim_detail detail);

/* The run's mail counters (mail_tally.h), fed by the msg.* writers of
 * every service on this host; borrowed; NULL (the default): none. */
struct mail_tally;
void host_set_tally(host *h, struct mail_tally *t);
struct mail_tally *host_tally(const host *h);

typedef void (*host_crash_fn)(void *user, bool crashed);
/* FN(USER, crashed) runs on every crash and restart of the host. */
void host_on_crash(host *h, host_crash_fn fn, void *user);

#endif
