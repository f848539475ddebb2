/* dns_auth.h — an authoritative DNS server on a host: UDP and TCP port 53.
 *
 * Answers from its zones with dns_zone_respond_wire (RFC 1035 §4.2: UDP
 * answers limited to 512 octets or the client's EDNS size and truncated
 * with TC; TCP with the two-octet length prefix, several queries per
 * connection). Traces each query it receives (dns.query, see dns_trace.h).
 * Survives crashes: on restart it listens again (zones are configuration).
 */
#ifndef MAILSIM_DNS_AUTH_H
#define MAILSIM_DNS_AUTH_H

#include "dns_zone.h"
#include "host.h"

typedef struct dns_auth dns_auth;

/* Serves ZONES (borrowed; they must outlive the server) on host H. */
dns_auth *dns_auth_new(host *h, dns_zone *const *zones, size_t nzones, const dns_zone_cfg *cfg);
/* Frees the server (before the world; see host.h on teardown). */
void dns_auth_free(dns_auth *a);
/* Queries answered so far (UDP and TCP). */
uint64_t dns_auth_answered(const dns_auth *a);

#endif
