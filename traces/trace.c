/* trace.c — the JSON Lines trace writer.
 *
 * Records are assembled in a GString (with the writer thread: in place,
 * after the finished records of its open chunk) and written whole after
 * trace_end(), so a reader never sees half a record unless the process died
 * mid-write (which the reader reports as a truncated line). Nesting is tracked with a small
 * stack of "a value was written at this level" flags to place commas.
 * Usage errors (a key outside a record, unbalanced ends) are bugs and abort.
 * Optionally the finished records are tapped and written by a second thread
 * (trace_writer_start_thread), in order, so the bytes never depend on it.
 */
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define TRACE_MAX_DEPTH 32

/* The writer thread (trace_writer_start_thread). Finished records are
 * copied back to back into a chunk; a full chunk goes to the thread through
 * a FIFO of at most NCHUNKS chunks, so the simulation runs at most that far
 * ahead and memory stays bounded. The thread taps each record, in order,
 * then writes the chunk with one fwrite. POSIX threads rather than GLib's:
 * GLib's mutexes are futexes inside an uninstrumented library, which
 * ThreadSanitizer cannot see. */
#define CHUNK_BYTES (64 * 1024)
#define NCHUNKS 16

typedef struct {
  GString *buf;  /* records, each with its newline */
  size_t *ends;  /* end offset of each record in buf */
  size_t nends, cap_ends;
} chunk;

typedef struct {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* a chunk was queued, or stop */
  pthread_cond_t free_cv; /* a chunk was done */
  chunk *queue[NCHUNKS];  /* submitted, not yet taken by the thread */
  size_t qhead, qlen;
  chunk *spare[NCHUNKS]; /* done, ready for the simulation to fill */
  size_t nspare;
  uint64_t submitted, done;
  bool stop;
  chunk *cur; /* being filled by the simulation thread */
  size_t cur_complete; /* octets of cur->buf that are whole records */
  chunk *active;       /* the chunk the thread is tapping or writing (its own) */
  bool active_writing; /* ...and it is past the tap, in the write */
  atomic_bool emergency; /* trace_writer_emergency_flush: no more taps */
  chunk all[NCHUNKS];
} async_state;

struct trace_writer {
  FILE *fp;          /* NULL for a memory writer */
  bool own_fp;
  GString *mem;      /* memory writer output */
  GString *rec;      /* records without the thread: the one being built */
  GString *out;      /* where the record is built: rec, or the thread's open
                      * chunk (the record follows the finished ones) */
  int depth;         /* 0 = outside a record */
  bool in_array[TRACE_MAX_DEPTH];
  bool has_value[TRACE_MAX_DEPTH];
  uint64_t records;
  uint64_t next_event_id;
  char id_text[24]; /* next_event_id in decimal, counted up in place */
  size_t id_len;
  int64_t t_hi;       /* the last record time's T / 10^8 (-1: none) ... */
  char t_hi_text[16]; /* ... in decimal (at most 11 digits), and its length */
  size_t t_hi_len;
  int write_errno;   /* first write error, sticky */
  bool discard;      /* a null writer: records go nowhere (but to the tap) */
  trace_tap_fn tap;  /* sees every finished record */
  void *tap_user;
  async_state *as;   /* non-NULL: records go through the writer thread */
  uint64_t tapped;   /* records tapped so far (on the thread that taps) */
  uint64_t fail_at;  /* trace_writer_test_fail_at: 0 = never */
  int fail_sig;
  bool fail_in_tap;
};

static void async_stop(trace_writer *tw);

static trace_writer *writer_new(void) {
  trace_writer *tw = g_new0(trace_writer, 1);
  tw->rec = g_string_sized_new(256);
  tw->out = tw->rec;
  tw->next_event_id = 1;
  tw->id_text[0] = '1';
  tw->id_len = 1;
  tw->t_hi = -1;
  return tw;
}

trace_writer *trace_writer_new_file(const char *path, GError **err) {
  FILE *fp;
  bool own = true;
  if (strcmp(path, "-") == 0) {
    fp = stdout;
    own = false;
  } else {
    fp = fopen(path, "w");
  }
  if (!fp) {
    int e = errno;
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot write trace: %s", path,
                g_strerror(e));
    return NULL;
  }
  trace_writer *tw = writer_new();
  tw->fp = fp;
  tw->own_fp = own;
  return tw;
}

trace_writer *trace_writer_new_memory(void) {
  trace_writer *tw = writer_new();
  tw->mem = g_string_sized_new(4096);
  return tw;
}

trace_writer *trace_writer_new_null(void) {
  trace_writer *tw = writer_new();
  tw->discard = true;
  return tw;
}

void trace_writer_set_tap(trace_writer *tw, trace_tap_fn fn, void *user) {
  g_assert(tw);
  trace_writer_sync(tw);
  tw->tap = fn;
  tw->tap_user = user;
}

