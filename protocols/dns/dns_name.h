/* dns_name.h — domain names: wire form, compression-safe decoding,
 * presentation format, case-insensitive comparison (RFC 1035 §2.3.4, §3.1,
 * §4.1.4, §5.1; RFC 4343; RFC 9267).
 *
 * A dns_name is plain data held by value: the uncompressed wire form (length
 * octets and labels, ending with the zero root label), at most 255 octets.
 * Names are always absolute. Case is preserved as received; every comparison
 * and hash folds ASCII letters only (RFC 4343 §3). */
#ifndef MAILSIM_DNS_NAME_H
#define MAILSIM_DNS_NAME_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_err.h"

#define DNS_NAME_MAX 255 /* octets of wire form, RFC 1035 §2.3.4 */
#define DNS_LABEL_MAX 63

typedef struct {
  uint8_t len; /* octets used in wire[], >= 1 for a valid name (root = 1) */
  uint8_t wire[DNS_NAME_MAX];
} dns_name;

/* Sets N to the root name ".". */
void dns_name_set_root(dns_name *n);

/* Parses presentation text (RFC 1035 §5.1): labels separated by '.', escapes
 * "\X" (X taken literally) and "\DDD" (decimal octet). A final '.' is
 * optional; "." and "" are the root. On error N is set to the root and
 * DNS_ERR_SYNTAX, DNS_ERR_LABEL_TOO_LONG or DNS_ERR_NAME_TOO_LONG returned. */
dns_err dns_name_from_text(dns_name *n, const char *text);

/* Like dns_name_from_text but aborts on error: for literals in code and tests. */
dns_name dns_name_lit(const char *text);

/* Appends N in presentation form with its final dot ("www.example.")
 * to OUT. Escapes '.', '\\', '"', '(', ')', ';', '@', '$' with a backslash and
 * bytes outside 0x21..0x7e as \DDD, as dig and dnspython do. */
void dns_name_append_text(const dns_name *n, GString *out);

/* Presentation form in a new string; g_free it. */
char *dns_name_to_text(const dns_name *n);

/* Decodes the (possibly compressed) name at *OFF in the message MSG of LEN
 * octets into N and advances *OFF past the name as it sits in the message
 * (past the first pointer, if any). Defences (RFC 9267): every pointer must
 * point before the start of the label run it interrupts, so loops are
 * impossible (DNS_ERR_PTR_LOOP if it points into the name being read,
 * DNS_ERR_PTR_FORWARD if later, DNS_ERR_PTR_OUT_OF_BOUNDS if beyond LEN);
 * labels over 63 octets are impossible to encode and the 0x40/0x80 types are
 * rejected (DNS_ERR_LABEL_TYPE); names over 255 octets give
 * DNS_ERR_NAME_TOO_LONG; running off the end gives DNS_ERR_SHORT. Never
 * reads outside MSG[0..LEN). On error *OFF and N are unspecified. */
dns_err dns_name_decode(const uint8_t *msg, size_t len, size_t *off, dns_name *n);

/* Number of labels, not counting the root ("a.b." = 2, "." = 0). */
int dns_name_labels(const dns_name *n);

/* True if A and B are the same name, ignoring ASCII case. */
bool dns_name_equal(const dns_name *a, const dns_name *b);

/* True if the N octets at A and at B are equal ignoring ASCII case (as
 * dns_name_equal compares names), eight octets a step; reads nothing past
 * A[N-1] and B[N-1]. */
bool dns_name_octets_ieq(const uint8_t *a, const uint8_t *b, size_t n);

/* True if N is PARENT or below it ("a.b." is under "b." and under "."). */
bool dns_name_is_under(const dns_name *n, const dns_name *parent);

/* Sets OUT to the last KEEP labels of N (KEEP <= labels(N)); OUT may be N. */
void dns_name_suffix(const dns_name *n, int keep, dns_name *out);

/* Sets OUT to LABEL (LEN octets, 1..63) prepended to N. Returns
 * DNS_ERR_NAME_TOO_LONG if the result would exceed 255 octets. */
dns_err dns_name_prepend(const dns_name *n, const uint8_t *label, size_t len, dns_name *out);

/* Copy of N with ASCII letters folded to lower case (OUT may be N). */
void dns_name_lower(const dns_name *n, dns_name *out);
/* The same for the N octets at IN, written at OUT (N octets; OUT may be
 * IN, not otherwise overlapping it), eight a step. */
void dns_name_lower_octets(const uint8_t *in, size_t n, uint8_t *out);

/* Canonical order of RFC 4034 §6.1 (labels compared right to left, case
 * folded): negative, zero or positive like strcmp. Use it to sort names so
 * that output never depends on hash-table order. */
int dns_name_compare(const dns_name *a, const dns_name *b);

/* Case-insensitive hash and equality for GHashTable keys of type dns_name*. */
guint dns_name_hash(gconstpointer n);
gboolean dns_name_hash_equal(gconstpointer a, gconstpointer b);

#endif
