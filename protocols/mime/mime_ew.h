/* mime_ew.h — RFC 2047 encoded words: decoding unstructured text and
 * phrases, and encoding UTF-8 text as "=?UTF-8?Q?...?=" / "?B?" words. */
#ifndef MAILSIM_MIME_EW_H
#define MAILSIM_MIME_EW_H

#include <glib.h>

/* Where an encoded word goes; RFC 2047 §5 restricts the Q alphabet in a
 * phrase. */
typedef enum { MIME_EW_TEXT, MIME_EW_PHRASE, MIME_EW_COUNT } mime_ew_ctx;
const char *mime_ew_ctx_name(mime_ew_ctx c);

/* Decodes the encoded word(s) that make up all of S[0..LEN) (one word, or
 * several written back to back). Returns new UTF-8, or NULL when S is not
 * entirely encoded words or a charset is unknown. */
char *mime_ew_decode_word(const char *s, gsize len);

/* Decodes an unstructured value (Subject, comment text, a phrase already
 * unquoted): each whitespace-delimited encoded word is decoded
 * (RFC 2047 §5(1)); whitespace between two encoded words is dropped
 * (§6.2); anything that fails to decode stays as written. Invalid UTF-8 in
 * the result is replaced with U+FFFD. Returns a new string. */
char *mime_ew_decode(const char *text);

/* Encodes UTF-8 TEXT for a header. Printable ASCII without "=?" and
 * without a run of more than 76 (phrase: 60, quoting counted) non-blank
 * characters is returned
 * unchanged (MIME_EW_TEXT) or as an atom sequence / quoted string
 * (MIME_EW_PHRASE). Otherwise the whole text becomes UTF-8 encoded words of
 * at most 75 octets (§2), Q or B whichever is shorter, split only between
 * characters, joined by CRLF SP (folding). Returns a new string. */
char *mime_ew_encode(const char *text, mime_ew_ctx ctx);

#endif
