/* mta_queue.c — the queue model of an MTA: per-recipient delivery state
 * (RFC 5321 §4.5.4.1: the sender keeps the message and retries deferred
 * recipients; §6.1: once it has said 250 it must deliver or report),
 * DSN accounting (RFC 3464; never a DSN about a null-sender message,
 * RFC 5321 §4.5.5), a binary heap for due times with the queue id breaking
 * ties, and a length-checked little-endian encoding for the disk.
 *
 * Layout per message: one block holding the mta_msg, its mta_rcpt array
 * and its strings (sender, addresses, the host's tag), one hash entry (qid
 * lookup only, never iterated for output) and one heap slot. As in
 * Postfix's qmgr, a destination keeps no per-message structure (only a
 * count of unfinished recipients); what rides a session is found from the
 * messages. Replies (code, status, text, remote MTA) are interned whole,
 * destinations numbered. mta_queue_memory() adds these up;
 * tests/test_mta_queue.c measures the real figure.
 */
#include "mta_queue.h"
#include "mta_queue_int.h"
#include "octet_hash.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Issue #6: a one-recipient message's block is 88 octets, a 96-octet
 * chunk (the head and a recipient were 72 and 56, with a sender pointer). */
G_STATIC_ASSERT(sizeof(mta_msg) == 56);
G_STATIC_ASSERT(sizeof(mta_rcpt) == 32);

static const char *const rcpt_state_names[MTA_RCPT__COUNT] = {"pending", "deferred", "delivered",
                                                              "bounced"};

const char *mta_rcpt_state_name(mta_rcpt_state s) {
  g_assert((unsigned)s < MTA_RCPT__COUNT);
  return rcpt_state_names[s];
}

/* ---- helpers ---- */

/* Destinations are found through an open-addressing table of their ids
 * (id + 1, 0 empty; linear probing, at most 3/4 full): 4 octets a slot,
 * where a GHashTable set spends 12 (issue #6: one destination per next
 * hop an MTA ever queued for). Never walked: listings use dests. */

/* g_ascii_tolower inline (GLib's is a call an octet: ~500 instructions
 * a destination lookup went to it). */
static inline char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c; }

/* The lower-cased NAME's hash (g_str_hash's djb2 on the lower case). */
static guint dest_hash(const char *name) {
  guint h = 5381;
  for (const char *p = name; *p; p++)
    h = (h << 5) + h + (guchar)lower(*p);
  return h;
}

#define DEST_AT(q, id) (&g_array_index((q)->dests, dest_ent, id))

static bool dest_name_is(const dest_ent *d, const char *name) {
  const char *a = d->name;
  for (; *a && *name; a++, name++)
    if (*a != lower(*name))
      return false;
  return *a == *name;
}

/* The slot of NAME (matched without case) in the index: its entry's, or
 * the empty one where it would go. */
static guint dest_slot(const mta_queue *q, const char *name) {
  guint mask = q->dest_cap - 1, i = dest_hash(name) & mask;
  while (q->dest_idx[i] && !dest_name_is(DEST_AT(q, q->dest_idx[i] - 1), name))
    i = (i + 1) & mask;
  return i;
}

static dest_ent *dest_find(const mta_queue *q, const char *name) {
  if (!q->dest_cap)
    return NULL;
  uint32_t v = q->dest_idx[dest_slot(q, name)];
  return v ? DEST_AT(q, v - 1) : NULL;
}

static void dest_index_grow(mta_queue *q) {
  guint cap = q->dest_cap ? 2 * q->dest_cap : 16;
  g_free(q->dest_idx);
  q->dest_idx = g_new0(uint32_t, cap);
  q->dest_cap = cap;
  for (guint id = 0; id < q->dests->len; id++)
    q->dest_idx[dest_slot(q, DEST_AT(q, id)->name)] = id + 1;
}

/* NAME's destination, made when new. The entry moves when another is
 * made: use it before, or keep its id. */
static dest_ent *dest_get(mta_queue *q, const char *name) {
  dest_ent *d = dest_find(q, name);
  if (!d) {
    if (4 * ((size_t)q->dests->len + 1) > 3 * (size_t)q->dest_cap)
      dest_index_grow(q);
    char buf[256];
    size_t n = strlen(name);
    char *low = n < sizeof buf ? buf : g_malloc(n + 1);
    for (size_t i = 0; i <= n; i++)
      low[i] = lower(name[i]);
    dest_ent e = {g_string_chunk_insert_len(q->dest_names, low, (gssize)n), 0, q->dests->len};
    if (low != buf)
      g_free(low);
    g_array_append_val(q->dests, e);
    d = DEST_AT(q, e.id);
    q->dest_idx[dest_slot(q, d->name)] = d->id + 1;
  }
  return d;
}

static dest_ent *dest_at(const mta_queue *q, uint32_t id) {
  g_assert(id < q->dests->len);
  return DEST_AT(q, id);
}

const char *mta_queue_rcpt_dest(const mta_queue *q, const mta_rcpt *r) {
  return dest_at(q, r->dest)->name;
}

static void dest_adjust(const mta_queue *q, uint32_t id, int delta) {
  dest_ent *d = dest_at(q, id);
  g_assert(delta > 0 || d->rcpts > 0);
  d->rcpts = (uint32_t)((int64_t)d->rcpts + delta);
}

static bool heap_less(const heap_ent *a, const heap_ent *b) {
  return a->due < b->due || (a->due == b->due && a->m->qid < b->m->qid);
}

/* The due heap holds the messages themselves (their due time is read from
 * them): 8 octets a queued message, not 16. */
static bool msg_before(const mta_msg *a, const mta_msg *b) {
  return a->due < b->due || (a->due == b->due && a->qid < b->qid);
}

