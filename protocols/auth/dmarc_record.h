/* dmarc_record.h — DMARC policy records (RFC 7489 §6.3, §6.4) and the
 * organisational domain (§3.2) from a caller-given public-suffix list. */
#ifndef MAILSIM_DMARC_RECORD_H
#define MAILSIM_DMARC_RECORD_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
  DMARC_POLICY_NONE = 0,
  DMARC_POLICY_QUARANTINE,
  DMARC_POLICY_REJECT,
  DMARC_POLICY_COUNT
} dmarc_policy;

/* "none", "quarantine", "reject". */
const char *dmarc_policy_name(dmarc_policy p);

typedef struct {
  dmarc_policy p;
  dmarc_policy sp; /* = p when the record has no sp= */
  bool has_sp;
  int pct;           /* 0..100, default 100 */
  bool adkim_strict; /* adkim=s */
  bool aspf_strict;  /* aspf=s */
  GPtrArray *rua;    /* of char*, the URIs as written (never sent) */
  GPtrArray *ruf;
  char *fo;    /* default "0" */
  char *rf;    /* default "afrf" */
  unsigned ri; /* default 86400 */
} dmarc_record;

/* True if TEXT starts like a DMARC record ("v=DMARC1" then ";" or end,
 * §6.6.3 step 3: other TXT records are ignored). */
bool dmarc_record_is_dmarc(const char *text, size_t len);

/* Parses TEXT (LEN octets) into a new record (dmarc_record_free it), or
 * NULL when it is not a usable policy: not a tag list, v=DMARC1 not first,
 * or no valid p= (unless rua= is valid: then p=none, §6.6.3). Other invalid
 * values fall back to their defaults (§6.3). */
dmarc_record *dmarc_record_parse(const char *text, size_t len);
void dmarc_record_free(dmarc_record *r); /* NULL is a no-op */

/* The organisational domain of DOMAIN (§3.2): the longest suffix of DOMAIN
 * in SUFFIXES (N entries, e.g. "com", "co.uk"; compared ignoring case),
 * or its last label when none matches, plus one more label. A DOMAIN that
 * is itself a public suffix is its own organisational domain. Returns a
 * new lower-case string without a final dot. */
char *dmarc_org_domain(const char *domain, const char *const *suffixes, size_t n);

#endif
