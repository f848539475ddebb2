/* sim_sched.c — 4-ary heap of (time, seq|slot) keys over a callback slab.
 *
 * Heap entry: {t, key} with key = seq << SLOT_BITS | slot. Sequences are
 * unique, so comparing (t, key) compares (t, seq): the slot bits never
 * decide. When the sequence counter reaches its limit (2^38 ≈ 2.7e11
 * events), pending entries are sorted and renumbered 0..n-1 — their relative
 * order is kept, and a sorted array is a valid heap — so the order contract
 * holds for any run length.
 *
 * Event id: (generation << 32 | slot) + 1 ... the slot's generation grows on
 * every reuse, so a stale id does not cancel a newer event.
 */
#include "sim_sched_int.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_BITS 26
#define SLOT_MASK ((UINT64_C(1) << SLOT_BITS) - 1)
#define MAX_SLOTS (UINT64_C(1) << SLOT_BITS)
#define SEQ_LIMIT (UINT64_C(1) << (64 - SLOT_BITS))
#define ARITY 4

typedef struct {
  sim_time t;
  uint64_t key;
} entry;

typedef struct {
  sim_event_fn fn; /* NULL: cancelled or free */
  void *a, *b;
  uint32_t gen;
  uint32_t next_free;
} slot;

struct sim_sched {
  entry *heap; /* = mem + GROUP_SHIFT, see heap_grow() */
  entry *mem;
  size_t n, cap;
  bool hole; /* heap[0] is vacant (its event is running) */
  slot *slots;
  uint32_t nslots, slots_cap;
  uint32_t free_head; /* UINT32_MAX: none */
  uint64_t next_seq, seq_limit;
  size_t live;
  sim_time now;
  uint64_t executed;
  bool stop;
  bool running;
};

sim_sched *sim_sched_new(void) {
  sim_sched *s = g_new0(sim_sched, 1);
  s->free_head = UINT32_MAX;
  s->seq_limit = SEQ_LIMIT;
  return s;
}

void sim_sched_free(sim_sched *s) {
  if (!s)
    return;
  g_aligned_free(s->mem);
  g_free(s->slots);
  g_free(s);
}

void sim_sched__set_seq_limit(sim_sched *s, uint64_t limit) {
  g_assert(limit > 0 && limit <= SEQ_LIMIT);
  s->seq_limit = limit;
}

sim_time sim_sched_now(const sim_sched *s) { return s->now; }
size_t sim_sched_pending(const sim_sched *s) { return s->live; }
uint64_t sim_sched_executed(const sim_sched *s) { return s->executed; }
void sim_sched_stop(sim_sched *s) { s->stop = true; }

/* --- heap ----------------------------------------------------------- */

/* The order of entries is (t, key) read as one unsigned 128-bit number
 * (t >= now >= 0, so the unsigned view of t keeps its order). gcc and clang
 * compile this to cmp/sbb and a conditional move: no branch to mispredict
 * in the hot compare (a branchy (t, key) compare cost ~25 % here). */
__extension__ typedef unsigned __int128 u128;

static inline u128 order(const entry *e) { return (u128)(uint64_t)e->t << 64 | e->key; }
static inline bool less(const entry *x, const entry *y) { return order(x) < order(y); }

/* Index of the smallest of the full sibling group h[c..c+3], as a tournament. */
static inline size_t min_child4(const entry *h, size_t c) {
  size_t a = c + less(&h[c + 1], &h[c]);
  size_t b = c + 2 + less(&h[c + 3], &h[c + 2]);
  return less(&h[b], &h[a]) ? b : a;
}