/* The heap holds queue ids (4 octets an entry, not a pointer's 8): the
 * message is its slot. */
#define HEAP_QID(q, i) g_array_index((q)->heap, uint32_t, i)
#define HEAP_AT(q, i) mta_queue__slot(q, HEAP_QID(q, i))

static void heap_set(mta_queue *q, guint i, mta_msg *m) {
  HEAP_QID(q, i) = m->qid;
  m->heap_idx = (int32_t)i;
}

static void heap_fix(mta_queue *q, guint i) {
  mta_msg *e = HEAP_AT(q, i);
  while (i > 0) {
    guint parent = (i - 1) / 2;
    mta_msg *p = HEAP_AT(q, parent);
    if (!msg_before(e, p))
      break;
    heap_set(q, i, p);
    i = parent;
  }
  for (;;) {
    guint c = 2 * i + 1;
    if (c >= q->heap->len)
      break;
    if (c + 1 < q->heap->len && msg_before(HEAP_AT(q, c + 1), HEAP_AT(q, c)))
      c++;
    if (!msg_before(HEAP_AT(q, c), e))
      break;
    heap_set(q, i, HEAP_AT(q, c));
    i = c;
  }
  heap_set(q, i, e);
}

static void heap_remove(mta_queue *q, mta_msg *m) {
  if (m->heap_idx < 0)
    return;
  guint i = (guint)m->heap_idx, last = q->heap->len - 1;
  m->heap_idx = -1;
  if (i != last) {
    HEAP_QID(q, i) = HEAP_QID(q, last);
    g_array_set_size(q->heap, last);
    heap_fix(q, i);
  } else {
    g_array_set_size(q->heap, last);
  }
}

/* Sets M's due time and its place in the heap (INT64_MAX: out of it). */
static void set_due(mta_queue *q, mta_msg *m, int64_t due) {
  m->due = due;
  if (due == INT64_MAX) {
    heap_remove(q, m);
    return;
  }
  if (m->heap_idx < 0) {
    g_array_append_val(q->heap, m->qid);
    m->heap_idx = (int32_t)(q->heap->len - 1);
  }
  heap_fix(q, (guint)m->heap_idx);
}

static size_t str_cost(const char *s) { return s ? strlen(s) + 1 : 0; }

static size_t msg_str_bytes(const mta_msg *m) {
  size_t n = str_cost(mta_queue_msg_tag(m));
  if (m->layout & MTA_MSG_BORROWED)
    return n;
  n += str_cost(mta_queue_msg_sender(m));
  for (uint32_t i = 0; i < m->nrcpts; i++)
    n += str_cost(m->rcpts[i].addr); /* texts: interned, counted apart */
  return n;
}

static size_t msg_head(uint32_t nrcpts, bool retry) {
  return offsetof(mta_msg, rcpts) + (size_t)nrcpts * sizeof(mta_rcpt) +
         (retry ? sizeof(mta_retry_state) : 0);
}

/* The size of glibc's chunk for a request of N octets (request2size on a
 * 64-bit system: 8 octets of header, 16-octet steps, 32 at least): two
 * requests of one chunk size hold the same memory. */
static size_t chunk_of(size_t n) { return n + 8 + 15 < 32 ? 32 : (n + 8 + 15) & ~(size_t)15; }

/* A message block of LEN octets, zeroed: a block Q kept that holds at
 * least LEN and is a malloc chunk of LEN's size (so it holds no more
 * memory than a new one would), else a new one. */
static mta_msg *msg_block(mta_queue *q, size_t len) {
  size_t c = chunk_of(len);
  for (unsigned i = 0; q && i < q->n_spare_msg; i++) {
    if (q->spare_len[i] < len || chunk_of(q->spare_len[i]) != c)
      continue;
    mta_msg *m = q->spare_msg[i];
    unsigned last = --q->n_spare_msg;
    q->spare_msg[i] = q->spare_msg[last];
    q->spare_len[i] = q->spare_len[last];
    if (q->spare_next > q->n_spare_msg)
      q->spare_next = 0;
    return memset(m, 0, len);
  }
  return g_malloc0(len);
}

/* M (out of every index, its replies released) is done with: kept by Q
 * for a later message, or freed. Its block holds at least the length its
 * message needs (it was asked for that, or taken for it by msg_block). */
static void msg_block_put(mta_queue *q, mta_msg *m) {
  size_t len = msg_head(m->nrcpts, m->layout & MTA_MSG_RETRY) + msg_str_bytes(m);
  unsigned i = q->n_spare_msg;
  if (i < MTA_QUEUE__SPARES) {
    q->n_spare_msg++;
  } else { /* the oldest gives way */
    i = q->spare_next;
    q->spare_next = (i + 1) % MTA_QUEUE__SPARES;
    g_free(q->spare_msg[i]);
  }
  q->spare_msg[i] = m;
  q->spare_len[i] = len;
}

mta_msg *mta_queue__msg_alloc(const char *sender, const char *const *addrs, uint32_t nrcpts,
                              const char *tag, bool borrow, bool retry) {
  return mta_queue__msg_alloc_in(NULL, sender, addrs, nrcpts, tag, borrow, retry);
}

