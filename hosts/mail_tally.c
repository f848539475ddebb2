/* mail_tally.c — counters and delivery delays of a run (see mail_tally.h).
 * Percentiles use the nearest-rank method on the sorted samples, in integer
 * arithmetic: the p-th percentile of n samples is the ceil(p*n/100)-th. */
#include "mail_tally.h"

#include <glib.h>
#include <stddef.h>
#include <string.h>

/* One record per message, its Message-ID inside (issue #6: memory per
 * queued message), and one per (message, mailbox) stored. Records live as
 * long as the tally, so they are carved from blocks (no malloc header and
 * rounding each) and named by a 32-bit reference (block, 8-octet slot);
 * the lookup tables are open-addressing arrays of those references (4
 * octets a slot, no hash array, no key and value pointers: a GHashTable
 * set costs 12 octets a slot). */
typedef struct {
  /* bit 63: deferred; bits 0..62: the submission time + 1, 0 not
   * submitted (yet). One word: the Message-ID follows it at offset 8 (a
   * bool of its own put it at 9: 8 octets more for a 32-octet id). */
  uint64_t word;
  char msg[];
} msg_info;

#define DEFERRED_BIT (UINT64_C(1) << 63)

static sim_time submitted_of(const msg_info *mi) {
  return (sim_time)(mi->word & ~DEFERRED_BIT) - 1;
}

#define BLOCK (8 * 1024)
#define SLOT_BITS 10 /* BLOCK / 8 slots a block */
/* A reference: block << SLOT_BITS | slot; the table holds it + 1 (0 free).
 * 2^22 - 1 blocks of 8 KiB: 32 GiB of records before it runs out. */
#define MAX_BLOCKS ((UINT32_C(1) << (32 - SLOT_BITS)) - 1) /* + 1 fits */

struct mail_tally {
  GPtrArray *blocks; /* owned: the msg_info records */
  uint32_t open;     /* the block records are carved from */
  char *free_p;      /* its free part */
  size_t free_left;
  uint32_t *slots; /* reference + 1, 0 free; cap a power of two */
  uint32_t cap, n;
  /* The (message, mailbox) pairs stored (mail_tally_duplicate): stored_ent
   * reference + 1, 0 free; made at the first storage (a world that only
   * queues pays nothing). */
  uint32_t *sslots;
  uint32_t scap, sn;
  GArray *delays;   /* sim_time */
  bool sorted;
  mail_tally_stats st;
};

mail_tally *mail_tally_new(void) {
  mail_tally *t = g_new0(mail_tally, 1);
  t->blocks = g_ptr_array_new_with_free_func(g_free);
  t->cap = 64;
  t->slots = g_new0(uint32_t, t->cap);
  t->delays = g_array_new(FALSE, FALSE, sizeof(sim_time));
  return t;
}

void mail_tally_free(mail_tally *t) {
  if (!t)
    return;
  g_free(t->sslots);
  g_free(t->slots);
  g_ptr_array_unref(t->blocks);
  g_array_unref(t->delays);
  g_free(t);
}

/* A message stored in a mailbox: its record's reference and the mailbox
 * as first given (compared without regard to ASCII case). */
typedef struct {
  uint32_t msg;
  char mailbox[];
} stored_ent;

static void *at_ref(const mail_tally *t, uint32_t ref) {
  char *b = t->blocks->pdata[ref >> SLOT_BITS];
  return b + (size_t)(ref & ((1u << SLOT_BITS) - 1)) * 8;
}

static msg_info *at(const mail_tally *t, uint32_t ref) { return at_ref(t, ref); }

/* A hash of S, eight octets at a time (the words' byte order makes it the
 * machine's own: it only places entries; the index is the low bits). */
static uint32_t hash_str(const char *s) {
  size_t n = strlen(s);
  uint64_t h = n * 0x9E3779B97F4A7C15u;
  for (; n >= 8; s += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  memcpy(&w, s, n);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdu;
  return (uint32_t)(h ^ (h >> 32));
}

/* MSG's slot in the table (H its hash): the one holding it, or the free
 * one where it would go (MSG NULL: the first free one, to place a
 * reference again). Linear probing; the table is at most 3/4 full. */
static uint32_t *slot_of(const mail_tally *t, const char *msg, uint32_t h) {
  uint32_t mask = t->cap - 1;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t *s = &t->slots[i];
    if (!*s || (msg && strcmp(at(t, *s - 1)->msg, msg) == 0))
      return s;
  }
}

