/* trace_units.c — the trace checker's queue entries, compact (see
 * trace_units.h for the layout and trace_check.c for what they mean).
 * Lookups are by (node, queue id) and by message id, through tables of
 * unit indexes; a message id is hashed as text (a lookup packs nothing)
 * and compared against its packed form. No RFC rule is decided here: the
 * recipients' case-insensitive match is the checker's (RFC 5321 §2.4).
 */
#include "trace_units.h"

#include <string.h>

#include "trace_msgid.h"

G_STATIC_ASSERT(sizeof(trace_unit) == 40);
G_STATIC_ASSERT(TRACE_UNITS_NO_ADDR == TRACE_ATOMS_MAX); /* atom ids stay below it */

#define CHUNK (1u << TRACE_UNITS_SHIFT)
#define WHAT "trace_check"

static guint pol_hash(gconstpointer a) {
  const trace_unit_pol *p = a;
  uint64_t h = (uint64_t)p->lifetime * 0x9E3779B97F4A7C15u ^
               (uint64_t)p->gap * 0xC2B2AE3D27D4EB4Fu ^ (uint64_t)p->max_hops;
  return (guint)(h ^ (h >> 32));
}

static gboolean pol_equal(gconstpointer a, gconstpointer b) {
  const trace_unit_pol *x = a, *y = b;
  return x->lifetime == y->lifetime && x->gap == y->gap && x->max_hops == y->max_hops;
}

void trace_units_init(trace_units *us) {
  memset(us, 0, sizeof *us);
  trace_store_init(&us->mem, 16 * 1024, WHAT);
  us->chunks = g_ptr_array_new_with_free_func(g_free);
  trace_store_tab_init(&us->by_qid);
  trace_store_tab_init(&us->msgs);
  us->wide_hops = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  us->wide_ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  us->wide_nodes = g_hash_table_new(g_direct_hash, g_direct_equal);
  us->wide_pols = g_hash_table_new(g_direct_hash, g_direct_equal);
  us->key = g_byte_array_new();
  us->msg_text = g_string_new(NULL);
  trace_atoms_init(&us->nodes);
  trace_atoms_init(&us->addrs);
  us->pols = g_ptr_array_new_with_free_func(g_free);
  us->pol_idx = g_hash_table_new(pol_hash, pol_equal);
  trace_unit_pol *none = g_new(trace_unit_pol, 1);
  none->lifetime = none->gap = none->max_hops = -1;
  g_ptr_array_add(us->pols, none);
  g_hash_table_insert(us->pol_idx, none, GUINT_TO_POINTER(1));
}

void trace_units_clear(trace_units *us) {
  trace_store_tab_clear(&us->msgs);
  trace_store_tab_clear(&us->by_qid);
  g_hash_table_unref(us->wide_hops);
  g_array_unref(us->wide_ids);
  g_hash_table_unref(us->wide_nodes);
  g_hash_table_unref(us->wide_pols);
  g_byte_array_unref(us->key);
  g_string_free(us->msg_text, TRUE);
  g_hash_table_unref(us->pol_idx);
  g_ptr_array_unref(us->pols);
  trace_atoms_clear(&us->nodes);
  trace_atoms_clear(&us->addrs);
  trace_store_clear(&us->mem);
  g_ptr_array_unref(us->chunks);
  memset(us, 0, sizeof *us);
}

const char *trace_units_msg(trace_units *us, const trace_unit *u) {
  size_t n;
  const uint8_t *k = trace_msgid_key(&us->mem, u->msg, &n);
  trace_msgid_unpack(us->msg_text, k, n);
  return us->msg_text->str;
}

const char *trace_units_qid(const trace_units *us, const trace_unit *u,
                            char buf[TRACE_UNIT_QID_INLINE + 1]) {
  if (u->flags & TRACE_UNIT_LONG_QID) {
    uint32_t ref;
    memcpy(&ref, u->qid, sizeof ref);
    return trace_store_at(&us->mem, ref);
  }
  memcpy(buf, u->qid, TRACE_UNIT_QID_INLINE);
  buf[TRACE_UNIT_QID_INLINE] = '\0';
  return buf;
}

static bool qid_eq(const trace_units *us, const trace_unit *u, const char *queue_id) {
  if (u->flags & TRACE_UNIT_LONG_QID) {
    char unused[TRACE_UNIT_QID_INLINE + 1];
    return strcmp(trace_units_qid(us, u, unused), queue_id) == 0;
  }
  for (size_t i = 0; i < TRACE_UNIT_QID_INLINE; i++) { /* the unit's octets, NUL-padded */
    if (u->qid[i] != queue_id[i])
      return false;
    if (!queue_id[i])
      return true;
  }
  return queue_id[TRACE_UNIT_QID_INLINE] == '\0'; /* 7 octets, no NUL: QUEUE_ID ends there too */
}