mta_msg *mta_queue__msg_alloc_in(mta_queue *q, const char *sender, const char *const *addrs,
                                 uint32_t nrcpts, const char *tag, bool borrow, bool retry) {
  g_assert(nrcpts > 0);
  size_t head = msg_head(nrcpts, retry);
  size_t len = head + str_cost(tag);
  if (!borrow) {
    len += strlen(sender) + 1;
    for (uint32_t i = 0; i < nrcpts; i++)
      len += strlen(addrs[i]) + 1;
  }
  mta_msg *m = msg_block(q, len);
  m->heap_idx = -1;
  m->nrcpts = nrcpts;
  if (retry)
    m->layout |= MTA_MSG_RETRY;
  char *p = (char *)m + head; /* the sender: mta_queue_msg_sender */
  if (borrow) {
    m->layout |= MTA_MSG_BORROWED;
    g_assert(addrs[0] > sender && (size_t)(addrs[0] - sender) <= UINT16_MAX);
    m->sender_back = (uint16_t)(addrs[0] - sender);
    for (uint32_t i = 0; i < nrcpts; i++)
      m->rcpts[i].addr = addrs[i];
  } else {
    for (uint32_t i = 0; i < nrcpts; i++) {
      size_t n = strlen(addrs[i]) + 1;
      memcpy(p, addrs[i], n);
      m->rcpts[i].addr = p;
      p += n;
    }
    size_t n = strlen(sender) + 1; /* after the addresses: mta_queue_msg_sender */
    memcpy(p, sender, n);
    p += n;
  }
  if (tag) { /* last: mta_queue_msg_tag */
    memcpy(p, tag, strlen(tag) + 1);
    m->layout |= MTA_MSG_TAGGED;
  }
  return m;
}

static bool rcpt_final(const mta_rcpt *r) {
  return r->state == MTA_RCPT_DELIVERED || r->state == MTA_RCPT_BOUNCED;
}

mta_msg *mta_queue__msg_get(const mta_queue *q, uint32_t qid, const char *fn) {
  mta_msg *m = mta_queue__slot(q, qid);
  if (!m)
    g_error("%s: queue id %u is not queued", fn, qid);
  return m;
}

/* ---- interned replies ---- */

/* A reply's text and remote MTA (~40-60 octets, hashed at lookup, insert
 * and removal) by octet_hash, each seeded by the hash so far and its
 * length; the table is for lookup only and its order reaches nothing
 * (mta_queue_mem_bytes sums). */
static guint str_hash0(const char *s, guint h) {
  if (!s)
    return h * 31u + 7u;
  size_t n = strlen(s);
  return octet_hash(h ^ (uint64_t)n << 32, s, n);
}

static guint reply_hash(gconstpointer k) {
  const mta_reply *r = k;
  guint h = r->code;
  h = str_hash0(r->esc, h);
  h = str_hash0(r->text, h);
  return str_hash0(r->remote_mta, h);
}