const GString *trace_writer_peek_memory(const trace_writer *tw) {
  g_assert(tw && tw->mem);
  return tw->mem;
}

uint64_t trace_writer_records(const trace_writer *tw) { return tw ? tw->records : 0; }

bool trace_writer_close(trace_writer *tw, GError **err) {
  if (!tw)
    return true;
  g_assert(tw->depth == 0);
  async_stop(tw);
  if (tw->fp) {
    if (fflush(tw->fp) != 0 && !tw->write_errno)
      tw->write_errno = errno ? errno : EIO;
    if (tw->own_fp && fclose(tw->fp) != 0 && !tw->write_errno)
      tw->write_errno = errno ? errno : EIO;
    tw->fp = NULL;
  }
  if (tw->write_errno) {
    g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(tw->write_errno),
                "cannot write trace: %s", g_strerror(tw->write_errno));
    return false;
  }
  return true;
}

void trace_writer_free(trace_writer *tw) {
  if (!tw)
    return;
  trace_writer_close(tw, NULL);
  if (tw->mem)
    g_string_free(tw->mem, TRUE);
  g_string_free(tw->rec, TRUE);
  g_free(tw);
}

/* --- the writer thread ------------------------------------------------ */

/* Taps and writes the records of BUF (ENDS: where each ends). Runs on the
 * writer thread once it is started, else on the caller's. */
static void emit(trace_writer *tw, const GString *buf, const size_t *ends, size_t n) {
  if (tw->tap && !(tw->as && atomic_load(&tw->as->emergency))) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
      tw->tap(tw->tap_user, buf->str + start, ends[i] - start - 1); /* without the newline */
      start = ends[i];
      if (G_UNLIKELY(++tw->tapped == tw->fail_at) && tw->fail_in_tap)
        raise(tw->fail_sig);
    }
  }
  if (tw->as)
    tw->as->active_writing = true;
  if (tw->discard) {
    /* nothing to write */
  } else if (tw->mem) {
    g_string_append_len(tw->mem, buf->str, (gssize)buf->len);
  } else if (fwrite(buf->str, 1, buf->len, tw->fp) != buf->len && !tw->write_errno) {
    tw->write_errno = errno ? errno : EIO;
  }
}

static void *async_main(void *arg) {
  trace_writer *tw = arg;
  async_state *as = tw->as;
  pthread_mutex_lock(&as->mu);
  for (;;) {
    while (as->qlen == 0 && !as->stop)
      pthread_cond_wait(&as->work_cv, &as->mu);
    if (as->qlen == 0)
      break; /* stop, and everything before it done */
    chunk *c = as->queue[as->qhead];
    as->qhead = (as->qhead + 1) % NCHUNKS;
    as->qlen--;
    as->active = c;
    as->active_writing = false;
    pthread_mutex_unlock(&as->mu);
    emit(tw, c->buf, c->ends, c->nends);
    g_string_truncate(c->buf, 0);
    c->nends = 0;
    pthread_mutex_lock(&as->mu);
    as->active = NULL;
    as->spare[as->nspare++] = c;
    as->done++;
    pthread_cond_broadcast(&as->free_cv);
  }
  pthread_mutex_unlock(&as->mu);
  return NULL;
}

/* The signals a guard (trace_guard.h) may take at any moment: never
 * delivered to the writer thread, nor to the simulation thread while it
 * holds the lock, so trace_writer_emergency_flush can always take it. */
static void async_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

static void lock_masked(async_state *as, sigset_t *old) {
  sigset_t set;
  async_signals(&set);
  pthread_sigmask(SIG_BLOCK, &set, old);
  pthread_mutex_lock(&as->mu);
}