void trace_units_set_hop(trace_units *us, trace_unit *u, int64_t hop) {
  if (hop >= -1 && hop < TRACE_UNITS_HOP_WIDE - 1) {
    if (u->hop == TRACE_UNITS_HOP_WIDE)
      g_hash_table_remove(us->wide_hops, u);
    u->hop = (uint8_t)(hop + 1);
    return;
  }
  int64_t *p = g_new(int64_t, 1);
  *p = hop;
  g_hash_table_replace(us->wide_hops, u, p);
  u->hop = TRACE_UNITS_HOP_WIDE;
}

void trace_units_set_pol(trace_units *us, trace_unit *u, int64_t lifetime, int64_t gap,
                         int64_t max_hops) {
  trace_unit_pol k = {lifetime, gap, max_hops};
  uint32_t idx;
  gpointer v = g_hash_table_lookup(us->pol_idx, &k);
  if (v) {
    idx = GPOINTER_TO_UINT(v) - 1;
  } else {
    trace_unit_pol *p = g_memdup2(&k, sizeof k);
    g_ptr_array_add(us->pols, p);
    g_hash_table_insert(us->pol_idx, p, GUINT_TO_POINTER(us->pols->len));
    idx = us->pols->len - 1;
  }
  if (idx < TRACE_UNITS_POL_WIDE) {
    if (u->pol == TRACE_UNITS_POL_WIDE)
      g_hash_table_remove(us->wide_pols, u);
    u->pol = (uint8_t)idx;
    return;
  }
  g_hash_table_replace(us->wide_pols, u, GUINT_TO_POINTER(idx));
  u->pol = TRACE_UNITS_POL_WIDE;
}

/* ---- the lookups ---- */

/* The hash of (NODE, the queue id's N octets). */
static uint32_t qid_hash(uint32_t node, const char *queue_id, size_t n) {
  return trace_store_hash(node, queue_id, n);
}

/* The hash of a message id's text (the packed form is not hashed). */
static uint32_t msg_hash(const char *msg) { return trace_store_hash(UINT64_MAX, msg, strlen(msg)); }

/* The by_qid slot of (NODE, QUEUE_ID) (H its hash): the one holding its
 * unit, or the free one where it would go. */
static uint32_t *qid_slot(const trace_units *us, uint32_t node, const char *queue_id, uint32_t h) {
  for (uint32_t i = h;; i++) {
    uint32_t *sl = trace_store_tab_slot(&us->by_qid, i);
    if (!*sl)
      return sl;
    const trace_unit *u = trace_units_at(us, *sl - 1);
    if (trace_units_node(us, u) == node && qid_eq(us, u, queue_id))
      return sl;
  }
}

/* The msgs slot of MSG: the one holding its first unit, or the free one
 * where it would go. */
static uint32_t *msg_slot(const trace_units *us, const char *msg) {
  for (uint32_t i = msg_hash(msg);; i++) {
    uint32_t *sl = trace_store_tab_slot(&us->msgs, i);
    if (!*sl)
      return sl;
    size_t n;
    const uint8_t *k = trace_msgid_key(&us->mem, trace_units_at(us, *sl - 1)->msg, &n);
    if (trace_msgid_eq(k, n, msg))
      return sl;
  }
}

static uint32_t qid_rehash(void *ctx, uint32_t v) {
  const trace_units *us = ctx;
  const trace_unit *u = trace_units_at(us, v - 1);
  if (u->flags & TRACE_UNIT_LONG_QID) {
    char unused[TRACE_UNIT_QID_INLINE + 1];
    const char *q = trace_units_qid(us, u, unused);
    return qid_hash(trace_units_node(us, u), q, strlen(q));
  }
  return qid_hash(trace_units_node(us, u), u->qid, strnlen(u->qid, TRACE_UNIT_QID_INLINE));
}

static uint32_t msg_rehash(void *ctx, uint32_t v) {
  trace_units *us = ctx;
  return msg_hash(trace_units_msg(us, trace_units_at(us, v - 1)));
}

trace_unit *trace_units_find(const trace_units *us, const char *node, const char *queue_id) {
  const trace_atom *n = trace_atoms_find(&us->nodes, node);
  if (!n)
    return NULL;
  const uint32_t *sl = qid_slot(us, n->id, queue_id, qid_hash(n->id, queue_id, strlen(queue_id)));
  return *sl ? trace_units_at(us, *sl - 1) : NULL;
}

trace_unit *trace_units_first(const trace_units *us, const char *msg, uint32_t node) {
  return trace_units_next(us, *msg_slot(us, msg), node);
}