static msg_info *find(const mail_tally *t, const char *msg) {
  const uint32_t *s = slot_of(t, msg, hash_str(msg));
  return *s ? at(t, *s - 1) : NULL;
}

/* N octets (a multiple of 8) from the blocks, and their reference. */
static void *carve(mail_tally *t, size_t n, uint32_t *ref) {
  bool big = n > BLOCK / 4; /* a block of its own */
  if (big || n > t->free_left) {
    if (t->blocks->len >= MAX_BLOCKS)
      g_error("mail_tally: %u blocks of records", t->blocks->len); /* out of memory */
    char *blk = g_malloc(big ? n : BLOCK);
    g_ptr_array_add(t->blocks, blk);
    if (big) {
      *ref = (t->blocks->len - 1) << SLOT_BITS;
      return blk;
    }
    t->open = t->blocks->len - 1;
    t->free_p = blk;
    t->free_left = BLOCK;
  }
  const char *open = t->blocks->pdata[t->open];
  *ref = t->open << SLOT_BITS | (uint32_t)((size_t)(t->free_p - open) / 8);
  void *r = t->free_p;
  t->free_p += n;
  t->free_left -= n;
  return r;
}

/* Twice the slots, every reference placed again. */
static void grow(mail_tally *t) {
  uint32_t *old = t->slots, ocap = t->cap;
  if (t->cap > UINT32_MAX / 2)
    g_error("mail_tally: %u messages", t->n); /* out of memory first */
  t->cap *= 2;
  t->slots = g_new0(uint32_t, t->cap);
  for (uint32_t i = 0; i < ocap; i++)
    if (old[i])
      *slot_of(t, NULL, hash_str(at(t, old[i] - 1)->msg)) = old[i];
  g_free(old);
}

/* MSG's record, made if new; its reference in *REF. */
static msg_info *info_ref(mail_tally *t, const char *msg, uint32_t *ref) {
  uint32_t h = hash_str(msg);
  uint32_t *s = slot_of(t, msg, h);
  if (*s) {
    *ref = *s - 1;
    return at(t, *ref);
  }
  size_t n = strlen(msg) + 1;
  /* not sizeof: its tail padding */
  msg_info *mi = carve(t, (offsetof(msg_info, msg) + n + 7) & ~(size_t)7, ref);
  mi->word = 0;
  memcpy(mi->msg, msg, n);
  if (4 * (uint64_t)(t->n + 1) > 3 * (uint64_t)t->cap) {
    grow(t);
    s = slot_of(t, msg, h);
  }
  *s = *ref + 1;
  t->n++;
  return mi;
}

static msg_info *info(mail_tally *t, const char *msg) {
  uint32_t ref;
  return info_ref(t, msg, &ref);
}

/* The hash of (message reference MSG, MAILBOX in ASCII lower case). */
static uint32_t stored_hash(uint32_t msg, const char *mailbox) {
  uint64_t h = msg * 0x9E3779B97F4A7C15u;
  for (; *mailbox; mailbox++)
    h = (h ^ (unsigned char)g_ascii_tolower(*mailbox)) * 0x100000001b3u;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdu;
  return (uint32_t)(h ^ (h >> 32));
}

/* The slot of (MSG, MAILBOX) (H its hash): the one holding it, or the free
 * one where it would go (MAILBOX NULL: the first free one). */
static uint32_t *stored_slot(const mail_tally *t, uint32_t msg, const char *mailbox, uint32_t h) {
  uint32_t mask = t->scap - 1;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t *s = &t->sslots[i];
    if (!*s)
      return s;
    const stored_ent *e = at_ref(t, *s - 1);
    if (mailbox && e->msg == msg && g_ascii_strcasecmp(e->mailbox, mailbox) == 0)
      return s;
  }
}

