/* auth_dns.h — what the authentication engines (spf_check, dkim_verify,
 * dmarc_check) share about DNS: the shape of a lookup they ask the host to
 * make, the outcome the host answers with, and a small answer cache.
 *
 * The engines never resolve anything themselves (STYLE.md, sans-I/O): they
 * emit an auth_dns_query (name, type, id), wait in an explicit state, and
 * are answered later with an auth_dns_status and the records of the
 * requested type (CNAME chains already followed by the resolver). */
#ifndef MAILSIM_AUTH_DNS_H
#define MAILSIM_AUTH_DNS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_name.h"
#include "dns_wire.h"

/* Outcome of one lookup. AUTH_DNS_OK with no records is NODATA. */
typedef enum {
  AUTH_DNS_OK = 0,
  AUTH_DNS_NXDOMAIN,
  AUTH_DNS_TIMEOUT,
  AUTH_DNS_SERVFAIL,
  AUTH_DNS_STATUS_COUNT
} auth_dns_status;

/* "ok", "nxdomain", "timeout", "servfail". */
const char *auth_dns_status_name(auth_dns_status s);

/* A lookup an engine needs. ID is unique within one engine. */
typedef struct {
  uint32_t id;
  dns_name name;
  uint16_t type;
} auth_dns_query;

/* Optional trace hook for engine state transitions: LINE is a short
 * human-readable description ("spf: evaluate -> wait-dns ..."), borrowed for
 * the call. Engines call it synchronously; it must not call back into the
 * engine. */
typedef void (*auth_trace_fn)(void *ud, const char *line);

/* Randomness for an engine: a uniformly distributed 32-bit value from the
 * caller's named stream (the simulator's rng). Engines document when they
 * draw, so the number of draws is deterministic. */
typedef uint32_t (*auth_rand_fn)(void *ud);

typedef struct {
  auth_trace_fn trace; /* may be NULL */
  void *ud;            /* for trace */
  auth_rand_fn rand;   /* may be NULL where an engine draws nothing (SPF, DKIM) */
  void *rand_ud;
} auth_env;

/* Builds a DNS name from a domain in text form, without escapes: labels are
 * split at '.' and taken as raw octets, one final '.' is allowed. Returns
 * false for an empty label, a label over 63 octets, a name over 255 octets
 * of wire form, or the empty string. */
bool auth_dns_name_from_domain(const char *domain, dns_name *out);

/* Joins the character-strings of a TXT record with no separator (RFC 7208
 * §3.3, RFC 6376 §3.6.2.2) into a new string; g_free it. *LEN receives the
 * length (the text may contain NUL octets). */
char *auth_dns_txt_join(const dns_rr *rr, size_t *len);

/* Answers received so far, by (name, type), case-folded. */
typedef struct auth_dns_cache auth_dns_cache;

auth_dns_cache *auth_dns_cache_new(void);
void auth_dns_cache_free(auth_dns_cache *c); /* NULL is a no-op */
/* Stores the answer to (NAME, TYPE): STATUS and copies of those of the N
 * records RRS whose type is TYPE (others, such as CNAMEs, are dropped). A
 * later answer for the same key replaces the earlier. */
void auth_dns_cache_put(auth_dns_cache *c, const dns_name *name, uint16_t type,
                        auth_dns_status status, const dns_rr *rrs, size_t n);
/* Looks up (NAME, TYPE): true if answered, with *STATUS and *RRS (borrowed
 * GArray of dns_rr, valid until the cache is freed) filled in. */
bool auth_dns_cache_get(const auth_dns_cache *c, const dns_name *name, uint16_t type,
                        auth_dns_status *status, const GArray **rrs);

#endif
