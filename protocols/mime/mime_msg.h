/* mime_msg.h — parsing a message (RFC 5322) into its MIME part tree
 * (RFC 2045, RFC 2046) with the exact octet range of every header and
 * body, numbered as IMAP numbers parts (RFC 3501 §6.4.5). */
#ifndef MAILSIM_MIME_MSG_H
#define MAILSIM_MIME_MSG_H

#include "mime_hdr.h"

#include <glib.h>

/* RFC 2045 §6.1 Content-Transfer-Encoding. */
typedef enum {
  MIME_CTE_7BIT,
  MIME_CTE_8BIT,
  MIME_CTE_BINARY,
  MIME_CTE_QP,
  MIME_CTE_BASE64,
  MIME_CTE_OTHER, /* unknown: the body is returned undecoded */
  MIME_CTE_COUNT
} mime_cte;
/* "7bit", "8bit", "binary", "quoted-printable", "base64", "other". */
const char *mime_cte_name(mime_cte c);

/* Defences against bombs; exceeding one sets a flag, never fails. */
typedef struct {
  guint max_depth;  /* nesting of multiparts and message/rfc822 (default 32) */
  guint max_parts;  /* entities in the whole tree (default 1000) */
  guint max_fields; /* header fields kept per entity (default 1000) */
} mime_limits;
void mime_limits_default(mime_limits *l);

/* One entity: the message itself, a body part, or the message inside a
 * message/rfc822 part. Read-only for users; owned by its mime_msg. */
typedef struct mime_part mime_part;
struct mime_part {
  const mime_part *parent; /* NULL for the root */
  GPtrArray *children;     /* of mime_part*: the body parts of a multipart, or the one
                              encapsulated message of a message/rfc822 part */
  /* IMAP part number (RFC 3501 §6.4.5): "" for the root message, "1.2" for a
   * body part. An encapsulated message carries its message/rfc822 part's
   * number, since BODY[n.HEADER] and BODY[n.TEXT] address it. */
  char *section;
  gboolean encapsulated;    /* the message inside a message/rfc822 part */
  mime_hdr *hdr;            /* header fields in order */
  char *type, *subtype;     /* lower case; defaults per RFC 2045 §5.2 / RFC 2046 §5.1.5 */
  GPtrArray *ct_params_raw; /* Content-Type parameters as written (mime_param*) */
  GPtrArray *ct_params;     /* same with RFC 2231 applied */
  mime_cte cte;
  char *cte_raw;                            /* Content-Transfer-Encoding as written, or NULL */
  char *disposition;                        /* lower-cased disposition type, or NULL */
  GPtrArray *disp_params_raw, *disp_params; /* NULL without Content-Disposition */
  char *filename;           /* UTF-8: disposition filename, else Content-Type name; or NULL */
  gsize hdr_off, hdr_len;   /* header octets, including the empty line */
  gsize body_off, body_len; /* body octets (a part's body ends before the CRLF that
                               precedes the next delimiter, RFC 2046 §5.1.1) */
  gsize body_lines;         /* LF count in the body, +1 if its last line is unterminated */
  guint flags;              /* MIME_FLAG_* found in this entity */
};

typedef struct mime_msg mime_msg;

/* Parses LEN octets (copied). LIMITS may be NULL for the defaults. Never
 * fails: defects become flags. Free with mime_msg_free. */
mime_msg *mime_msg_parse(const void *data, gsize len, const mime_limits *limits);
void mime_msg_free(mime_msg *m);

/* The message octets (borrowed, LEN in *LEN). */
const guint8 *mime_msg_data(const mime_msg *m, gsize *len);
const mime_part *mime_msg_root(const mime_msg *m);
/* OR of all entities' flags. */
guint mime_msg_flags(const mime_msg *m);
/* Number of entities in the tree (root included). */
guint mime_msg_part_count(const mime_msg *m);

/* The entity named by SECTION, a dotted part number ("1", "2.1.3")
 * following RFC 3501 §6.4.5: a non-multipart message has one part, "1",
 * the message itself; the parts of a message/rfc822 part N are N.1, N.2..
 * (or N.1 is its body when the inner message is not multipart). Returns a
 * borrowed pointer, or NULL when there is no such part. "" gives the root. */
const mime_part *mime_msg_find(const mime_msg *m, const char *section);

/* The body of P with its transfer encoding undone (base64, QP; others as
 * is). Sets MIME_FLAG_BAD_ENCODING in *FLAGS (may be NULL) on bad data.
 * Returns new bytes. */
GBytes *mime_part_decode(const mime_msg *m, const mime_part *p, guint *flags);

/* Is P a multipart / a message/rfc822 (or message/global) with a parsed
 * inner message? */
gboolean mime_part_is_multipart(const mime_part *p);
gboolean mime_part_is_message(const mime_part *p);
/* Value of Content-Type parameter NAME (RFC 2231 applied), or NULL. */
const char *mime_part_param(const mime_part *p, const char *name);

/* Depth-first walk in document order; FN returns FALSE to stop. */
typedef gboolean (*mime_part_fn)(const mime_part *p, void *ud);
void mime_msg_walk(const mime_msg *m, mime_part_fn fn, void *ud);

/* ---- push interface: accepts any split of the input ---- */
typedef struct mime_msg_parser mime_msg_parser;
mime_msg_parser *mime_msg_parser_new(const mime_limits *limits);
/* Appends LEN octets. The structure is computed when the whole message is
 * known (a multipart's last part cannot be closed earlier). */
void mime_msg_parser_feed(mime_msg_parser *p, const void *data, gsize len);
/* Octets fed so far. */
gsize mime_msg_parser_size(const mime_msg_parser *p);
/* Parses everything fed and frees P. Returns a new mime_msg. */
mime_msg *mime_msg_parser_finish(mime_msg_parser *p);
void mime_msg_parser_free(mime_msg_parser *p);

#endif
