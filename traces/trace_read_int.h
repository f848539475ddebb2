/* trace_read_int.h — internals of the trace reader, for its tests. */
#ifndef MAILSIM_TRACE_READ_INT_H
#define MAILSIM_TRACE_READ_INT_H

#include <stddef.h>

#include "trace_read.h"

/* trace_reader_open() reading CHUNK bytes at a time (> 0), so tests can
 * split the input at every byte. */
trace_reader *trace_read__open_chunked(const char *path, size_t chunk, GError **err);

#endif
