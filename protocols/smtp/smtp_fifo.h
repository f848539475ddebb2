/* smtp_fifo.h — a FIFO of small fixed-size records for the SMTP engines'
 * queues (the server's events, the client's reply tags and events).
 *
 * GArray did this job, but every append and every emptying was a library
 * call (~60-70 instructions each in GLib 2.74, several per command line),
 * and its header a second allocation. Here the records live in one block
 * grown by doubling; the queue rewinds to the block's start whenever it is
 * emptied, so it never holds more than the records queued at once (a few,
 * or one per pipelined command). The block is kept when an engine is
 * renewed (smtp_fifo_kept). Not a public module: internal to the engines.
 */
#ifndef MAILSIM_SMTP_FIFO_H
#define MAILSIM_SMTP_FIFO_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct {
  void *data;
  size_t head, len, cap; /* records [head, len) are queued; room for CAP */
} smtp_fifo;

/* The most records a kept queue may have room for (smtp_fifo_kept). */
#define SMTP_FIFO_KEEP_MAX 1024

/* The number of records queued. */
static inline size_t smtp_fifo_count(const smtp_fifo *q) { return q->len - q->head; }

/* Room at the tail for one record of SIZE octets (the caller fills it). */
static inline void *smtp_fifo_push(smtp_fifo *q, size_t size) {
  if (q->len == q->cap) {
    q->cap = q->cap ? 2 * q->cap : 4;
    q->data = g_realloc_n(q->data, q->cap, size);
  }
  return (char *)q->data + q->len++ * size;
}

/* The record at the head (queued, not taken), or NULL when empty. */
static inline void *smtp_fifo_peek(const smtp_fifo *q, size_t size) {
  return q->head < q->len ? (char *)q->data + q->head * size : NULL;
}

/* The record I places after the head (I < smtp_fifo_count). */
static inline void *smtp_fifo_at(const smtp_fifo *q, size_t i, size_t size) {
  return (char *)q->data + (q->head + i) * size;
}

/* Takes the head record into *OUT (SIZE octets); false when empty. The
 * queue rewinds once the last record is taken. */
static inline bool smtp_fifo_pop(smtp_fifo *q, void *out, size_t size) {
  if (q->head >= q->len)
    return false;
  memcpy(out, (char *)q->data + q->head * size, size);
  if (++q->head == q->len)
    q->head = q->len = 0;
  return true;
}

/* Drops every record (the storage stays). */
static inline void smtp_fifo_clear(smtp_fifo *q) { q->head = q->len = 0; }

/* Emptied for the next session; the storage is let go when it had room
 * for more than SMTP_FIFO_KEEP_MAX records. */
static inline void smtp_fifo_kept(smtp_fifo *q) {
  smtp_fifo_clear(q);
  if (q->cap > SMTP_FIFO_KEEP_MAX) {
    g_free(q->data);
    q->data = NULL;
    q->cap = 0;
  }
}

/* Frees the storage. */
static inline void smtp_fifo_free(smtp_fifo *q) {
  g_free(q->data);
  q->data = NULL;
  q->head = q->len = q->cap = 0;
}

#endif