static bool str_eq0(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static gboolean reply_equal(gconstpointer a, gconstpointer b) {
  const mta_reply *x = a, *y = b;
  return x->code == y->code && strcmp(x->esc, y->esc) == 0 && str_eq0(x->text, y->text) &&
         str_eq0(x->remote_mta, y->remote_mta);
}

/* The interned reply (CODE, ESC, TEXT, REMOTE) (a new reference), or NULL
 * when all four are empty (ESC "" or NULL). ESC longer than the field
 * keeps its first 9 octets (as the recipient's field always did). */
/* A reply block's size for TEXT and REMOTE: its head and strings rounded
 * up to 32 octets (the size a block is allocated and found again at, so
 * replies of about the same length share a spare: malloc's chunks step by
 * 16 anyway; the few interned texts a queue full of deferred mail holds
 * are shared). */
static size_t reply_block_size(const char *text, const char *remote) {
  size_t n = sizeof(mta_reply) + (text ? strlen(text) + 1 : 0) + (remote ? strlen(remote) + 1 : 0);
  return (n + 31) & ~(size_t)31;
}

/* A reply's REFS when it is one recipient's own, not in the text table:
 * a delivered recipient's reply names its queue id at the next host
 * ("250 2.0.0 Ok: queued as ..."), so no other recipient's is the same and
 * interning it only cost a hash, an insert and a remove a delivery (read
 * by the strings, never by the pointer: the record encoder compares
 * texts). */
#define REPLY_OWN UINT32_MAX

static const mta_reply *reply_ref_in(mta_queue *q, uint16_t code, const char *esc,
                                     const char *text, const char *remote, bool intern) {
  if (!code && (!esc || !*esc) && !text && !remote)
    return NULL;
  mta_reply key = {text, remote, 0, code, {0}};
  g_strlcpy(key.esc, esc ? esc : "", sizeof key.esc);
  mta_reply *r = intern ? g_hash_table_lookup(q->texts->t, &key) : NULL;
  if (!r) {
    size_t tn = text ? strlen(text) + 1 : 0, rn = remote ? strlen(remote) + 1 : 0;
    size_t size = reply_block_size(text, remote);
    mta_queue_texts *tt = q->texts;
    if (tt->spare && tt->spare_size == size) {
      r = tt->spare;
      tt->spare = NULL;
    } else {
      r = g_malloc(size);
    }
    *r = key;
    char *p = (char *)(r + 1);
    if (text) {
      r->text = memcpy(p, text, tn);
      p += tn;
    }
    if (remote)
      r->remote_mta = memcpy(p, remote, rn);
    if (!intern) {
      r->refs = REPLY_OWN;
      return r;
    }
    g_hash_table_add(q->texts->t, r);
  }
  r->refs++;
  return r;
}

static const mta_reply *reply_ref(mta_queue *q, uint16_t code, const char *esc, const char *text,
                                  const char *remote) {
  return reply_ref_in(q, code, esc, text, remote, true);
}

static void reply_unref(mta_queue *q, const mta_reply *c) {
  if (!c)
    return;
  mta_reply *r = (mta_reply *)c;
  bool own = r->refs == REPLY_OWN;
  if (own || --r->refs == 0) {
    if (!own)
      g_hash_table_remove(q->texts->t, r);
    size_t n = reply_block_size(r->text, r->remote_mta); /* as allocated */
    mta_queue_texts *tt = q->texts;
    if (n <= 512) { /* kept, in place of the one before */
      if (tt->spare)
        g_free(tt->spare);
      tt->spare = r;
      tt->spare_size = n;
    } else {
      g_free(r);
    }
  }
}

/* Sets R's reply to (CODE, ESC, TEXT, REMOTE) (which may be R's own):
 * interned, or (INTERN false) R's own block. */
static void rcpt_set_reply(mta_queue *q, mta_rcpt *r, uint16_t code, const char *esc,
                           const char *text, const char *remote, bool intern) {
  const mta_reply *old = r->reply;
  /* before the unref: the strings may be OLD's */
  r->reply = reply_ref_in(q, code, esc, text, remote, intern);
  reply_unref(q, old);
}

/* Frees M, a queued message (replies interned), and its body, after it
 * left Q's indexes. */
static void msg_drop(mta_queue *q, mta_msg *m) {
  for (uint32_t i = 0; i < m->nrcpts; i++)
    reply_unref(q, m->rcpts[i].reply);
  if (q->bodies)
    g_hash_table_remove(q->bodies, GUINT_TO_POINTER(m->qid));
  msg_block_put(q, m);
}

static void slot_put(mta_queue *q, mta_msg *m) {
  GPtrArray *s = q->slots;
  if (s->len == 0)
    q->base = m->qid;
  if (m->qid < q->base) { /* an older id (a record decoded late): room in front */
    guint k = q->base - m->qid, len = s->len;
    g_ptr_array_set_size(s, len + k);
    memmove(s->pdata + k, s->pdata, len * sizeof(gpointer));
    memset(s->pdata, 0, k * sizeof(gpointer));
    q->base = m->qid;
    q->head = 0;
  }
  guint i = m->qid - q->base;
  if (i >= s->len)
    g_ptr_array_set_size(s, i + 1); /* new slots are NULL */
  g_assert(!s->pdata[i]);
  s->pdata[i] = m;
  if (i < q->head)
    q->head = i;
  q->nmsgs++;
}

static void slot_clear(mta_queue *q, uint32_t qid) {
  GPtrArray *s = q->slots;
  s->pdata[qid - q->base] = NULL;
  q->nmsgs--;
  guint len = s->len;
  while (len && !s->pdata[len - 1])
    len--;
  g_ptr_array_set_size(s, len);
  while (q->head < len && !s->pdata[q->head])
    q->head++;
  if (q->head >= len) { /* empty */
    g_ptr_array_set_size(s, 0);
    q->head = 0;
  } else if (q->head >= 32 && 2 * q->head >= len) { /* drop the empty front (amortised) */
    g_ptr_array_remove_range(s, 0, q->head);
    q->base += q->head;
    q->head = 0;
  }
}

static void msg_remove(mta_queue *q, mta_msg *m) {
  slot_clear(q, m->qid);
  msg_drop(q, m);
}

/* ---- life cycle ---- */

mta_queue_texts *mta_queue_texts_new(void) {
  mta_queue_texts *t = g_new0(mta_queue_texts, 1);
  t->t = g_hash_table_new(reply_hash, reply_equal);
  return t;
}

void mta_queue_texts_free(mta_queue_texts *t) {
  if (!t)
    return;
  g_assert(g_hash_table_size(t->t) == 0); /* a queue still holds a text */
  g_hash_table_destroy(t->t);
  g_free(t->spare);
  g_free(t);
}

mta_queue *mta_queue_new(void) { return mta_queue_new_shared(NULL); }

mta_queue *mta_queue_new_shared(mta_queue_texts *texts) {
  mta_queue *q = g_new0(mta_queue, 1);
  q->next_qid = 1;
  q->slots = g_ptr_array_new();
  q->own_texts = texts == NULL;
  q->texts = texts ? texts : mta_queue_texts_new();
  q->heap = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  q->dests = g_array_new(FALSE, FALSE, sizeof(dest_ent));
  q->dest_names = g_string_chunk_new(256);
  q->retry_room = true;
  q->ledger = g_array_new(FALSE, FALSE, sizeof(ledger_ent));
  q->enc.offs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  return q;
}

void mta_queue_free(mta_queue *q) {
  if (!q)
    return;
  for (guint i = 0; i < q->slots->len; i++)
    if (q->slots->pdata[i])
      msg_drop(q, q->slots->pdata[i]);
  g_ptr_array_free(q->slots, TRUE);
  for (unsigned i = 0; i < q->n_spare_msg; i++)
    g_free(q->spare_msg[i]);
  if (q->own_texts)
    mta_queue_texts_free(q->texts);
  g_array_free(q->heap, TRUE);
  g_array_free(q->dests, TRUE);
  g_string_chunk_free(q->dest_names);
  g_free(q->dest_idx);
  g_array_free(q->ledger, TRUE);
  if (q->bodies)
    g_hash_table_destroy(q->bodies);
  g_array_free(q->enc.offs, TRUE);
  g_free(q);
}

void mta_queue_set_retry_room(mta_queue *q, bool room) { q->retry_room = room; }

/* Registers M (fully built, qid set) in the indexes and the statistics. */
void mta_queue__msg_insert(mta_queue *q, mta_msg *m, GBytes *body, const mta_queue__rcpt_in *in) {
  slot_put(q, m);
  if (body) {
    if (!q->bodies)
      q->bodies = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                        (GDestroyNotify)g_bytes_unref);
    g_hash_table_insert(q->bodies, GUINT_TO_POINTER(m->qid), body);
  }
  m->heap_idx = -1;
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    r->reply = reply_ref(q, in[i].code, in[i].esc, in[i].text, in[i].remote_mta);
    r->dest = dest_get(q, in[i].dest)->id;
    if (!rcpt_final(r)) {
      dest_adjust(q, r->dest, +1);
      q->st.queued_rcpts++;
    }
  }
  q->str_bytes += msg_str_bytes(m);
  q->st.queued++;
  q->st.queued_bytes += m->size;
  if (q->st.queued > q->st.peak_queued)
    q->st.peak_queued = q->st.queued;
  if (m->qid >= q->next_qid)
    q->next_qid = m->qid + 1;
  set_due(q, m, m->due);
}

