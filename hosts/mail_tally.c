/* mail_tally.c — counters and delivery delays of a run (see mail_tally.h).
 * Percentiles use the nearest-rank method on the sorted samples, in integer
 * arithmetic: the p-th percentile of n samples is the ceil(p*n/100)-th. */
#include "mail_tally.h"

#include <glib.h>
#include <stddef.h>
#include <string.h>

#include "trace_store.h"

/* One record per message, its Message-ID inside (issue #6: memory per
 * queued message), and one per (message, mailbox) stored. Records live as
 * long as the tally, so they are carved from a trace_store (no malloc
 * header and rounding each) and named by its 32-bit references; the
 * lookup tables are trace_store tables of those references + 1 (4 octets
 * a slot: a GHashTable set costs 12). */
typedef struct {
  /* bit 63: deferred; bits 0..62: the submission time + 1, 0 not
   * submitted (yet). One word: the Message-ID follows it at offset 8 (a
   * bool of its own put it at 9: 8 octets more for a 32-octet id). */
  uint64_t word;
  char msg[];
} msg_info;

#define DEFERRED_BIT (UINT64_C(1) << 63)
#define WHAT "mail_tally"

static sim_time submitted_of(const msg_info *mi) {
  return (sim_time)(mi->word & ~DEFERRED_BIT) - 1;
}

struct mail_tally {
  trace_store mem;      /* the msg_info and stored_ent records, 8 KiB blocks */
  trace_store_tab msgs; /* msg_info reference + 1 */
  /* The (message, mailbox) pairs stored (mail_tally_duplicate): stored_ent
   * reference + 1; made at the first storage (a world that only queues
   * pays nothing). */
  trace_store_tab stored;
  GArray *delays; /* sim_time */
  bool sorted;
  mail_tally_stats st;
};

mail_tally *mail_tally_new(void) {
  mail_tally *t = g_new0(mail_tally, 1);
  trace_store_init(&t->mem, 8 * 1024, WHAT);
  trace_store_tab_init(&t->msgs);
  t->delays = g_array_new(FALSE, FALSE, sizeof(sim_time));
  return t;
}

void mail_tally_free(mail_tally *t) {
  if (!t)
    return;
  trace_store_tab_clear(&t->stored);
  trace_store_tab_clear(&t->msgs);
  trace_store_clear(&t->mem);
  g_array_unref(t->delays);
  g_free(t);
}

/* A message stored in a mailbox: its record's reference and the mailbox
 * as first given (compared without regard to ASCII case). */
typedef struct {
  uint32_t msg;
  char mailbox[];
} stored_ent;

static msg_info *at(const mail_tally *t, uint32_t ref) { return trace_store_at(&t->mem, ref); }

static uint32_t msg_hash(const char *s) { return trace_store_hash(0, s, strlen(s)); }

/* MSG's slot (H its hash): the one holding its record, or the free one
 * where it would go. */
static uint32_t *msg_slot(const mail_tally *t, const char *msg, uint32_t h) {
  for (uint32_t i = h;; i++) {
    uint32_t *s = trace_store_tab_slot(&t->msgs, i);
    if (!*s || strcmp(at(t, *s - 1)->msg, msg) == 0)
      return s;
  }
}

static uint32_t msg_rehash(void *ctx, uint32_t v) { return msg_hash(at(ctx, v - 1)->msg); }

static msg_info *find(const mail_tally *t, const char *msg) {
  const uint32_t *s = msg_slot(t, msg, msg_hash(msg));
  return *s ? at(t, *s - 1) : NULL;
}

/* MSG's record, made if new; its reference in *REF. */
static msg_info *info_ref(mail_tally *t, const char *msg, uint32_t *ref) {
  uint32_t *s = msg_slot(t, msg, msg_hash(msg));
  if (*s) {
    *ref = *s - 1;
    return at(t, *ref);
  }
  size_t n = strlen(msg) + 1;
  /* not sizeof: its tail padding */
  msg_info *mi = trace_store_alloc(&t->mem, offsetof(msg_info, msg) + n, ref);
  mi->word = 0;
  memcpy(mi->msg, msg, n);
  *s = *ref + 1;
  trace_store_tab_added(&t->msgs, msg_rehash, t, WHAT);
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
  return trace_store_hash_mix(h);
}

/* The slot of (MSG, MAILBOX) (H its hash): the one holding it, or the free
 * one where it would go. */
static uint32_t *stored_slot(const mail_tally *t, uint32_t msg, const char *mailbox, uint32_t h) {
  for (uint32_t i = h;; i++) {
    uint32_t *s = trace_store_tab_slot(&t->stored, i);
    if (!*s)
      return s;
    const stored_ent *e = trace_store_at(&t->mem, *s - 1);
    if (e->msg == msg && g_ascii_strcasecmp(e->mailbox, mailbox) == 0)
      return s;
  }
}

static uint32_t stored_rehash(void *ctx, uint32_t v) {
  const stored_ent *e = trace_store_at(&((const mail_tally *)ctx)->mem, v - 1);
  return stored_hash(e->msg, e->mailbox);
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
  if (!t->stored.cap)
    trace_store_tab_init(&t->stored);
  uint32_t *s = stored_slot(t, ref, mailbox, stored_hash(ref, mailbox));
  if (*s) {
    t->st.duplicates++;
    return true;
  }
  size_t n = strlen(mailbox) + 1;
  uint32_t eref;
  stored_ent *e = trace_store_alloc(&t->mem, offsetof(stored_ent, mailbox) + n, &eref);
  e->msg = ref;
  memcpy(e->mailbox, mailbox, n);
  *s = eref + 1;
  trace_store_tab_added(&t->stored, stored_rehash, t, WHAT);
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
