/* imap_mutf7.h — modified UTF-7 mailbox names (RFC 3501 §5.1.3).
 *
 * Printable US-ASCII except "&" stands for itself; "&" is "&-"; other
 * characters are UTF-16 in modified BASE64 ("," for "/", no padding)
 * between "&" and "-".
 */
#ifndef MAILSIM_IMAP_MUTF7_H
#define MAILSIM_IMAP_MUTF7_H

#include <stdbool.h>

/* UTF-8 -> modified UTF-7; NULL if UTF8 is not valid UTF-8. g_free. */
char *imap_mutf7_encode(const char *utf8);
/* Modified UTF-7 -> UTF-8; NULL if S is not valid (bad base64, unpadded
 * bits, an encoded printable ASCII character, "&" runs back to back,
 * raw 8-bit). g_free. */
char *imap_mutf7_decode(const char *s);
/* Whether S is valid modified UTF-7. */
bool imap_mutf7_valid(const char *s);

#endif