uint32_t mta_queue_add(mta_queue *q, const mta_queue_add_args *a) {
  g_assert(q && a && a->nrcpts > 0 && a->rcpts);
  bool null_sender = !a->sender || !*a->sender;
  if (a->dsn_of && !null_sender)
    g_error("mta_queue_add: a DSN must have a null sender");
  if (q->next_qid == UINT32_MAX)
    g_error("mta_queue_add: queue ids exhausted");
  g_assert(a->nrcpts <= UINT32_MAX);
  for (size_t i = 0; i < a->nrcpts; i++)
    g_assert(a->rcpts[i]);
  const char *sender = a->sender ? a->sender : "";
  size_t slen = strlen(sender);
  /* Borrowed only when the sender lies just before the first address (a
   * record's layout): then no pointer to it is kept. */
  bool borrow = a->borrow && slen < MTA_QUEUE_BORROW_MAX && a->rcpts[0] == sender + slen + 1;
  mta_msg *m = mta_queue__msg_alloc_in(q, sender, a->rcpts, (uint32_t)a->nrcpts, a->tag, borrow,
                                       q->retry_room);
  m->qid = q->next_qid;
  m->arrival = a->arrival;
  m->due = a->arrival;
  uint64_t size = a->size ? a->size : (a->body ? g_bytes_get_size(a->body) : 0);
  g_assert(a->body_id <= UINT32_MAX && size <= UINT32_MAX);
  m->body_id = (uint32_t)a->body_id;
  m->size = (uint32_t)size;
  m->dsn_of = a->dsn_of;
  mta_queue__rcpt_in ibuf[8];
  mta_queue__rcpt_in *in = a->nrcpts <= G_N_ELEMENTS(ibuf) ? ibuf : g_new(mta_queue__rcpt_in, a->nrcpts);
  for (size_t i = 0; i < a->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    const char *dest = a->dests && a->dests[i] ? a->dests[i] : strrchr(r->addr, '@');
    dest = dest ? (dest == strrchr(r->addr, '@') ? dest + 1 : dest) : "";
    in[i] = (mta_queue__rcpt_in){dest, NULL, NULL, NULL, 0}; /* interned by msg_insert */
    r->last_try = -1;
  }
  q->st.accepted++;
  if (a->dsn_of)
    q->st.dsns++;
  mta_queue__msg_insert(q, m, a->body ? g_bytes_ref(a->body) : NULL, in);
  if (in != ibuf)
    g_free(in);
  return m->qid;
}

void mta_queue_withdraw(mta_queue *q, uint32_t qid) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_withdraw");
  g_assert(!m->in_attempt && m->attempts == 0);
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (!rcpt_final(&m->rcpts[i])) {
      dest_adjust(q, m->rcpts[i].dest, -1);
      q->st.queued_rcpts--;
    }
  ledger_ent e = {m->qid, 0, 0, 0, m->dsn_of, LEDGER_F_WITHDRAWN};
  g_array_append_val(q->ledger, e);
  heap_remove(q, m);
  q->str_bytes -= msg_str_bytes(m);
  q->st.queued--;
  q->st.queued_bytes -= m->size;
  q->st.accepted--;
  if (m->dsn_of)
    q->st.dsns--;
  msg_remove(q, m);
}

const mta_msg *mta_queue_get(const mta_queue *q, uint32_t qid) {
  return mta_queue__slot(q, qid);
}

GBytes *mta_queue_body(const mta_queue *q, uint32_t qid) {
  return q->bodies ? g_hash_table_lookup(q->bodies, GUINT_TO_POINTER(qid)) : NULL;
}

uint32_t *mta_queue_user(mta_queue *q, uint32_t qid) {
  return &mta_queue__msg_get(q, qid, "mta_queue_user")->user;
}

int64_t mta_queue_next_due(const mta_queue *q) {
  return q->heap->len ? HEAP_AT(q, 0)->due : INT64_MAX;
}

static gint due_cmp(gconstpointer a, gconstpointer b) {
  const heap_ent *x = a, *y = b;
  return heap_less(x, y) ? -1 : heap_less(y, x) ? 1 : 0;
}

/* Makes room for one more element in *ARR (N used of *CAP), which starts
 * as the caller's FIXED buffer and moves to the heap when it overflows. */
static void *grow(void *arr, const void *fixed, size_t n, size_t *cap, size_t size) {
  if (n < *cap)
    return arr;
  *cap *= 2;
  if (arr == fixed)
    return memcpy(g_malloc_n(*cap, size), fixed, n * size);
  return g_realloc_n(arr, *cap, size);
}

size_t mta_queue_due(const mta_queue *q, int64_t now, GArray *qids) {
  /* Walk the heap from the root, only into subtrees that hold due entries;
   * the found entries and the walk's stack on the C stack while they fit
   * (a queue run finds a few messages: no allocation then). */
  heap_ent fbuf[64], *found = fbuf;
  guint sbuf[64], *stack = sbuf;
  size_t nf = 0, cf = G_N_ELEMENTS(fbuf), ns = 0, cs = G_N_ELEMENTS(sbuf);
  if (q->heap->len)
    stack[ns++] = 0;
  while (ns) {
    guint i = stack[--ns];
    mta_msg *hm = HEAP_AT(q, i);
    heap_ent e = {hm->due, hm};
    if (e.due > now)
      continue;
    found = grow(found, fbuf, nf, &cf, sizeof *found);
    found[nf++] = e;
    for (guint c = 2 * i + 1; c <= 2 * i + 2 && c < q->heap->len; c++) {
      stack = grow(stack, sbuf, ns, &cs, sizeof *stack);
      stack[ns++] = c;
    }
  }
  qsort(found, nf, sizeof *found, due_cmp); /* a total order: any sort gives it */
  if (nf) { /* an empty array may have no data: no pointer into it */
    g_array_set_size(qids, qids->len + (guint)nf);
    uint32_t *out = &g_array_index(qids, uint32_t, qids->len - nf);
    for (size_t i = 0; i < nf; i++)
      out[i] = found[i].m->qid;
  }
  if (found != fbuf)
    g_free(found);
  if (stack != sbuf)
    g_free(stack);
  return nf;
}

