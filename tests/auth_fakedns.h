/* auth_fakedns.h — an in-memory DNS for the authentication engines' tests:
 * records by owner name (case-folded), CNAMEs followed (a loop or a chain
 * over 8 links answers SERVFAIL), NXDOMAIN for absent names, and per-name
 * failure markers. */
#ifndef MAILSIM_AUTH_FAKEDNS_H
#define MAILSIM_AUTH_FAKEDNS_H

#include <glib.h>
#include <stdbool.h>

#include "auth_dns.h"
#include "dns_wire.h"

typedef struct auth_fakedns auth_fakedns;

auth_fakedns *auth_fakedns_new(void);
void auth_fakedns_free(auth_fakedns *d);
/* Adds a copy of RR (its owner name is the key). */
void auth_fakedns_add(auth_fakedns *d, const dns_rr *rr);
/* dns_rr_from_text then add; aborts on a syntax error (test data). */
void auth_fakedns_add_text(auth_fakedns *d, const char *line);
/* Makes NAME exist with no records (NODATA for every type). */
void auth_fakedns_touch(auth_fakedns *d, const dns_name *name);
/* From now on, lookups at NAME of a type it has no records of answer
 * STATUS (the suite's TIMEOUT marker: AUTH_DNS_TIMEOUT). */
void auth_fakedns_fail(auth_fakedns *d, const dns_name *name, auth_dns_status status);
/* Answers (NAME, TYPE): the status, and the records appended to OUT (of
 * dns_rr, caller clears them). Counts the query. */
auth_dns_status auth_fakedns_lookup(auth_fakedns *d, const dns_name *name, uint16_t type,
                                    GArray *out);
unsigned auth_fakedns_queries(const auth_fakedns *d);

/* Clears and frees an array of dns_rr filled by lookup. */
void auth_fakedns_rrs_free(GArray *rrs);

#endif
