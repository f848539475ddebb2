/* dns_resolver.h — a recursive DNS resolver on a host (UDP and TCP 53).
 *
 * Takes queries from stub resolvers (RD=1), resolves them iteratively from
 * the root hints with its cache (a dns_res engine in recursive mode, see
 * dns_driver.h), and answers each client with RA set: the CNAME chain and
 * the final RRsets, or the negative answer with its SOA (dns_res_make_response).
 * Traces each query it receives (dns.query); the driver traces what it
 * asks and hears. A crash empties the cache.
 */
#ifndef MAILSIM_DNS_RESOLVER_H
#define MAILSIM_DNS_RESOLVER_H

#include "dns_res.h"
#include "host.h"

typedef struct dns_resolver dns_resolver;

/* HINTS: the root servers (name, address text); copied. */
dns_resolver *dns_resolver_new(host *h, const dns_res_server *hints, size_t nhints);
void dns_resolver_free(dns_resolver *r);
/* Queries answered so far. */
uint64_t dns_resolver_answered(const dns_resolver *r);
/* The engine's counters (cache hits, queries sent...), or NULL while down. */
const dns_res_stats *dns_resolver_stats(const dns_resolver *r);

#endif