trace_unit *trace_units_of(const trace_units *us, const char *node, const char *msg) {
  const trace_atom *n = trace_atoms_find(&us->nodes, node);
  return n ? trace_units_first(us, msg, n->id) : NULL;
}

trace_unit *trace_units_get(trace_units *us, const char *node, const char *queue_id,
                            const char *msg, int64_t t, uint64_t id) {
  const trace_atom *n = trace_atoms_find(&us->nodes, node);
  if (!n)
    n = trace_atoms_add(&us->nodes, node, TRACE_ATOMS_NONE);
  uint32_t qh = qid_hash(n->id, queue_id, strlen(queue_id));
  uint32_t *qsl = qid_slot(us, n->id, queue_id, qh);
  if (*qsl)
    return trace_units_at(us, *qsl - 1);
  if (us->n == UINT32_MAX - 1)
    g_error(WHAT ": %u queue entries", us->n); /* out of memory first */
  uint32_t idx = us->n++;
  if ((idx & (CHUNK - 1)) == 0)
    g_ptr_array_add(us->chunks, g_new(trace_unit, CHUNK));
  trace_unit *u = trace_units_at(us, idx);
  memset(u, 0, sizeof *u);
  memcpy(u->t, &t, sizeof t);
  u->id = trace_units_idref(us, id);
  if (n->id < TRACE_UNITS_NODE_WIDE) {
    u->node = (uint16_t)n->id;
  } else {
    u->node = TRACE_UNITS_NODE_WIDE;
    g_hash_table_insert(us->wide_nodes, u, GUINT_TO_POINTER(n->id));
  }
  u->r.addr = TRACE_UNITS_NO_ADDR;
  size_t qlen = strlen(queue_id) + 1;
  if (qlen <= TRACE_UNIT_QID_INLINE + 1) {
    memcpy(u->qid, queue_id, qlen - 1); /* the rest is 0 */
  } else {
    uint32_t ref;
    memcpy(trace_store_alloc(&us->mem, qlen, &ref), queue_id, qlen);
    memcpy(u->qid, &ref, sizeof ref);
    u->flags |= TRACE_UNIT_LONG_QID;
  }
  *qsl = idx + 1;
  trace_store_tab_added(&us->by_qid, qid_rehash, us, WHAT);
  uint32_t *msl = msg_slot(us, msg);
  if (*msl) { /* the message's last unit gets this one as its next */
    trace_unit *m = trace_units_at(us, *msl - 1);
    u->msg = m->msg;
    while (m->next)
      m = trace_units_at(us, m->next - 1);
    m->next = idx + 1;
  } else {
    trace_msgid_pack(us->key, msg);
    u->msg = trace_msgid_keep(&us->mem, us->key->data, us->key->len);
    *msl = idx + 1;
    trace_store_tab_added(&us->msgs, msg_rehash, us, WHAT);
  }
  return u;
}

/* ---- recipients ---- */

/* A unit's only recipient is in the unit; more go to an exact-size array
 * in the store, replaced by a new one when more come (the old one is left
 * there: a unit rarely gains recipients twice). */
void trace_units_add_rcpts(trace_units *us, trace_unit *u, const cJSON *arr) {
  const cJSON *it;
  uint32_t add[16], nadd = 0, more = 0;
  GArray *big = NULL; /* past 16 new ones */
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it))
      continue;
    const trace_atom *a = trace_atoms_get(&us->addrs, it->valuestring);
    if (trace_units_rcpt_fold(us, u, a->fold))
      continue;
    bool dup = false;
    for (uint32_t i = 0; i < nadd + more && !dup; i++) {
      uint32_t id = i < nadd ? add[i] : g_array_index(big, uint32_t, i - nadd);
      dup = trace_atoms_at(&us->addrs, id)->fold == a->fold;
    }
    if (dup)
      continue;
    if (nadd < G_N_ELEMENTS(add)) {
      add[nadd++] = a->id;
    } else {
      if (!big)
        big = g_array_new(FALSE, FALSE, sizeof(uint32_t));
      g_array_append_val(big, a->id);
      more++;
    }
  }
  if (nadd == 0)
    return;
  uint32_t old = trace_units_nrcpts(u), n = old + nadd + more;
  if (n == 1) {
    u->r.addr = add[0];
    return;
  }
  uint32_t ref;
  trace_unit_rcpt *r = trace_store_alloc(&us->mem, n * sizeof *r, &ref);
  memcpy(r, trace_units_rcpts(us, u), old * sizeof *r);
  for (uint32_t i = 0; i < nadd + more; i++)
    r[old + i] = (trace_unit_rcpt){0, i < nadd ? add[i] : g_array_index(big, uint32_t, i - nadd)};
  u->r.resolved = n;
  u->r.addr = ref;
  u->flags |= TRACE_UNIT_MANY;
  if (big)
    g_array_free(big, TRUE);
}
