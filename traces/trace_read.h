/* trace_read.h — the streaming trace reader.
 *
 * Reads a trace line by line. The first record must be the header
 * ({"format":"mailsim-trace","version":N,...}); a trace of another format or
 * of a version this build cannot read is rejected at open. Every later line
 * must be one JSON object with an integer "t" that never decreases, an
 * integer "id" and a string "ev". A line that is not JSON, lacks its final
 * newline (a truncated trace), breaks the order or misses a key is an error
 * naming the file, the line and what was expected, in the TRACE_READ_ERROR
 * domain. The reader never aborts on bad input.
 *
 * Beyond what cJSON checks, every line must be strict JSON (RFC 8259) in
 * valid UTF-8: no raw control characters in strings, \u escapes of four hex
 * digits, numbers in the RFC 8259 §6 grammar, only space, tab and CR as
 * whitespace; no key twice in a record. Event ids must count 1, 2, 3... in
 * file order; "ev" is dotted lower-case words ([a-z0-9_]+ joined by dots);
 * a "cause", if present, must name an earlier id (0 = the cause was not
 * recorded). Other keys, header keys after "version" included, are the
 * tools' to check.
 *
 * Exactness. cJSON keeps numbers as doubles. For records returned by this
 * reader, a number item whose literal is not an integer of at most 15
 * digits also carries its literal text in valuestring, so trace_get_int and
 * trace_get_uint are exact over the whole int64 / uint64 range (a
 * cJSON_Number's valuestring is otherwise unused; cJSON_Delete frees it and
 * cJSON_Duplicate copies it).
 * A string holding U+0000 (written as \u0000) would be cut short by cJSON;
 * the reader stores U+0000 as the two octets C0 80 (the "modified UTF-8"
 * convention) so the C string stays whole: trace_get_bytes maps C0 80 back
 * to 0x00; trace_get_str hands the C0 80 through unchanged.
 *
 * A tool that needs only a few keys of each record can read through the
 * fast path instead (trace_rec.h: the same checks and errors, no cJSON
 * tree per record).
 */
#ifndef MAILSIM_TRACE_READ_H
#define MAILSIM_TRACE_READ_H

#include <cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TRACE_READ_ERROR (trace_read_error_quark())
GQuark trace_read_error_quark(void);

typedef enum {
  TRACE_READ_ERROR_IO,        /* cannot open or read */
  TRACE_READ_ERROR_SYNTAX,    /* not one strict JSON object per line, or truncated */
  TRACE_READ_ERROR_FORMAT,    /* not a mailsim trace */
  TRACE_READ_ERROR_VERSION,   /* a version this build cannot read */
  TRACE_READ_ERROR_RECORD,    /* a record lacks a key or has the wrong type */
  TRACE_READ_ERROR_ORDER,     /* time goes backwards, or ids out of sequence */
} trace_read_error_code;

typedef enum { TRACE_READ_OK, TRACE_READ_EOF, TRACE_READ_FAIL } trace_read_status;

typedef struct trace_reader trace_reader;

/* Opens PATH ("-" = standard input) and reads and checks the header. */
trace_reader *trace_reader_open(const char *path, GError **err);
/* Reads from a memory buffer (copied); NAME is used in error messages. */
trace_reader *trace_reader_new_memory(const char *name, const char *data, size_t len,
                                      GError **err);
void trace_reader_free(trace_reader *r);

/* The header record; borrowed, valid until the reader is freed. */
const cJSON *trace_reader_header(const trace_reader *r);
/* Reads the next event record into *rec (borrowed; valid until the next
 * call). TRACE_READ_EOF at a clean end; TRACE_READ_FAIL with *err set on bad
 * input, after which every further call fails the same way. */
trace_read_status trace_reader_next(trace_reader *r, const cJSON **rec, GError **err);
/* Line number (1-based) of the record last returned (1 after open: the
 * header). */
uint64_t trace_reader_line(const trace_reader *r);
/* The exact text of the record last returned (the header after open),
 * without its newline; borrowed, valid until the next call. *LEN may be
 * NULL. */
const char *trace_reader_raw(const trace_reader *r, size_t *len);

/* Value helpers for records. */
/* True if KEY holds an integer exactly representable in int64 (written as
 * an integer: 5, not 5.0 or 5e0). For items not made by the reader (no
 * literal text attached) the double must be integral and within +-2^53. */
bool trace_get_int(const cJSON *rec, const char *key, int64_t *out);
/* The same for uint64 (e.g. the header's "seed"). */
bool trace_get_uint(const cJSON *rec, const char *key, uint64_t *out);
/* The text at KEY, or NULL if absent or not a string. Borrowed. */
const char *trace_get_str(const cJSON *rec, const char *key);
/* Decodes a bytes field (written with trace_key_bytes) into a new GBytes;
 * NULL if absent, not a string, or holding a code point above U+00FF. */
GBytes *trace_get_bytes(const cJSON *rec, const char *key);

#endif
