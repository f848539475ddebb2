/* mail_tally.c — counters and delivery delays of a run (see mail_tally.h).
 * Percentiles use the nearest-rank method on the sorted samples, in integer
 * arithmetic: the p-th percentile of n samples is the ceil(p*n/100)-th. */
#include "mail_tally.h"

#include <glib.h>
#include <stddef.h>
#include <string.h>

/* One record per message, its Message-ID inside (issue #6: memory per
 * queued message); the table is a set of the ids, each mapped back to its
 * record by offset. Records live as long as the tally, so they are carved
 * from blocks (no malloc header and rounding each: ~20 octets a message). */
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

#define MSG_INFO(k) ((msg_info *)(void *)((char *)(k) - offsetof(msg_info, msg)))

#define BLOCK (8 * 1024)

struct mail_tally {
  GPtrArray *blocks; /* owned: the msg_info records */
  char *free_p;      /* the free part of the last block */
  size_t free_left;
  GHashTable *msgs; /* set of msg_info.msg (lookup only) */
  /* msg_info.msg -> GPtrArray of char*, the mailboxes the message was
   * stored in (duplicates), only for messages stored somewhere: a queued
   * message pays no pointer for it. Lookup only. */
  GHashTable *stored;
  GArray *delays;   /* sim_time */
  bool sorted;
  mail_tally_stats st;
};

mail_tally *mail_tally_new(void) {
  mail_tally *t = g_new0(mail_tally, 1);
  t->blocks = g_ptr_array_new_with_free_func(g_free);
  t->msgs = g_hash_table_new(g_str_hash, g_str_equal);
  t->stored = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                    (GDestroyNotify)g_ptr_array_unref);
  t->delays = g_array_new(FALSE, FALSE, sizeof(sim_time));
  return t;
}

void mail_tally_free(mail_tally *t) {
  if (!t)
    return;
  g_hash_table_unref(t->stored); /* before the keys it borrows */
  g_hash_table_unref(t->msgs);
  g_ptr_array_unref(t->blocks);
  g_array_unref(t->delays);
  g_free(t);
}

static msg_info *find(mail_tally *t, const char *msg) {
  char *k = g_hash_table_lookup(t->msgs, msg);
  return k ? MSG_INFO(k) : NULL;
}

static void *carve(mail_tally *t, size_t n) {
  n = (n + 7) & ~(size_t)7;
  if (n > BLOCK / 4) { /* big: a block of its own */
    void *b = g_malloc(n);
    g_ptr_array_add(t->blocks, b);
    return b;
  }
  if (n > t->free_left) {
    t->free_p = g_malloc(BLOCK);
    t->free_left = BLOCK;
    g_ptr_array_add(t->blocks, t->free_p);
  }
  void *r = t->free_p;
  t->free_p += n;
  t->free_left -= n;
  return r;
}

static msg_info *info(mail_tally *t, const char *msg) {
  msg_info *mi = find(t, msg);
  if (!mi) {
    size_t n = strlen(msg) + 1;
    mi = carve(t, offsetof(msg_info, msg) + n); /* not sizeof: its tail padding */
    mi->word = 0;
    memcpy(mi->msg, msg, n);
    g_hash_table_add(t->msgs, mi->msg);
  }
  return mi;
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
  msg_info *mi = info(t, msg);
  GPtrArray *in = g_hash_table_lookup(t->stored, mi->msg);
  if (!in) {
    in = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(t->stored, mi->msg, in);
  }
  for (guint i = 0; i < in->len; i++)
    if (g_ascii_strcasecmp(in->pdata[i], mailbox) == 0) {
      t->st.duplicates++;
      return true;
    }
  g_ptr_array_add(in, g_strdup(mailbox));
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
