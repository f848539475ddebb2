/* trace_store.c — compact storage for records kept to the end (see
 * trace_store.h): the bump store's blocks and the tables' growth. Issue
 * #6: memory per queued message; a record costs its own octets rounded to
 * 8 and a table slot 4. No RFC is involved.
 */
#include "trace_store.h"

void trace_store_init(trace_store *st, uint32_t block, const char *what) {
  g_assert(block >= 64 && block % 8 == 0 && block <= TRACE_STORE_MAX_BLOCK);
  st->blocks = g_ptr_array_new_with_free_func(g_free);
  st->open = 0;
  st->block = block;
  st->p = NULL;
  st->left = 0;
  st->what = what;
}

void trace_store_clear(trace_store *st) {
  if (st->blocks)
    g_ptr_array_unref(st->blocks);
  st->blocks = NULL;
  st->p = NULL;
  st->left = 0;
}

void *trace_store_alloc(trace_store *st, size_t n, uint32_t *ref) {
  n = n ? (n + 7) & ~(size_t)7 : 8; /* every reference names its own octets */
  bool big = n > st->block / 4;     /* a block of its own */
  if (big || n > st->left) {
    if (st->blocks->len >= TRACE_STORE_MAX_BLOCKS)
      g_error("%s: %u blocks of records", st->what, st->blocks->len); /* out of memory */
    char *b = g_malloc(big ? n : st->block);
    g_ptr_array_add(st->blocks, b);
    if (big) {
      *ref = (st->blocks->len - 1) << TRACE_STORE_SLOT_BITS;
      return b;
    }
    st->open = st->blocks->len - 1;
    st->p = b;
    st->left = st->block;
  }
  *ref = st->open << TRACE_STORE_SLOT_BITS |
         (uint32_t)((size_t)(st->p - (char *)st->blocks->pdata[st->open]) / 8);
  void *r = st->p;
  st->p += n;
  st->left -= n;
  return r;
}

void trace_store_tab_init(trace_store_tab *tb) {
  tb->cap = 64;
  tb->n = 0;
  tb->slots = g_new0(uint32_t, tb->cap);
}

void trace_store_tab_clear(trace_store_tab *tb) {
  g_free(tb->slots);
  tb->slots = NULL;
  tb->cap = tb->n = 0;
}

void trace_store_tab_added(trace_store_tab *tb, uint32_t (*hash)(void *ctx, uint32_t v), void *ctx,
                           const char *what) {
  tb->n++;
  if (4 * (uint64_t)tb->n <= 3 * (uint64_t)tb->cap)
    return;
  if (tb->cap > UINT32_MAX / 2)
    g_error("%s: %u entries in a table", what, tb->n); /* out of memory first */
  uint32_t *old = tb->slots, ocap = tb->cap;
  tb->cap *= 2;
  tb->slots = g_new0(uint32_t, tb->cap);
  for (uint32_t i = 0; i < ocap; i++)
    if (old[i])
      for (uint32_t j = hash(ctx, old[i]);; j++) {
        uint32_t *sl = trace_store_tab_slot(tb, j);
        if (!*sl) {
          *sl = old[i];
          break;
        }
      }
  g_free(old);
}
