/* trace_read_int.h — internals of the trace reader, for its tests. */
#ifndef MAILSIM_TRACE_READ_INT_H
#define MAILSIM_TRACE_READ_INT_H

#include <stddef.h>

#include "trace_read.h"

/* trace_reader_open() reading CHUNK bytes at a time (> 0), so tests can
 * split the input at every byte. */
trace_reader *trace_read__open_chunked(const char *path, size_t chunk, GError **err);

/* For trace_rec.c: trace_get_bytes on a decoded string; a JSON value
 * TEXT[0, LEN) (already checked strict) parsed with its literals pinned as
 * the reader pins them (NULL if cJSON rejects it). */
GBytes *trace_read__bytes(const char *s);
cJSON *trace_read__parse_value(const char *text, size_t len);

#endif
