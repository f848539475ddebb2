/* dns_cache_int.h — dns_cache internals for its tests. */
#ifndef MAILSIM_DNS_CACHE_INT_H
#define MAILSIM_DNS_CACHE_INT_H

#include <stdint.h>

#include "dns_cache.h"

/* Sets the store order the next entry gets (SEQ at least the current one):
 * a test reaches the renumbering before the 32-bit order wraps without
 * 4 G stores. */
void dns_cache__set_seq(dns_cache *c, uint32_t seq);
/* Entries held under key type 0 (NXDOMAIN) as the cache counts them: while
 * it is 0, lookups skip the NXDOMAIN key. */
size_t dns_cache__nx(const dns_cache *c);

#endif