/* ---- attempts ---- */

static void rcpt_finish(mta_queue *q, mta_msg *m, mta_rcpt *r, mta_rcpt_state state) {
  g_assert(!rcpt_final(r));
  r->state = (uint8_t)state;
  (void)m;
  dest_adjust(q, r->dest, -1);
  q->st.queued_rcpts--;
  if (state == MTA_RCPT_DELIVERED)
    q->st.rcpt_delivered++;
  else
    q->st.rcpt_bounced++;
}

static bool msg_needs_dsn(const mta_msg *m) {
  if (!*mta_queue_msg_sender(m))
    return false;
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (m->rcpts[i].state == MTA_RCPT_BOUNCED && !(m->rcpts[i].flags & MTA_RCPT_F_REPORTED))
      return true;
  return false;
}

/* Moves M to the ledger if it is finished; returns whether it left. */
static bool maybe_retire(mta_queue *q, mta_msg *m) {
  if (m->in_attempt)
    return false;
  ledger_ent e = {m->qid, 0, 0, m->dsn_qid, m->dsn_of, *mta_queue_msg_sender(m) ? 0 : LEDGER_F_NULL_SENDER};
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    const mta_rcpt *r = &m->rcpts[i];
    if (!rcpt_final(r))
      return false;
    if (r->state == MTA_RCPT_DELIVERED)
      e.delivered++;
    else
      e.bounced++;
  }
  if (msg_needs_dsn(m))
    return false;
  if (e.bounced && !*mta_queue_msg_sender(m))
    q->st.dsn_suppressed += e.bounced;
  g_array_append_val(q->ledger, e);
  heap_remove(q, m);
  q->str_bytes -= msg_str_bytes(m);
  q->st.queued--;
  q->st.queued_bytes -= m->size;
  q->st.done++;
  msg_remove(q, m);
  return true;
}

static void bounce_unfinished(mta_queue *q, mta_msg *m, const char *why, int64_t now) {
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    if (rcpt_final(r))
      continue;
    r->flags &= (uint8_t)~MTA_RCPT_F_INFLIGHT;
    /* Keep the last deferral's reason and status (Postfix reports an
     * expired recipient with it); RFC 3463 X.4.7 "delivery time expired"
     * when there was none. */
    const char *text = mta_rcpt_text(r), *esc = mta_rcpt_esc(r);
    rcpt_set_reply(q, r, mta_rcpt_code(r), *esc ? esc : "4.4.7", text ? text : why,
                   mta_rcpt_remote_mta(r), true);
    r->last_try = now;
    rcpt_finish(q, m, r, MTA_RCPT_BOUNCED);
  }
}

bool mta_queue_begin_attempt(mta_queue *q, uint32_t qid, const mta_retry_profile *p, int64_t now) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_begin_attempt");
  g_assert(!m->in_attempt);
  if (p && (m->expire_pending || mta_retry_expired(p, m->arrival, !*mta_queue_msg_sender(m), now))) {
    bounce_unfinished(q, m, "retry timeout exceeded", now);
    m->expire_pending = false;
    set_due(q, m, INT64_MAX);
    maybe_retire(q, m);
    return false;
  }
  m->in_attempt = true;
  m->attempts++;
  q->st.attempts++;
  set_due(q, m, INT64_MAX);
  return true;
}

void mta_queue_take(mta_queue *q, uint32_t qid, uint32_t i) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_take");
  g_assert(m->in_attempt && i < m->nrcpts);
  g_assert(!rcpt_final(&m->rcpts[i]) && !(m->rcpts[i].flags & MTA_RCPT_F_INFLIGHT));
  m->rcpts[i].flags |= MTA_RCPT_F_INFLIGHT;
}

void mta_queue_result(mta_queue *q, uint32_t qid, uint32_t i, const mta_queue_result_args *a,
                      int64_t now) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_result");
  g_assert(i < m->nrcpts && a);
  mta_rcpt *r = &m->rcpts[i];
  g_assert(!rcpt_final(r));
  r->flags &= (uint8_t)~MTA_RCPT_F_INFLIGHT;
  rcpt_set_reply(q, r, (uint16_t)(a->code > 0 && a->code < 1000 ? a->code : 0), a->esc, a->text,
                 a->remote_mta, a->state != MTA_RCPT_DELIVERED);
  r->last_try = now;
  if (r->attempts < UINT16_MAX)
    r->attempts++;
  switch (a->state) {
  case MTA_RCPT_DELIVERED:
  case MTA_RCPT_BOUNCED:
    rcpt_finish(q, m, r, a->state);
    break;
  case MTA_RCPT_DEFERRED:
    r->state = MTA_RCPT_DEFERRED;
    q->st.rcpt_deferred++;
    break;
  default:
    g_error("mta_queue_result: %s is not an outcome", mta_rcpt_state_name(a->state));
  }
}