static void unlock_masked(async_state *as, const sigset_t *old) {
  pthread_mutex_unlock(&as->mu);
  pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Hands the current chunk to the thread and takes an empty one (waiting
 * for the thread if all are queued). A record being built (a sync inside
 * a record) moves to the new chunk. */
static void async_submit(trace_writer *tw) {
  async_state *as = tw->as;
  GString *buf = as->cur->buf;
  size_t open = buf->len - as->cur_complete;
  char *carry = open ? g_memdup2(buf->str + as->cur_complete, open) : NULL;
  g_string_truncate(buf, as->cur_complete);
  sigset_t old;
  lock_masked(as, &old);
  g_assert(as->qlen < NCHUNKS);
  as->queue[(as->qhead + as->qlen) % NCHUNKS] = as->cur;
  as->qlen++;
  as->submitted++;
  pthread_cond_signal(&as->work_cv);
  while (as->nspare == 0)
    pthread_cond_wait(&as->free_cv, &as->mu);
  as->cur = as->spare[--as->nspare];
  as->cur_complete = 0;
  unlock_masked(as, &old);
  tw->out = as->cur->buf;
  if (carry) {
    g_string_append_len(tw->out, carry, (gssize)open);
    g_free(carry);
  }
}

/* Frees AS's locks and chunks (its thread is not running). */
static void async_state_free(async_state *as) {
  pthread_mutex_destroy(&as->mu);
  pthread_cond_destroy(&as->work_cv);
  pthread_cond_destroy(&as->free_cv);
  for (size_t i = 0; i < NCHUNKS; i++) {
    g_string_free(as->all[i].buf, TRUE);
    g_free(as->all[i].ends);
  }
  g_free(as);
}

bool trace_writer_start_thread(trace_writer *tw) {
  g_assert(tw && tw->depth == 0);
  if (tw->as)
    return true;
  if (tw->mem)
    return false;
  async_state *as = g_new0(async_state, 1);
  for (size_t i = 0; i < NCHUNKS; i++) {
    as->all[i].buf = g_string_sized_new(CHUNK_BYTES + 1024);
    as->all[i].cap_ends = 512;
    as->all[i].ends = g_new(size_t, as->all[i].cap_ends);
    as->spare[as->nspare++] = &as->all[i];
  }
  as->cur = as->spare[--as->nspare];
  pthread_mutex_init(&as->mu, NULL);
  pthread_cond_init(&as->work_cv, NULL);
  pthread_cond_init(&as->free_cv, NULL);
  tw->as = as;
  /* The thread starts with the guard's asynchronous signals blocked. */
  sigset_t set, old;
  async_signals(&set);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  int e = pthread_create(&as->th, NULL, async_main, tw);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e != 0) {
    tw->as = NULL; /* no thread: stay synchronous */
    async_state_free(as);
    return false;
  }
  return true;
}

void trace_writer_sync(trace_writer *tw) {
  if (!tw || !tw->as)
    return;
  async_state *as = tw->as;
  if (as->cur->nends)
    async_submit(tw);
  sigset_t old;
  lock_masked(as, &old);
  while (as->done != as->submitted)
    pthread_cond_wait(&as->free_cv, &as->mu);
  unlock_masked(as, &old);
}

/* --- abnormal exits ------------------------------------------------------ */

static void write_raw(trace_writer *tw, const char *p, size_t n) {
  if (n && fwrite(p, 1, n, tw->fp) != n && !tw->write_errno)
    tw->write_errno = errno ? errno : EIO;
}

/* A deadline SECS from now for the timed waits below (wall clock: only
 * here, on the way out of a dying process, never in the trace). */
static struct timespec deadline_in(int secs) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += secs;
  return ts;
}

void trace_writer_emergency_flush(trace_writer *tw) {
  if (!tw || !tw->fp)
    return;
  async_state *as = tw->as;
  if (as) {
    atomic_store(&as->emergency, true); /* the thread skips the tap from now on */
    struct timespec until = deadline_in(5);
    if (pthread_equal(pthread_self(), as->th)) {
      /* The writer thread is dying (its tap failed): its chunk, then the
       * queued ones, in order. The simulation's open chunk is its own. */
      if (as->active && !as->active_writing)
        write_raw(tw, as->active->buf->str, as->active->buf->len);
      as->active = NULL;
      if (pthread_mutex_timedlock(&as->mu, &until) == 0) {
        for (; as->qlen; as->qlen--, as->qhead = (as->qhead + 1) % NCHUNKS)
          write_raw(tw, as->queue[as->qhead]->buf->str, as->queue[as->qhead]->buf->len);
        pthread_mutex_unlock(&as->mu);
      }
    } else {
      /* The thread writes what it has (untapped), then this thread the
       * whole records of its open chunk; nothing if the thread is stuck,
       * so the file never has a gap. */
      bool drained = false;
      if (pthread_mutex_timedlock(&as->mu, &until) == 0) {
        while (as->done != as->submitted &&
               pthread_cond_timedwait(&as->free_cv, &as->mu, &until) == 0) {
        }
        drained = as->done == as->submitted;
        pthread_mutex_unlock(&as->mu);
      }
      if (drained) {
        write_raw(tw, as->cur->buf->str, as->cur_complete);
        g_string_erase(as->cur->buf, 0, (gssize)as->cur_complete);
        as->cur->nends = 0;
        as->cur_complete = 0;
      }
    }
  }
  if (fflush(tw->fp) != 0 && !tw->write_errno)
    tw->write_errno = errno ? errno : EIO;
}

void trace_writer_test_fail_at(trace_writer *tw, uint64_t n, int sig, bool in_tap) {
  g_assert(tw);
  tw->fail_at = n;
  tw->fail_sig = sig;
  tw->fail_in_tap = in_tap;
}

