/* trace_diff.c — first divergence of two traces.
 *
 * Compares the exact text of each line (the trace is byte-deterministic, so
 * text equality is the definition of "the same run"), then, at the first
 * different line, walks both records key by key to name the first key that
 * differs. Values are compared exactly: numbers by their literal text (the
 * reader keeps it where a double would round), strings octet for octet.
 */
#include "trace_diff.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {"same", "differ", "error"};

const char *trace_diff_status_name(trace_diff_status s) {
  g_assert((unsigned)s < G_N_ELEMENTS(status_names));
  return status_names[s];
}

void trace_diff_result_clear(trace_diff_result *out) {
  g_free(out->a);
  g_free(out->b);
  cJSON_Delete(out->rec_a);
  cJSON_Delete(out->rec_b);
  g_free(out->key);
  memset(out, 0, sizeof *out);
}

/* The exact text of a number item: its literal if the reader kept one, else
 * the integer (reader items without a literal are integers < 10^15). */
static const char *num_text(const cJSON *it, char buf[32]) {
  if (it->valuestring)
    return it->valuestring;
  snprintf(buf, 32, "%" PRId64, (int64_t)it->valuedouble);
  if ((double)(int64_t)it->valuedouble != it->valuedouble)
    snprintf(buf, 32, "%.17g", it->valuedouble);
  return buf;
}

static bool same_value(const cJSON *x, const cJSON *y) {
  if ((x->type & 0xff) != (y->type & 0xff))
    return false;
  if (cJSON_IsNumber(x)) {
    char bx[32], by[32];
    return strcmp(num_text(x, bx), num_text(y, by)) == 0;
  }
  if (cJSON_IsString(x))
    return strcmp(x->valuestring, y->valuestring) == 0;
  if (cJSON_IsArray(x) || cJSON_IsObject(x)) {
    const cJSON *a = x->child, *b = y->child;
    for (; a && b; a = a->next, b = b->next) {
      if (cJSON_IsObject(x) && strcmp(a->string, b->string) != 0)
        return false;
      if (!same_value(a, b))
        return false;
    }
    return a == NULL && b == NULL;
  }
  return true; /* true, false, null: the type says it all */
}

static char *first_key(const cJSON *a, const cJSON *b) {
  if (!a || !b)
    return NULL;
  const cJSON *x = a->child, *y = b->child;
  for (; x || y; x = x ? x->next : NULL, y = y ? y->next : NULL) {
    if (!x || !y || strcmp(x->string, y->string) != 0 || !same_value(x, y))
      return g_strdup(x ? x->string : y->string);
  }
  return NULL;
}

static char *raw_copy(const trace_reader *r) {
  size_t n = 0;
  const char *s = trace_reader_raw(r, &n);
  return g_strndup(s, n);
}

static trace_diff_status differ(trace_diff_result *out, uint64_t line, const trace_reader *a,
                                const cJSON *ra, const trace_reader *b, const cJSON *rb) {
  out->line = line;
  if (ra) {
    out->a = raw_copy(a);
    out->rec_a = cJSON_Duplicate(ra, true);
  }
  if (rb) {
    out->b = raw_copy(b);
    out->rec_b = cJSON_Duplicate(rb, true);
  }
  out->key = first_key(ra, rb);
  return TRACE_DIFF_DIFFER;
}

static bool same_raw(const trace_reader *a, const trace_reader *b) {
  size_t na = 0, nb = 0;
  const char *sa = trace_reader_raw(a, &na), *sb = trace_reader_raw(b, &nb);
  return na == nb && memcmp(sa, sb, na) == 0;
}

static trace_diff_status diff_from(trace_reader *a, trace_reader *b, bool headers,
                                   trace_diff_result *out, GError **err) {
  g_assert(a && b && out);
  memset(out, 0, sizeof *out);
  g_assert(trace_reader_line(a) == 1 && trace_reader_line(b) == 1);
  if (headers && !same_raw(a, b))
    return differ(out, 1, a, trace_reader_header(a), b, trace_reader_header(b));
  for (uint64_t line = 2;; line++) {
    const cJSON *ra = NULL, *rb = NULL;
    GError *ea = NULL, *eb = NULL;
    trace_read_status sa = trace_reader_next(a, &ra, &ea);
    trace_read_status sb = trace_reader_next(b, &rb, &eb);
    if (sa == TRACE_READ_FAIL || sb == TRACE_READ_FAIL) {
      g_propagate_error(err, ea ? ea : eb);
      if (ea && eb)
        g_error_free(eb);
      return TRACE_DIFF_ERROR;
    }
    if (sa == TRACE_READ_EOF && sb == TRACE_READ_EOF)
      return TRACE_DIFF_SAME;
    /* Lines advance in step: every line of a readable trace is a record. */
    g_assert(sa == TRACE_READ_EOF || trace_reader_line(a) == line);
    g_assert(sb == TRACE_READ_EOF || trace_reader_line(b) == line);
    if (sa == TRACE_READ_EOF || sb == TRACE_READ_EOF || !same_raw(a, b))
      return differ(out, line, a, ra, b, rb);
  }
}

trace_diff_status trace_diff(trace_reader *a, trace_reader *b, trace_diff_result *out,
                             GError **err) {
  return diff_from(a, b, true, out, err);
}

trace_diff_status trace_diff_events(trace_reader *a, trace_reader *b, trace_diff_result *out,
                                    GError **err) {
  return diff_from(a, b, false, out, err);
}
