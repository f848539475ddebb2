/* imap_framer.h — cuts an IMAP client byte stream into commands.
 *
 * Accepts any split of the stream. Follows synchronizing literals {n}
 * (asking the caller to send a continuation request, RFC 3501 §7.5) and
 * non-synchronizing literals {n+} (RFC 7888). Each text line is bounded by
 * max_line and each literal by max_literal; an over-limit command is
 * reported as IMAP_FRAME_ERROR with its tag (the bytes of a {n+} literal
 * over the limit are skipped, never stored), so memory stays bounded. A
 * framed command is the bytes of its lines without the final CRLF, each
 * literal kept in place as "{n}\r\n<n bytes>" (a bare LF after {n} is
 * normalised to CRLF).
 */
#ifndef MAILSIM_IMAP_FRAMER_H
#define MAILSIM_IMAP_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- framing ---- */

typedef struct imap_framer imap_framer;

typedef enum {
  IMAP_FRAME_NEED_MORE, /* feed more bytes */
  IMAP_FRAME_COMMAND,   /* data/len: one complete command */
  IMAP_FRAME_CONTINUE,  /* a synchronizing literal is accepted: send "+ ..." */
  IMAP_FRAME_ERROR,     /* tag (may be NULL) and error: answer "tag BAD error" */
} imap_frame_kind;

typedef struct {
  imap_frame_kind kind;
  const uint8_t *data; /* COMMAND: valid until the next framer call */
  size_t len;
  const char *tag;   /* ERROR: the tag if one could be read, else NULL */
  const char *error; /* ERROR: human text */
} imap_frame;

/* MAX_LINE bounds each text line of a command (RFC 7162 §4 suggests
 * 8192); MAX_LITERAL each literal. */
imap_framer *imap_framer_new(size_t max_line, size_t max_literal);
void imap_framer_free(imap_framer *f);
/* Puts F in the state of imap_framer_new(MAX_LINE, MAX_LITERAL), every
 * byte held dropped, keeping its buffers for reuse unless one held more
 * than 64 KiB (those are let go and made anew). */
void imap_framer_reset(imap_framer *f, size_t max_line, size_t max_literal);
/* Appends bytes (copied). */
void imap_framer_feed(imap_framer *f, const void *data, size_t len);
/* Advances; returns what happened. Call until NEED_MORE. */
imap_frame imap_framer_next(imap_framer *f);
/* Changes the literal limit for literals not yet announced (e.g. larger
 * once the client has logged in). */
void imap_framer_set_max_literal(imap_framer *f, size_t max_literal);
/* Raw mode: lines only, no literal recognition (IDLE's DONE, SASL
 * continuation lines). */
void imap_framer_set_raw(imap_framer *f, bool raw);
/* Drops every buffered byte not yet returned (after STARTTLS,
 * RFC 3501 §6.2.1 / CVE-2011-0411). */
void imap_framer_discard(imap_framer *f);
/* Bytes held in the framer's input buffer (not yet framed). */
size_t imap_framer_pending(const imap_framer *f);

#endif