/* Syncs, ends the thread and returns to writing on the caller's thread. */
static void async_stop(trace_writer *tw) {
  async_state *as = tw->as;
  if (!as)
    return;
  trace_writer_sync(tw);
  pthread_mutex_lock(&as->mu);
  as->stop = true;
  pthread_cond_signal(&as->work_cv);
  pthread_mutex_unlock(&as->mu);
  pthread_join(as->th, NULL);
  tw->as = NULL;
  async_state_free(as);
}

/* --- escaping --------------------------------------------------------- */

/* Writing goes straight into the GString's buffer: room() makes space for
 * everything a step may write (one check, no call when it fits), the step
 * stores its octets and done() sets the length. Most records are a few
 * short plain strings and integers, so each key and value costs a few
 * stores and no library call. */

/* Makes room for N more octets (and the NUL) at the end of OUT. */
static G_GNUC_NO_INLINE void grow(GString *out, size_t n) {
  size_t len = out->len;
  g_string_set_size(out, len + n);
  out->len = len;
  out->str[len] = 0;
}

/* Where N more octets of OUT go (written by the caller, then done()). */
static inline char *room(GString *out, size_t n) {
  if (G_UNLIKELY(out->len + n >= out->allocated_len))
    grow(out, n);
  return out->str + out->len;
}

/* OUT's text now ends at END (inside the room made). */
static inline void done(GString *out, char *end) {
  out->len = (size_t)(end - out->str);
  *end = 0;
}

/* Octets that are written as themselves in both kinds of string: printable
 * ASCII except '"' and '\\'. Runs of them are copied in one go (the
 * common case: names, addresses, protocol lines). */
static const uint8_t plain_octet[256] = {
#define P16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    P16(0), P16(0), /* 0x00-0x1f: control */
    1,      1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f: '"' */
    P16(1), P16(1),                                    /* 0x30-0x4f */
    1,      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50-0x5f: '\\' */
    P16(1),                                            /* 0x60-0x6f */
    1,      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70-0x7f: DEL */
    P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0),
#undef P16
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Nonzero when one of the eight octets of W is not plain: from 0x80 (its
 * high bit), DEL, below 0x20, '"' or '\\'. Each test runs on the low
 * seven bits of every octet (X), where adding at most 0x7f never carries
 * into the next octet, and leaves its answer in the octet's high bit:
 * X + 0x01 reaches it when X = 0x7f; X + 0x60 when X >= 0x20; Y + 0x7f
 * when Y = X ^ C is not zero, i.e. X is not C. */
static inline uint64_t word_unplain(uint64_t w) {
  uint64_t x = w & (ONES * 0x7f);
  uint64_t ok = (x + ONES * 0x60) & ((x ^ (ONES * '"')) + ONES * 0x7f) &
                ((x ^ (ONES * '\\')) + ONES * 0x7f);
  return (w | (x + ONES) | ~ok) & HIGHS;
}

/* Strings up to this long (most names, addresses, ids and every key) are
 * checked whole at once: short_plain. */
#define SHORT_MAX 32

#if defined(__SSE2__)
/* Nonzero when one of the sixteen octets of V is not plain: below 0x20
 * or from 0x80 (both not above 0x1f as signed octets), '"', '\\' or DEL. */
static G_ALWAYS_INLINE inline unsigned unplain16(__m128i v) {
  __m128i bad = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
      _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  __m128i ok = _mm_andnot_si128(bad, _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)));
  return (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
}
#endif

/* True when all N octets at S (N <= SHORT_MAX) are plain, and then they
 * are copied to D (room for N); false (D's content undefined) when one is
 * not. The whole string in one or two overlapping reads of each size: no
 * loop, a few instructions for the usual 2..32-octet key or value. */
static G_ALWAYS_INLINE inline bool short_plain(char *d, const unsigned char *s, size_t n) {
#if defined(__SSE2__)
  if (n >= 16) { /* two overlapping blocks of sixteen */
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
    if (unplain16(a) | unplain16(b))
      return false;
    _mm_storeu_si128((__m128i *)(void *)d, a);
    _mm_storeu_si128((__m128i *)(void *)(d + n - 16), b);
    return true;
  }
  if (n >= 8) { /* two overlapping words, checked as one block */
    __m128i a = _mm_loadl_epi64((const __m128i *)(const void *)s);
    __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8));
    if (unplain16(_mm_unpacklo_epi64(a, b)))
      return false;
    _mm_storel_epi64((__m128i *)(void *)d, a);
    _mm_storel_epi64((__m128i *)(void *)(d + n - 8), b);
    return true;
  }
#else
  if (n >= 8) { /* overlapping words: the last one ends at N */
    uint64_t w, bad = 0;
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&w, s + i, 8);
      bad |= word_unplain(w);
    }
    memcpy(&w, s + n - 8, 8);
    if (bad | word_unplain(w))
      return false;
    memcpy(d, s, n);
    return true;
  }
