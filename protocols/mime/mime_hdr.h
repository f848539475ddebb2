/* mime_hdr.h — header fields: splitting a header block into fields in
 * order (RFC 5322 §2.2, §2.2.3 unfolding), and MIME parameters
 * (RFC 2045 §5.1 Content-Type, RFC 2183 Content-Disposition, RFC 2231
 * continuations and charsets). */
#ifndef MAILSIM_MIME_HDR_H
#define MAILSIM_MIME_HDR_H

#include <glib.h>
#include <stdint.h>

/* Defects found while parsing; bits of a guint. None is fatal. */
enum {
  MIME_FLAG_BARE_LF = 1u << 0,      /* a line ended with LF alone (RFC 5322 §2.3) */
  MIME_FLAG_LONG_LINE = 1u << 1,    /* a line over 998 octets (RFC 5322 §2.1.1) */
  MIME_FLAG_BAD_HEADER = 1u << 2,   /* a header line with no colon / bad name */
  MIME_FLAG_NO_BODY_SEP = 1u << 3,  /* the header ended without an empty line */
  MIME_FLAG_NO_CLOSE = 1u << 4,     /* multipart without its close delimiter (RFC 2046 §5.1.1) */
  MIME_FLAG_NO_BOUNDARY = 1u << 5,  /* multipart without a usable boundary parameter */
  MIME_FLAG_DEPTH_LIMIT = 1u << 6,  /* nesting cut at the depth limit */
  MIME_FLAG_PART_LIMIT = 1u << 7,   /* part count cut at the part limit */
  MIME_FLAG_FIELD_LIMIT = 1u << 8,  /* header fields cut at the field limit */
  MIME_FLAG_BAD_ENCODING = 1u << 9, /* invalid base64 / quoted-printable data */
  MIME_FLAG_NUL = 1u << 10,         /* a NUL octet in a header */
  MIME_FLAG_8BIT_HEADER = 1u << 11, /* raw 8-bit octets in a header */
  MIME_FLAG_BAD_CTYPE = 1u << 12,   /* unparseable Content-Type, default used */
  MIME_FLAG_COUNT_ = 13
};
/* Name of one flag bit ("bare-lf", ...), "?" for an unknown bit. */
const char *mime_flag_name(guint bit);
/* Writes the names of the set bits, comma separated, into a new string. */
char *mime_flags_describe(guint flags);

/* RFC 5322 §2.1.1: a line is at most 998 octets before CRLF. */
#define MIME_LINE_MAX 998

/* One header field, as it sits in the message. */
typedef struct {
  char *name;      /* field name as written */
  char *raw_value; /* octets after ':' to the final line end, folding kept */
  char *value;     /* unfolded (RFC 5322 §2.2.3) and trimmed of outer WSP */
  gsize offset;    /* offset of the name's first octet in the message */
  gsize length;    /* octets of the whole field including its final line end */
} mime_hdr_field;

/* An ordered list of header fields; duplicates are kept in order. */
typedef struct mime_hdr mime_hdr;

/* Splits the header block at the start of BUF (LEN octets). BASE is the
 * offset of BUF in the message, used for the field offsets. The block ends
 * after the first empty line (consumed), or at a line that cannot start a
 * field (not consumed; MIME_FLAG_NO_BODY_SEP), or at the end of the buffer.
 * At most MAX_FIELDS fields are kept (0 = no limit). *HDR_LEN receives the
 * octets of the block including the empty line; defects are OR-ed into
 * *FLAGS. Returns a new list; free with mime_hdr_free. Never fails. */
mime_hdr *mime_hdr_parse(const char *buf, gsize len, gsize base, guint max_fields, gsize *hdr_len,
                         guint *flags);
/* An empty list (for building). */
mime_hdr *mime_hdr_new(void);
void mime_hdr_free(mime_hdr *h);
/* Appends a field (copies strings; RAW_VALUE may be NULL = VALUE). */
void mime_hdr_add(mime_hdr *h, const char *name, const char *value);

guint mime_hdr_count(const mime_hdr *h);
/* The I-th field (borrowed); aborts if out of range. */
const mime_hdr_field *mime_hdr_nth(const mime_hdr *h, guint i);
/* The N-th (0-based) field named NAME (case-insensitive), or NULL. */
const mime_hdr_field *mime_hdr_find(const mime_hdr *h, const char *name, guint n);
/* Unfolded value of the first field NAME, or NULL (borrowed). */
const char *mime_hdr_get(const mime_hdr *h, const char *name);

