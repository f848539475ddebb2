/* sim_sched.c — the event queue: a 4-ary heap while small, a radix heap when
 * large, both over a slab of callbacks.
 *
 * Entries are 16 bytes, {t, key} with key = seq << SLOT_BITS | slot; the
 * callback lives in the slab. Sequences are unique, so comparing (t, key)
 * compares (t, seq): the documented order, FIFO at equal times.
 *
 * Why two structures (measured with bench/kernel_hold, see bench/README.md):
 * the 4-ary heap is the fastest while it stays in cache (P = 1k), but every
 * pop walks log4(P) levels of scattered cache lines. A radix heap
 * (Ahuja, Mehlhorn, Orlin, Tarjan 1990; legal because simulated time never
 * goes backwards) only scans and appends, so its speed barely falls with P,
 * but it is ~15 % slower at P = 1k. The queue starts as a heap, moves to the
 * radix heap at RADIX_ON entries and back below RADIX_OFF; the gap makes
 * each O(n) move rare.
 *
 * 4-ary heap: a pop leaves the root as a hole until the callback either
 * schedules (the new entry fills the hole: one sift instead of two, the
 * fused pop/push) or returns (the last leaf fills it).
 *
 * Radix heap: with `last` the time of the last settled front, an entry of
 * time t lives in bucket msb(t ^ last) + 1, or bucket 0 when t == last.
 * Settling the lowest non-empty bucket (last := its smallest time) moves
 * each of its entries to a strictly lower bucket. Invariant: last <= every
 * queued time, and last <= now whenever a caller may schedule; so a front is
 * settled only when it is about to run (or be dropped as cancelled) at a
 * time <= until, never by a mere look (next_time, the until check), and an
 * empty radix heap restarts at last = now. FIFO ties: equal times stay in
 * seq order inside a bucket (see radix_settle), and bucket 0, the entries
 * equal to last, is popped from its head.
 *
 * When the sequence counter reaches its limit (2^38 ≈ 2.7e11 events), the
 * queued entries are sorted and renumbered 0..n-1, keeping their relative
 * order, so the order contract holds for any run length.
 *
 * Event id: (generation << 32 | slot) + 1; the slot's generation grows on
 * every reuse, so a stale id does not cancel a newer event.
 *
 * Lanes (heap mode only): an event scheduled D >= 1 s ahead, for a D that
 * has a lane (up to NLANES distinct delays at once), waits in that delay's
 * FIFO; only the FIFO's head is in the heap. A world's long timers
 * (keepalives, TIME_WAIT, protocol command timeouts re-armed at every line
 * and nearly always cancelled) then neither deepen the heap nor cost a sift;
 * the order is unchanged (see the lane type). Measured on small.json: the
 * heap of ~330 live entries fell to the packets in flight and the short
 * timers.
 *
 * Runs (both modes): most events are packet arrivals a few ms ahead, and
 * arrivals scheduled one after the other come in nearly increasing time
 * (now + a link's latency). An event less than RUN_MAX ahead goes to the
 * first of NRUNS FIFOs ("runs") whose last entry is not later than it;
 * sequences only grow, so each run stays in (t, key) order (patience
 * sorting) and is never compared inside. Runs are not in the heap: the
 * front is the smaller of the queue's front and the first run head (each
 * run's head is mirrored in run_head[], run_min names the smallest), so
 * an event in a run costs an append and a pop instead of a heap insert
 * and removal, and the order is exactly the heap's. Measured on
 * small.json and load-notls.json (event logs replayed offline): four runs
 * take 98.7 % and 91 % of the packet arrivals, eight 100 % and 98 %; a
 * run's cost per event is ~100 instructions less than the heap's. A
 * failed pick remembers the smallest tail (run_floor), so that workloads
 * runs do not fit (the hold model's random delays) pay one compare per
 * schedule.
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
#define NBUCKETS 65 /* 0: t == last; k: msb(t ^ last) == k - 1 */
/* Heap -> radix heap at this many queued entries (cancelled included), and
 * back below RADIX_OFF. Here the two cross near 6k pending events. */
#define RADIX_ON 8192
#define RADIX_OFF 2048
#define NLANES 8
#define LANE_MIN SIM_S /* events this far ahead or more may go to a lane */
#define NRUNS 4
#define RUN_MAX (50 * SIM_MS) /* events less than this far ahead may go to a run */

typedef struct {
  sim_time t;
  uint64_t key;
} entry;

/* An empty run's head: after every entry (none has this key). */
#define RUN_EMPTY ((entry){SIM_TIME_NEVER, UINT64_MAX})

typedef struct {
  entry *e;
  size_t head, len, cap; /* head: bucket 0 only, which is a FIFO */
  sim_time min;          /* buckets >= 1: smallest t; SIM_TIME_NEVER if empty */
  size_t min_i;          /* where the first entry of time MIN was put (a prefetch
                            hint only: cancelled entries may have moved it) */
} bucket;

/* A lane: the events scheduled with one fixed delay D >= lane_min (a
 * keepalive, TIME_WAIT, a session's command timeout), in a FIFO. Their
 * times are now + D with now monotone and their sequences increase, so the
 * FIFO is in (t, key) order: only its front (the head) needs to be in the
 * heap, and the others wait in the ring, cancelled ones included, without
 * deepening the heap. When the head leaves the heap (run or dropped), the
 * next live entry takes its place. */
typedef struct {
  sim_time delay; /* 0: unused */
  bool in_q;      /* the head, HEAD_KEY, is in the heap */
  uint64_t head_key;
  entry *e; /* ring, cap a power of two */
  uint32_t head, len, cap;
  /* Cancels of events marked for this lane since lanes_compact last
   * scanned its ring: never fewer than the cancelled entries waiting in the
   * ring (every ring entry's slot carries the mark), so 0 lets compaction
   * skip the ring (a busy world's rings hold thousands of live timers). */
  size_t dead;
} lane;

/* A run: a FIFO of entries in (t, key) order kept outside the heap (see
 * the file's opening paragraph). Its first entry is mirrored in
 * run_head[] for the front's compare. */
typedef struct {
  entry *e; /* ring, cap a power of two; NULL until the first entry */
  uint32_t head, len, cap;
} run;

typedef struct {
  sim_event_fn fn; /* NULL: cancelled or free */
  union {
    void *a;
    uintptr_t next_free; /* free: the next free slot */
  };
  void *b;
  uint32_t gen;
  /* 1 + the index of the lane the event went to; 0: none. Written for
   * lane events, cleared when the slot is released (with gen, one store),
   * so that a reused slot's event does not look up a lane; a stale mark
   * left by lanes_dissolve is told apart by the lane's head key. */
  uint32_t lane;
} slot;

