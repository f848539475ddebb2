/* dkim_sign.h — DKIM signing (RFC 6376 §5; RFC 8463): a message in, a
 * DKIM-Signature header field out, to be prepended by the caller. Pure: the
 * time for t= is passed in; RSA PKCS#1 v1.5 and Ed25519 are deterministic,
 * so the same input gives the same field. l= is never generated. */
#ifndef MAILSIM_DKIM_SIGN_H
#define MAILSIM_DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dkim_canon.h"
#include "dkim_key.h"

typedef struct {
  const char *domain;   /* d= (required) */
  const char *selector; /* s= (required) */
  dkim_canon header_canon, body_canon;
  /* Header names to sign, in order; NULL = dkim_sign_default_headers. "from"
   * is always signed (§5.4), added first if missing. */
  const char *const *headers;
  size_t nheaders;
  /* Oversigning: each name is listed once more than the message has it, so
   * a field of that name added later breaks the signature (§8.15). Without
   * it, each name is listed as many times as the message has it (From at
   * least once). */
  bool oversign;
  const char *identity; /* i= (e.g. "@example.com"); NULL = omitted */
  int64_t now_unix;     /* t=; negative = omitted */
  int64_t expire_after; /* x = t + this, when > 0 and t is given */
} dkim_sign_cfg;

/* The default list: from, to, cc, subject, date, message-id, reply-to,
 * in-reply-to, references, mime-version, content-type,
 * content-transfer-encoding. *N receives the count. */
const char *const *dkim_sign_default_headers(size_t *n);

/* Signs MSG (LEN octets, CRLF or bare-LF lines) with KEY (private; RSA gives
 * a=rsa-sha256, Ed25519 a=ed25519-sha256). Returns "DKIM-Signature: ...\r\n"
 * folded at about 78 columns (g_free it), or NULL if KEY is not private or
 * CFG lacks the domain or selector. */
char *dkim_sign(const dkim_sign_cfg *cfg, const dkim_key *key, const void *msg, size_t len);

#endif
