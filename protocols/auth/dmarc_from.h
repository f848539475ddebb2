/* dmarc_from.h — the RFC5322.From domain DMARC evaluates (RFC 7489 §3.1,
 * §6.6.1), read from a message's header with the project's RFC 5322
 * parsers (mime_hdr, mime_addr). */
#ifndef MAILSIM_DMARC_FROM_H
#define MAILSIM_DMARC_FROM_H

#include <stddef.h>

typedef enum {
  DMARC_FROM_OK = 0,    /* one domain (several mailboxes sharing it are fine) */
  DMARC_FROM_MISSING,   /* no From field */
  DMARC_FROM_MULTIPLE,  /* several From fields, or mailboxes with different domains */
  DMARC_FROM_NO_DOMAIN, /* no mailbox with a domain */
  DMARC_FROM_COUNT
} dmarc_from_status;

/* "ok", "missing", "multiple", "no-domain". */
const char *dmarc_from_status_name(dmarc_from_status s);

/* Reads the header of MSG (LEN octets). On DMARC_FROM_OK *DOMAIN receives
 * the domain, lower-cased (g_free it); otherwise *DOMAIN is NULL. §6.6.1:
 * a message whose From names several domains has no single identifier to
 * evaluate; the caller decides (reject, or skip DMARC). */
dmarc_from_status dmarc_from_domain(const char *msg, size_t len, char **domain);

#endif
