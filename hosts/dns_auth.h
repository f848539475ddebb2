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
/* Faults (issue 10). FN is asked about every query that decodes, with its
 * name (absolute, with the final dot) and type, before the zones answer:
 * it returns false to let the zones answer, or true with *OUT: DROP (no
 * answer at all: the client times out), RCODE (an answer with that rcode,
 * the question and no records: SERVFAIL, NXDOMAIN without SOA, so nobody
 * caches it, RFC 2308 §5) or ZONES (answered from OUT's zones instead:
 * other data for the name, e.g. a wrong MX). OUT's zones are borrowed for
 * the call. FN must not call back into the server. NULL removes it. */
typedef enum { DNS_AUTH_DROP, DNS_AUTH_RCODE, DNS_AUTH_ZONES } dns_auth_action;
typedef struct {
  dns_auth_action action;
  uint16_t rcode;
  dns_zone *const *zones;
  size_t nzones;
} dns_auth_override;
typedef bool (*dns_auth_fault_fn)(void *user, const char *qname, uint16_t qtype,
                                  dns_auth_override *out);
void dns_auth_set_fault(dns_auth *a, dns_auth_fault_fn fn, void *user);

/* Queries answered so far (UDP and TCP). */
uint64_t dns_auth_answered(const dns_auth *a);

#endif
