/* trace_store.h — compact storage for records kept to the end: a bump
 * store named by 32-bit references, open-addressing tables of 32-bit
 * values, and the hash they place entries by.
 *
 * For the trace checker (every queue entry is kept to the end of the run)
 * and the simulator's mail tally (every message): no malloc header and
 * rounding per record, and 4 octets a table slot where a GHashTable set
 * costs 12. Nothing here reaches output: a table's order and the hash's
 * values (the machine's own byte order) only place entries.
 *
 * Caller storage (_init/_clear); not thread-safe (one owner).
 */
#ifndef MAILSIM_TRACE_STORE_H
#define MAILSIM_TRACE_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A reference: block << TRACE_STORE_SLOT_BITS | the 8-octet slot in it. */
#define TRACE_STORE_SLOT_BITS 11
/* The largest block (2^SLOT_BITS slots of 8 octets). */
#define TRACE_STORE_MAX_BLOCK (UINT32_C(8) << TRACE_STORE_SLOT_BITS)
/* Blocks before trace_store_alloc aborts (out of memory first): one fewer
 * than 32-bit references can name, so a reference + 1 fits 32 bits too
 * (a table may hold it, 0 being free). */
#define TRACE_STORE_MAX_BLOCKS ((UINT32_C(1) << (32 - TRACE_STORE_SLOT_BITS)) - 1)

/* A bump allocator whose blocks are freed only with it. */
typedef struct {
  GPtrArray *blocks; /* owned */
  uint32_t open;     /* the block small requests are carved from */
  uint32_t block;    /* a block's size */
  char *p;           /* the open block's free part */
  size_t left;
  const char *what; /* the owner's name, for the out-of-memory abort */
} trace_store;

/* BLOCK: a block's size, a multiple of 8 up to TRACE_STORE_MAX_BLOCK;
 * WHAT (static) names the owner in the abort when the references run out. */
void trace_store_init(trace_store *st, uint32_t block, const char *what);
/* Frees every block (every pointer and reference it gave is dead). */
void trace_store_clear(trace_store *st);
/* N octets (rounded up to 8, 0 as 8; more than a quarter of a block: a block of
 * their own), 8-aligned, uninitialised; their reference in *REF. Valid
 * until trace_store_clear. Aborts past TRACE_STORE_MAX_BLOCKS blocks. */
void *trace_store_alloc(trace_store *st, size_t n, uint32_t *ref);

/* What REF (from trace_store_alloc) names. */
static inline void *trace_store_at(const trace_store *st, uint32_t ref) {
  return (char *)st->blocks->pdata[ref >> TRACE_STORE_SLOT_BITS] +
         (size_t)(ref & ((1u << TRACE_STORE_SLOT_BITS) - 1)) * 8;
}

/* The last mixing of a 64-bit hash state into 32 bits (for the caller's
 * own hashes too: the high bits reach the table's low index bits). */
static inline uint32_t trace_store_hash_mix(uint64_t h) {
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdu;
  return (uint32_t)(h ^ (h >> 32));
}

/* A hash of the N octets at S (S may be NULL when N is 0) from SEED, eight
 * at a time (the words' byte order makes it the machine's own: it only
 * places entries). */
static inline uint32_t trace_store_hash(uint64_t seed, const char *s, size_t n) {
  uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15u);
  for (; n >= 8; s += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  if (n)
    memcpy(&w, s, n);
  return trace_store_hash_mix((h ^ w) * 0xc4ceb9fe1a85ec53u);
}

/* A set of nonzero 32-bit values (0 = a free slot), open addressing with
 * linear probing, at most 3/4 full; cap a power of two. The caller hashes
 * and compares (values are usually indexes or references + 1 of records
 * it keeps). */
typedef struct {
  uint32_t *slots;
  uint32_t cap, n;
} trace_store_tab;

/* 64 free slots. */
void trace_store_tab_init(trace_store_tab *tb);
/* Frees the slots (a zeroed table, never initialised, is fine). */
void trace_store_tab_clear(trace_store_tab *tb);

/* The slot I modulo the table's size. A lookup of a value whose hash is H
 * probes I = H, H + 1, ... and stops at a free slot (the value is not
 * there: it would go here) or at the caller's match:
 *
 *   for (uint32_t i = h;; i++) {
 *     uint32_t *sl = trace_store_tab_slot(tb, i);
 *     if (!*sl || matches(*sl)) return sl;
 *   }
 */
static inline uint32_t *trace_store_tab_slot(const trace_store_tab *tb, uint32_t i) {
  return &tb->slots[i & (tb->cap - 1)];
}

/* Counts the value just stored in a free slot, and doubles the table when
 * it is over 3/4 full, placing every value again by HASH(CTX, value)
 * (slot pointers taken before are then stale). Aborts (WHAT names the
 * owner) past 2^31 slots. */
void trace_store_tab_added(trace_store_tab *tb, uint32_t (*hash)(void *ctx, uint32_t v), void *ctx,
                           const char *what);

#endif
