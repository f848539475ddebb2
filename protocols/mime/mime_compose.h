/* mime_compose.h — building a message from plain configuration
 * (RFC 5322 header, RFC 2045-2047 MIME), deterministically: the caller
 * supplies the date (simulated time), the Message-ID and a seed for the
 * boundaries; nothing here draws randomness or reads a clock. */
#ifndef MAILSIM_MIME_COMPOSE_H
#define MAILSIM_MIME_COMPOSE_H

#include <glib.h>
#include <stdint.h>

/* Error domain of mime_compose_build. */
#define MIME_COMPOSE_ERROR (mime_compose_error_quark())
GQuark mime_compose_error_quark(void);
typedef enum {
  MIME_COMPOSE_ERROR_FROM,    /* From missing or not a mailbox list */
  MIME_COMPOSE_ERROR_ADDRESS, /* a To/Cc/Bcc address is malformed */
  MIME_COMPOSE_ERROR_NO_RCPT, /* no recipient at all */
  MIME_COMPOSE_ERROR_DATE,    /* date out of range */
  MIME_COMPOSE_ERROR_ARG,     /* another field is invalid (message id, header, type) */
  MIME_COMPOSE_ERROR_COUNT
} mime_compose_error;
const char *mime_compose_error_name(mime_compose_error e);

typedef struct {
  const char *filename;     /* UTF-8; RFC 2231 encoded when not ASCII */
  const char *content_type; /* "type/subtype", NULL = application/octet-stream */
  const guint8 *data;
  gsize len;
} mime_compose_attachment;

typedef struct {
  const char *from; /* address list text, e.g. "Alice <alice@a.example>" (UTF-8 names ok) */
  const char *to;   /* address lists, may be NULL */
  const char *cc;
  const char *bcc;     /* recipients only: never written to the header (RFC 5322 §3.6.3 option) */
  const char *subject; /* UTF-8, RFC 2047 encoded when not ASCII; NULL = none */
  int64_t date_ns;     /* simulated time of the Date field */
  int64_t epoch_unix;  /* Unix seconds of simulated time 0 (MIME_DATE_EPOCH_DEFAULT) */
  int tz_min;          /* zone of the Date field, minutes east of UTC */
  const char *message_id;  /* "unique@host" (no angle brackets); the caller makes it unique */
  const char *in_reply_to; /* "<id@host>" or NULL */
  const char *text;        /* plain text body, UTF-8, any line ends; NULL = none */
  const char *html;        /* HTML alternative, or NULL */
  const mime_compose_attachment *attachments;
  gsize n_attachments;
  const char
      *boundary_seed; /* boundaries derive from it (e.g. the message id); NULL = message_id */
  /* Extra fields "Name: value" (ASCII, already valid), NULL-terminated, or NULL. */
  const char *const *extra_fields;
} mime_compose_config;

/* Builds the message: CRLF line ends, no line over 78 octets in the header
 * nor over 998 anywhere (RFC 5322 §2.1.1). Body structure: a text/plain
 * part; with HTML a multipart/alternative (RFC 2046 §5.1.4) of text and
 * HTML; with attachments a multipart/mixed of that and one base64 part per
 * attachment (Content-Disposition: attachment, RFC 2183). Text parts are
 * 7bit when they are short-lined ASCII, quoted-printable otherwise.
 * Returns the message, or NULL with *ERR set (MIME_COMPOSE_ERROR). The
 * envelope recipients (To, Cc and Bcc mailboxes) are appended to RCPTS
 * (may be NULL) as new "local@domain" strings; on an error nothing is
 * appended. */
GBytes *mime_compose_build(const mime_compose_config *cfg, GPtrArray *rcpts, GError **err);

/* The boundary used at nesting LEVEL for SEED: "=_ms_" + 32 hex digits of
 * SHA-256(seed, level). "=_" can never occur in base64 or QP output. New
 * string. */
char *mime_compose_boundary(const char *seed, guint level);

/* Folds an unstructured field body at spaces so that lines stay within 78
 * octets when it starts at column FIRST_COL; words longer than a line are
 * left whole. New string. */
char *mime_compose_fold(const char *value, gsize first_col);

#endif