#endif
  if (n >= 4) { /* two overlapping halves */
    uint32_t lo, hi;
    memcpy(&lo, s, 4);
    memcpy(&hi, s + n - 4, 4);
    if (word_unplain((uint64_t)lo | (uint64_t)hi << 32))
      return false;
    memcpy(d, &lo, 4);
    memcpy(d + n - 4, &hi, 4);
    return true;
  }
  if (n == 0)
    return true;
  /* 1..3 octets: the first, the middle and the last cover them all */
  unsigned char a = s[0], b = s[n >> 1], c = s[n - 1];
  if (!(plain_octet[a] & plain_octet[b] & plain_octet[c]))
    return false;
  d[0] = (char)a;
  d[n >> 1] = (char)b;
  d[n - 1] = (char)c;
  return true;
}

/* Copies the run of plain octets at S (at most N) to D; returns its
 * length. D has room for N octets. */
static G_ALWAYS_INLINE inline size_t copy_plain(char *d, const unsigned char *s, size_t n) {
  size_t i = 0;
  if (n <= SHORT_MAX) {
    if (G_LIKELY(short_plain(d, s, n)))
      return n;
    for (; plain_octet[s[i]]; i++) /* ends before N: an octet is not plain */
      d[i] = (char)s[i];
    return i;
  }
  uint64_t w;
#if defined(__SSE2__)
  /* Sixteen octets a step where SSE2 is (every x86-64). A run that stops
   * inside goes on below. */
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    if (unplain16(v))
      break;
    _mm_storeu_si128((__m128i *)(void *)(d + i), v);
  }
  if (i == n)
    return n;
  if (i + 16 > n) { /* the last sixteen octets, overlapping those checked */
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
    if (!unplain16(v)) {
      _mm_storeu_si128((__m128i *)(void *)(d + n - 16), v);
      return n;
    }
  }
#endif
  /* from i: every octet before it was found plain */
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, s + i, 8);
    if (word_unplain(w))
      break;
    memcpy(d + i, &w, 8);
  }
  if (i == n)
    return n;
  if (i + 8 > n) { /* the last eight octets, overlapping those checked */
    memcpy(&w, s + n - 8, 8);
    if (!word_unplain(w)) {
      memcpy(d + n - 8, &w, 8);
      return n;
    }
  }
  for (; i < n && plain_octet[s[i]]; i++)
    d[i] = (char)s[i];
  return i;
}

/* Appends the N octets at S to OUT. */
static inline void put(GString *out, const void *s, size_t n) {
  char *d = room(out, n);
  memcpy(d, s, n);
  done(out, d + n);
}

static void put_u00(GString *out, unsigned c) {
  static const char hex[] = "0123456789abcdef";
  char b[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 15], hex[c & 15]};
  put(out, b, 6);
}

static bool short_escape(GString *out, unsigned char c) {
  switch (c) {
  case '"': put(out, "\\\"", 2); return true;
  case '\\': put(out, "\\\\", 2); return true;
  case '\n': put(out, "\\n", 2); return true;
  case '\r': put(out, "\\r", 2); return true;
  case '\t': put(out, "\\t", 2); return true;
  default: return false;
  }
}

/* Appends the plain run at S (at most N octets) to OUT; returns its
 * length. */
static size_t put_plain(GString *out, const unsigned char *s, size_t n) {
  char *d = room(out, n);
  size_t r = copy_plain(d, s, n);
  done(out, d + r);
  return r;
}

/* The rest of a bytes string from its first octet that is not plain,
 * with the closing quote. */
static G_GNUC_NO_INLINE void escape_bytes_rest(GString *out, const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t r = put_plain(out, s + i, n - i);
    if (r) {
      i += r;
      continue;
    }
    unsigned char c = s[i++];
    if (!short_escape(out, c))
      put_u00(out, c);
  }
  put(out, "\"", 1);
}

/* The same for text: UTF-8 is kept, invalid sequences become U+FFFD. */
static G_GNUC_NO_INLINE void escape_text_rest(GString *out, const char *s, size_t n) {
  const char *end = s + n;
  while (s < end) {
    size_t r = put_plain(out, (const unsigned char *)s, (size_t)(end - s));
    if (r) {
      s += r;
      continue;
    }
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
      if (!short_escape(out, c)) /* the other controls and DEL */
        put_u00(out, c);
      s++;
      continue;
    }
    gunichar u = g_utf8_get_char_validated(s, end - s);
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      put(out, "\\ufffd", 6);
      s++;
      continue;
    }
    const char *next = g_utf8_next_char(s);
    put(out, s, (size_t)(next - s));
    s = next;
  }
  put(out, "\"", 1);
}

/* Writes the JSON string of N octets at S at P (room for N + 2 made in
 * OUT): the whole string when it is plain, else up to the first octet
 * that is not and the rest by the slow path of its kind. */
