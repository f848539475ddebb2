/* dkim_verify.h — DKIM verification (RFC 6376 §6; RFC 8463; RFC 8301) as a
 * sans-I/O engine. The message is fed in any pieces; after the end, each
 * signature's key is asked for as a TXT lookup of
 * <selector>._domainkey.<domain>, answered later by id, possibly out of
 * order:
 *
 *     dkim_verify *v = dkim_verify_new(NULL, &env);
 *     dkim_verify_feed(v, bytes, n);  ...  dkim_verify_end(v, now_unix);
 *     dkim_event ev;
 *     while (dkim_verify_next(v, &ev))    // false: waiting for answers
 *       if (ev.kind == DKIM_EV_DNS_QUERY) start the lookup, later:
 *         dkim_verify_answer(v, ev.query.id, status, rrs, n);
 *       else  // DKIM_EV_DONE: read dkim_verify_get(v, i)
 *
 * States (dkim_verify_state):
 *     receiving -> active      dkim_verify_end
 *     active    -> wait-dns    every query asked, some unanswered
 *     wait-dns  -> active      an answer arrived
 *     active    -> done        every signature has its result (DKIM_EV_DONE)
 */
#ifndef MAILSIM_DKIM_VERIFY_H
#define MAILSIM_DKIM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_dns.h"

/* RFC 8601 §2.7.1 results for one signature. */
typedef enum {
  DKIM_NONE = 0, /* no signature (summary only) */
  DKIM_PASS,
  DKIM_FAIL,
  DKIM_NEUTRAL,
  DKIM_TEMPERROR,
  DKIM_PERMERROR,
  DKIM_RESULT_COUNT
} dkim_result;

const char *dkim_result_name(dkim_result r); /* "none", "pass", ... */

typedef struct {
  dkim_result result;
  const char *reason; /* static text ("body hash did not verify"), NULL on pass */
  char *domain;       /* d=, NULL if unreadable */
  char *selector;     /* s= */
  char *identity;     /* i= or "@" d= */
  char *algorithm;    /* a= */
  char *b_prefix;     /* first 8 characters of b= (RFC 6008 header.b) */
  unsigned key_bits;  /* 0 until a key was read */
} dkim_sig_result;

typedef struct {
  unsigned max_signatures; /* signatures looked at, from the top; 0 = 5 */
  unsigned min_rsa_bits;   /* RFC 8301 §3.2: 0 = 1024 */
} dkim_verify_cfg;

typedef enum {
  DKIM_ST_RECEIVING = 0,
  DKIM_ST_ACTIVE,
  DKIM_ST_WAIT_DNS,
  DKIM_ST_DONE,
  DKIM_ST_COUNT
} dkim_verify_state;
const char *dkim_verify_state_name(dkim_verify_state s);

typedef enum { DKIM_EV_DNS_QUERY = 0, DKIM_EV_DONE, DKIM_EV_COUNT } dkim_event_kind;
const char *dkim_event_kind_name(dkim_event_kind k); /* "dns-query", "done" */

typedef struct {
  dkim_event_kind kind;
  auth_dns_query query; /* DKIM_EV_DNS_QUERY (TXT) */
} dkim_event;

typedef struct dkim_verify dkim_verify;

/* CFG and ENV may be NULL (defaults, no trace). */
dkim_verify *dkim_verify_new(const dkim_verify_cfg *cfg, const auth_env *env);
void dkim_verify_free(dkim_verify *v); /* NULL is a no-op */
dkim_verify_state dkim_verify_state_get(const dkim_verify *v);

/* Message octets, any split (receiving state only). */
void dkim_verify_feed(dkim_verify *v, const void *data, size_t len);
/* The message is complete; NOW_UNIX is the time for the x= check. Parses
 * the signatures and computes body hashes. */
void dkim_verify_end(dkim_verify *v, int64_t now_unix);
bool dkim_verify_next(dkim_verify *v, dkim_event *ev);
/* Answers query ID (any order). Unknown or already answered ids are bugs. */
void dkim_verify_answer(dkim_verify *v, uint32_t id, auth_dns_status status, const dns_rr *rrs,
                        size_t n);

/* After done: the signatures looked at, top to bottom. */
size_t dkim_verify_count(const dkim_verify *v);
const dkim_sig_result *dkim_verify_get(const dkim_verify *v, size_t i);
/* pass if any signature passed, else the first signature's result, none
 * without signatures. */
dkim_result dkim_verify_summary(const dkim_verify *v);

#endif
