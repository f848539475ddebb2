/* trace_diff.h — the first divergence of two traces.
 *
 * Traces are deterministic byte for byte (FORMAT.md), so two runs are the
 * same exactly when their files are; the first line where they differ is
 * where the runs diverged. trace_diff() finds that line and hands back both
 * records (and the first key that differs) for a tool such as `mailsim
 * diff` to explain in mail terms.
 */
#ifndef MAILSIM_TRACE_DIFF_H
#define MAILSIM_TRACE_DIFF_H

#include <cJSON.h>
#include <glib.h>
#include <stdint.h>

#include "trace_read.h"

typedef enum {
  TRACE_DIFF_SAME,   /* identical traces */
  TRACE_DIFF_DIFFER, /* *out describes the first divergence */
  TRACE_DIFF_ERROR,  /* a trace could not be read up to the divergence: *err set */
} trace_diff_status;

/* The first divergence. Everything owned by the result (free with
 * trace_diff_result_clear). */
typedef struct {
  uint64_t line;        /* 1-based line where the traces first differ (1 = header) */
  char *a, *b;          /* the exact text of each trace's line (no newline); NULL
                         * if that trace ended before LINE */
  cJSON *rec_a, *rec_b; /* the same records parsed (numbers keep their exact
                         * literals, see trace_read.h); NULL likewise */
  char *key;            /* the first top-level key, in record order, whose name or
                         * value differs (A's name, or B's where A has run out of
                         * keys); NULL if a record is missing or the records are
                         * equal as JSON but spelled differently */
} trace_diff_result;

const char *trace_diff_status_name(trace_diff_status s);

/* Compares A and B line by line from their headers to the end; both must
 * be freshly opened (nothing read but the header) and are consumed. OUT is
 * always reset; it is filled for TRACE_DIFF_DIFFER. On TRACE_DIFF_ERROR,
 * *err is the reader's error (naming the file, the line and the
 * expectation) of the trace that failed first (A if both fail on the same
 * line). */
trace_diff_status trace_diff(trace_reader *a, trace_reader *b, trace_diff_result *out,
                             GError **err);
/* The same, comparing the event records only (from line 2): for runs that
 * differ in their header on purpose, e.g. another seed. */
trace_diff_status trace_diff_events(trace_reader *a, trace_reader *b, trace_diff_result *out,
                                    GError **err);
/* Frees what OUT holds and zeroes it. */
void trace_diff_result_clear(trace_diff_result *out);

#endif
