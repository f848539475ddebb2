/* dns_driver.h — a DNS resolver engine (dns_res) running on a host.
 *
 * Carries out the engine's actions over the simulated network (a UDP
 * socket per query from the port the engine drew; a TCP connection per
 * query retried over TCP), feeds it what comes back, runs its timer, and
 * hands each finished lookup to the owner. Traces, at protocol detail:
 *   dns.response  each reply as it arrives here (see dns_trace.h)
 *   dns.cache_hit {"node","qname","qtype","rcode"} a step answered from the cache
 *   dns.timeout   {"node","server","qid","qname","qtype"} an attempt timed out
 * A crash loses the engine and its cache (memory); the owner is not called
 * back for lookups in flight. On restart the engine starts empty.
 */
#ifndef MAILSIM_DNS_DRIVER_H
#define MAILSIM_DNS_DRIVER_H

#include "dns_res.h"
#include "host.h"

typedef struct dns_driver dns_driver;

/* EV is a DNS_RES_EV_DONE event, borrowed for the call; the callee may
 * take its arrays (rrs, cnames, authority), leaving NULL in their place. */
typedef void (*dns_driver_done_fn)(void *user, dns_res_event *ev);

/* Runs an engine with CFG (copied) on host H; randomness from the host's
 * stream. DONE is called for every finished lookup. */
dns_driver *dns_driver_new(host *h, const dns_res_config *cfg, dns_driver_done_fn done,
                           void *user);
/* Frees the driver, before the world (see host.h on teardown). */
void dns_driver_free(dns_driver *d);
/* Starts a lookup; returns its id. DONE may be called before this returns
 * (a cache hit). Returns 0 while the host is down. */
uint64_t dns_driver_lookup(dns_driver *d, const dns_name *qname, uint16_t qtype);
/* Abandons lookup ID (no DONE for it). */
void dns_driver_cancel(dns_driver *d, uint64_t id);
/* The engine (borrowed; NULL while the host is down). */
dns_res *dns_driver_engine(dns_driver *d);

#endif
