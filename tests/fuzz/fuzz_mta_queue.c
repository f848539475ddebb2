/* fuzz_mta_queue — libFuzzer target for the queue's disk encoding (the
 * simulated disk is outside input: a crash or a fault may leave anything
 * there). Properties: decoding never crashes; a decoded queue re-encodes
 * to a blob that decodes again and re-encodes identically; the invariant
 * checker and the due/destination queries run on it. The first input
 * bytes may also be a single message record; one is also decoded
 * borrowing its envelope from a copy of the input (as the MTA host reads
 * its disk) into a queue keeping no retry room, and must re-encode to the
 * bytes an owning queue writes, and again after being rebased on them. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta_queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536)
    return 0;
  char *err = NULL;
  mta_queue *q = mta_queue_decode(data, size, &err);
  g_free(err);
  err = NULL;
  if (!q) {
    q = mta_queue_new();
    uint32_t id = mta_queue_msg_decode(q, data, size, &err);
    g_free(err);
    err = NULL;
    uint8_t *kept = g_memdup2(data, size);
    mta_queue *bq = mta_queue_new();
    mta_queue_set_retry_room(bq, false);
    uint32_t bid = mta_queue_msg_decode_borrowed(bq, kept, size, "tag", &err);
    g_free(err);
    err = NULL;
    if (bid != id)
      abort(); /* the same record, read two ways */
    if (id) {
      GByteArray *own = g_byte_array_new(), *bor = g_byte_array_new();
      mta_queue_msg_encode(q, id, own);
      mta_queue_msg_encode(bq, bid, bor);
      if (own->len != bor->len || memcmp(own->data, bor->data, own->len) != 0)
        abort();
      mta_queue_msg_rebase(bq, bid, bor->data, bor->len); /* the fresh record now */
      memset(kept, 0, size);
      GByteArray *again = g_byte_array_new();
      mta_queue_msg_encode(bq, bid, again);
      if (again->len != own->len || memcmp(again->data, own->data, own->len) != 0)
        abort();
      g_byte_array_free(again, TRUE);
      mta_queue_free(bq); /* before the record it borrows from */
      bq = NULL;
      g_byte_array_free(own, TRUE);
      g_byte_array_free(bor, TRUE);
    }
    mta_queue_free(bq);
    g_free(kept);
  }
  mta_queue_check(q, NULL, 0, NULL);
  GArray *due = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  mta_queue_due(q, INT64_MAX, due);
  g_array_free(due, TRUE);
  GPtrArray *names = g_ptr_array_new();
  mta_queue_dests(q, names);
  GArray *ready = g_array_new(FALSE, FALSE, sizeof(mta_queue_ref));
  for (guint i = 0; i < names->len; i++)
    mta_queue_dest_ready(q, names->pdata[i], 0, true, ready);
  g_array_free(ready, TRUE);
  g_ptr_array_free(names, TRUE);
  GBytes *b1 = mta_queue_encode(q);
  mta_queue *q2 = mta_queue_decode(g_bytes_get_data(b1, NULL), g_bytes_get_size(b1), &err);
  if (!q2)
    abort(); /* what we wrote, we must read */
  GBytes *b2 = mta_queue_encode(q2);
  if (!g_bytes_equal(b1, b2))
    abort();
  g_bytes_unref(b1);
  g_bytes_unref(b2);
  mta_queue_free(q2);
  mta_queue_free(q);
  return 0;
}
