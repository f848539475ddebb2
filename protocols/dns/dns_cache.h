/* dns_cache.h — the resolver's RRset cache: positive RRsets and negative
 * answers keyed by (name, type, class), expiring in simulated time
 * (RFC 1035 §7.4, RFC 2181 §5 and §5.4.1, RFC 2308 §5).
 *
 * Plain data in, copies out; no clock: every call takes NOW, an int64
 * nanosecond count that must never go backwards across calls. An entry
 * stored at time T with TTL S lives while NOW < T + S·1e9; read back at
 * NOW it carries the remaining TTL, floor((T + S·1e9 − NOW) / 1e9) seconds.
 *
 * Credibility (RFC 2181 §5.4.1): each entry has a rank; a live entry is
 * replaced only by data of equal or higher rank, so glue never overwrites
 * an authoritative answer. Negative entries (RFC 2308 §5): NXDOMAIN is
 * stored for the name and denies every type; NODATA for the (name, type)
 * only. A response without SOA gives no negative TTL and is not cached.
 *
 * Capacity: at most max_entries entries; when full, the entry expiring
 * soonest is evicted (ties: the oldest stored), so eviction never depends
 * on hash-table order. Names are compared case-insensitively (RFC 4343);
 * records come back with the owner case they were stored with. */
#ifndef MAILSIM_DNS_CACHE_H
#define MAILSIM_DNS_CACHE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_name.h"
#include "dns_wire.h"

typedef struct dns_cache dns_cache;

/* Credibility, lowest first (RFC 2181 §5.4.1, simplified). */
typedef enum {
  DNS_CACHE_RANK_GLUE = 0,    /* additional-section data (glue) */
  DNS_CACHE_RANK_REFERRAL,    /* NS from the authority section of a referral */
  DNS_CACHE_RANK_ANSWER,      /* answer from a recursive server (not AA) */
  DNS_CACHE_RANK_AUTH_ANSWER, /* answer or negative answer with AA */
  DNS_CACHE_RANK_COUNT
} dns_cache_rank;

/* "glue", "referral", "answer", "auth_answer"; "unknown" out of range. */
const char *dns_cache_rank_name(dns_cache_rank r);

typedef enum {
  DNS_CACHE_MISS = 0,
  DNS_CACHE_RRSET,    /* the RRset was appended to OUT */
  DNS_CACHE_NXDOMAIN, /* the name does not exist (any type) */
  DNS_CACHE_NODATA,   /* the name exists without that type */
  DNS_CACHE_KIND_COUNT
} dns_cache_kind;

/* "miss", "rrset", "nxdomain", "nodata"; "unknown" out of range. */
const char *dns_cache_kind_name(dns_cache_kind k);

typedef struct {
  size_t max_entries;   /* > 0 */
  uint32_t max_ttl;     /* positive TTLs are capped to this (seconds) */
  uint32_t max_neg_ttl; /* negative TTLs are capped to this (RFC 2308 §5) */
} dns_cache_config;

/* Defaults: 10000 entries, max_ttl 7 days, max_neg_ttl 3 hours. */
void dns_cache_config_defaults(dns_cache_config *cfg);

/* A new empty cache (CFG copied; max_entries 0 is a bug). */
dns_cache *dns_cache_new(const dns_cache_config *cfg);
void dns_cache_free(dns_cache *c); /* NULL is a no-op */

/* Stores the N records RRS (N >= 1) as one RRset: they must share owner
 * (case-insensitively), type and class (else a bug, aborts); TYPE OPT is a
 * bug. The RRset's TTL is the smallest of its records, capped by max_ttl.
 * Records are copied. Returns false (nothing stored) when the TTL is 0 or
 * a live entry of higher rank is present (RFC 2181 §5.4.1). A stored RRset
 * replaces any live negative entry for the same key. */
bool dns_cache_put(dns_cache *c, const dns_rr *rrs, size_t n, dns_cache_rank rank, int64_t now);

/* Stores a negative answer for NAME: NXDOMAIN (TYPE ignored, the whole name
 * is denied) or NODATA for (NAME, TYPE, RCLASS), for TTL seconds (capped by
 * max_neg_ttl), with the SOA that proved it (copied; may be NULL) so a
 * server can repeat it (RFC 2308 §6). Returns false when TTL is 0 or a live
 * entry of higher rank holds the key. */
bool dns_cache_put_negative(dns_cache *c, const dns_name *name, uint16_t type, uint16_t rclass,
                            bool nxdomain, const dns_rr *soa, uint32_t ttl, dns_cache_rank rank,
                            int64_t now);

/* Looks up (NAME, TYPE, RCLASS) at NOW. A live RRset for the exact key
 * wins; then a live NODATA for it; then a live NXDOMAIN for NAME. On
 * DNS_CACHE_RRSET the records are appended to OUT (a GArray of dns_rr
 * owned by the caller, who clears each record; OUT may be NULL) with their
 * remaining TTL; on NXDOMAIN and NODATA the SOA stored with the entry, if
 * any, is appended the same way. RANK (may be NULL) receives the entry's rank. Expired
 * entries met are dropped. */
dns_cache_kind dns_cache_get(dns_cache *c, const dns_name *name, uint16_t type, uint16_t rclass,
                             int64_t now, GArray *out, dns_cache_rank *rank);

/* Drops every entry expired at NOW. Returns how many. */
size_t dns_cache_expire(dns_cache *c, int64_t now);

/* Entries held (live or not yet dropped). */
size_t dns_cache_count(const dns_cache *c);

/* Entries evicted for capacity since creation. */
uint64_t dns_cache_evictions(const dns_cache *c);

#endif