static void sift_up(entry *h, size_t i, entry e) {
  while (i > 0) {
    size_t p = (i - 1) / ARITY;
    if (!less(&e, &h[p]))
      break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

/* The children of i are h[4i+1..4i+4]. With 16-byte entries, a sibling
 * group fills one 64-byte cache line if h[1] starts a line: the array is
 * allocated 64-aligned and the root is placed GROUP_SHIFT entries in. At
 * large P each level of a sift is then one cache miss, not up to two. */
#define GROUP_SHIFT 3

static void heap_grow(sim_sched *s) {
  size_t cap = s->cap ? s->cap * 2 : 1024;
  entry *mem = g_aligned_alloc(cap + GROUP_SHIFT, sizeof(entry), 64);
  if (s->n)
    memcpy(mem + GROUP_SHIFT, s->heap, s->n * sizeof(entry));
  g_aligned_free(s->mem);
  s->mem = mem;
  s->heap = mem + GROUP_SHIFT;
  s->cap = cap;
}

/* Above this many entries (1 MiB: L2 here) the heap no longer stays in
 * cache, and fill_hole prefetches the four grandchild groups (four lines)
 * while it compares the children: +10 % at P=100k, but -7 % at P=1k. */
#define PREFETCH_MIN (1u << 16)

/* Fills the hole at I with E, bottom-up: the hole first moves down to a leaf
 * along the smallest children (3 compares a level, none with E), then E
 * sifts up from there. E is usually a late event (a new one, or the last
 * leaf), so it rarely climbs more than a level: fewer compares than a
 * top-down sift. */
static void fill_hole(sim_sched *s, size_t i, entry e) {
  entry *h = s->heap;
  size_t n = s->n, c;
  bool far = n >= PREFETCH_MIN;
  while ((c = ARITY * i + 1) + ARITY <= n) {
    size_t gc = ARITY * c + 1;
    if (far && gc < n) {
      __builtin_prefetch(&h[gc]);
      __builtin_prefetch(&h[gc + 4]);
      __builtin_prefetch(&h[gc + 8]);
      __builtin_prefetch(&h[gc + 12]);
    }
    size_t best = min_child4(h, c);
    h[i] = h[best];
    i = best;
  }
  if (c < n) { /* the last, partial group */
    size_t best = c;
    for (size_t k = c + 1; k < n; k++)
      best = less(&h[k], &h[best]) ? k : best;
    h[i] = h[best];
    i = best;
  }
  sift_up(h, i, e);
}

/* Fills a vacant root with the last entry. */
static void fix_hole(sim_sched *s) {
  if (!s->hole)
    return;
  s->hole = false;
  entry last = s->heap[--s->n];
  if (s->n > 0)
    fill_hole(s, 0, last);
}

static int cmp_entry(const void *x, const void *y) {
  const entry *a = x, *b = y;
  return less(a, b) ? -1 : less(b, a) ? 1 : 0;
}

static void renumber(sim_sched *s) {
  fix_hole(s);
  qsort(s->heap, s->n, sizeof *s->heap, cmp_entry);
  for (size_t i = 0; i < s->n; i++)
    s->heap[i].key = ((uint64_t)i << SLOT_BITS) | (s->heap[i].key & SLOT_MASK);
  s->next_seq = s->n;
}

/* --- slots ---------------------------------------------------------- */

static uint32_t slot_alloc(sim_sched *s) {
  if (s->free_head != UINT32_MAX) {
    uint32_t i = s->free_head;
    s->free_head = s->slots[i].next_free;
    return i;
  }
  if (s->nslots == s->slots_cap) {
    if (s->slots_cap >= MAX_SLOTS)
      g_error("sim_sched_at: more than %" G_GUINT64_FORMAT " pending events", (guint64)MAX_SLOTS);
    s->slots_cap = s->slots_cap ? s->slots_cap * 2 : 1024;
    s->slots = g_renew(slot, s->slots, s->slots_cap);
  }
  s->slots[s->nslots].gen = 0;
  return s->nslots++;
}

static void slot_release(sim_sched *s, uint32_t i) {
  slot *sl = &s->slots[i];
  sl->fn = NULL;
  sl->gen++;
  sl->next_free = s->free_head;
  s->free_head = i;
}

/* --- API ------------------------------------------------------------ */

sim_event_id sim_sched_at(sim_sched *s, sim_time t, sim_event_fn fn, void *a, void *b) {
  if (t < s->now)
    g_error("sim_sched_at: time %" G_GINT64_FORMAT " is before now %" G_GINT64_FORMAT,
            (gint64)t, (gint64)s->now);
  g_assert(fn != NULL);
  if (s->next_seq >= s->seq_limit)
    renumber(s);
  uint32_t i = slot_alloc(s);
  slot *sl = &s->slots[i];
  sl->fn = fn;
  sl->a = a;
  sl->b = b;
  entry e = {t, (s->next_seq++ << SLOT_BITS) | i};
  if (s->hole) {
    /* Fused pop/push: drop the new entry into the vacant root. */
    s->hole = false;
    fill_hole(s, 0, e);
  } else {
    if (s->n == s->cap)
      heap_grow(s);
    sift_up(s->heap, s->n++, e);
  }
  s->live++;
  return (((sim_event_id)sl->gen << 32) | i) + 1;
}

sim_event_id sim_sched_after(sim_sched *s, sim_time delay, sim_event_fn fn, void *a, void *b) {
  g_assert(delay >= 0);
  return sim_sched_at(s, sim_time_add(s->now, delay), fn, a, b);
}

bool sim_sched_cancel(sim_sched *s, sim_event_id id) {
  if (id == 0)
    return false;
  id--;
  uint32_t i = (uint32_t)(id & 0xffffffffu);
  uint32_t gen = (uint32_t)(id >> 32);
  if (i >= s->nslots || s->slots[i].gen != gen || s->slots[i].fn == NULL)
    return false;
  s->slots[i].fn = NULL; /* entry stays in the heap; skipped when popped */
  s->live--;
  return true;
}

/* Drops cancelled entries from the front. */
static void skip_cancelled(sim_sched *s) {
  fix_hole(s);
  while (s->n > 0) {
    uint32_t i = (uint32_t)(s->heap[0].key & SLOT_MASK);
    if (s->slots[i].fn)
      return;
    slot_release(s, i);
    s->hole = true;
    fix_hole(s);
  }
}

sim_time sim_sched_next_time(sim_sched *s) {
  skip_cancelled(s);
  return s->n ? s->heap[0].t : SIM_TIME_NEVER;
}

/* Runs the front event; the caller made sure it exists and is live. */
static void run_front(sim_sched *s) {
  entry top = s->heap[0];
  uint32_t i = (uint32_t)(top.key & SLOT_MASK);
  slot *sl = &s->slots[i];
  sim_event_fn fn = sl->fn;
  void *a = sl->a, *b = sl->b;
  slot_release(s, i);
  s->live--;
  s->hole = true;
  s->now = top.t;
  s->executed++;
  fn(a, b);
  fix_hole(s);
}

bool sim_sched_step(sim_sched *s) {
  g_assert(!s->running);
  skip_cancelled(s);
  if (s->n == 0)
    return false;
  s->running = true;
  run_front(s);
  s->running = false;
  return true;
}

sim_run_result sim_sched_run(sim_sched *s, sim_time until) {
  g_assert(!s->running);
  g_assert(until >= s->now);
  s->running = true;
  s->stop = false;
  sim_run_result res;
  for (;;) {
    if (s->stop) {
      res = SIM_RUN_STOPPED;
      break;
    }
    skip_cancelled(s);
    if (s->n == 0) {
      res = SIM_RUN_IDLE;
      if (until != SIM_TIME_NEVER)
        s->now = until;
      break;
    }
    if (s->heap[0].t > until) {
      res = SIM_RUN_UNTIL;
      s->now = until;
      break;
    }
    run_front(s);
  }
  s->stop = false;
  s->running = false;
  return res;
}
