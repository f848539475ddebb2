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
  TRACE_READ_ERROR_SYNTAX,    /* not a JSON object, or truncated */
  TRACE_READ_ERROR_FORMAT,    /* not a mailsim trace */
  TRACE_READ_ERROR_VERSION,   /* a version this build cannot read */
  TRACE_READ_ERROR_RECORD,    /* a record lacks a key or has the wrong type */
  TRACE_READ_ERROR_ORDER,     /* time goes backwards */
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
/* Line number (1-based) of the record last returned. */
uint64_t trace_reader_line(const trace_reader *r);

/* Value helpers for records. */
/* True if KEY holds an integer exactly representable in int64. */
bool trace_get_int(const cJSON *rec, const char *key, int64_t *out);
/* The text at KEY, or NULL if absent or not a string. Borrowed. */
const char *trace_get_str(const cJSON *rec, const char *key);
/* Decodes a bytes field (written with trace_key_bytes) into a new GBytes;
 * NULL if absent, not a string, or holding a code point above U+00FF. */
GBytes *trace_get_bytes(const cJSON *rec, const char *key);

#endif