/* Room for one more pair: the table made, or doubled when 3/4 full. */
static void stored_room(mail_tally *t) {
  if (!t->scap) {
    t->scap = 64;
    t->sslots = g_new0(uint32_t, t->scap);
    return;
  }
  if (4 * (uint64_t)(t->sn + 1) <= 3 * (uint64_t)t->scap)
    return;
  if (t->scap > UINT32_MAX / 2)
    g_error("mail_tally: %u storages", t->sn); /* out of memory first */
  uint32_t *old = t->sslots, ocap = t->scap;
  t->scap *= 2;
  t->sslots = g_new0(uint32_t, t->scap);
  for (uint32_t i = 0; i < ocap; i++)
    if (old[i]) {
      const stored_ent *e = at_ref(t, old[i] - 1);
      *stored_slot(t, e->msg, NULL, stored_hash(e->msg, e->mailbox)) = old[i];
    }
  g_free(old);
}

void mail_tally_submit(mail_tally *t, const char *msg, size_t nrcpts, sim_time now) {
  msg_info *mi = info(t, msg);
  if (submitted_of(mi) < 0) {
    g_assert(now >= 0 && (uint64_t)now < DEFERRED_BIT - 1);
    mi->word |= (uint64_t)now + 1;
    t->st.submitted++;
  }
  t->st.submitted_rcpts += nrcpts;
}

void mail_tally_defer(mail_tally *t, const char *msg, bool client) {
  if (client) {
    t->st.client_retries++;
    return;
  }
  t->st.retries++;
  msg_info *mi = info(t, msg);
  if (!(mi->word & DEFERRED_BIT)) {
    mi->word |= DEFERRED_BIT;
    t->st.deferred++;
  }
}

void mail_tally_bounce(mail_tally *t, const char *msg) {
  (void)msg;
  t->st.bounced++;
}

bool mail_tally_duplicate(mail_tally *t, const char *msg, const char *mailbox) {
  uint32_t ref;
  info_ref(t, msg, &ref);
  stored_room(t);
  uint32_t h = stored_hash(ref, mailbox);
  uint32_t *s = stored_slot(t, ref, mailbox, h);
  if (*s) {
    t->st.duplicates++;
    return true;
  }
  size_t n = strlen(mailbox) + 1;
  uint32_t eref;
  stored_ent *e = carve(t, (offsetof(stored_ent, mailbox) + n + 7) & ~(size_t)7, &eref);
  e->msg = ref;
  memcpy(e->mailbox, mailbox, n);
  *s = eref + 1;
  t->sn++;
  return false;
}

void mail_tally_deliver(mail_tally *t, const char *msg, sim_time now) {
  t->st.delivered++;
  msg_info *mi = find(t, msg);
  if (mi && submitted_of(mi) >= 0) {
    sim_time d = now - submitted_of(mi);
    g_array_append_val(t->delays, d);
    t->sorted = false;
  } else {
    t->st.unsubmitted++;
  }
}

void mail_tally_fetch(mail_tally *t) { t->st.fetched++; }
void mail_tally_fail(mail_tally *t) { t->st.failed++; }

static int cmp_time(const void *a, const void *b) {
  sim_time x = *(const sim_time *)a, y = *(const sim_time *)b;
  return (x > y) - (x < y);
}

static sim_time rank(const GArray *v, unsigned pct) {
  guint n = v->len;
  guint k = (guint)(((uint64_t)pct * n + 99) / 100); /* ceil(pct*n/100), >= 1 for n >= 1 */
  return g_array_index(v, sim_time, k ? k - 1 : 0);
}

void mail_tally_get(mail_tally *t, mail_tally_stats *out) {
  if (!t->sorted) {
    g_array_sort(t->delays, cmp_time);
    t->sorted = true;
  }
  *out = t->st;
  out->delay_samples = t->delays->len;
  if (t->delays->len) {
    out->delay_p50 = rank(t->delays, 50);
    out->delay_p95 = rank(t->delays, 95);
    out->delay_max = g_array_index(t->delays, sim_time, t->delays->len - 1);
  }
}
