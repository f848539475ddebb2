/* dkim_canon.h — DKIM canonicalisation (RFC 6376 §3.4): header fields
 * (simple, relaxed), the body as a stream (simple, relaxed, with the l=
 * limit), and selecting the fields a signature covers (§5.4.2). */
#ifndef MAILSIM_DKIM_CANON_H
#define MAILSIM_DKIM_CANON_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { DKIM_CANON_SIMPLE = 0, DKIM_CANON_RELAXED, DKIM_CANON_COUNT } dkim_canon;

/* "simple", "relaxed". */
const char *dkim_canon_name(dkim_canon c);
bool dkim_canon_from_name(const char *name, size_t len, dkim_canon *out);

/* Appends the canonical form of one header field to OUT. FIELD is the
 * field as it sits in the message (LEN octets: name, ':', value, folding,
 * and its final CRLF if present). Simple: unchanged (§3.4.1). Relaxed
 * (§3.4.2): name lower-cased, unfolded, WSP runs to one SP, WSP removed at
 * the value's ends and around the colon, then CRLF. With NO_CRLF the final
 * CRLF is not written (the DKIM-Signature field itself, §3.7). */
void dkim_canon_header(dkim_canon c, const char *field, size_t len, bool no_crlf, GString *out);

/* Streaming body canonicaliser (§3.4.3, §3.4.4). Output goes to a callback
 * in pieces; the concatenation is independent of how the input is split. */
typedef void (*dkim_canon_out_fn)(void *ud, const void *data, size_t len);

typedef struct dkim_body dkim_body;

/* A new canonicaliser. LIMIT: at most this many canonical octets are
 * passed on (the l= tag, §3.5); -1 for no limit. */
dkim_body *dkim_body_new(dkim_canon c, int64_t limit, dkim_canon_out_fn out, void *ud);
void dkim_body_free(dkim_body *b); /* NULL is a no-op */
/* Feeds body octets (lines end in CRLF; a lone CR or LF is an ordinary
 * octet). */
void dkim_body_feed(dkim_body *b, const void *data, size_t len);
/* Ends the body: trailing empty lines dropped; simple: an empty body is one
 * CRLF, relaxed: nothing; a last line without CRLF gets one. */
void dkim_body_end(dkim_body *b);
/* Canonical octets produced in total (before the limit was applied). */
int64_t dkim_body_length(const dkim_body *b);

/* Selects, for the names in H (a signature's h= list, in order), the
 * fields a signature covers (§5.4.2): for each name, the last instance not
 * yet used, searching from the bottom; a name with no instance left adds
 * nothing. FIELDS are the message's fields in order (pointer and length of
 * each, CRLF included); the result holds indices into FIELDS or -1. */
GArray *dkim_canon_select(const char *const *names, size_t nnames, const char *const *fields,
                          const size_t *lens, size_t nfields);

#endif
