/* dkim_int.h — internals shared by dkim_sign.c and dkim_verify.c (see
 * dkim_msg.c): the message split into fields and body, the hash inputs and
 * the signature primitives. */
#ifndef MAILSIM_DKIM_INT_H
#define MAILSIM_DKIM_INT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dkim_canon.h"
#include "dkim_key.h"

typedef struct {
  size_t off, len; /* of a whole field in data, its CRLF included */
} dkim__field;

typedef struct {
  GString *data;  /* the message with bare LF turned into CRLF */
  GArray *fields; /* of dkim__field, in order */
  size_t body_off;
} dkim__msg;

/* Splits DATA (LEN octets) into header fields and body (RFC 5322 §2.1,
 * §2.2: a field continues on lines starting with WSP; the header ends at
 * the first empty line). Clear with dkim__msg_clear. */
void dkim__msg_init(dkim__msg *m, const void *data, size_t len);
void dkim__msg_clear(dkim__msg *m);
const char *dkim__field_ptr(const dkim__msg *m, guint i, size_t *len);
/* Field name length (before ':' and any WSP), or 0 if no colon. */
size_t dkim__field_name_len(const char *f, size_t len);
/* Number of fields named NAME. */
unsigned dkim__msg_count(const dkim__msg *m, const char *name);

/* Appends the canonical fields selected by NAMES (§5.4.2) to OUT. */
void dkim__header_data(const dkim__msg *m, dkim_canon c, char *const *names, size_t n,
                       GString *out);
/* SHA-256 of the canonical body, at most LIMIT octets (-1: all). *TOTAL
 * (may be NULL) receives the canonical body length. */
void dkim__body_hash(const dkim__msg *m, dkim_canon c, int64_t limit, uint8_t out[32],
                     int64_t *total);
/* Copy of a DKIM-Signature FIELD with the b= tag's value (and the FWS
 * around it) removed (RFC 6376 §3.7), appended to OUT. */
void dkim__strip_b(const char *field, size_t len, GString *out);

/* rsa-sha256: RSASSA-PKCS1-v1_5 with SHA-256 over DATA; ed25519-sha256
 * (RFC 8463 §3): PureEd25519 over SHA-256(DATA). */
bool dkim__sign(const dkim_key *k, const GString *data, GByteArray *sig);
bool dkim__verify(const dkim_key *k, const GString *data, const uint8_t *sig, size_t siglen);

#endif
