/* sasl_plain.h — the SASL PLAIN mechanism's message (RFC 4616 §2):
 * [authzid] NUL authcid NUL passwd, sent base64-encoded (RFC 4648 §4) by
 * IMAP's AUTHENTICATE (RFC 9051 §6.2.2) and POP3's AUTH (RFC 5034 §4).
 *
 * The message is decoded where it is read: into the reader's own buffer
 * for usual sizes (no allocation), the heap beyond; credentials are wiped
 * when the reader is cleared. */
#ifndef MAILSIM_SASL_PLAIN_H
#define MAILSIM_SASL_PLAIN_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const char *authzid; /* "" when absent */
  const char *authcid;
  const char *passwd;
  /* private */
  guchar *raw;
  size_t room;
  guchar stack[384];
} sasl_plain;

/* Decodes B64 (NUL-terminated: the client's response, without its line
 * end) into P. True when it is base64 (the alphabet and '=' padding, a
 * multiple of four octets, not empty) of exactly three parts, the first two
 * ended by a NUL: then P's authzid, authcid and passwd point at them,
 * NUL-terminated (authcid and passwd may be empty: the caller's policy).
 * False otherwise (nothing to read). Either way call sasl_plain_clear. */
bool sasl_plain_decode(sasl_plain *p, const char *b64);

/* Wipes the decoded octets and frees what decode took from the heap. */
void sasl_plain_clear(sasl_plain *p);

#endif