/* Removes CRLF / LF that precede WSP (RFC 5322 §2.2.3) and trims outer WSP. */
char *mime_hdr_unfold(const char *raw, gsize len);
/* mime_hdr_unfold into caller storage OUT (at least LEN + 1 octets);
 * returns the length written (OUT is NUL-terminated). */
gsize mime_hdr_unfold_into(const char *raw, gsize len, char *out);

/* TRUE when field names A (ALEN octets) and B (BLEN) are equal ignoring
 * ASCII case (RFC 5322 §1.2.2: field names are case-insensitive). */
gboolean mime_hdr_name_is(const char *a, gsize alen, const char *b, gsize blen);

/* ---- reading fields in place ----
 * The same splitting as mime_hdr_parse, one field at a time and without
 * copying: for a caller that wants one or two fields of a header and
 * would otherwise build the whole list. */

/* One field as a view into the scanned buffer (not NUL-terminated). */
typedef struct {
  const char *name;      /* as written, WSP before the colon dropped */
  gsize name_len;
  const char *raw_value; /* octets after ':' to the final line end, folding kept */
  gsize raw_len;
  gsize offset; /* of the name in the buffer */
  gsize length; /* of the whole field including its final line end */
} mime_hdr_view;

/* Scanner state: caller storage, fields private. */
typedef struct {
  const char *buf;
  gsize len, pos, end;
  gsize start, name_end, colon, vend, next; /* the field read but not yet given */
  guint flags;
  gboolean want_flags, have, done;
} mime_hdr_scan;

/* Starts scanning the header block at the start of BUF (LEN octets; BUF is
 * borrowed until the scan ends). WANT_FLAGS: note the per-octet defects
 * (NUL, 8-bit, long lines) too; the structural ones are always noted. */
void mime_hdr_scan_init(mime_hdr_scan *sc, const char *buf, gsize len, gboolean want_flags);
/* The next field into *OUT (views into BUF); FALSE at the end of the
 * block. The field limit of mime_hdr_parse is the caller's to count. */
gboolean mime_hdr_scan_next(mime_hdr_scan *sc, mime_hdr_view *out);
/* After mime_hdr_scan_next returned FALSE: the octets of the block,
 * as mime_hdr_parse's *HDR_LEN. Defects are in sc->flags. */
gsize mime_hdr_scan_end(const mime_hdr_scan *sc);

/* The unfolded value of the first field NAME among the first MAX_FIELDS
 * (0 = all) of the header block in BUF, as mime_hdr_get on
 * mime_hdr_parse(BUF, LEN, 0, MAX_FIELDS, ...) would give it, as a new
 * string; NULL when there is none. */
char *mime_hdr_scan_get(const char *buf, gsize len, guint max_fields, const char *name);
/* How many of the first MAX_FIELDS (0 = all) fields are named NAME. */
guint mime_hdr_scan_count(const char *buf, gsize len, guint max_fields, const char *name);

/* One MIME parameter; names are lower-cased. */
typedef struct {
  char *name;
  char *value;
} mime_param;

/* A parsed Content-Type or Content-Disposition value. */
typedef struct {
  char *type;    /* lower-cased; NULL when the value had none */
  char *subtype; /* lower-cased; NULL for Content-Disposition or when absent */
  /* Parameters as written (name lower-cased, value unquoted), in order. */
  GPtrArray *raw_params; /* of mime_param* */
  /* RFC 2231 applied: continuations joined, %XX decoded and converted to
   * UTF-8, "name*" stored as "name"; in plain values RFC 2047 words are
   * decoded (not standard, but what readers do). The first of duplicates
   * wins. Values are valid UTF-8. */
  GPtrArray *params; /* of mime_param* */
} mime_ctype;

/* Parses VALUE (unfolded). WITH_SUBTYPE: a "type/subtype" is expected
 * (Content-Type), else a single token (Content-Disposition). Returns FALSE
 * when the type is missing or malformed (the parameters parsed so far are
 * still filled in). Always initialise OUT; clear it with mime_ctype_clear. */
gboolean mime_ctype_parse(const char *value, gboolean with_subtype, mime_ctype *out);
void mime_ctype_clear(mime_ctype *ct);
/* Value of parameter NAME in PARAMS (of mime_param*), or NULL (borrowed). */
const char *mime_params_get(const GPtrArray *params, const char *name);

#endif
