/* spf_check.h — the SPF check_host() engine (RFC 7208), sans-I/O.
 *
 * One spf_check evaluates one identity (MAIL FROM or HELO) for one client
 * IP. It never resolves anything: it asks for DNS lookups one at a time and
 * is answered later, possibly at a later simulated time:
 *
 *     spf_check *c = spf_check_new(&req, &env);
 *     spf_event ev;
 *     while (spf_check_next(c, &ev)) {
 *       if (ev.kind == SPF_EV_DNS_QUERY)
 *         ... resolve ev.query (maybe asynchronously), then
 *         spf_check_answer(c, ev.query.id, status, rrs, nrrs);
 *       else  // SPF_EV_DONE
 *         use spf_check_result(c), spf_check_received_spf(c) ...
 *     }
 *
 * spf_check_next returns false while a lookup is outstanding (state
 * wait-dns) and after the done event was delivered. Each distinct (name,
 * type) is asked for once; the answers are kept for the rest of the check.
 *
 * States and transitions (spf_check_state):
 *     evaluate -> wait-dns    a lookup is needed (SPF_EV_DNS_QUERY)
 *     wait-dns -> evaluate    spf_check_answer
 *     evaluate -> done        the result is known (SPF_EV_DONE)
 */
#ifndef MAILSIM_SPF_CHECK_H
#define MAILSIM_SPF_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_dns.h"

/* RFC 7208 §2.6 results. */
typedef enum {
  SPF_NONE = 0,
  SPF_NEUTRAL,
  SPF_PASS,
  SPF_FAIL,
  SPF_SOFTFAIL,
  SPF_TEMPERROR,
  SPF_PERMERROR,
  SPF_RESULT_COUNT
} spf_result;

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
const char *spf_result_name(spf_result r);
/* Parses a result name (case-insensitive); false if unknown. */
bool spf_result_from_name(const char *name, spf_result *out);

typedef enum { SPF_ID_MAILFROM = 0, SPF_ID_HELO, SPF_ID_COUNT } spf_identity;
const char *spf_identity_name(spf_identity id); /* "mailfrom", "helo" */

typedef struct {
  const char *ip;          /* client address, IPv4 or IPv6 text (required) */
  const char *helo;        /* HELO/EHLO argument (required, may be "") */
  const char *mailfrom;    /* MAIL FROM address without <>, "" for the null path */
  spf_identity identity;   /* which identity to check (§2.3, §2.4) */
  const char *receiver;    /* our host name: %{r}, Received-SPF; NULL = "unknown" */
  const char *default_exp; /* explanation when exp= gives none; NULL = built-in */
  int64_t now_unix;        /* seconds since the epoch for %{t} (time passed in) */
  unsigned max_lookups;    /* §4.6.4 DNS-querying terms; 0 = 10 */
  unsigned max_void;       /* §4.6.4 void lookups; 0 = 2 */
} spf_request;

typedef enum { SPF_ST_EVALUATE = 0, SPF_ST_WAIT_DNS, SPF_ST_DONE, SPF_ST_COUNT } spf_state;
const char *spf_state_name(spf_state s); /* "evaluate", "wait-dns", "done" */

typedef enum { SPF_EV_DNS_QUERY = 0, SPF_EV_DONE, SPF_EV_COUNT } spf_event_kind;
const char *spf_event_kind_name(spf_event_kind k); /* "dns-query", "done" */

typedef struct {
  spf_event_kind kind;
  auth_dns_query query; /* SPF_EV_DNS_QUERY */
  spf_result result;    /* SPF_EV_DONE */
} spf_event;

typedef struct spf_check spf_check;

/* A new check. REQ's strings are copied; ENV may be NULL. Returns NULL if
 * REQ->ip is not an IPv4 or IPv6 address. An IPv4-mapped IPv6 address is
 * treated as IPv4 (§5). */
spf_check *spf_check_new(const spf_request *req, const auth_env *env);
void spf_check_free(spf_check *c); /* NULL is a no-op */

spf_state spf_check_state(const spf_check *c);

/* Pulls the next event into *EV: true if there was one. */
bool spf_check_next(spf_check *c, spf_event *ev);

/* Answers the outstanding lookup ID with STATUS and, for AUTH_DNS_OK, the N
 * records RRS (copied; records of other types than asked are ignored).
 * Calling it in another state than wait-dns or with another id is a bug. */
void spf_check_answer(spf_check *c, uint32_t id, auth_dns_status status, const dns_rr *rrs,
                      size_t n);

/* After done: the result; the explanation (fail only, else NULL); the
 * mechanism that matched (NULL if none, e.g. "default" results or errors);
 * a short description of an error (NULL if none). Strings are borrowed. */
spf_result spf_check_result(const spf_check *c);
const char *spf_check_explanation(const spf_check *c);
const char *spf_check_mechanism(const spf_check *c);
const char *spf_check_problem(const spf_check *c);
/* The domain checked (§4.1 <domain>) and the DNS-querying terms counted. */
const char *spf_check_domain(const spf_check *c);
/* The request as given: identity, MAIL FROM ("" for the null path), HELO;
 * and <sender> (§4.3: "postmaster@HELO" for the null path). Borrowed. */
spf_identity spf_check_identity(const spf_check *c);
const char *spf_check_mailfrom(const spf_check *c);
const char *spf_check_helo(const spf_check *c);
const char *spf_check_sender(const spf_check *c);
unsigned spf_check_lookups(const spf_check *c);

/* After done: a Received-SPF header field (RFC 7208 §9.1), "Received-SPF: "
 * included, no final CRLF, unfolded. g_free it. */
char *spf_check_received_spf(const spf_check *c);

#endif