void mta_queue_result_from_smtp(const smtp_cli_rcpt_result *r, const char *remote_mta,
                                mta_queue_result_args *out) {
  static const mta_rcpt_state map[] = {[SMTP_CLI_OK] = MTA_RCPT_DELIVERED,
                                       [SMTP_CLI_TEMP] = MTA_RCPT_DEFERRED,
                                       [SMTP_CLI_PERM] = MTA_RCPT_BOUNCED};
  g_assert((unsigned)r->status < G_N_ELEMENTS(map));
  *out = (mta_queue_result_args){map[r->status], r->code, r->esc, r->text,
                                 r->local ? NULL : remote_mta};
}

void mta_queue_end_attempt(mta_queue *q, uint32_t qid, const mta_retry_profile *p, int64_t now,
                           mta_queue_outcome *out) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_end_attempt");
  g_assert(m->in_attempt && p && out);
  m->in_attempt = false;
  memset(out, 0, sizeof *out);
  out->next = INT64_MAX;
  unsigned deferred = 0;
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    if (r->flags & MTA_RCPT_F_INFLIGHT)
      g_error("mta_queue_end_attempt: recipient %u of %u still in flight", i, qid);
    if (!rcpt_final(r))
      deferred++;
  }
  if (deferred) {
    mta_retry_state none = {0, 0}, *st = (mta_retry_state *)mta_queue_msg_retry(m);
    out->verdict = mta_retry_after_failure(p, st ? st : &none, m->arrival, m->attempts,
                                           !*mta_queue_msg_sender(m), now, &out->next);
    if (none.last_try || none.next_try)
      g_error("mta_queue_end_attempt: profile %s keeps a retry memory, message %u has no room "
              "(mta_queue_set_retry_room)",
              mta_retry_kind_name(p->kind), qid);
    if (out->verdict == MTA_RETRY_BOUNCE) {
      bounce_unfinished(q, m, "retry timeout exceeded", now);
      out->next = INT64_MAX;
    } else {
      m->expire_pending = out->verdict == MTA_RETRY_EXPIRE;
      for (uint32_t i = 0; i < m->nrcpts; i++)
        if (!rcpt_final(&m->rcpts[i]))
          m->rcpts[i].state = MTA_RCPT_DEFERRED; /* due again at m->due */
      set_due(q, m, out->next);
    }
  }
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    switch (m->rcpts[i].state) {
    case MTA_RCPT_DELIVERED:
      out->delivered++;
      break;
    case MTA_RCPT_BOUNCED:
      out->bounced++;
      break;
    default:
      out->deferred++;
    }
  }
  out->needs_dsn = msg_needs_dsn(m);
  out->done = maybe_retire(q, m);
}

bool mta_queue_needs_dsn(const mta_queue *q, uint32_t qid) {
  const mta_msg *m = mta_queue_get(q, qid);
  return m && msg_needs_dsn(m);
}

void mta_queue_dsn_queued(mta_queue *q, uint32_t qid, uint32_t dsn_qid) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_dsn_queued");
  g_assert(msg_needs_dsn(m) && dsn_qid != 0);
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (m->rcpts[i].state == MTA_RCPT_BOUNCED)
      m->rcpts[i].flags |= MTA_RCPT_F_REPORTED;
  m->dsn_qid = dsn_qid;
  maybe_retire(q, m);
}

bool mta_queue_warning_due(const mta_queue *q, uint32_t qid, const mta_retry_profile *p,
                           int64_t now) {
  const mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_warning_due");
  if (!*mta_queue_msg_sender(m) || now < mta_retry_warning_at(p, m->arrival, m->warnings))
    return false;
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (m->rcpts[i].state == MTA_RCPT_DEFERRED)
      return true;
  return false;
}

void mta_queue_warning_sent(mta_queue *q, uint32_t qid) {
  mta_msg *m = mta_queue__msg_get(q, qid, "mta_queue_warning_sent");
  if (m->warnings < UINT8_MAX)
    m->warnings++;
}

/* ---- destinations ---- */

static gint str_ptr_cmp(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t mta_queue_dests(const mta_queue *q, GPtrArray *names) {
  GPtrArray *tmp = g_ptr_array_new();
  for (guint i = 0; i < q->dests->len; i++) { /* sorted below */
    const dest_ent *d = DEST_AT(q, i);
    if (d->rcpts > 0)
      g_ptr_array_add(tmp, (gpointer)d->name);
  }
  g_ptr_array_sort(tmp, str_ptr_cmp);
  for (guint i = 0; i < tmp->len; i++)
    g_ptr_array_add(names, tmp->pdata[i]);
  size_t n = tmp->len;
  g_ptr_array_free(tmp, TRUE);
  return n;
}

size_t mta_queue_dest_ready(const mta_queue *q, const char *dest, int64_t now, bool any_time,
                            GArray *out) {
  dest_ent *d = dest_find(q, dest);
  if (!d || d->rcpts == 0)
    return 0;
  /* No per-destination list is kept: every message is looked at (this is
   * not on a host's hot path), then sorted by (due, qid). */
  GArray *found = g_array_new(FALSE, FALSE, sizeof(heap_ent));
  for (guint si = 0; si < q->slots->len; si++) {
    mta_msg *m = q->slots->pdata[si];
    if (!m)
      continue;
    bool mine = false;
    for (uint32_t i = 0; i < m->nrcpts && !mine; i++)
      mine = m->rcpts[i].dest == d->id && !rcpt_final(&m->rcpts[i]);
    int64_t due = m->in_attempt ? now : m->due;
    if (mine && (any_time || due <= now)) {
      heap_ent e = {due, m};
      g_array_append_val(found, e);
    }
  }
  g_array_sort(found, due_cmp);
  size_t n = 0;
  for (guint kk = 0; kk < found->len; kk++) {
    const mta_msg *m = g_array_index(found, heap_ent, kk).m;
    for (uint32_t i = 0; i < m->nrcpts; i++) {
      const mta_rcpt *r = &m->rcpts[i];
      if (r->dest == d->id && !rcpt_final(r) && !(r->flags & MTA_RCPT_F_INFLIGHT) &&
          !m->expire_pending) {
        mta_queue_ref ref = {m->qid, i};
        g_array_append_val(out, ref);
        n++;
      }
    }
  }
  g_array_free(found, TRUE);
  return n;
}

void mta_queue_get_stats(const mta_queue *q, mta_queue_stats *st) { *st = q->st; }

size_t mta_queue_memory(const mta_queue *q) {
  /* malloc keeps about 16 bytes of bookkeeping per block; a GHashTable
   * entry is a hash, a key and a value slot; a GTree node is five words. */
  const size_t blk = 16;
  size_t n = sizeof *q + q->heap->len * sizeof(uint32_t) + q->ledger->len * sizeof(ledger_ent);
  n += q->slots->len * sizeof(gpointer) + q->dests->len * sizeof(dest_ent);
  for (guint i = 0; i < q->slots->len; i++) {
    const mta_msg *m = q->slots->pdata[i];
    if (m)
      n += sizeof *m + m->nrcpts * sizeof(mta_rcpt) + blk + /* one block, strings below */
           (mta_queue_msg_retry(m) ? sizeof(mta_retry_state) : 0);
  }
  n += q->str_bytes;
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, q->texts->t);
  while (g_hash_table_iter_next(&it, &k, NULL)) {
    const mta_reply *r = k;
    n += sizeof *r + str_cost(r->text) + str_cost(r->remote_mta) + blk + sizeof(guint) +
         sizeof(gpointer);
  }
  n += q->dest_cap * sizeof(uint32_t);
  for (guint i = 0; i < q->dests->len; i++)
    n += strlen(DEST_AT(q, i)->name) + 1;
  return n;
}

