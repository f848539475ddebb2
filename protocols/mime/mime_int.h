/* mime_int.h — internals shared by the files of the mime module (not API).
 *
 * The lexer follows RFC 5322 §3.2 (quoted-pair, FWS, comments, atoms,
 * quoted strings) and RFC 2045 §5.1 (MIME tokens). Every reader takes a
 * buffer, its length and a cursor; none reads past LEN, and every one makes
 * progress or returns FALSE without moving the cursor. */
#ifndef MAILSIM_MIME_INT_H
#define MAILSIM_MIME_INT_H

#include <glib.h>

#include "mime_trace.h"

/* RFC 5322 §3.2.3 atext; bytes >= 0x80 are accepted too (RFC 6532). */
gboolean mime__is_atext(unsigned char c);
/* RFC 2045 §5.1: any CHAR but SPACE, CTLs and tspecials. */
gboolean mime__is_token_char(unsigned char c);

/* Skips whitespace, line ends and (nested) comments. When COMMENT is not
 * NULL the text of each comment met is appended to it (quoted pairs
 * resolved, separated by one space). Returns TRUE if anything was skipped. */
gboolean mime__skip_cfws(const char *s, gsize len, gsize *pos, GString *comment);

/* Appends a run of atext to OUT; FALSE (cursor unchanged) if none. */
gboolean mime__read_atom(const char *s, gsize len, gsize *pos, GString *out);
/* Appends a run of RFC 2045 token chars; FALSE if none. */
gboolean mime__read_token(const char *s, gsize len, gsize *pos, GString *out);
/* At '"': appends the content with quoted pairs resolved and folding
 * removed. An unterminated string runs to the end (lenient); *CLOSED says
 * whether the closing quote was seen. FALSE if not at '"'. */
gboolean mime__read_qstring(const char *s, gsize len, gsize *pos, GString *out, gboolean *closed);
/* At '[': appends the whole domain literal including brackets. */
gboolean mime__read_dliteral(const char *s, gsize len, gsize *pos, GString *out);

/* Converts LEN bytes in CHARSET to a new UTF-8 string, or NULL if the
 * charset is unknown or the bytes are invalid in it. us-ascii is read as
 * UTF-8's subset; bytes >= 0x80 in "us-ascii" fail. */
char *mime__to_utf8(const char *charset, const char *bytes, gsize len);

/* Returns a valid UTF-8 copy of LEN bytes: invalid sequences become U+FFFD. */
char *mime__utf8_sanitize(const char *bytes, gsize len);

/* Quotes S as an RFC 5322 quoted-string if it is not a valid dot-atom or
 * (when PHRASE) a sequence of atoms; appends the result to OUT. */
void mime__append_word(GString *out, const char *s, gboolean phrase);

/* TRUE when V is one bare addr-spec that mime_addr_parse reads as one
 * mailbox whose local part and domain are V's two sides as written: an
 * ASCII dot-atom local part (RFC 5322 §3.2.3: no leading, trailing or
 * double dot, else it would be re-quoted), one '@', a non-empty domain of
 * atext and dots. Most address fields are this; the callers skip the
 * tokenizer for them. */
gboolean mime__plain_addr_spec(const char *v);

/* mime_hdr_unfold into caller storage OUT (at least LEN + 1 octets):
 * NUL-terminated; returns the length written. */
gsize mime__unfold_into(const char *raw, gsize len, char *out);

/* Received (RFC 5321 §4.4) clauses FROM, BY and WITH only, as
 * mime_trace_received_parse gives them (the other members stay zero: no
 * comments, no date), in one block with their strings: free with g_free,
 * not mime_received_info_clear. For a reader that shows the path. */
mime_received_info *mime__received_route_new(const char *value);
/* The same in a block of ALLOC(USER, N) (pointer-aligned; the caller owns
 * it). */
mime_received_info *mime__received_route_alloc(const char *value,
                                               void *(*alloc)(void *user, gsize n), void *user);

/* mime_date_format written into R (room for MIME__DATE_MAX octets, NUL
 * included): returns its length, 0 where mime_date_format gives NULL. */
#define MIME__DATE_MAX 32
gsize mime__date_format_into(char *r, int64_t sim_ns, int64_t epoch_unix, int tz_min);

#endif