struct sim_sched {
  bool radix; /* which structure holds the entries */
  /* 4-ary heap */
  entry *heap;
  size_t n, cap;
  bool hole; /* heap[0] is vacant (its event is running) */
  /* radix heap */
  bucket bk[NBUCKETS];
  uint64_t nonempty; /* bit k-1 set: bucket k >= 1 has entries */
  size_t count;      /* entries in buckets */
  size_t bk_cap;     /* entries the buckets' arrays have room for */
  sim_time last;
  size_t radix_on, radix_off;
  /* lanes (heap mode only) */
  lane lanes[NLANES];
  uint32_t lanes_in_q;   /* lanes whose head is in the heap */
  size_t lane_waiting;   /* entries in the rings */
  sim_time lane_min;
  /* runs (both modes) */
  entry run_head[NRUNS];    /* each run's first entry; RUN_EMPTY if none */
  sim_time run_tail[NRUNS]; /* time of the last entry appended (<= now once the run is empty) */
  sim_time run_floor;       /* <= every run_tail (their minimum after a failed pick) */
  run runs[NRUNS];
  int run_min;              /* the run whose head comes first (any, its head RUN_EMPTY, if all are empty) */
  uint32_t run_mask;        /* bit r: run r has entries */
  size_t run_entries;       /* entries in the runs, heads included */
  sim_time run_max;         /* 0: no runs */
  /* callbacks */
  slot *slots;
  uint32_t nslots, slots_cap;
  uint32_t free_head; /* UINT32_MAX: none */
  uint64_t next_seq, seq_limit;
  /* the external source: its next time, its place among equal times */
  sim_time src_t;
  uint64_t src_seq;
  sim_source_fn src_fn;
  void *src_ctx;
  size_t live;
  sim_time now;
  /* While running: the common turns of sim_sched_run take a front earlier
   * than this, min(the source's time, until + 1); INT64_MIN after stop(),
   * so that every turn goes through the general one, which looks at the
   * source, until and stop. */
  sim_time gate;
  uint64_t executed;
  size_t compactions;
  bool stop;
  bool running;
};

sim_sched *sim_sched_new(void) {
  sim_sched *s = g_new0(sim_sched, 1);
  s->free_head = UINT32_MAX;
  s->seq_limit = SEQ_LIMIT;
  s->radix_on = RADIX_ON;
  s->radix_off = RADIX_OFF;
  s->lane_min = LANE_MIN;
  s->run_max = RUN_MAX;
  for (int k = 0; k < NRUNS; k++) {
    s->run_head[k] = RUN_EMPTY;
    s->run_tail[k] = INT64_MIN;
  }
  s->run_floor = INT64_MIN;
  s->src_t = SIM_TIME_NEVER;
  for (int k = 0; k < NBUCKETS; k++)
    s->bk[k].min = SIM_TIME_NEVER;
  return s;
}

void sim_sched_free(sim_sched *s) {
  if (!s)
    return;
  g_free(s->heap);
  for (int k = 0; k < NLANES; k++)
    g_free(s->lanes[k].e);
  for (int k = 0; k < NRUNS; k++)
    g_free(s->runs[k].e);
  for (int k = 0; k < NBUCKETS; k++)
    g_free(s->bk[k].e);
  g_free(s->slots);
  g_free(s);
}

void sim_sched__set_seq_limit(sim_sched *s, uint64_t limit) {
  g_assert(limit > 0 && limit <= SEQ_LIMIT);
  s->seq_limit = limit;
}

void sim_sched__set_radix_limits(sim_sched *s, size_t on, size_t off) {
  g_assert(off < on);
  s->radix_on = on;
  s->radix_off = off;
}

bool sim_sched__is_radix(const sim_sched *s) { return s->radix; }

void sim_sched__set_lane_min(sim_sched *s, sim_time min) {
  g_assert(min > 0);
  s->lane_min = min;
}

size_t sim_sched__lane_waiting(const sim_sched *s) { return s->lane_waiting; }

void sim_sched__set_run_max(sim_sched *s, sim_time max) {
  g_assert(max >= 0);
  s->run_max = max;
}

size_t sim_sched__run_entries(const sim_sched *s) { return s->run_entries; }

size_t sim_sched__compactions(const sim_sched *s) { return s->compactions; }
size_t sim_sched__bucket_room(const sim_sched *s) { return s->bk_cap; }

sim_time sim_sched_now(const sim_sched *s) { return s->now; }
const sim_time *sim_sched__clock(const sim_sched *s) { return &s->now; }
size_t sim_sched_pending(const sim_sched *s) { return s->live + (s->src_t != SIM_TIME_NEVER); }
uint64_t sim_sched_executed(const sim_sched *s) { return s->executed; }
void sim_sched_stop(sim_sched *s) {
  s->stop = true;
  s->gate = INT64_MIN;
}

/* --- order ---------------------------------------------------------- */

/* (t, key) read as one unsigned 128-bit number (t >= now >= 0, so the
 * unsigned view of t keeps its order). gcc and clang compile this to
 * cmp/sbb, and the heap's child selection to conditional moves: no branch
 * to mispredict in the hot compare (the branchy (t, key) compare was ~25 %
 * slower). */
__extension__ typedef unsigned __int128 u128;

static inline u128 order(const entry *e) { return (u128)(uint64_t)e->t << 64 | e->key; }
static inline bool less(const entry *x, const entry *y) { return order(x) < order(y); }

static int cmp_entry(const void *x, const void *y) {
  const entry *a = x, *b = y;
  return less(a, b) ? -1 : less(b, a) ? 1 : 0;
}

static inline uint32_t slot_of(const entry *e) { return (uint32_t)(e->key & SLOT_MASK); }

/* --- 4-ary heap ----------------------------------------------------- */

/* Index of the smallest of the full sibling group h[c..c+3], as a tournament. */
static inline size_t min_child4(const entry *h, size_t c) {
  size_t a = c + less(&h[c + 1], &h[c]);
  size_t b = c + 2 + less(&h[c + 3], &h[c + 2]);
  return less(&h[b], &h[a]) ? b : a;
}

/* Returns RET (the caller's result, so that a schedule ends in a tail
 * call and keeps no registers across it). */
