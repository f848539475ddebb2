/* trace_rec_int.h — the fast path's scanner, for trace_read.c and trace_check.c
 * (the online checker scans the lines the writer's tap hands it). */
#ifndef MAILSIM_TRACE_REC_INT_H
#define MAILSIM_TRACE_REC_INT_H

#include <stddef.h>

#include "trace_rec.h"

trace_rec *trace_rec__new(void);
void trace_rec__free(trace_rec *r);
/* Forgets the current record. */
void trace_rec__clear(trace_rec *r);
/* Indexes LINE[0, LEN) (borrowed; LINE[LEN] is NUL). True if it is one
 * strict JSON object the scanner is sure of; false means: take the full
 * path (the line may still be good). */
bool trace_rec__scan(trace_rec *r, const char *line, size_t len);
/* The current record is TREE (taken), read by the full path. */
void trace_rec__set_tree(trace_rec *r, cJSON *tree);

#endif