/* ---- invariant ---- */

gint mta_queue__u32_cmp(gconstpointer a, gconstpointer b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static gint ledger_cmp(gconstpointer a, gconstpointer b) {
  const ledger_ent *x = a, *y = b;
  return x->qid < y->qid ? -1 : x->qid > y->qid;
}

static void violation(GPtrArray *v, size_t *count, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void violation(GPtrArray *v, size_t *count, const char *fmt, ...) {
  (*count)++;
  if (!v)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_ptr_array_add(v, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

/* Checks one qid known to the queue or its ledger; false when unknown. */
static bool check_one(const mta_queue *q, GArray *led, uint32_t qid, GPtrArray *violations,
                      size_t *count) {
  const mta_msg *m = mta_queue_get(q, qid);
  if (m) {
    if (!m->in_attempt && m->due == INT64_MAX && !msg_needs_dsn(m))
      violation(violations, count, "message %u: queued but neither due nor waiting for a DSN", qid);
    return true;
  }
  ledger_ent key = {.qid = qid};
  guint idx;
  if (!g_array_binary_search(led, &key, ledger_cmp, &idx))
    return false;
  const ledger_ent *e = &g_array_index(led, ledger_ent, idx);
  if (e->flags & LEDGER_F_WITHDRAWN)
    return true;
  if (e->bounced && !(e->flags & LEDGER_F_NULL_SENDER) && e->dsn_qid == 0)
    violation(violations, count, "message %u: %u recipient(s) bounced without a DSN", qid,
              e->bounced);
  if (e->dsn_qid && (e->flags & LEDGER_F_NULL_SENDER))
    violation(violations, count, "message %u: a DSN about a null-sender message", qid);
  return true;
}

size_t mta_queue_check(const mta_queue *q, const uint32_t *accepted, size_t n,
                       GPtrArray *violations) {
  size_t count = 0;
  GArray *led = g_array_sized_new(FALSE, FALSE, sizeof(ledger_ent), q->ledger->len);
  g_array_append_vals(led, q->ledger->data, q->ledger->len);
  g_array_sort(led, ledger_cmp);
  if (accepted) {
    for (size_t k = 0; k < n; k++)
      if (!check_one(q, led, accepted[k], violations, &count))
        violation(violations, &count, "message %u: accepted, then lost", accepted[k]);
  } else {
    /* Every id below the counter was issued: walk the known ones in order
     * and report each gap once, as a range. */
    GArray *known = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    for (guint i = 0; i < q->slots->len; i++)
      if (q->slots->pdata[i]) {
        uint32_t id = ((const mta_msg *)q->slots->pdata[i])->qid;
        g_array_append_val(known, id);
      }
    for (guint i = 0; i < led->len; i++)
      g_array_append_val(known, g_array_index(led, ledger_ent, i).qid);
    g_array_sort(known, mta_queue__u32_cmp);
    uint32_t expect = 1;
    for (guint i = 0; i < known->len; i++) {
      uint32_t id = g_array_index(known, uint32_t, i);
      if (id < expect) /* a duplicate */
        continue;
      if (id > expect)
        violation(violations, &count,
                  id - 1 == expect ? "message %u: accepted, then lost"
                                   : "messages %u-%u: accepted, then lost",
                  expect, id - 1);
      check_one(q, led, id, violations, &count);
      expect = id + 1;
    }
    if (q->next_qid > expect)
      violation(violations, &count,
                q->next_qid - 1 == expect ? "message %u: accepted, then lost"
                                          : "messages %u-%u: accepted, then lost",
                expect, q->next_qid - 1);
    g_array_free(known, TRUE);
  }
  /* A DSN about a DSN anywhere in the queue or the ledger. */
  for (guint i = 0; i < led->len; i++) {
    const ledger_ent *e = &g_array_index(led, ledger_ent, i);
    if (e->dsn_of && e->dsn_qid)
      violation(violations, &count, "message %u: a DSN (about %u) was bounced to its sender",
                e->qid, e->dsn_of);
  }
  g_array_free(led, TRUE);
  return count;
}