static uint64_t sift_up(entry *h, size_t i, entry e, uint64_t ret) {
  while (i > 0) {
    size_t p = (i - 1) / ARITY;
    if (!less(&e, &h[p]))
      break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
  return ret;
}

/* Fills the hole at I with E, bottom-up: the hole first moves down to a leaf
 * along the smallest children (3 compares a level, none with E), then E
 * sifts up from there. E is usually a late event (a new one, or the last
 * leaf), so it rarely climbs more than a level: fewer compares than a
 * top-down sift. Returns RET, as sift_up. */
static uint64_t fill_hole(sim_sched *s, size_t i, entry e, uint64_t ret) {
  entry *h = s->heap;
  size_t n = s->n;
  /* The full groups, walked by byte offsets: the children of the entry at
   * offset O start at offset 4 O + 16 (35 instructions a level instead of
   * 45 with indices). */
  const char *base = (const char *)h;
  size_t off = i * sizeof(entry);
  if (n >= ARITY) {
    size_t lim = (n - ARITY) * sizeof(entry); /* the group at G is full if G <= LIM */
    for (size_t g; (g = ARITY * off + sizeof(entry)) <= lim;) {
      const entry *x = (const entry *)(base + g);
      const entry *a = x + less(&x[1], &x[0]);
      const entry *b = x + 2 + less(&x[3], &x[2]);
      const entry *m = less(b, a) ? b : a;
      *(entry *)(base + off) = *m;
      off = (size_t)((const char *)m - base);
    }
  }
  i = off / sizeof(entry);
  size_t c = ARITY * i + 1;
  if (c < n) { /* the last, partial group */
    size_t best = c;
    for (size_t k = c + 1; k < n; k++)
      best = less(&h[k], &h[best]) ? k : best;
    h[i] = h[best];
    i = best;
  }
  return sift_up(h, i, e, ret);
}

/* Fills a vacant root with the last entry. */
static void fix_hole(sim_sched *s) {
  if (!s->hole)
    return;
  s->hole = false;
  entry last = s->heap[--s->n];
  if (s->n > 0)
    fill_hole(s, 0, last, 0);
}

static void heap_reserve(sim_sched *s, size_t n) {
  if (n <= s->cap)
    return;
  while (s->cap < n)
    s->cap = s->cap ? s->cap * 2 : 1024;
  s->heap = g_renew(entry, s->heap, s->cap);
}

static inline __attribute__((always_inline)) void heap_push(sim_sched *s, entry e) {
  if (s->hole) {
    s->hole = false; /* fused pop/push: drop the new entry into the root */
    fill_hole(s, 0, e, 0);
    return;
  }
  heap_reserve(s, s->n + 1);
  sift_up(s->heap, s->n++, e, 0);
}

/* --- radix heap ----------------------------------------------------- */

static inline unsigned bucket_of(sim_time last, sim_time t) {
  uint64_t x = (uint64_t)t ^ (uint64_t)last;
  return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

static inline void bucket_push(sim_sched *s, bucket *b, entry e) {
  if (b->len == b->cap) {
    s->bk_cap += b->cap ? b->cap : 16;
    b->cap = b->cap ? 2 * b->cap : 16;
    b->e = g_renew(entry, b->e, b->cap);
  }
  if (e.t < b->min) {
    b->min = e.t;
    b->min_i = b->len;
  }
  b->e[b->len++] = e;
}

/* A drained bucket gives its array back when it holds more than
 * BUCKET_KEEP entries (4 KiB) and all the arrays together hold more than
 * BUCKET_SLACK times the entries queued: without it each array would stay
 * at the largest number of entries its bucket ever held, and a burst of
 * timers (every MTA's queue run at once) would leave every bucket it passed
 * through at burst size. Under a steady load the arrays stay within the
 * slack and nothing is reallocated. */
#define BUCKET_KEEP 256
#define BUCKET_SLACK 2

static __attribute__((noinline)) void bucket_release_big(sim_sched *s, bucket *b) {
  if (s->bk_cap > BUCKET_SLACK * s->count + NBUCKETS * BUCKET_KEEP) {
    s->bk_cap -= b->cap;
    g_free(b->e);
    b->e = NULL;
    b->cap = 0;
  }
}

static inline void bucket_release(sim_sched *s, bucket *b) {
  if (__builtin_expect(b->cap > BUCKET_KEEP, 0))
    bucket_release_big(s, b);
}

static inline void radix_push(sim_sched *s, entry e) {
  unsigned k = bucket_of(s->last, e.t);
  bucket_push(s, &s->bk[k], e);
  s->nonempty |= (UINT64_C(1) << k) >> 1; /* no bit for bucket 0 */
  s->count++;
}

/* The earliest time, without settling: bucket 0's, or the smallest in the
 * lowest non-empty bucket (then *K is that bucket, else 0). False if empty.
 * Each bucket keeps its smallest time up to date as entries come in, which
 * saves a scan of the bucket before each settle. */
static bool radix_front(const sim_sched *s, sim_time *t, unsigned *k) {
  const bucket *b0 = &s->bk[0];
  *k = 0;
  if (b0->head < b0->len) {
    *t = b0->e[b0->head].t;
    return true;
  }
  if (!s->nonempty)
    return false;
  *k = (unsigned)__builtin_ctzll(s->nonempty) + 1;
  *t = s->bk[*k].min;
  return true;
}

/* The first entry of bucket K >= 1, whose earliest time is T. */
static const entry *radix_first(const sim_sched *s, unsigned k, sim_time t) {
  const bucket *b = &s->bk[k];
  const entry *m = NULL;
  for (size_t i = 0; i < b->len; i++)
    if (b->e[i].t == t && (!m || b->e[i].key < m->key))
      m = &b->e[i];
  return m;
}

/* last := T, the smallest time in bucket K; K's entries move down, those
 * equal to T into the (empty) bucket 0. No sort is needed: entries of one
 * time always share a bucket (its index depends on t and last only), enter
 * it in seq order (an insert has the newest seq; a settle moves them all
 * together, in order, into a bucket holding none of that time), so every
 * bucket keeps equal times in seq order. */
static inline __attribute__((always_inline)) void radix_settle(sim_sched *s, unsigned k, sim_time t) {
  bucket *b = &s->bk[k];
  g_assert(s->bk[0].len == 0 && t >= s->last);
  bucket_release(s, &s->bk[0]);
  s->last = t;
  s->nonempty &= ~(UINT64_C(1) << (k - 1));
  size_t n = b->len;
  b->len = 0;
  b->min = SIM_TIME_NEVER;
  for (size_t i = 0; i < n; i++) {
    unsigned j = bucket_of(t, b->e[i].t);
    if (j == 0) /* runs next: fetch its callback record early */
      __builtin_prefetch(&s->slots[slot_of(&b->e[i])]);
    bucket_push(s, &s->bk[j], b->e[i]);
    s->nonempty |= (UINT64_C(1) << j) >> 1;
  }
  bucket_release(s, b);
}

static entry radix_pop0(sim_sched *s) {
  bucket *b0 = &s->bk[0];
  entry e = b0->e[b0->head++];
  /* Drained: its array is released at the next settle. */
  if (b0->head == b0->len)
    b0->head = b0->len = 0;
  else /* the next event's callback record: a likely cache miss at large P */
    __builtin_prefetch(&s->slots[slot_of(&b0->e[b0->head])]);
  s->count--;
  return e;
}

static void slot_release(sim_sched *s, uint32_t i);

/* Drops the cancelled entries of bucket K >= 1, keeping the others in order. */
static void radix_drop_cancelled(sim_sched *s, unsigned k) {
  bucket *b = &s->bk[k];
  size_t w = 0;
  b->min = SIM_TIME_NEVER;
  for (size_t i = 0; i < b->len; i++) {
    if (s->slots[slot_of(&b->e[i])].fn) {
      b->e[w++] = b->e[i];
      b->min = b->e[i].t < b->min ? b->e[i].t : b->min;
    } else {
      slot_release(s, slot_of(&b->e[i]));
    }
  }
  s->count -= b->len - w;
  b->len = w;
  if (w == 0) {
    s->nonempty &= ~(UINT64_C(1) << (k - 1));
    bucket_release(s, b);
  }
}

/* Moves every radix entry, in (t, key) order, into OUT (room for count). */
static size_t radix_drain_sorted(sim_sched *s, entry *out) {
  size_t n = 0;
  for (int k = 0; k < NBUCKETS; k++) {
    bucket *b = &s->bk[k];
    if (b->len > b->head) /* an empty bucket may have no storage yet */
      memcpy(out + n, b->e + b->head, (b->len - b->head) * sizeof(entry));
    n += b->len - b->head;
    b->head = b->len = 0;
    b->min = SIM_TIME_NEVER;
    bucket_release(s, b);
  }
  g_assert(n == s->count);
  s->nonempty = 0;
  s->count = 0;
  qsort(out, n, sizeof *out, cmp_entry);
  return n;
}

/* --- lanes ----------------------------------------------------------- */

static inline void q_push(sim_sched *s, entry e);
static void slot_release(sim_sched *s, uint32_t i);

/* The lane for DELAY: its own, else an unused one, else one that holds
 * only its head (none: NULL). A lane of one entry saves nothing (its head
 * is in the heap either way), and delays that come once (a timer set at an
 * absolute time) would otherwise hold all the lanes for minutes while
 * repeated ones (the initial RTO) find none. Taking such a lane leaves its
 * head in the heap as an ordinary entry: its slot's mark goes stale (the
 * lane's head key is no longer its key once the lane has a new head, and
 * the lane is not in the heap until then). */
static lane *lane_for(sim_sched *s, sim_time delay) {
  lane *free_l = NULL, *single = NULL;
  for (int k = 0; k < NLANES; k++) {
    lane *l = &s->lanes[k];
    if (l->delay == delay)
      return l;
    if (l->len == 0) {
      if (!l->in_q) {
        if (!free_l)
          free_l = l;
      } else if (!single) {
        single = l;
      }
    }
  }
  if (!free_l && single) {
    single->in_q = false;
    s->lanes_in_q--;
    free_l = single;
  }
  if (free_l)
    free_l->delay = delay;
  return free_l;
}

static void lane_to_heap(sim_sched *s, lane *l, entry e) {
  l->in_q = true;
  l->head_key = e.key;
  s->lanes_in_q++;
  q_push(s, e);
}

static void lane_push(sim_sched *s, lane *l, entry e) {
  if (!l->in_q) {
    lane_to_heap(s, l, e);
    return;
  }
  if (l->len == l->cap) {
    uint32_t ncap = l->cap ? 2 * l->cap : 64;
    entry *ne = g_new(entry, ncap);
    for (uint32_t i = 0; i < l->len; i++)
      ne[i] = l->e[(l->head + i) & (l->cap - 1)];
    g_free(l->e);
    l->e = ne;
    l->cap = ncap;
    l->head = 0;
  }
  l->e[(l->head + l->len) & (l->cap - 1)] = e;
  l->len++;
  s->lane_waiting++;
}

/* The entry of slot SL left the heap (read before the slot is released):
 * if it was its lane's head, that lane has none now (lane_refill gives it
 * one). Returns the lane, or NULL. */
static inline lane *lane_left(sim_sched *s, const slot *sl, uint64_t key) {
  if (__builtin_expect(sl->lane == 0, 1))
    return NULL;
  lane *l = &s->lanes[sl->lane - 1];
  if (!l->in_q || l->head_key != key)
    return NULL; /* a stale mark, or an entry behind the head */
  l->in_q = false;
  s->lanes_in_q--;
  return l;
}

/* Moves L's first live entry into the heap; drops the cancelled ones
 * before it. */
static void lane_refill(sim_sched *s, lane *l) {
  while (!l->in_q && l->len) {
    entry e = l->e[l->head];
    l->head = (l->head + 1) & (l->cap - 1);
    l->len--;
    s->lane_waiting--;
    if (s->slots[slot_of(&e)].fn)
      lane_to_heap(s, l, e);
    else
      slot_release(s, slot_of(&e));
  }
  if (l->len == 0 && l->cap > 1024) { /* a burst's ring does not stay */
    g_free(l->e);
    l->e = NULL;
    l->cap = l->head = 0;
  }
}

static void lanes_refill(sim_sched *s) {
  for (int k = 0; k < NLANES; k++)
    if (!s->lanes[k].in_q && s->lanes[k].len)
      lane_refill(s, &s->lanes[k]);
}

/* Every lane entry into the heap as an ordinary entry; the lanes end
 * (before the radix heap, which needs equal times to enter a bucket in seq
 * order, and before renumbering). */
static void lanes_dissolve(sim_sched *s) {
  for (int k = 0; k < NLANES; k++) {
    lane *l = &s->lanes[k];
    for (; l->len; l->len--) {
      g_assert(!s->radix);
      heap_push(s, l->e[l->head]); /* not q_push: this may run inside to_radix */
      l->head = (l->head + 1) & (l->cap - 1);
    }
    g_free(l->e);
    *l = (lane){0};
  }
  s->lanes_in_q = 0;
  s->lane_waiting = 0;
}

/* Drops the cancelled entries of a ring (a lane's or a run's: E from HEAD,
 * *LEN of them, CAP a power of two), keeping the others in order; returns
 * how many it dropped. */
static uint32_t ring_compact(sim_sched *s, entry *e, uint32_t head, uint32_t *len, uint32_t cap) {
  uint32_t w = 0;
  for (uint32_t i = 0; i < *len; i++) {
    entry x = e[(head + i) & (cap - 1)];
    if (s->slots[slot_of(&x)].fn)
      e[(head + w++) & (cap - 1)] = x;
    else
      slot_release(s, slot_of(&x));
  }
  uint32_t dropped = *len - w;
  *len = w;
  return dropped;
}

/* Drops the cancelled entries waiting in the rings. */
static void lanes_compact(sim_sched *s) {
  for (int k = 0; k < NLANES; k++) {
    lane *l = &s->lanes[k];
    if (!l->dead)
      continue; /* nothing cancelled waits in its ring */
    s->lane_waiting -= ring_compact(s, l->e, l->head, &l->len, l->cap);
    l->dead = 0;
  }
  lanes_refill(s);
}

/* --- runs ------------------------------------------------------------ */

/* No run takes T: remember the smallest tail, so that the next entries
 * earlier than every tail are turned away by one compare (tails only grow,
 * so it stays a lower bound). */
static __attribute__((noinline)) int run_pick_none(sim_sched *s) {
  const sim_time *x = s->run_tail;
  sim_time a = x[0] < x[1] ? x[0] : x[1], b = x[2] < x[3] ? x[2] : x[3];
  s->run_floor = a < b ? a : b;
  return -1;
}

/* The run to append an entry of time T to (T - now < run_max): the first
 * whose last entry is not later than T (the new entry's key is larger than
 * every queued key, so the run stays in (t, key) order). -1: none. */
static inline int run_pick(sim_sched *s, sim_time t) {
  if (t < s->run_floor)
    return -1;
  for (int r = 0; r < NRUNS; r++)
    if (s->run_tail[r] <= t)
      return r;
  return run_pick_none(s);
}

/* The run whose head comes first; 0 (its head RUN_EMPTY) if all are
 * empty. With one run in use (most of the time after a pop: small.json's
 * replay, 73 % of pops leave at most one run with entries) it is that
 * run; with two (39 % of pops on load-notls.json, 30 % one, 31 % three or
 * four) one compare; else a tournament of three compares, no branch on
 * their outcome. */
static inline int runs_min(const sim_sched *s) {
  uint32_t m = s->run_mask;
  if (!(m & (m - 1)))
    return m ? __builtin_ctz(m) : 0;
  const entry *h = s->run_head;
  uint32_t m2 = m & (m - 1);
  if (!(m2 & (m2 - 1))) {
    int a = __builtin_ctz(m), b = __builtin_ctz(m2);
    return less(&h[b], &h[a]) ? b : a;
  }
  _Static_assert(NRUNS == 4, "runs_min compares four heads");
  const entry *a = h + less(&h[1], &h[0]);
  const entry *b = h + 2 + less(&h[3], &h[2]);
  return (int)((less(b, a) ? b : a) - h);
}

/* Appends E to run R, which has room. */
static inline void run_append(sim_sched *s, int r, entry e) {
  run *ru = &s->runs[r];
  ru->e[(ru->head + ru->len) & (ru->cap - 1)] = e;
  s->run_tail[r] = e.t;
  s->run_entries++;
  if (ru->len++ == 0) {
    uint32_t m = s->run_mask;
    s->run_head[r] = e;
    s->run_mask = m | 1u << r;
    if (!m || less(&e, &s->run_head[s->run_min]))
      s->run_min = r;
  }
}

static __attribute__((noinline)) void run_grow(run *ru) {
  uint32_t ncap = ru->cap ? 2 * ru->cap : 64;
  entry *ne = g_new(entry, ncap);
  for (uint32_t i = 0; i < ru->len; i++)
    ne[i] = ru->e[(ru->head + i) & (ru->cap - 1)];
  g_free(ru->e);
  ru->e = ne;
  ru->cap = ncap;
  ru->head = 0;
}

/* Removes run R's head and returns it. */
static inline __attribute__((always_inline)) entry run_take(sim_sched *s, int r) {
  run *ru = &s->runs[r];
  entry e = s->run_head[r];
  ru->head = (ru->head + 1) & (ru->cap - 1);
  ru->len--;
  s->run_entries--;
  if (ru->len) {
    s->run_head[r] = ru->e[ru->head];
  } else {
    s->run_head[r] = RUN_EMPTY;
    s->run_mask &= ~(1u << r);
  }
  s->run_min = runs_min(s);
  return e;
}

static inline void q_push(sim_sched *s, entry e);

/* Every run entry into the queue; the runs end empty (before renumbering). */
static void runs_dissolve(sim_sched *s) {
  for (int r = 0; r < NRUNS; r++) {
    run *ru = &s->runs[r];
    for (; ru->len; ru->len--) {
      entry e = ru->e[ru->head];
      ru->head = (ru->head + 1) & (ru->cap - 1);
      if (s->radix)
        radix_push(s, e); /* t >= now >= last */
      else
        heap_push(s, e); /* not q_push: no move to the radix heap mid-way */
    }
    s->run_head[r] = RUN_EMPTY;
    s->run_tail[r] = INT64_MIN;
  }
  s->run_floor = INT64_MIN;
  s->run_entries = 0;
  s->run_mask = 0;
  s->run_min = 0;
}

/* Drops the cancelled entries of the runs, keeping the others in order. */
static void runs_compact(sim_sched *s) {
  for (int r = 0; r < NRUNS; r++) {
    run *ru = &s->runs[r];
    s->run_entries -= ring_compact(s, ru->e, ru->head, &ru->len, ru->cap);
    uint32_t w = ru->len;
    s->run_head[r] = w ? ru->e[ru->head] : RUN_EMPTY;
    s->run_mask = w ? s->run_mask | 1u << r : s->run_mask & ~(1u << r);
  }
  s->run_min = runs_min(s);
}

/* --- the queue: one of the two ---------------------------------------- */

static void to_radix(sim_sched *s) {
  g_assert(!s->hole);
  lanes_dissolve(s);
  s->radix = true;
  s->last = s->now; /* <= every queued time */
  /* In key order, so that equal times enter their bucket in seq order. */
  qsort(s->heap, s->n, sizeof *s->heap, cmp_entry);
  for (size_t i = 0; i < s->n; i++)
    radix_push(s, s->heap[i]);
  s->n = 0;
}

static void to_heap(sim_sched *s) {
  heap_reserve(s, s->count);
  s->n = radix_drain_sorted(s, s->heap); /* a sorted array is a heap */
  s->radix = false;
}

static inline __attribute__((always_inline)) void q_push(sim_sched *s, entry e) {
  if (s->radix) {
    if (s->count == 0)
      s->last = s->now;
    g_assert(e.t >= s->last);
    radix_push(s, e);
    return;
  }
  heap_push(s, e);
  if (s->n >= s->radix_on)
    to_radix(s);
}

/* The earliest queued time (maybe of a cancelled entry); false if empty.
 * *K: where the front is, for q_take. */
static inline bool q_front(sim_sched *s, sim_time *t, unsigned *k) {
  if (s->radix)
    return radix_front(s, t, k);
  fix_hole(s);
  *k = 0;
  if (!s->n)
    return false;
  *t = s->heap[0].t;
  return true;
}

/* The front entry itself, after q_front returned T and K. */
static const entry *q_first(const sim_sched *s, sim_time t, unsigned k) {
  if (!s->radix)
    return &s->heap[0];
  return k ? radix_first(s, k, t) : &s->bk[0].e[s->bk[0].head];
}

/* Removes the front found by q_front (its time: T). The caller sets now to
 * T (or the front is cancelled and T <= until) before anything schedules. */
static __attribute__((noinline)) entry radix_take(sim_sched *s, unsigned k, sim_time t) {
  if (k)
    radix_settle(s, k, t);
  entry e = radix_pop0(s);
  if (s->count < s->radix_off)
    to_heap(s);
  return e;
}

/* The heap's case inlined (every event of a small world), the radix
 * heap's out of line. */
static inline __attribute__((always_inline)) entry q_take(sim_sched *s, unsigned k, sim_time t) {
  if (__builtin_expect(!s->radix, 1)) {
    s->hole = true;
    return s->heap[0];
  }
  return radix_take(s, k, t);
}

static int cmp_key(const void *x, const void *y) {
  const entry *a = x, *b = y;
  return a->key < b->key ? -1 : a->key > b->key ? 1 : 0;
}

/* New sequence numbers 0..n-1 in the order of the old ones (so every
 * comparison keeps its outcome), the source's place kept between them. */
static void renumber(sim_sched *s) {
  entry *e;
  size_t n;
  entry *tmp = NULL;
  if (!s->radix)
    fix_hole(s);
  lanes_dissolve(s);
  runs_dissolve(s);
  if (s->radix) {
    n = s->count;
    e = tmp = g_new(entry, n ? n : 1);
    radix_drain_sorted(s, e);
  } else {
    fix_hole(s);
    n = s->n;
    e = s->heap;
  }
  qsort(e, n, sizeof *e, cmp_key);
  size_t src = n; /* entries below the source keep i, those above i + 1 */
  for (size_t i = 0; i < n; i++) {
    uint64_t j = i;
    if (s->src_fn && (e[i].key >> SLOT_BITS) > s->src_seq) {
      if (src == n)
        src = i;
      j++;
    }
    e[i].key = (j << SLOT_BITS) | (e[i].key & SLOT_MASK);
  }
  qsort(e, n, sizeof *e, cmp_entry); /* a sorted array is a heap */
  if (tmp) {
    for (size_t i = 0; i < n; i++) /* t >= last; bucket 0 fills in key order */
      radix_push(s, e[i]);
    g_free(tmp);
  }
  s->next_seq = n;
  if (s->src_fn) {
    s->src_seq = src;
    s->next_seq = n + 1;
  }
}

/* --- slots ---------------------------------------------------------- */

static __attribute__((noinline)) uint32_t slot_new(sim_sched *s) {
  if (s->nslots == s->slots_cap) {
    if (s->slots_cap >= MAX_SLOTS)
      g_error("sim_sched_at: more than %" G_GUINT64_FORMAT " pending events", (guint64)MAX_SLOTS);
    s->slots_cap = s->slots_cap ? s->slots_cap * 2 : 1024;
    s->slots = g_renew(slot, s->slots, s->slots_cap);
  }
  s->slots[s->nslots].gen = 0;
  s->slots[s->nslots].lane = 0;
  return s->nslots++;
}

static inline uint32_t slot_alloc(sim_sched *s) {
  if (__builtin_expect(s->free_head == UINT32_MAX, 0))
    return slot_new(s);
  uint32_t i = s->free_head;
  s->free_head = (uint32_t)s->slots[i].next_free;
  return i;
}

static void slot_release(sim_sched *s, uint32_t i) {
  slot *sl = &s->slots[i];
  sl->fn = NULL;
  sl->gen++;
  sl->lane = 0;
  sl->next_free = s->free_head;
  s->free_head = i;
}

/* --- dropping cancelled entries ---------------------------------------- */

/* Lazy cancellation leaves an entry in the queue until it reaches the
 * front. A world's cancelled timers (a session's command timeout re-armed
 * at every line, a keepalive cancelled at close) can outnumber its live
 * events and sit there for minutes of simulated time, deepening every pop.
 * When they are more than half as many as the live ones (and at least
 * COMPACT_MIN), they are all removed at once: O(n), amortized over at
 * least n/3 cancels. The live entries keep their (t, key), so the order of
 * everything that runs is unchanged. (Measured on small.json: with "more
 * dead than live, at least 1,024" the heap of ~330 live entries averaged
 * ~850 and was never compacted; this threshold is the best of the few
 * tried, a quarter of the live count compacts too often.) */
#define COMPACT_MIN 128

/* Restores the heap property below I (a top-down sift; Floyd's heapify). */
static void sift_down(entry *h, size_t n, size_t i) {
  entry e = h[i];
  size_t c;
  while ((c = ARITY * i + 1) < n) {
    size_t best = c;
    if (c + ARITY <= n) {
      best = min_child4(h, c);
    } else {
      for (size_t k = c + 1; k < n; k++)
        best = less(&h[k], &h[best]) ? k : best;
    }
    if (!less(&h[best], &e))
      break;
    h[i] = h[best];
    i = best;
  }
  h[i] = e;
}

static __attribute__((noinline)) void compact(sim_sched *s) {
  s->compactions++;
  if (s->radix) {
    bucket *b0 = &s->bk[0];
    size_t w = b0->head;
    for (size_t i = b0->head; i < b0->len; i++) {
      if (s->slots[slot_of(&b0->e[i])].fn)
        b0->e[w++] = b0->e[i];
      else
        slot_release(s, slot_of(&b0->e[i]));
    }
    s->count -= b0->len - w;
    b0->len = w;
    if (b0->head == b0->len)
      b0->head = b0->len = 0;
    for (uint64_t ne = s->nonempty; ne; ne &= ne - 1)
      radix_drop_cancelled(s, (unsigned)__builtin_ctzll(ne) + 1);
    runs_compact(s);
    return;
  }
  fix_hole(s);
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (s->slots[slot_of(&s->heap[i])].fn) {
      s->heap[w++] = s->heap[i];
    } else {
      lane_left(s, &s->slots[slot_of(&s->heap[i])], s->heap[i].key);
      slot_release(s, slot_of(&s->heap[i]));
    }
  }
  s->n = w;
  if (w > 1)
    for (size_t i = (w - 2) / ARITY + 1; i-- > 0;)
      sift_down(s->heap, w, i);
  lanes_compact(s);
  runs_compact(s);
}

static inline void maybe_compact(sim_sched *s) {
  size_t queued = (s->radix ? s->count : s->n - s->hole) + s->lane_waiting + s->run_entries;
  size_t dead = queued - s->live;
  if (dead >= COMPACT_MIN && 2 * dead > s->live)
    compact(s);
}

/* --- API ------------------------------------------------------------ */

/* Puts E, the entry of a slot already filled and counted, where it
 * belongs: every case. Returns ID (so that a schedule ends in a tail
 * call). */
static __attribute__((noinline)) sim_event_id place(sim_sched *s, entry e, sim_event_id id) {
  sim_time d = e.t - s->now;
  lane *l;
  int r;
  if (d < s->run_max && (r = run_pick(s, e.t)) >= 0) {
    if (s->runs[r].len == s->runs[r].cap)
      run_grow(&s->runs[r]);
    run_append(s, r, e);
  } else if (__builtin_expect(d >= s->lane_min, 0) && !s->radix && (l = lane_for(s, d)) != NULL) {
    s->slots[slot_of(&e)].lane = (uint32_t)(l - s->lanes) + 1;
    lane_push(s, l, e);
  } else {
    q_push(s, e);
  }
  return id;
}

/* Fills slot I (taken off the free list) for FN(A, B) at T: its entry;
 * *ID its id. */
static inline __attribute__((always_inline)) entry slot_fill(sim_sched *s, uint32_t i, sim_time t,
                                                             sim_event_fn fn, void *a, void *b,
                                                             sim_event_id *id) {
  slot *sl = &s->slots[i];
  sl->fn = fn;
  sl->a = a;
  sl->b = b;
  s->live++;
  *id = (((sim_event_id)sl->gen << 32) | i) + 1;
  return (entry){t, (s->next_seq++ << SLOT_BITS) | i};
}

/* Schedules at T >= now: every case. */
static __attribute__((noinline)) sim_event_id schedule(sim_sched *s, sim_time t, sim_event_fn fn,
                                                       void *a, void *b) {
  g_assert(fn != NULL);
  if (s->next_seq >= s->seq_limit)
    renumber(s);
  uint32_t i = slot_alloc(s);
  sim_event_id id;
  entry e = slot_fill(s, i, t, fn, a, b, &id);
  return place(s, e, id);
}

/* Places E (ID) in the radix heap in use (count > 0, E.t >= last): into
 * its bucket when that has room, else through place. Out of line, so that
 * schedule_fast saves no registers for it. */
static __attribute__((noinline)) sim_event_id place_bucket(sim_sched *s, entry e, sim_event_id id) {
  unsigned k = bucket_of(s->last, e.t);
  bucket *bk = &s->bk[k];
  if (__builtin_expect(bk->len == bk->cap, 0))
    return place(s, e, id);
  if (e.t < bk->min) {
    bk->min = e.t;
    bk->min_i = bk->len;
  }
  bk->e[bk->len++] = e;
  s->nonempty |= (UINT64_C(1) << k) >> 1; /* no bit for bucket 0 */
  s->count++;
  return id;
}

/* Places E (ID), at now + lane_min or later (and at now + run_max or
 * later), in heap mode: behind the head of the lane for that delay when it
 * has one in the heap and room in its ring (the timers re-armed at one
 * delay: keepalives, TIME_WAIT, session timeouts, the initial RTO), else
 * through place, which would pick the same lane (a delay has at most one).
 * Out of line, as place_bucket. */
static __attribute__((noinline)) sim_event_id place_lane(sim_sched *s, entry e, sim_event_id id) {
  sim_time d = e.t - s->now;
  lane *l = s->lanes;
  while (l->delay != d)
    if (++l == s->lanes + NLANES)
      return place(s, e, id);
  if (__builtin_expect(!l->in_q || l->len == l->cap, 0))
    return place(s, e, id);
  s->slots[slot_of(&e)].lane = (uint32_t)(l - s->lanes) + 1;
  l->e[(l->head + l->len) & (l->cap - 1)] = e;
  l->len++;
  s->lane_waiting++;
  return id;
}

typedef sim_event_id (*schedule_fn)(sim_sched *, sim_time, sim_event_fn, void *, void *);

/* Schedules at T. The slot is filled first (its arguments then need no
 * register), and the common placements follow inline: a run with room, a
 * heap with room and no lane. Every other case, and T < now (which
 * aborts), the sequence limit and the first use of a slot, go out of line
 * (SLOW: schedule, or sim_sched_at's check) and end in tail calls that
 * return the id, so that this saves no registers. Same entries, same
 * places as schedule. */
static inline __attribute__((always_inline)) sim_event_id schedule_fast(sim_sched *s, sim_time t,
                                                                        sim_event_fn fn, void *a,
                                                                        void *b, schedule_fn slow) {
  uint32_t i = s->free_head;
  if (__builtin_expect(t < s->now || !fn || s->next_seq >= s->seq_limit || i == UINT32_MAX, 0))
    return slow(s, t, fn, a, b);
  s->free_head = (uint32_t)s->slots[i].next_free;
  sim_event_id id;
  entry e = slot_fill(s, i, t, fn, a, b, &id);
  sim_time d = t - s->now;
  if (d < s->run_max && t >= s->run_floor) {
    for (int r = 0; r < NRUNS; r++) {
      if (s->run_tail[r] <= t) {
        if (__builtin_expect(s->runs[r].len == s->runs[r].cap, 0))
          return place(s, e, id);
        run_append(s, r, e);
        return id;
      }
    }
    return place(s, e, id); /* sets run_floor */
  }
  if (s->radix) { /* a bucket with room, a radix heap in use */
    if (__builtin_expect(s->count == 0 || t < s->last, 0))
      return place(s, e, id);
    return place_bucket(s, e, id);
  }
  if (__builtin_expect(d >= s->lane_min, 0))
    return d >= s->run_max ? place_lane(s, e, id) : place(s, e, id);
  if (__builtin_expect(s->n + !s->hole >= s->radix_on || (!s->hole && s->n >= s->cap), 0))
    return place(s, e, id);
  if (s->hole) {
    s->hole = false; /* fused pop/push: drop the new entry into the root */
    return fill_hole(s, 0, e, id);
  }
  return sift_up(s->heap, s->n++, e, id);
}

static __attribute__((noinline)) sim_event_id schedule_at_slow(sim_sched *s, sim_time t,
                                                               sim_event_fn fn, void *a, void *b) {
  if (t < s->now)
    g_error("sim_sched_at: time %" G_GINT64_FORMAT " is before now %" G_GINT64_FORMAT, (gint64)t,
            (gint64)s->now);
  return schedule(s, t, fn, a, b);
}

sim_event_id sim_sched_at(sim_sched *s, sim_time t, sim_event_fn fn, void *a, void *b) {
  return schedule_fast(s, t, fn, a, b, schedule_at_slow);
}

sim_event_id sim_sched_after(sim_sched *s, sim_time delay, sim_event_fn fn, void *a, void *b) {
  g_assert(delay >= 0);
  return schedule_fast(s, sim_time_add(s->now, delay), fn, a, b, schedule);
}

bool sim_sched_cancel(sim_sched *s, sim_event_id id) {
  if (id == 0)
    return false;
  id--;
  uint32_t i = (uint32_t)(id & 0xffffffffu);
  uint32_t gen = (uint32_t)(id >> 32);
  if (i >= s->nslots || s->slots[i].gen != gen || s->slots[i].fn == NULL)
    return false;
  s->slots[i].fn = NULL; /* entry stays queued; dropped at the front or by compact */
  if (s->slots[i].lane) /* maybe waiting in that lane's ring (or a stale mark) */
    s->lanes[s->slots[i].lane - 1].dead++;
  s->live--;
  maybe_compact(s);
  return true;
}

void sim_sched_set_source(sim_sched *s, sim_time first, sim_source_fn fn, void *ctx) {
  g_assert(fn && !s->src_fn);
  g_assert(first >= s->now);
  if (s->next_seq >= s->seq_limit)
    renumber(s);
  s->src_fn = fn;
  s->src_ctx = ctx;
  s->src_seq = s->next_seq++;
  s->src_t = first;
  if (first < s->gate) /* set from a callback */
    s->gate = first;
}

/* The front: the earliest entry of the queue and the runs (maybe
 * cancelled). */
typedef struct {
  sim_time t;
  unsigned k; /* q_front's K, when it is the queue's */
  int r;      /* its run; -1: the queue's */
} front;

/* Whether run R's head comes before the queue's front (T, K). */
static inline bool run_before(const sim_sched *s, int r, sim_time t, unsigned k) {
  const entry *h = &s->run_head[r];
  if (__builtin_expect(!s->radix, 1))
    return less(h, &s->heap[0]);
  return h->t < t || (h->t == t && h->key < q_first(s, t, k)->key);
}

/* Finds the front without taking it; false if nothing is queued. */
static inline bool find_front(sim_sched *s, front *f) {
  bool have = q_front(s, &f->t, &f->k);
  int r = s->run_min;
  f->r = -1;
  if (s->run_mask && (!have || run_before(s, r, f->t, f->k))) {
    f->r = r;
    f->t = s->run_head[r].t;
    return true;
  }
  return have;
}

static inline uint64_t front_key(const sim_sched *s, const front *f) {
  return f->r >= 0 ? s->run_head[f->r].key : q_first(s, f->t, f->k)->key;
}

/* Removes the front found by find_front (see q_take). */
static inline __attribute__((always_inline)) entry front_take(sim_sched *s, const front *f) {
  if (f->r >= 0)
    return run_take(s, f->r);
  return q_take(s, f->k, f->t);
}

/* Whether the source's event comes before the front F; HAVE: there is a
 * front. */
static inline bool source_first(const sim_sched *s, bool have, const front *f) {
  if (s->src_t == SIM_TIME_NEVER)
    return false;
  if (!have || s->src_t < f->t)
    return true;
  return s->src_t == f->t && s->src_seq < (front_key(s, f) >> SLOT_BITS);
}

static void run_source(sim_sched *s) {
  s->now = s->src_t;
  s->executed++;
  sim_time next = s->src_fn(s->src_ctx);
  g_assert(next >= s->now);
  s->src_t = next;
}

sim_time sim_sched_next_time(sim_sched *s) {
  for (;;) {
    front f;
    if (!find_front(s, &f))
      return s->src_t;
    if (s->src_t <= f.t)
      return s->src_t;
    if (s->slots[front_key(s, &f) & SLOT_MASK].fn)
      return f.t;
    if (f.r >= 0 || f.k == 0) { /* taking from a run, the heap or bucket 0 settles nothing */
      entry e = front_take(s, &f);
      lane *l = lane_left(s, &s->slots[slot_of(&e)], e.key);
      slot_release(s, slot_of(&e));
      if (l)
        lane_refill(s, l);
    } else {
      radix_drop_cancelled(s, f.k); /* settling could pass now */
    }
  }
}

/* Radix mode: start loading the callback record of the event that will run
 * after the current one, so the miss overlaps with the current callback. */
static inline void prefetch_next(const sim_sched *s) {
  if (!s->radix)
    return;
  const bucket *b0 = &s->bk[0];
  if (b0->head < b0->len)
    return; /* radix_pop0 prefetched it */
  if (!s->nonempty)
    return;
  const bucket *b = &s->bk[__builtin_ctzll(s->nonempty) + 1];
  if (b->min_i < b->len)
    __builtin_prefetch(&s->slots[slot_of(&b->e[b->min_i])]);
}

/* Runs TOP, just taken off the queue or a run, unless it was cancelled.
 * Returns whether it ran. */
static inline __attribute__((always_inline)) bool run_entry(sim_sched *s, entry top) {
  uint32_t i = slot_of(&top);
  slot *sl = &s->slots[i];
  sim_event_fn fn = sl->fn;
  void *a = sl->a, *b = sl->b;
  lane *l = lane_left(s, sl, top.key);
  slot_release(s, i);
  if (l)
    lane_refill(s, l);
  if (!fn)
    return false;
  s->live--;
  s->now = top.t;
  s->executed++;
  fn(a, b);
  return true;
}

/* Takes the front found by find_front off the queue and runs it, unless
 * it was cancelled. Returns whether it ran. */
static inline __attribute__((always_inline)) bool take_and_run(sim_sched *s, const front *f) {
  entry top = front_take(s, f);
  prefetch_next(s);
  return run_entry(s, top);
}

bool sim_sched_step(sim_sched *s) {
  g_assert(!s->running);
  s->running = true;
  bool ran = false;
  while (!ran) {
    front f;
    bool have = find_front(s, &f);
    if (source_first(s, have, &f)) {
      run_source(s);
      ran = true;
    } else if (!have) {
      break;
    } else {
      ran = take_and_run(s, &f);
    }
  }
  s->running = false;
  return ran;
}

/* One turn of sim_sched_run in any mode: runs the next event (or the
 * source's) if it is due by UNTIL. Returns false with *RES set when the
 * run ends. */
static __attribute__((noinline)) bool run_turn(sim_sched *s, sim_time until,
                                                           sim_run_result *res) {
  front f;
  bool have = find_front(s, &f);
  if (__builtin_expect(s->src_t <= (have ? f.t : SIM_TIME_NEVER - 1), 0) &&
      source_first(s, have, &f)) {
    if (s->src_t > until) {
      *res = SIM_RUN_UNTIL;
      s->now = until;
      return false;
    }
    run_source(s);
    return true;
  }
  if (!have) {
    *res = SIM_RUN_IDLE; /* the clock stays at the last event */
    return false;
  }
  if (f.t > until) {
    *res = SIM_RUN_UNTIL;
    s->now = until;
    return false;
  }
  take_and_run(s, &f);
  return true;
}

/* The gate of sim_sched_run's common turns (see the field). */
static inline sim_time run_gate(const sim_sched *s, sim_time until) {
  if (s->stop)
    return INT64_MIN;
  sim_time u = until == INT64_MAX ? INT64_MAX : until + 1;
  return s->src_t < u ? s->src_t : u;
}

/* Runs TOP, just taken off the queue or a run, unless it was cancelled:
 * run_entry for sim_sched_run's common turns, releasing the slot with two
 * stores fewer (a slot's fn is never read once released: its generation
 * tells a stale id; its lane mark is cleared where it is set). */
static inline __attribute__((always_inline)) void run_top(sim_sched *s, entry top) {
  uint32_t i = slot_of(&top);
  slot *sl = &s->slots[i];
  sim_event_fn fn = sl->fn;
  void *a = sl->a, *b = sl->b;
  sl->gen++;
  if (__builtin_expect(sl->lane != 0, 0)) {
    lane *l = lane_left(s, sl, top.key);
    sl->lane = 0;
    sl->next_free = s->free_head;
    s->free_head = i;
    if (l)
      lane_refill(s, l);
  } else {
    sl->next_free = s->free_head;
    s->free_head = i;
  }
  if (!fn)
    return;
  s->live--;
  s->now = top.t;
  s->executed++;
  fn(a, b);
}

sim_run_result sim_sched_run(sim_sched *s, sim_time until) {
  g_assert(!s->running);
  g_assert(until >= s->now);
  s->running = true;
  s->stop = false;
  s->gate = run_gate(s, until);
  sim_run_result res;
  for (;;) {
    /* The common turns written out: the front is the heap's root (or the
     * radix heap's front) or the first run's head, and earlier than the
     * gate; the source, the until limit, stop and an empty queue take the
     * general turn. */
    int r = s->run_min;
    entry top;
    if (__builtin_expect(!s->radix, 1)) {
      if (s->hole)
        fix_hole(s);
      const entry *rh = &s->run_head[r]; /* RUN_EMPTY if no run has entries */
      if (!s->n || less(rh, &s->heap[0])) {
        if (rh->t >= s->gate)
          goto general;
        top = run_take(s, r);
      } else {
        if (s->heap[0].t >= s->gate)
          goto general;
        s->hole = true;
        top = s->heap[0];
      }
    } else {
      sim_time t;
      unsigned k;
      bool have = radix_front(s, &t, &k);
      if (s->run_mask && (!have || run_before(s, r, t, k))) {
        if (s->run_head[r].t >= s->gate)
          goto general;
        top = run_take(s, r);
      } else {
        if (!have || t >= s->gate)
          goto general;
        top = radix_take(s, k, t);
        prefetch_next(s);
      }
    }
    run_top(s, top);
    continue;
  general:
    if (s->stop) {
      res = SIM_RUN_STOPPED;
      break;
    }
    if (!run_turn(s, until, &res))
      break;
    s->gate = run_gate(s, until);
  }
  s->stop = false;
  s->running = false;
  return res;
}