static G_ALWAYS_INLINE inline void string_at(GString *out, char *p, const char *s, size_t n, bool bytes) {
  *p++ = '"';
  size_t r = copy_plain(p, (const unsigned char *)s, n);
  p += r;
  if (G_LIKELY(r == n)) {
    *p++ = '"';
    done(out, p);
    return;
  }
  done(out, p);
  if (bytes)
    escape_bytes_rest(out, (const unsigned char *)s + r, n - r);
  else
    escape_text_rest(out, s + r, n - r);
}

void trace_escape_bytes(GString *out, const void *p, size_t n) {
  string_at(out, room(out, n + 2), p, n, true);
}

void trace_escape_text(GString *out, const char *s, size_t n) {
  string_at(out, room(out, n + 2), s, n, false);
}

/* --- integers --------------------------------------------------------- */

#define U64_DIGITS 20

/* Number of decimal digits of V. */
static inline size_t u64_len(uint64_t v) {
  static const uint64_t pow10[U64_DIGITS] = {
      UINT64_C(1),
      UINT64_C(10),
      UINT64_C(100),
      UINT64_C(1000),
      UINT64_C(10000),
      UINT64_C(100000),
      UINT64_C(1000000),
      UINT64_C(10000000),
      UINT64_C(100000000),
      UINT64_C(1000000000),
      UINT64_C(10000000000),
      UINT64_C(100000000000),
      UINT64_C(1000000000000),
      UINT64_C(10000000000000),
      UINT64_C(100000000000000),
      UINT64_C(1000000000000000),
      UINT64_C(10000000000000000),
      UINT64_C(100000000000000000),
      UINT64_C(1000000000000000000),
      UINT64_C(10000000000000000000),
  };
#if defined(__GNUC__) || defined(__clang__)
  /* t = floor(bits * log10(2)) for the bit length of V (bits * 1233 /
   * 4096 gives it for 1..64 bits): V < 2^bits has t + 1 digits, or t
   * when V < 10^t (Bit Twiddling Hacks, "integer log base 10"). 0 counts
   * as 1: one digit. */
  uint64_t x = v | 1;
  size_t bits = 64 - (size_t)__builtin_clzll(x);
  size_t t = (bits * 1233) >> 12;
  return t + 1 - (x < pow10[t]);
#else
  size_t n = 1;
  while (n < U64_DIGITS && v >= pow10[n])
    n++;
  return n;
#endif
}

/* "00" to "99". */
static const char pairs[201] = "00010203040506070809"
                               "10111213141516171819"
                               "20212223242526272829"
                               "30313233343536373839"
                               "40414243444546474849"
                               "50515253545556575859"
                               "60616263646566676869"
                               "70717273747576777879"
                               "80818283848586878889"
                               "90919293949596979899";

/* Writes the decimal form of V (what "%" PRIu64 writes) at P; returns its
 * end. Two digits a step, from the end. */
static inline char *u64_at(char *p, uint64_t v) {
  char *e = p + u64_len(v), *q = e;
  while (v > UINT32_MAX) { /* eight digits at a time in 32-bit steps */
    uint64_t hi = v / 100000000;
    uint32_t lo = (uint32_t)(v - hi * 100000000);
    for (int k = 0; k < 4; k++) {
      q -= 2;
      memcpy(q, pairs + 2 * (lo % 100), 2);
      lo /= 100;
    }
    v = hi;
  }
  uint32_t w = (uint32_t)v;
  while (w >= 100) {
    q -= 2;
    memcpy(q, pairs + 2 * (w % 100), 2);
    w /= 100;
  }
  if (w >= 10) {
    q -= 2;
    memcpy(q, pairs + 2 * w, 2);
  } else {
    *--q = (char)('0' + w);
  }
  return e;
}

/* The same for a signed V. */
static inline char *i64_at(char *p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return u64_at(p, (uint64_t)0 - (uint64_t)v); /* INT64_MIN too */
  }
  return u64_at(p, (uint64_t)v);
}

/* --- records ---------------------------------------------------------- */

/* Keys up to this long are copied while checked; longer ones (none in the
 * project) and keys that need escaping take the general path. */
#define KEY_FAST 32
G_STATIC_ASSERT(KEY_FAST <= SHORT_MAX); /* keys are checked by short_plain */

/* key_head_n's start: the comma the level needs, with room
 * for the key and EXTRA; returns where the key goes, or, in an array (KEY
 * NULL), where the value goes with *IN_ARRAY set. */
static G_ALWAYS_INLINE inline char *key_comma(trace_writer *tw, const char *key, size_t extra,
                                              bool *in_array) {
  g_assert(tw->depth > 0);
  int d = tw->depth - 1;
  char *p = room(tw->out, KEY_FAST + 4 + extra);
  if (tw->has_value[d])
    *p++ = ',';
  tw->has_value[d] = true;
  *in_array = tw->in_array[d];
  g_assert(*in_array ? key == NULL : key != NULL);
  return p;
}

