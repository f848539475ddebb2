/* trace_rec.h — the trace reader's fast path: event records without a
 * cJSON tree.
 *
 * trace_reader_next_rec() reads the next event record like
 * trace_reader_next() — the same checks (strict RFC 8259 JSON in UTF-8,
 * "t" non-decreasing, "id" gapless, "ev" a dotted kind, "cause" earlier,
 * each key once), the same errors word for word, sticky — but one pass
 * over the line indexes the record's top-level keys and value spans
 * instead of building a tree. Values are decoded only when asked for, so
 * a tool that needs a few keys of each record (the viewer's index) pays
 * for those keys only. A nested value can still be had as cJSON, parsed
 * on demand.
 *
 * Everything a trace_rec hands out is borrowed and valid until the next
 * call on its reader. The getters mean exactly what trace_get_* mean on
 * the record trace_reader_next() would have returned (integers exact over
 * int64 / uint64, U+0000 as C0 80, see trace_read.h).
 */
#ifndef MAILSIM_TRACE_REC_H
#define MAILSIM_TRACE_REC_H

#include <cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "trace_read.h"

typedef struct trace_rec trace_rec;

/* Reads the next event record into *rec (borrowed; valid until the next
 * call on R). Status and errors as trace_reader_next(); the two may be
 * mixed on one reader. trace_reader_raw() and trace_reader_line() describe
 * the record returned. */
trace_read_status trace_reader_next_rec(trace_reader *r, const trace_rec **rec, GError **err);

/* True if the record has KEY. */
bool trace_rec_has(const trace_rec *rec, const char *key);
/* The integer at KEY (written as an integer, in range), as trace_get_int. */
bool trace_rec_int(const trace_rec *rec, const char *key, int64_t *out);
/* The same for uint64, as trace_get_uint. */
bool trace_rec_uint(const trace_rec *rec, const char *key, uint64_t *out);
/* The decoded text at KEY, or NULL if absent or not a string. Borrowed. */
const char *trace_rec_str(const trace_rec *rec, const char *key);
/* A bytes field decoded into a new GBytes, as trace_get_bytes. */
GBytes *trace_rec_bytes(const trace_rec *rec, const char *key);
/* The value at KEY as cJSON (numbers carrying their literal as
 * trace_read.h says), parsed on first use; NULL if absent. Borrowed. */
const cJSON *trace_rec_json(const trace_rec *rec, const char *key);

#endif
