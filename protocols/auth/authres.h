/* authres.h — the Authentication-Results header field (RFC 8601): building
 * one from the SPF, DKIM and DMARC engines' results under our authserv-id,
 * reading the authserv-id of a field, and removing incoming fields that
 * claim our authserv-id (§5) before ours is added. */
#ifndef MAILSIM_AUTHRES_H
#define MAILSIM_AUTHRES_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "dkim_verify.h"
#include "dmarc_check.h"
#include "spf_check.h"

typedef struct authres authres;

/* A builder for one field with AUTHSERV_ID (copied; e.g. the MX's host
 * name). */
authres *authres_new(const char *authserv_id);
void authres_free(authres *a); /* NULL is a no-op */

/* Adds a resinfo "METHOD=RESULT" with an optional reason (quoted) and
 * comment (may be NULL). Properties added next belong to it. */
void authres_add(authres *a, const char *method, const char *result, const char *reason,
                 const char *comment);
/* Adds "PTYPE.PROPERTY=VALUE" to the last resinfo (VALUE quoted when it is
 * not a token, a domain or an address). Calling it before authres_add is a
 * bug. */
void authres_add_prop(authres *a, const char *ptype, const char *property, const char *value);

/* spf=RESULT smtp.mailfrom=ADDR (smtp.helo=NAME for the HELO identity or
 * the null path), §2.7.2. The check must be done. */
void authres_add_spf(authres *a, const spf_check *c);
/* One dkim= per signature with header.d, header.i, header.s, header.a and
 * header.b (RFC 6008), the reason for anything but pass; "dkim=none" when
 * the message has no signature. §2.7.1. */
void authres_add_dkim(authres *a, const dkim_verify *v);
/* dmarc=RESULT (p=POLICY dis=DISPOSITION) header.from=DOMAIN, §2.7.4 and
 * RFC 7489 §11.2. */
void authres_add_dmarc(authres *a, const dmarc_check *c);

/* The field, "Authentication-Results: " included, folded with one resinfo
 * per line, ending in CRLF; "; none" when nothing was added (§2.2).
 * g_free it. */
char *authres_header(const authres *a);

/* Reads the authserv-id at the start of a field value VALUE (LEN octets,
 * folding allowed): CFWS, then a token or a quoted-string (§2.2). Returns
 * a new string, or NULL when there is none. */
char *authres_authserv_id(const char *value, size_t len);

/* Copies the message MSG (LEN octets) without the Authentication-Results
 * fields of its header whose authserv-id equals AUTHSERV_ID ignoring case
 * (§5: such fields are forged or stale and are deleted). Fields without
 * a readable authserv-id are kept. Every other octet is kept exactly. *OUT_LEN receives the length,
 * *REMOVED (may be NULL) the number of fields removed. g_free the result. */
char *authres_strip(const char *msg, size_t len, const char *authserv_id, size_t *out_len,
                    unsigned *removed);

#endif
