/* dmarc_check.h — DMARC evaluation (RFC 7489 §6.6) as a sans-I/O engine.
 *
 * The caller gives the RFC5322.From domain, the SPF result and the domain
 * it was for, the DKIM results with their d= domains, and a public-suffix
 * list. The engine asks for TXT at _dmarc.<From domain>, and if there is
 * no policy there, at _dmarc.<organisational domain> (§6.6.3), then
 * decides alignment (§3.1) and the disposition (§6.6.4, pct sampling).
 *
 *     dmarc_check *c = dmarc_check_new(&req, &env);
 *     while (dmarc_check_next(c, &ev))
 *       if (ev.kind == DMARC_EV_DNS_QUERY) ... later dmarc_check_answer(...)
 *       else DMARC_EV_DONE
 *
 * Randomness: exactly one draw from env->rand, and only when the record's
 * pct is below 100 and the message failed under a quarantine or reject
 * policy; the message is sampled when (draw % 100) < pct. env->rand must be
 * set when such a record may be met; a missing generator counts as sampled.
 *
 * States: evaluate -> wait-dns -> evaluate -> ... -> done.
 */
#ifndef MAILSIM_DMARC_CHECK_H
#define MAILSIM_DMARC_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_dns.h"
#include "dkim_verify.h"
#include "dmarc_record.h"
#include "spf_check.h"

/* RFC 8601 §2.7.4 / RFC 7489 §11.2 results. */
typedef enum {
  DMARC_NONE = 0, /* no policy published */
  DMARC_PASS,
  DMARC_FAIL,
  DMARC_TEMPERROR,
  DMARC_PERMERROR,
  DMARC_RESULT_COUNT
} dmarc_result;

const char *dmarc_result_name(dmarc_result r);

typedef struct {
  const char *domain; /* d= */
  dkim_result result;
} dmarc_dkim;

typedef struct {
  const char *from_domain; /* RFC5322.From domain (required) */
  spf_result spf;          /* SPF result ... */
  const char *spf_domain;  /* ... for this domain (MAIL FROM domain, or HELO); may be NULL */
  const dmarc_dkim *dkim;  /* DKIM signatures, any order */
  size_t ndkim;
  const char *const *public_suffixes; /* e.g. {"com", "net", "co.uk"} */
  size_t nsuffixes;
} dmarc_request;

typedef enum {
  DMARC_ST_EVALUATE = 0,
  DMARC_ST_WAIT_DNS,
  DMARC_ST_DONE,
  DMARC_ST_COUNT
} dmarc_state;
const char *dmarc_state_name(dmarc_state s);

typedef enum { DMARC_EV_DNS_QUERY = 0, DMARC_EV_DONE, DMARC_EV_COUNT } dmarc_event_kind;
const char *dmarc_event_kind_name(dmarc_event_kind k); /* "dns-query", "done" */

typedef struct {
  dmarc_event_kind kind;
  auth_dns_query query; /* TXT */
} dmarc_event;

typedef struct dmarc_check dmarc_check;

/* REQ is copied. ENV may be NULL (no trace; sampling as if sampled). */
dmarc_check *dmarc_check_new(const dmarc_request *req, const auth_env *env);
void dmarc_check_free(dmarc_check *c); /* NULL is a no-op */
dmarc_state dmarc_check_state(const dmarc_check *c);
bool dmarc_check_next(dmarc_check *c, dmarc_event *ev);
void dmarc_check_answer(dmarc_check *c, uint32_t id, auth_dns_status status, const dns_rr *rrs,
                        size_t n);

/* After done: */
dmarc_result dmarc_check_result(const dmarc_check *c);
/* The policy asked for (p=, or sp= for a subdomain) and what is applied
 * after pct sampling: DMARC_POLICY_NONE when the message passed or there
 * is no policy. */
dmarc_policy dmarc_check_policy(const dmarc_check *c);
dmarc_policy dmarc_check_disposition(const dmarc_check *c);
bool dmarc_check_spf_aligned(const dmarc_check *c);
bool dmarc_check_dkim_aligned(const dmarc_check *c);
/* The record used (borrowed; NULL if none), the domain it was found at,
 * the organisational domain of the From domain, and a short reason. */
const dmarc_record *dmarc_check_record(const dmarc_check *c);
const char *dmarc_check_record_domain(const dmarc_check *c);
const char *dmarc_check_org_domain(const dmarc_check *c);
const char *dmarc_check_from_domain(const dmarc_check *c);
const char *dmarc_check_reason(const dmarc_check *c);

#endif
