/* scn_dns.h — the DNS of a scenario world: its zones, the authoritative
 * servers (role "dns"), the recursive resolvers (role "resolver", with the
 * servers of the root zone as hints) and a stub resolver on every host that
 * names a "resolver".
 */
#ifndef MAILSIM_SCN_DNS_H
#define MAILSIM_SCN_DNS_H

#include "dns_client.h"
#include "dns_zone.h"
#include "host.h"
#include "scn.h"

/* Builds the zone Z. On a bad record returns NULL with *BAD the index of
 * the record and *ERR the decoder's verdict. Owner-name shorthand: "@" is
 * the origin. */
dns_zone *scn_dns_zone_build(const scn_zone *z, guint *bad, dns_err *err);

/* The Ed25519 key seed of host H's DKIM signing, from the run's SEED and
 * the host's name (stream "dkim:NAME"). */
void scn_dkim_seed(uint64_t seed, const scn_host *h, uint8_t out[32]);

typedef struct scn_dns scn_dns;

/* HOSTS[i] is the host of C's i-th host. The config must have loaded (its
 * zones are valid). The public key of every MTA that signs with DKIM is
 * published as a TXT record at SELECTOR._domainkey.DOMAIN in its zone. */
scn_dns *scn_dns_new(const scn_config *c, host *const *hosts);
/* Frees servers and clients (before the world; see host.h). */
void scn_dns_free(scn_dns *d);
/* The authoritative server on host I (borrowed), or NULL if it serves no
 * zone. */
struct dns_auth;
struct dns_auth *scn_dns_auth(scn_dns *d, int i);
/* The zone with ORIGIN as built for the world (borrowed), or NULL. */
dns_zone *scn_dns_zone(scn_dns *d, const scn_config *c, const char *origin);
/* The stub resolver of host I, or NULL if it names no resolver. */
dns_client *scn_dns_client(scn_dns *d, int i);

/* DNS counters summed over the world's stub resolvers and recursive
 * resolvers (engines of hosts that are down count nothing). */
typedef struct {
  uint64_t stub_lookups, stub_from_cache; /* asked by applications; from the stubs' caches */
  uint64_t res_lookups, res_from_cache;   /* asked of the resolvers; from their caches */
  uint64_t queries;                       /* queries the resolvers sent to name servers */
} scn_dns_stats;
void scn_dns_get_stats(const scn_dns *d, scn_dns_stats *out);

#endif
