/* mime_display.h — what a mail client shows of a message: the usual
 * header fields decoded, the Received path, and the attachment list. */
#ifndef MAILSIM_MIME_DISPLAY_H
#define MAILSIM_MIME_DISPLAY_H

#include "mime_msg.h"
#include "mime_trace.h"

#include <glib.h>

typedef struct {
  char *name;  /* "From", "To", "Cc", "Subject", "Date", "Authentication-Results" */
  char *value; /* UTF-8, RFC 2047 decoded, addresses as "Name <a@b>" */
} mime_display_field;

typedef struct {
  char *section;  /* IMAP part number */
  char *filename; /* UTF-8, or NULL when the part has none */
  char *type;     /* "application/pdf" */
  gsize size;     /* decoded octets */
} mime_display_attachment;

typedef struct {
  GPtrArray *fields;      /* of mime_display_field*, in the order above, present ones only */
  GPtrArray *received;    /* of mime_received_info*, top (last hop) to bottom (first) */
  GPtrArray *attachments; /* of mime_display_attachment*, in document order */
  void *store_;           /* private: where mime_display_scan keeps the entries */
} mime_display;

/* Builds the view of M. An attachment is a leaf part (not the message
 * itself, not inside a forwarded message) whose disposition is
 * "attachment" or that has a file name. Free with mime_display_free. */
mime_display *mime_display_new(const mime_msg *m);
void mime_display_free(mime_display *d);

/* The view of the message DATA (LEN octets; borrowed for the call) for a
 * reader that shows the path, not its times: equal to mime_display_new on
 * mime_msg_parse(DATA, LEN, NULL), except that each Received entry holds
 * only from, by and with (the other members NULL, date_ok FALSE). The
 * root header is read in place; the message is parsed whole only when
 * its Content-Type may name a multipart (the only kind of root with
 * attachments). MESSAGE_ID, when not NULL, receives the unfolded value of
 * the first Message-ID among those fields (mime_hdr_get on the parsed
 * root), a new string, or NULL. Free with mime_display_free. Never fails. */
mime_display *mime_display_scan(const void *data, gsize len, char **message_id);

/* The same, reusing REUSE (a display from mime_display_scan or this
 * function, or NULL for a new one): its entries are replaced, its storage
 * kept, so a caller that shows message after message allocates nothing
 * per message once the storage fits. Returns the display (REUSE when not
 * NULL); what the last call returned is no longer valid. */
mime_display *mime_display_scan_into(mime_display *reuse, const void *data, gsize len,
                                     char **message_id);
/* The same, the first Message-ID given as its raw value in DATA (*MID_RAW,
 * *MID_LEN octets, folding kept: mime_hdr_unfold gives what MESSAGE_ID
 * would hold), or NULL: no copy made. */
mime_display *mime_display_scan_into_raw(mime_display *reuse, const void *data, gsize len,
                                         const char **mid_raw, gsize *mid_len);

/* Value of displayed field NAME, or NULL (borrowed). */
const char *mime_display_get(const mime_display *d, const char *name);

/* An address list for people: decoded names, "Name <a@b>", groups as
 * "Team: a@b, c@d;". New string. */
char *mime_display_addresses(const char *value);

#endif