/* The general path of a key that needs escaping or is longer than
 * KEY_FAST (KN octets), written from P, where its opening quote goes (the
 * escaper writes the quotes); returns where EXTRA octets go. */
static char *key_slow(GString *rec, char *p, const char *key, size_t kn, size_t extra) {
  done(rec, p);
  trace_escape_text(rec, key, kn);
  put(rec, ":", 1);
  return room(rec, extra);
}

/* Writes the comma the level needs and the key of KN octets (its strlen;
 * none in an array), checked and copied a word at a time, with room for
 * EXTRA more octets after it; returns where they go (the caller writes its
 * value there and calls done()). */
static G_ALWAYS_INLINE inline char *key_head_n(trace_writer *tw, const char *key, size_t kn,
                                               size_t extra) {
  bool in_array;
  char *p = key_comma(tw, key, extra, &in_array);
  if (in_array)
    return p;
  char *q = p;
  *p++ = '"';
  if (G_LIKELY(kn <= KEY_FAST && short_plain(p, (const unsigned char *)key, kn))) {
    p += kn;
    *p++ = '"';
    *p++ = ':';
    return p;
  }
  return key_slow(tw->out, q, key, kn, extra);
}

static void open_level(trace_writer *tw, bool array) {
  g_assert(tw->depth < TRACE_MAX_DEPTH);
  tw->in_array[tw->depth] = array;
  tw->has_value[tw->depth] = false;
  tw->depth++;
}

/* Where a new record is built: after the finished ones in the thread's
 * open chunk (no copy when it ends), else at the start of REC. */
static inline GString *record_out(trace_writer *tw) {
  if (tw->as) {
    tw->out = tw->as->cur->buf;
  } else {
    tw->out = tw->rec;
    tw->rec->len = 0;
  }
  return tw->out;
}

void trace_begin(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth == 0);
  GString *rec = record_out(tw);
  char *p = room(rec, 1);
  *p++ = '{';
  done(rec, p);
  open_level(tw, false);
}

/* Counts the event id's text up by one, in place (as u64_at would write
 * next_event_id). */
static inline void id_next(trace_writer *tw) {
  char *d = tw->id_text;
  size_t i = tw->id_len;
  while (i > 0 && d[i - 1] == '9')
    d[--i] = '0';
  if (i > 0) {
    d[i - 1]++;
  } else { /* 99..9 -> 100..0 */
    g_assert(tw->id_len < U64_DIGITS);
    d[tw->id_len++] = '0';
    d[0] = '1';
  }
}

/* Writes the time T (what i64_at writes) at P; returns its end. Records
 * come in time order, so a time's digits above the last eight are mostly
 * those of the record before: kept, and only the low eight written. */
static inline char *time_at(trace_writer *tw, char *p, int64_t t) {
  if (t < 100000000)
    return i64_at(p, t);
  int64_t hi = t / 100000000;
  uint32_t lo = (uint32_t)(t - hi * 100000000);
  if (G_UNLIKELY(hi != tw->t_hi)) {
    tw->t_hi = hi;
    tw->t_hi_len = (size_t)(u64_at(tw->t_hi_text, (uint64_t)hi) - tw->t_hi_text);
  }
  memcpy(p, tw->t_hi_text, 16); /* room made for 20 digits */
  p += tw->t_hi_len;
  for (int k = 3; k >= 0; k--) {
    memcpy(p + 2 * k, pairs + 2 * (lo % 100), 2);
    lo /= 100;
  }
  return p + 8;
}

/* The record head in one step: {"t":T,"id":ID,"ev":"EV" (EVN octets) */
static inline uint64_t event_head(trace_writer *tw, int64_t t, const char *ev, size_t evn) {
  g_assert(tw->depth == 0);
  uint64_t id = tw->next_event_id++;
  GString *rec = record_out(tw);
  char *p = room(rec, 20 + 2 * U64_DIGITS + evn + 8);
  memcpy(p, "{\"t\":", 5);
  p = time_at(tw, p + 5, t);
  memcpy(p, ",\"id\":", 6);
  memcpy(p + 6, tw->id_text, U64_DIGITS); /* room made for them */
  p += 6 + tw->id_len;
  id_next(tw);
  memcpy(p, ",\"ev\":", 6);
  string_at(rec, p + 6, ev, evn, false);
  open_level(tw, false);
  tw->has_value[0] = true;
  return id;
}

uint64_t trace__event_begink(trace_writer *tw, int64_t t, const char *ev, size_t evn) {
  if (!tw)
    return 0;
  return event_head(tw, t, ev, evn);
}

