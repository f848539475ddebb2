/* mime_codec.h — Content-Transfer-Encodings (RFC 2045 §6): base64 and
 * quoted-printable, both directions. */
#ifndef MAILSIM_MIME_CODEC_H
#define MAILSIM_MIME_CODEC_H

#include <glib.h>

/* Base64 of DATA in lines of 76 characters ending in CRLF (RFC 2045 §6.8);
 * the last line ends in CRLF too; "" for no data. New string. */
char *mime_codec_base64_encode(const guint8 *data, gsize len);
/* Decodes base64, ignoring line ends and whitespace; sets *BAD (may be
 * NULL) when other octets or misplaced padding were met (they are
 * skipped, RFC 2045 §6.8). Returns new bytes. */
GBytes *mime_codec_base64_decode(const char *text, gsize len, gboolean *bad);

/* Quoted-printable (RFC 2045 §6.7). TEXT mode: CRLF or a bare LF in the
 * input is a line break written as CRLF; BINARY mode: CR and LF are
 * encoded. Lines are at most 76 characters (soft breaks "=" CRLF),
 * trailing space and tab are encoded, and so are "=", controls and 8-bit
 * octets, and a "." or "From " at the start of a line (safe for SMTP and
 * mbox). New string. */
char *mime_codec_qp_encode(const guint8 *data, gsize len, gboolean binary);
/* Decodes quoted-printable: soft breaks removed, trailing whitespace on a
 * line dropped (rule 3), line ends kept as they were. A bad "=" sequence
 * is kept literally and sets *BAD. Returns new bytes. */
GBytes *mime_codec_qp_decode(const char *text, gsize len, gboolean *bad);

#endif
