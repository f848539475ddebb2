/* mime_imap.h — the IMAP views of a parsed message (RFC 3501): ENVELOPE,
 * BODY and BODYSTRUCTURE strings (§7.4.2) and the octet ranges that
 * BODY[section] fetches (§6.4.5). */
#ifndef MAILSIM_MIME_IMAP_H
#define MAILSIM_MIME_IMAP_H

#include "mime_msg.h"

#include <glib.h>

/* Appends S as an IMAP nstring: NIL when S is NULL, a quoted string when
 * S is short 7-bit text without CR, LF or NUL, else a literal
 * "{n}\r\n" followed by the octets. */
void mime_imap_append_nstring(GString *out, const char *s);

/* The ENVELOPE of a message entity (the root, or a part's encapsulated
 * message): "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)". Sender and Reply-To default to From when absent or empty
 * (§7.4.2); values are the unfolded header text (RFC 2047 words are not
 * decoded); groups use the NIL-host / NIL-mailbox markers. New string. */
char *mime_imap_envelope(const mime_part *msg_entity);

/* BODYSTRUCTURE (EXTENDED: with the extension data) or BODY (without) of
 * the message M. Media type, subtype, parameter names, encoding and
 * disposition type are upper-cased as in the RFC 3501 examples; parameter
 * values are as written (RFC 2231 forms kept). New string. */
char *mime_imap_bodystructure(const mime_msg *m, gboolean extended);
/* The same for one entity (a part, or an encapsulated message). */
char *mime_imap_bodystructure_part(const mime_part *p, gboolean extended);

/* The octet range of BODY[SECTION] for SECTION "" (whole message),
 * "HEADER", "TEXT", "1.2", "1.2.MIME", "3.HEADER", "3.TEXT" (the last two
 * for message/rfc822 parts). Letters are case-insensitive. Returns FALSE
 * for a malformed SECTION or a part that does not exist (IMAP then
 * returns an empty string). HEADER.FIELDS is left to the caller (use
 * mime_hdr on the part found by mime_msg_find). */
gboolean mime_imap_section_range(const mime_msg *m, const char *section, gsize *off, gsize *len);

/* BODY[<section>.HEADER.FIELDS (NAMES)] and, with EXCLUDE,
 * HEADER.FIELDS.NOT: the fields of ENTITY (the root, or the message of a
 * message/rfc822 part) whose names are (EXCLUDE: are not) among the
 * N_NAMES NAMES, case-insensitive, with their exact octets in message
 * order, then the empty line, which RFC 3501 §6.4.5 says every header part
 * includes. New bytes. */
GBytes *mime_imap_header_fields(const mime_msg *m, const mime_part *entity,
                                const char *const *names, gsize n_names, gboolean exclude);

#endif