uint64_t trace__event_begin_nodek(trace_writer *tw, int64_t t, const char *ev, size_t evn,
                                  const char *node) {
  if (!tw)
    return 0;
  uint64_t id = event_head(tw, t, ev, evn);
  if (!node) {
    trace_key_null(tw, "node");
    return id;
  }
  size_t n = strlen(node);
  char *p = room(tw->out, 8 + n + 2);
  memcpy(p, ",\"node\":", 8);
  string_at(tw->out, p + 8, node, n, false);
  return id;
}

void trace_end(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth == 1 && !tw->in_array[0]);
  tw->depth = 0;
  put(tw->out, "}\n", 2);
  tw->records++;
  async_state *as = tw->as;
  if (!as) {
    size_t end = tw->rec->len;
    emit(tw, tw->rec, &end, 1);
    if (G_UNLIKELY(tw->records == tw->fail_at) && !tw->fail_in_tap)
      raise(tw->fail_sig);
    return;
  }
  chunk *c = as->cur;
  g_assert(tw->out == c->buf); /* built in place */
  size_t end = c->buf->len;
  if (G_UNLIKELY(c->nends == c->cap_ends)) {
    c->cap_ends *= 2;
    c->ends = g_renew(size_t, c->ends, c->cap_ends);
  }
  c->ends[c->nends++] = end;
  as->cur_complete = end;
  if (G_UNLIKELY(tw->records == tw->fail_at) && !tw->fail_in_tap)
    raise(tw->fail_sig);
  if (c->buf->len >= CHUNK_BYTES)
    async_submit(tw);
}

void trace__key_intk(trace_writer *tw, const char *key, size_t kn, int64_t v) {
  if (!tw)
    return;
  char *p = key_head_n(tw, key, kn, 1 + U64_DIGITS);
  done(tw->out, i64_at(p, v));
}

void trace__key_uintk(trace_writer *tw, const char *key, size_t kn, uint64_t v) {
  if (!tw)
    return;
  char *p = key_head_n(tw, key, kn, U64_DIGITS);
  done(tw->out, u64_at(p, v));
}

/* A literal value (true, false, null, an opening bracket) of N octets,
 * at most 8 (LIT is read as 8 octets). */
static G_ALWAYS_INLINE inline void key_lit(trace_writer *tw, const char *key, size_t kn,
                                           const char lit[8], size_t n) {
  char *p = key_head_n(tw, key, kn, 8);
  memcpy(p, lit, 8); /* room made for 8: the octets past N are overwritten or cut */
  done(tw->out, p + n);
}

void trace__key_boolk(trace_writer *tw, const char *key, size_t kn, bool v) {
  if (!tw)
    return;
  if (v)
    key_lit(tw, key, kn, "true\0\0\0", 4);
  else
    key_lit(tw, key, kn, "false\0\0", 5);
}

void trace__key_nullk(trace_writer *tw, const char *key, size_t kn) {
  if (!tw)
    return;
  key_lit(tw, key, kn, "null\0\0\0", 4);
}

void trace__key_strnk(trace_writer *tw, const char *key, size_t kn, const char *utf8, size_t n) {
  if (!tw)
    return;
  char *p = key_head_n(tw, key, kn, n + 2);
  string_at(tw->out, p, utf8, n, false);
}

void trace__key_strk(trace_writer *tw, const char *key, size_t kn, const char *utf8) {
  if (!tw)
    return;
  if (!utf8) {
    trace__key_nullk(tw, key, kn);
    return;
  }
  size_t n = strlen(utf8);
  char *p = key_head_n(tw, key, kn, n + 2);
  string_at(tw->out, p, utf8, n, false);
}

void trace__key_bytesk(trace_writer *tw, const char *key, size_t kn, const void *p, size_t n) {
  if (!tw)
    return;
  char *d = key_head_n(tw, key, kn, n + 2);
  string_at(tw->out, d, p, n, true);
}

void trace_key_printf(trace_writer *tw, const char *key, const char *fmt, ...) {
  if (!tw)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  trace_key_str(tw, key, s);
  g_free(s);
}

void trace__obj_begink(trace_writer *tw, const char *key, size_t kn) {
  if (!tw)
    return;
  key_lit(tw, key, kn, "{\0\0\0\0\0\0", 1);
  open_level(tw, false);
}

void trace_obj_end(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth > 1 && !tw->in_array[tw->depth - 1]);
  tw->depth--;
  put(tw->out, "}", 1);
}

void trace__arr_begink(trace_writer *tw, const char *key, size_t kn) {
  if (!tw)
    return;
  key_lit(tw, key, kn, "[\0\0\0\0\0\0", 1);
  open_level(tw, true);
}

void trace_arr_end(trace_writer *tw) {
  if (!tw)
    return;
  g_assert(tw->depth > 1 && tw->in_array[tw->depth - 1]);
  tw->depth--;
  put(tw->out, "]", 1);
}
