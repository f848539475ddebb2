/* trace_msgid.h — Message-IDs kept packed (issue #6: 31 -> 24 octets for
 * this simulator's ids; UUIDs and hashes alike).
 *
 * A run of 4 to 127 lowercase hex digits is 0x80 | its length, then its
 * digits two to an octet (the first in the high nibble); an octet of 0x80
 * or more is 0x80 and itself; any other octet is itself. Packing is a
 * function of the text and unpacking undoes it exactly, so two ids are
 * equal exactly when their packed forms are. Any text packs (a NUL ends
 * it); the packed form is at most twice as long.
 */
#ifndef MAILSIM_TRACE_MSGID_H
#define MAILSIM_TRACE_MSGID_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace_store.h"

/* The digits a packed run stands for, by value. */
#define TRACE_MSGID_DIGITS "0123456789abcdef"

/* S packed into OUT (replacing what it held). */
void trace_msgid_pack(GByteArray *out, const char *s);
/* The N packed octets at P, unpacked into OUT (replacing what it held). */
void trace_msgid_unpack(GString *out, const uint8_t *p, size_t n);

/* True if the N packed octets at K are the text S (compared as it
 * unpacks, octet by octet; nothing is allocated). Inline: lookups compare
 * every probe. */
static inline bool trace_msgid_eq(const uint8_t *k, size_t n, const char *s) {
  const uint8_t *end = k + n;
  while (k < end) { /* S's NUL never matches a packed octet */
    uint8_t b = *k++;
    if (b < 0x80) {
      if ((uint8_t)*s++ != b)
        return false;
    } else if (b == 0x80) {
      if ((uint8_t)*s++ != *k++)
        return false;
    } else {
      size_t run = b & 0x7F;
      for (size_t i = 0; i + 1 < run; i += 2, k++, s += 2) /* s[1] read only after s[0] matched */
        if (s[0] != TRACE_MSGID_DIGITS[*k >> 4] || s[1] != TRACE_MSGID_DIGITS[*k & 15])
          return false;
      if (run % 2 && *s++ != TRACE_MSGID_DIGITS[*k++ >> 4])
        return false;
    }
  }
  return *s == '\0';
}

/* The packed KEY (N octets; KEY may be NULL when N is 0) kept in ST with
 * its length in front (an octet below 255, else 255 and four octets);
 * its reference. */
uint32_t trace_msgid_keep(trace_store *st, const uint8_t *key, size_t n);

/* The packed octets kept at REF (trace_msgid_keep), their count in *N;
 * borrowed from ST. */
static inline const uint8_t *trace_msgid_key(const trace_store *st, uint32_t ref, size_t *n) {
  const uint8_t *p = trace_store_at(st, ref);
  if (*p < 255) {
    *n = *p;
    return p + 1;
  }
  uint32_t len;
  memcpy(&len, p + 1, sizeof len);
  *n = len;
  return p + 5;
}

#endif
