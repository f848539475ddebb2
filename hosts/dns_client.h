/* dns_client.h — a host's stub resolver: asks the scenario's recursive
 * resolver (RD=1), with the stub's own cache, retries and TCP fallback
 * (a dns_res engine in stub mode, see dns_driver.h).
 *
 * MTAs and mail clients use it for MX, A and AAAA lookups. The answer comes
 * back through a callback, never before dns_client_lookup returns (a cache
 * hit is delivered from a scheduled event), so callers can look up from
 * anywhere.
 */
#ifndef MAILSIM_DNS_CLIENT_H
#define MAILSIM_DNS_CLIENT_H

#include "dns_res.h"
#include "host.h"

typedef struct dns_client dns_client;

/* The outcome of one lookup (borrowed for the callback). */
typedef struct {
  uint16_t rcode;     /* DNS rcode: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN */
  const GArray *rrs;  /* dns_rr: the answer RRsets (after CNAMEs) */
  bool from_cache;
  const char *reason; /* SERVFAIL: why; else NULL */
} dns_client_result;

typedef void (*dns_client_fn)(void *user, const dns_client_result *r);

/* A stub on host H asking the resolver at RESOLVER (port 53). */
dns_client *dns_client_new(host *h, const sim_addr *resolver);
void dns_client_free(dns_client *c);
/* Looks QNAME/QTYPE up; FN(USER, result) runs later, once. Returns an id
 * for dns_client_cancel. While the host is down nothing is looked up and FN
 * is not called. */
uint64_t dns_client_lookup(dns_client *c, const char *qname, uint16_t qtype, dns_client_fn fn,
                           void *user);
/* The engine's counters (lookups, answered from the cache, queries sent),
 * or NULL while the host is down (a crash starts them again from zero). */
const dns_res_stats *dns_client_stats(const dns_client *c);
/* Forgets lookup ID: its callback will not run. */
void dns_client_cancel(dns_client *c, uint64_t id);

#endif
