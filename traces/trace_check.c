/* trace_check.c — the mail invariants over trace records (see trace_check.h
 * and CHECK.md).
 *
 * The unit of custody is a queue entry: (node, queue_id), created by the
 * record of the 250 that accepted it (msg.submit, msg.relay naming the node
 * as "to") or by its msg.queue (a DSN the node wrote itself). Each of its
 * recipients stays open until the node passes it on (a msg.relay "from"
 * the node: the next host said 250, RFC 5321 §6.1 hands responsibility
 * over), stores it (msg.deliver) or bounces it (msg.bounce). A recipient
 * still open when the entry leaves the queue (msg.expire) was lost; one
 * open at the end of the run must still be queued. Relays carry the
 * receiver's queue id only, so a relay from a node resolves that node's
 * oldest open entry of the message holding the recipient; a second relay
 * (a retry after a crash, a duplicate, RFC 1047) finds nothing to resolve
 * and is not an error.
 *
 * Lookups use hash tables; everything that reaches the output is walked in
 * arrays, in the order the records came, so the report is deterministic.
 *
 * Memory (issue #6: every unit is kept to the end, so the checker grows
 * with the mail): a unit is 48 octets of fixed size, in chunks of 256,
 * named by its index and walked in creation order at the end; node names
 * and recipient addresses are interned once (atoms) and named by small
 * integer ids; a message's id is kept once for all its units (which link
 * on by index in creation order) and, with queue ids of 8 octets or more
 * and the arrays of units with several recipients, in a store of 16 KiB
 * blocks named by 32-bit references (no malloc header and rounding each);
 * a unit's only recipient (8 octets) is inside it. Event ids are 32-bit
 * (idref; the rare one past 2^31 is kept apart), hops a byte (likewise).
 * The lookups (by node and queue id, by message id) are open-addressing
 * arrays of unit indexes, 4 octets a slot. Nothing here depends on a
 * trace's sizes: every compact field has its way out for what does not
 * fit.
 */
#include <stddef.h>
#include "trace_check.h"

#include <inttypes.h>
#include <string.h>

#include "trace_read.h"
#include "trace_rec.h"
#include "trace_rec_int.h"
#include "trace_time.h"

static const char *const inv_names[TRACE_CHECK__COUNT] = {
    "no-loss",       "bounce-of-bounce", "delivery-after-bounce",
    "wrong-mailbox", "uid-order",        "lifetime",
    "hop-limit",     "liveness"};

const char *trace_check_invariant_name(trace_check_invariant inv) {
  g_assert((unsigned)inv < TRACE_CHECK__COUNT);
  return inv_names[inv];
}

/* An event id as the checker keeps it (idref): the id itself below 2^31,
 * else IDREF_WIDE | its index in tc->wide_ids. 0 is id 0. */
#define IDREF_WIDE (UINT32_C(1) << 31)

/* A recipient of a unit (8 octets). */
typedef struct {
  uint32_t resolved; /* idref of the event that resolved it, 0 = open */
  uint32_t addr;     /* atom id of the address as this entry spelt it; RELAYED */
} rcpt_st;
#define RELAYED (UINT32_C(1) << 31) /* in rcpt_st.addr: resolved by a msg.relay (passed on) */

/* An interned string: ID indexes its table's array; FOLD is the id of its
 * ASCII lower-case form (itself if already lower case), so two addresses
 * equal under g_ascii_strcasecmp have the same FOLD. */
typedef struct {
  uint32_t id, fold;
  char s[];
} atom;

typedef struct {
  GHashTable *by_str; /* set of atom.s (lookup only) */
  GPtrArray *all;     /* atom*, by id */
} atoms;

/* What a msg.queue record says of the queue's policy for the message:
 * the same for every message of a node's profile, so each distinct one is
 * kept once (tc->pols) and a unit holds its index. */
typedef struct {
  int64_t lifetime, gap, max_hops; /* -1 unknown */
} pol;

/* The unit's flags. */
enum {
  U_MANY = 1 << 0,         /* several recipients: r.resolved their count, r.addr their array */
  U_SENDER_KNOWN = 1 << 1, /* a msg.queue named the sender ... */
  U_SENDER = 1 << 2,       /* ... and it was not the null path */
  U_QUEUED = 1 << 3,       /* a msg.queue was seen */
  U_EXPIRED = 1 << 4,
  U_LIFETIME_FLAGGED = 1 << 5,
  U_LONG_QID = 1 << 6, /* the queue id is in tc->mem (its reference in qid) */
  U_HELD = 1 << 7,     /* its node's queue holds it at the end (trace_check_end_queue) */
};
#define NO_ADDR (RELAYED - 1) /* r.addr of a unit without recipients */
#define HOP_WIDE UINT8_MAX /* a hop below -1 or over 253: in tc->wide_hops */
#define NODE_WIDE UINT16_MAX /* a node id of 65535 or more: in tc->wide_nodes */
#define POL_WIDE UINT8_MAX   /* a policy index of 255 or more: in tc->wide_pols */
#define QID_INLINE 7         /* a queue id of up to 7 octets is in the unit */

/* One queue entry (see the top). Memory (issue #6): 40 octets, fixed size,
 * in chunks of UNIT_CHUNK (walked by index in creation order at the end);
 * the message id and a queue id of 8 octets or more live in tc->mem, named
 * by 32-bit references; event ids are idrefs; node ids, policy indexes
 * and hops that do not fit their field are kept apart (wide_*). */
typedef struct {
  uint32_t t[2];   /* the time (int64_t, copied: the unit is 4-aligned) */
  uint32_t id;     /* idref of the record that created it */
  uint32_t msg;    /* reference of the message id in tc->mem */
  uint32_t next;   /* the next unit of the same message (index + 1, 0 none) */
  rcpt_st r;       /* the only recipient (r.addr NO_ADDR: none), or U_MANY */
  uint16_t node;   /* atom id in nodes, NODE_WIDE: tc->wide_nodes */
  uint8_t pol;     /* index in tc->pols (0: nothing known, all -1), POL_WIDE: tc->wide_pols */
  uint8_t hop;     /* the hop + 1, 0 unknown, HOP_WIDE: tc->wide_hops */
  uint8_t flags;   /* U_* */
  char qid[QID_INLINE]; /* the queue id, NUL-padded (no NUL if 7 octets); else U_LONG_QID */
} unit;

G_STATIC_ASSERT(sizeof(unit) == 40);

#define UNIT_SHIFT 8 /* 256 units a chunk (10 KiB) */
#define UNIT_CHUNK (1u << UNIT_SHIFT)

#define CONTAINER(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

typedef struct {
  uint64_t id;
  char *node;
} bounce_st;

static void bounce_st_free(void *p) {
  bounce_st *b = p;
  g_free(b->node);
  g_free(b);
}

typedef struct {
  uint32_t uidvalidity, uid;
  uint64_t id;
} uid_st;

/* Faults with records of their own that stay in force until their closing
 * record, by key. Every other kind opens with fault.start and closes with
 * fault.end (kind and target or hosts); their acts (fault.reply,
 * fault.dns, fault.cut, fault.tarpit, fault.link_params) count only as
 * "the last fault". */
static const struct {
  const char *down, *up, *key;
} fault_pairs[] = {
    {"fault.link_down", "fault.link_up", "link"},
    {"fault.crash", "fault.restart", "node"},
};

/* A bump allocator whose blocks are freed only with the checker; what it
 * gives is named by a 32-bit reference: block << STORE_SLOT_BITS | the
 * 8-octet slot in it. */
#define STORE_BLOCK (16 * 1024)
#define STORE_SLOT_BITS 11 /* STORE_BLOCK / 8 slots a block */
#define STORE_MAX_BLOCKS (UINT32_C(1) << (32 - STORE_SLOT_BITS)) /* 32 GiB */

typedef struct {
  GPtrArray *blocks; /* owned */
  uint32_t open;     /* the block small requests are carved from */
  char *p;           /* its free part */
  size_t left;
} store;

static void *store_at(const store *st, uint32_t ref) {
  return (char *)st->blocks->pdata[ref >> STORE_SLOT_BITS] +
         (size_t)(ref & ((1u << STORE_SLOT_BITS) - 1)) * 8;
}

/* N octets (rounded up to 8), their reference in *REF. */
static void *store_alloc(store *st, size_t n, uint32_t *ref) {
  n = (n + 7) & ~(size_t)7;
  bool big = n > STORE_BLOCK / 4; /* a block of its own */
  if (big || n > st->left) {
    if (st->blocks->len >= STORE_MAX_BLOCKS)
      g_error("trace_check: %u blocks of 16 KiB", st->blocks->len); /* out of memory */
    char *b = g_malloc(big ? n : STORE_BLOCK);
    g_ptr_array_add(st->blocks, b);
    if (big) {
      *ref = (st->blocks->len - 1) << STORE_SLOT_BITS;
      return b;
    }
    st->open = st->blocks->len - 1;
    st->p = b;
    st->left = STORE_BLOCK;
  }
  *ref = st->open << STORE_SLOT_BITS |
         (uint32_t)((size_t)(st->p - (char *)st->blocks->pdata[st->open]) / 8);
  void *r = st->p;
  st->p += n;
  st->left -= n;
  return r;
}

/* A lookup table of 32-bit values (0 = free), open addressing with linear
 * probing, at most 3/4 full: 4 octets a slot (a GHashTable set costs 12,
 * with its hash array, and its slots are as many). The caller hashes and
 * compares; the table never reaches the output. */
typedef struct {
  uint32_t *slots;
  uint32_t cap, n; /* cap a power of two */
} tab;

static void tab_init(tab *tb) {
  tb->cap = 64;
  tb->n = 0;
  tb->slots = g_new0(uint32_t, tb->cap);
}

/* A hash of the N octets at S from SEED, eight at a time (the words'
 * byte order makes it the machine's own: it only places entries). */
static uint32_t hash_mem(uint64_t seed, const char *s, size_t n) {
  uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15u);
  for (; n >= 8; s += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdu;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  if (n) /* S may be NULL when N is 0 */
    memcpy(&w, s, n);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdu;
  return (uint32_t)(h ^ (h >> 32));
}

struct trace_check {
  store mem;             /* message ids, long queue ids, recipient arrays */
  GPtrArray *chunks;     /* unit[UNIT_CHUNK] each: the units, in creation order */
  uint32_t nunits;
  tab by_qid;            /* unit index + 1, by (node, queue id) */
  tab msgs;              /* index + 1 of each message's first unit, by message id */
  GHashTable *wide_hops; /* unit* -> int64_t* (a hop HOP_WIDE stands for) */
  GArray *wide_ids;      /* uint64_t: the event ids idrefs name by index */
  GHashTable *wide_nodes; /* unit* -> node id (NODE_WIDE) */
  GHashTable *wide_pols;  /* unit* -> policy index (POL_WIDE) */
  GByteArray *key;        /* a message id packed for a lookup (reused) */
  GString *msg_text;      /* msg_of's text (reused) */
  atoms nodes, addrs;
  GPtrArray *pols;       /* pol*, distinct; [0] all unknown */
  GHashTable *pol_idx;   /* pol* -> index + 1 (lookup only) */
  GHashTable *bounced;   /* "msg\nrcpt" (rcpt lower case) -> event id (first) */
  GHashTable *cut;       /* "msg\nrcpt" (rcpt lower case) -> bounce_st of the first fault.cut */
  GHashTable *uids;      /* "node\nmailbox\nfolder" -> uid_st* */
  GHashTable *roles;     /* node -> role (from the header) */
  GHashTable *down;      /* "pair\nkey" -> fault record id (in force) */
  GPtrArray *down_order; /* the keys of down, in the order they went down */
  GHashTable *restarted; /* node -> time of its last restart (int64 boxed) */
  int64_t last_fault;    /* time of the last fault.* record, -1 none */
  int64_t last_t;
  GPtrArray *viol;     /* trace_check_violation* */
  GPtrArray *reported; /* the end record's violations, or NULL */
  GHashTable *held;    /* "node\nqueue_id" held at the end with no unit then (set) */
  bool held_known;
  char *liveness_note;
  uint64_t accepted;
  bool finished;
  trace_rec *rec; /* trace_check_feed_line's record, reused */
  GString *line;  /* its NUL-terminated copy of the line */
};

static void atoms_init(atoms *a) {
  a->by_str = g_hash_table_new(g_str_hash, g_str_equal);
  a->all = g_ptr_array_new_with_free_func(g_free);
}

static void atoms_clear(atoms *a) {
  g_hash_table_unref(a->by_str);
  g_ptr_array_unref(a->all);
}

static const atom *atom_find(const atoms *a, const char *s) {
  const char *k = g_hash_table_lookup(a->by_str, s);
  return k ? CONTAINER(k, atom, s) : NULL;
}

static const atom *atom_add(atoms *a, const char *s, uint32_t fold_of_new) {
  if (a->all->len >= NO_ADDR) /* the ids below RELAYED and NO_ADDR */
    g_error("trace_check: %u names", a->all->len); /* out of memory first */
  size_t n = strlen(s) + 1;
  atom *at = g_malloc(sizeof *at + n);
  memcpy(at->s, s, n);
  at->id = at->fold = a->all->len;
  if (fold_of_new != UINT32_MAX)
    at->fold = fold_of_new;
  g_ptr_array_add(a->all, at);
  g_hash_table_add(a->by_str, at->s);
  return at;
}

/* S's atom, made (with its lower-case form's) if new. */
static const atom *atom_get(atoms *a, const char *s) {
  const atom *at = atom_find(a, s);
  if (at)
    return at;
  uint32_t fold = UINT32_MAX;
  for (const char *p = s; *p; p++)
    if (g_ascii_isupper(*p)) {
      char *low = g_ascii_strdown(s, -1);
      fold = atom_get(a, low)->fold;
      g_free(low);
      break;
    }
  return atom_add(a, s, fold);
}

static const char *atom_str(const atoms *a, uint32_t id) {
  return ((const atom *)a->all->pdata[id])->s;
}

/* The fold of S if any atom has it, else UINT32_MAX (nothing matches). */
static uint32_t addr_fold(const trace_check *tc, const char *s) {
  const atom *at = atom_find(&tc->addrs, s);
  if (at)
    return at->fold;
  for (const char *p = s; *p; p++)
    if (g_ascii_isupper(*p)) {
      char *low = g_ascii_strdown(s, -1);
      at = atom_find(&tc->addrs, low);
      g_free(low);
      return at ? at->fold : UINT32_MAX;
    }
  return UINT32_MAX;
}

static guint pol_hash(gconstpointer a) {
  const pol *p = a;
  uint64_t h = (uint64_t)p->lifetime * 0x9E3779B97F4A7C15u ^ (uint64_t)p->gap * 0xC2B2AE3D27D4EB4Fu ^
               (uint64_t)p->max_hops;
  return (guint)(h ^ (h >> 32));
}

static gboolean pol_equal(gconstpointer a, gconstpointer b) {
  const pol *x = a, *y = b;
  return x->lifetime == y->lifetime && x->gap == y->gap && x->max_hops == y->max_hops;
}


static void viol_free(void *p) {
  trace_check_violation *v = p;
  g_free(v->msg);
  g_free(v->hosts);
  g_free(v->text);
  g_free(v);
}

trace_check *trace_check_new(void) {
  trace_check *tc = g_new0(trace_check, 1);
  tc->mem.blocks = g_ptr_array_new_with_free_func(g_free);
  tc->chunks = g_ptr_array_new_with_free_func(g_free);
  tab_init(&tc->by_qid);
  tab_init(&tc->msgs);
  tc->wide_hops = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  tc->wide_ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  tc->wide_nodes = g_hash_table_new(g_direct_hash, g_direct_equal);
  tc->wide_pols = g_hash_table_new(g_direct_hash, g_direct_equal);
  tc->key = g_byte_array_new();
  tc->msg_text = g_string_new(NULL);
  atoms_init(&tc->nodes);
  atoms_init(&tc->addrs);
  tc->pols = g_ptr_array_new_with_free_func(g_free);
  tc->pol_idx = g_hash_table_new(pol_hash, pol_equal);
  pol *none = g_new(pol, 1);
  none->lifetime = none->gap = none->max_hops = -1;
  g_ptr_array_add(tc->pols, none);
  g_hash_table_insert(tc->pol_idx, none, GUINT_TO_POINTER(1));
  tc->bounced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bounce_st_free);
  tc->cut = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, bounce_st_free);
  tc->uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->roles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->down = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->down_order = g_ptr_array_new_with_free_func(g_free);
  tc->restarted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  tc->viol = g_ptr_array_new_with_free_func(viol_free);
  tc->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  tc->last_fault = -1;
  tc->rec = trace_rec__new();
  tc->line = g_string_new(NULL);
  return tc;
}

void trace_check_free(trace_check *tc) {
  if (!tc)
    return;
  g_free(tc->msgs.slots);
  g_free(tc->by_qid.slots);
  g_hash_table_unref(tc->wide_hops);
  g_array_unref(tc->wide_ids);
  g_hash_table_unref(tc->wide_nodes);
  g_hash_table_unref(tc->wide_pols);
  g_byte_array_unref(tc->key);
  g_string_free(tc->msg_text, TRUE);
  g_hash_table_unref(tc->pol_idx);
  g_ptr_array_unref(tc->pols);
  g_hash_table_unref(tc->bounced);
  g_hash_table_unref(tc->cut);
  g_hash_table_unref(tc->uids);
  g_hash_table_unref(tc->roles);
  g_hash_table_unref(tc->down);
  g_ptr_array_unref(tc->down_order);
  g_hash_table_unref(tc->restarted);

  atoms_clear(&tc->nodes);
  atoms_clear(&tc->addrs);
  g_ptr_array_unref(tc->viol);
  g_hash_table_unref(tc->held);
  if (tc->reported)
    g_ptr_array_unref(tc->reported);
  g_free(tc->liveness_note);
  trace_rec__free(tc->rec);
  g_string_free(tc->line, TRUE);
  g_ptr_array_unref(tc->mem.blocks);
  g_ptr_array_unref(tc->chunks);
  g_free(tc);
}

/* ---- reporting ---- */

static void report(trace_check *tc, trace_check_invariant inv, const char *msg, const char *hosts,
                   const uint64_t *ids, unsigned nids, const char *fmt, ...) G_GNUC_PRINTF(7, 8);

static void report(trace_check *tc, trace_check_invariant inv, const char *msg, const char *hosts,
                   const uint64_t *ids, unsigned nids, const char *fmt, ...) {
  trace_check_violation *v = g_new0(trace_check_violation, 1);
  v->inv = inv;
  v->msg = g_strdup(msg ? msg : "");
  v->hosts = g_strdup(hosts ? hosts : "");
  for (unsigned i = 0; i < nids && i < TRACE_CHECK_MAX_IDS; i++)
    if (ids[i])
      v->ids[v->nids++] = ids[i];
  va_list ap;
  va_start(ap, fmt);
  char *body = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  v->text = g_strdup_printf("%s: %s", inv_names[inv], body);
  g_free(body);
  g_ptr_array_add(tc->viol, v);
}

static char *hosts2(const char *a, const char *b) {
  return strcmp(a, b) == 0 ? g_strdup(a) : g_strdup_printf("%s,%s", a, b);
}

/* ---- record helpers ---- */

/* A record as the checker reads it: indexed by trace_rec (the tap's and
 * check-trace's fast path, no tree) or a cJSON tree (trace_check_feed, and
 * a line the scanner declines). The getters mean the same on both. */
typedef struct {
  const trace_rec *rec; /* or NULL: use tree */
  const cJSON *tree;
} rd;

static const char *str(const rd *r, const char *key) {
  return r->rec ? trace_rec_str(r->rec, key) : trace_get_str(r->tree, key);
}

static bool get_int(const rd *r, const char *key, int64_t *out) {
  return r->rec ? trace_rec_int(r->rec, key, out) : trace_get_int(r->tree, key, out);
}

static int64_t int_or(const rd *r, const char *key, int64_t dflt) {
  int64_t v;
  return get_int(r, key, &v) ? v : dflt;
}

static uint64_t rec_id(const rd *r) {
  uint64_t v = 0;
  if (r->rec)
    trace_rec_uint(r->rec, "id", &v);
  else
    trace_get_uint(r->tree, "id", &v);
  return v;
}

static const cJSON *item(const rd *r, const char *key) {
  return r->rec ? trace_rec_json(r->rec, key) : cJSON_GetObjectItemCaseSensitive(r->tree, key);
}

static char *key2(const char *a, const char *b) { return g_strconcat(a, "\n", b, NULL); }

static char *bounce_key(const char *msg, const char *rcpt) {
  char *low = g_ascii_strdown(rcpt, -1);
  char *k = key2(msg, low);
  g_free(low);
  return k;
}

/* ---- units ---- */

static unit *unit_at(const trace_check *tc, uint32_t i) {
  return (unit *)tc->chunks->pdata[i >> UNIT_SHIFT] + (i & (UNIT_CHUNK - 1));
}

/* ---- message ids, packed ----
 * A unit's message id is kept packed (issue #6: 31 -> 24 octets for this
 * simulator's ids; UUIDs and hashes alike): a run of 4 to 127 lowercase
 * hex digits is 0x80 | its length, then its digits two to an octet (the
 * first in the high nibble); an octet of 0x80 or more is 0x80 and itself;
 * any other octet is itself. Packing is a function of the text and
 * unpacking undoes it exactly, so two ids are equal exactly when their
 * packed forms are. In the store: the packed length (an octet below 255,
 * else 255 and four octets), then the packed octets. */
#define PACK_RUN_MIN 4
#define PACK_RUN_MAX 127

static const char pack_digits[] = "0123456789abcdef";

static int hex_val(char c) {
  unsigned d = (unsigned)(unsigned char)c - '0', a = (unsigned)(unsigned char)c - 'a';
  return d < 10 ? (int)d : a < 6 ? (int)a + 10 : -1;
}

/* S packed into OUT (replacing what it held). */
static void pack_id(GByteArray *out, const char *s) {
  g_byte_array_set_size(out, (guint)(2 * strlen(s)));
  if (!*s) /* no octets: out->data may be NULL */
    return;
  uint8_t *p = out->data;
  while (*s) {
    size_t run = 0;
    while (run < PACK_RUN_MAX && hex_val(s[run]) >= 0)
      run++;
    if (run >= PACK_RUN_MIN) {
      *p++ = (uint8_t)(0x80 | run);
      for (size_t i = 0; i < run; i += 2)
        *p++ = (uint8_t)(hex_val(s[i]) << 4 | (i + 1 < run ? hex_val(s[i + 1]) : 0));
      s += run;
      continue;
    }
    for (; run; run--) /* a short run: its digits as they are */
      *p++ = (uint8_t)*s++;
    if (!*s)
      break;
    uint8_t c = (uint8_t)*s++; /* not a digit */
    if (c >= 0x80)
      *p++ = 0x80;
    *p++ = c;
  }
  g_byte_array_set_size(out, (guint)(p - out->data));
}

/* The N packed octets at P, unpacked into OUT (replacing what it held). */
static void unpack_id(GString *out, const uint8_t *p, size_t n) {
  const uint8_t *end = p + n;
  g_string_set_size(out, 2 * n); /* a packed octet is at most two */
  char *o = out->str;
  while (p < end) {
    uint8_t b = *p++;
    if (b < 0x80) {
      *o++ = (char)b;
    } else if (b == 0x80) {
      *o++ = (char)*p++;
    } else {
      size_t run = b & 0x7F;
      for (size_t i = 0; i + 1 < run; i += 2, p++) {
        *o++ = pack_digits[*p >> 4];
        *o++ = pack_digits[*p & 15];
      }
      if (run % 2)
        *o++ = pack_digits[*p++ >> 4];
    }
  }
  g_string_truncate(out, (gsize)(o - out->str));
}

/* True if the N packed octets at K are the text S (compared as unpacked,
 * octet by octet: S's NUL never matches a packed octet). */
static bool packed_eq(const uint8_t *k, size_t n, const char *s) {
  const uint8_t *end = k + n;
  while (k < end) {
    uint8_t b = *k++;
    if (b < 0x80) {
      if ((uint8_t)*s++ != b)
        return false;
    } else if (b == 0x80) {
      if ((uint8_t)*s++ != *k++)
        return false;
    } else {
      size_t run = b & 0x7F;
      for (size_t i = 0; i + 1 < run; i += 2, k++, s += 2) /* s[1] read only after s[0] matched */
        if (s[0] != pack_digits[*k >> 4] || s[1] != pack_digits[*k & 15])
          return false;
      if (run % 2 && *s++ != pack_digits[*k++ >> 4])
        return false;
    }
  }
  return *s == '\0';
}

/* U's packed message id, its length in *N. */
static const uint8_t *msg_key(const trace_check *tc, const unit *u, size_t *n) {
  const uint8_t *p = store_at(&tc->mem, u->msg);
  if (*p < 255) {
    *n = *p;
    return p + 1;
  }
  uint32_t len;
  memcpy(&len, p + 1, sizeof len);
  *n = len;
  return p + 5;
}

/* KEY (N octets) kept in the store; its reference. */
static uint32_t msg_keep(trace_check *tc, const uint8_t *key, size_t n) {
  uint32_t ref;
  if (n > UINT32_MAX - 5)
    g_error("trace_check: a message id of %zu octets", n); /* out of memory first */
  uint8_t *p = store_alloc(&tc->mem, n + (n < 255 ? 1 : 5), &ref);
  if (n < 255) {
    *p++ = (uint8_t)n;
  } else {
    uint32_t len = (uint32_t)n;
    *p++ = 255;
    memcpy(p, &len, sizeof len);
    p += sizeof len;
  }
  if (n) /* KEY may be NULL when N is 0 */
    memcpy(p, key, n);
  return ref;
}

/* U's message id as text (valid until the next call). */
static const char *msg_of(trace_check *tc, const unit *u) {
  size_t n;
  const uint8_t *k = msg_key(tc, u, &n);
  unpack_id(tc->msg_text, k, n);
  return tc->msg_text->str;
}

/* U's queue id: in the store, or copied to BUF (NUL-terminated). */
static const char *qid_of(const trace_check *tc, const unit *u, char buf[QID_INLINE + 1]) {
  if (u->flags & U_LONG_QID) {
    uint32_t ref;
    memcpy(&ref, u->qid, sizeof ref);
    return store_at(&tc->mem, ref);
  }
  memcpy(buf, u->qid, QID_INLINE);
  buf[QID_INLINE] = '\0';
  return buf;
}

static bool qid_eq(const trace_check *tc, const unit *u, const char *queue_id) {
  if (u->flags & U_LONG_QID) {
    char unused[QID_INLINE + 1];
    return strcmp(qid_of(tc, u, unused), queue_id) == 0;
  }
  for (size_t i = 0; i < QID_INLINE; i++) { /* the unit's octets, NUL-padded */
    if (u->qid[i] != queue_id[i])
      return false;
    if (!queue_id[i])
      return true;
  }
  return queue_id[QID_INLINE] == '\0'; /* 7 octets, no NUL: QUEUE_ID ends there too */
}

static int64_t unit_t(const unit *u) {
  int64_t t;
  memcpy(&t, u->t, sizeof t);
  return t;
}

static uint32_t node_of(const trace_check *tc, const unit *u) {
  if (u->node == NODE_WIDE)
    return GPOINTER_TO_UINT(g_hash_table_lookup(tc->wide_nodes, u));
  return u->node;
}

static const char *node_name(const trace_check *tc, const unit *u) {
  return atom_str(&tc->nodes, node_of(tc, u));
}

static uint32_t pol_idx(const trace_check *tc, const unit *u) {
  if (u->pol == POL_WIDE)
    return GPOINTER_TO_UINT(g_hash_table_lookup(tc->wide_pols, u));
  return u->pol;
}

static void pol_set(trace_check *tc, unit *u, uint32_t idx) {
  if (idx < POL_WIDE) {
    if (u->pol == POL_WIDE)
      g_hash_table_remove(tc->wide_pols, u);
    u->pol = (uint8_t)idx;
    return;
  }
  g_hash_table_replace(tc->wide_pols, u, GUINT_TO_POINTER(idx));
  u->pol = POL_WIDE;
}

static bool flag(const unit *u, uint8_t f) { return (u->flags & f) != 0; }

static uint32_t idref(trace_check *tc, uint64_t id) {
  if (id < IDREF_WIDE)
    return (uint32_t)id;
  if (tc->wide_ids->len >= IDREF_WIDE - 1)
    g_error("trace_check: %u event ids over 2^31 kept", tc->wide_ids->len); /* out of memory */
  g_array_append_val(tc->wide_ids, id);
  return IDREF_WIDE | (tc->wide_ids->len - 1);
}

static uint64_t id_of(const trace_check *tc, uint32_t ref) {
  return ref & IDREF_WIDE ? g_array_index(tc->wide_ids, uint64_t, ref & ~IDREF_WIDE) : ref;
}

static uint32_t addr_of(const rcpt_st *r) { return r->addr & ~RELAYED; }

/* The event that created U. */
static uint64_t unit_id(const trace_check *tc, const unit *u) { return id_of(tc, u->id); }

static uint32_t nrcpts(const unit *u) {
  return flag(u, U_MANY) ? (uint32_t)u->r.resolved : u->r.addr != NO_ADDR;
}

/* U's recipients (nrcpts of them), in place. */
static rcpt_st *rcpts(const trace_check *tc, unit *u) {
  return flag(u, U_MANY) ? store_at(&tc->mem, u->r.addr) : &u->r;
}

static int64_t hop_of(const trace_check *tc, const unit *u) {
  if (u->hop == HOP_WIDE)
    return *(const int64_t *)g_hash_table_lookup(tc->wide_hops, u);
  return (int64_t)u->hop - 1;
}

static void hop_set(trace_check *tc, unit *u, int64_t hop) {
  if (hop >= -1 && hop < HOP_WIDE - 1) {
    if (u->hop == HOP_WIDE)
      g_hash_table_remove(tc->wide_hops, u);
    u->hop = (uint8_t)(hop + 1);
    return;
  }
  int64_t *p = g_new(int64_t, 1);
  *p = hop;
  g_hash_table_replace(tc->wide_hops, u, p);
  u->hop = HOP_WIDE;
}

/* The hash of (NODE, the queue id's N octets). */
static uint32_t qid_hash(uint32_t node, const char *queue_id, size_t n) {
  return hash_mem(node, queue_id, n);
}

/* The by_qid slot of (NODE, QUEUE_ID): the one holding its unit, or the
 * free one where it would go. */
static uint32_t *qid_slot(const trace_check *tc, uint32_t node, const char *queue_id, uint32_t h) {
  const tab *tb = &tc->by_qid;
  for (uint32_t i = h & (tb->cap - 1);; i = (i + 1) & (tb->cap - 1)) {
    uint32_t *sl = &tb->slots[i];
    if (!*sl)
      return sl;
    const unit *u = unit_at(tc, *sl - 1);
    if (node_of(tc, u) == node && qid_eq(tc, u, queue_id))
      return sl;
  }
}

/* The msgs slot of MSG (H its hash): the one holding its first unit, or
 * the free one where it would go. */
static uint32_t *msg_slot(const trace_check *tc, const char *msg, uint32_t h) {
  const tab *tb = &tc->msgs;
  for (uint32_t i = h & (tb->cap - 1);; i = (i + 1) & (tb->cap - 1)) {
    uint32_t *sl = &tb->slots[i];
    if (!*sl)
      return sl;
    size_t n;
    const uint8_t *k = msg_key(tc, unit_at(tc, *sl - 1), &n);
    if (packed_eq(k, n, msg))
      return sl;
  }
}

/* The hash of a message id's text (the packed form is not hashed: a
 * lookup packs nothing). */
static uint32_t msg_hash(const char *msg) { return hash_mem(UINT64_MAX, msg, strlen(msg)); }

/* The free slot for V in TB's twice as big successor (V's hash H). */
static uint32_t *free_slot(const tab *tb, uint32_t h) {
  uint32_t i = h & (tb->cap - 1);
  while (tb->slots[i])
    i = (i + 1) & (tb->cap - 1);
  return &tb->slots[i];
}

/* Doubles TB (one more entry would fill it over 3/4); HASH gives a
 * value's hash. */
static void tab_grow(trace_check *tc, tab *tb, uint32_t (*hash)(trace_check *, uint32_t)) {
  tb->n++;
  if (4 * (uint64_t)tb->n <= 3 * (uint64_t)tb->cap)
    return;
  if (tb->cap > UINT32_MAX / 2)
    g_error("trace_check: %u entries in a table", tb->n); /* out of memory first */
  uint32_t *old = tb->slots, ocap = tb->cap;
  tb->cap *= 2;
  tb->slots = g_new0(uint32_t, tb->cap);
  for (uint32_t i = 0; i < ocap; i++)
    if (old[i])
      *free_slot(tb, hash(tc, old[i])) = old[i];
  g_free(old);
}

static uint32_t qid_rehash(trace_check *tc, uint32_t v) {
  const unit *u = unit_at(tc, v - 1);
  if (u->flags & U_LONG_QID) {
    char unused[QID_INLINE + 1];
    const char *q = qid_of(tc, u, unused);
    return qid_hash(node_of(tc, u), q, strlen(q));
  }
  return qid_hash(node_of(tc, u), u->qid, strnlen(u->qid, QID_INLINE));
}

static uint32_t msg_rehash(trace_check *tc, uint32_t v) {
  return msg_hash(msg_of(tc, unit_at(tc, v - 1)));
}

static unit *unit_find(trace_check *tc, const char *node, const char *queue_id) {
  const atom *n = atom_find(&tc->nodes, node);
  if (!n)
    return NULL;
  const uint32_t *sl = qid_slot(tc, n->id, queue_id, qid_hash(n->id, queue_id, strlen(queue_id)));
  return *sl ? unit_at(tc, *sl - 1) : NULL;
}

/* The first unit of MSG at NODE (creation order; walk on with next_at),
 * or NULL. */
static unit *next_at(const trace_check *tc, uint32_t next, uint32_t node) {
  while (next) {
    unit *u = unit_at(tc, next - 1);
    if (node_of(tc, u) == node)
      return u;
    next = u->next;
  }
  return NULL;
}

static unit *units_of(trace_check *tc, const char *node, const char *msg) {
  const atom *n = atom_find(&tc->nodes, node);
  if (!n)
    return NULL;
  return next_at(tc, *msg_slot(tc, msg, msg_hash(msg)), n->id);
}

static unit *unit_get(trace_check *tc, const char *node, const char *queue_id, const char *msg,
                      int64_t t, uint64_t id) {
  const atom *n = atom_find(&tc->nodes, node);
  if (!n)
    n = atom_add(&tc->nodes, node, UINT32_MAX);
  uint32_t qh = qid_hash(n->id, queue_id, strlen(queue_id));
  uint32_t *qsl = qid_slot(tc, n->id, queue_id, qh);
  if (*qsl)
    return unit_at(tc, *qsl - 1);
  if (tc->nunits == UINT32_MAX - 1)
    g_error("trace_check: %u queue entries", tc->nunits); /* out of memory first */
  uint32_t idx = tc->nunits++;
  if ((idx & (UNIT_CHUNK - 1)) == 0)
    g_ptr_array_add(tc->chunks, g_new(unit, UNIT_CHUNK));
  unit *u = unit_at(tc, idx);
  memset(u, 0, sizeof *u);
  memcpy(u->t, &t, sizeof t);
  u->id = idref(tc, id);
  if (n->id < NODE_WIDE) {
    u->node = (uint16_t)n->id;
  } else {
    u->node = NODE_WIDE;
    g_hash_table_insert(tc->wide_nodes, u, GUINT_TO_POINTER(n->id));
  }
  u->r.addr = NO_ADDR;
  size_t qlen = strlen(queue_id) + 1;
  if (qlen <= QID_INLINE + 1) {
    memcpy(u->qid, queue_id, qlen - 1); /* the rest is 0 */
  } else {
    uint32_t ref;
    memcpy(store_alloc(&tc->mem, qlen, &ref), queue_id, qlen);
    memcpy(u->qid, &ref, sizeof ref);
    u->flags |= U_LONG_QID;
  }
  *qsl = idx + 1;
  tab_grow(tc, &tc->by_qid, qid_rehash);
  uint32_t *msl = msg_slot(tc, msg, msg_hash(msg));
  if (*msl) { /* the message's last unit gets this one as its next */
    unit *m = unit_at(tc, *msl - 1);
    u->msg = m->msg;
    while (m->next)
      m = unit_at(tc, m->next - 1);
    m->next = idx + 1;
  } else {
    pack_id(tc->key, msg);
    u->msg = msg_keep(tc, tc->key->data, tc->key->len);
    *msl = idx + 1;
    tab_grow(tc, &tc->msgs, msg_rehash);
  }
  tc->accepted++;
  return u;
}

static rcpt_st *unit_rcpt_fold(unit *u, const trace_check *tc, uint32_t fold) {
  if (fold == UINT32_MAX)
    return NULL;
  rcpt_st *r = rcpts(tc, u);
  for (uint32_t i = 0, n = nrcpts(u); i < n; i++) {
    const atom *a = tc->addrs.all->pdata[addr_of(&r[i])];
    if (a->fold == fold)
      return &r[i];
  }
  return NULL;
}

static rcpt_st *unit_rcpt(unit *u, const trace_check *tc, const char *addr) {
  return unit_rcpt_fold(u, tc, addr_fold(tc, addr));
}

/* Adds REC's recipients that U lacks (in their order). A unit's only
 * recipient is in the unit; more go to an exact-size array from tc->mem,
 * replaced by a new one when more come (the old one is left there: a unit
 * rarely gains recipients twice). */
static void unit_add_rcpts(trace_check *tc, unit *u, const rd *rec) {
  const cJSON *arr = item(rec, "rcpts");
  const cJSON *it;
  uint32_t add[16], nadd = 0, more = 0;
  GArray *big = NULL; /* past 16 new ones */
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it))
      continue;
    const atom *a = atom_get(&tc->addrs, it->valuestring);
    if (unit_rcpt_fold(u, tc, a->fold))
      continue;
    bool dup = false;
    for (uint32_t i = 0; i < nadd + more && !dup; i++) {
      uint32_t id = i < nadd ? add[i] : g_array_index(big, uint32_t, i - nadd);
      dup = ((const atom *)tc->addrs.all->pdata[id])->fold == a->fold;
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
  uint32_t old = nrcpts(u), n = old + nadd + more;
  if (n == 1) {
    u->r.addr = add[0];
    return;
  }
  uint32_t ref;
  rcpt_st *r = store_alloc(&tc->mem, n * sizeof *r, &ref);
  memcpy(r, rcpts(tc, u), old * sizeof *r);
  for (uint32_t i = 0; i < nadd + more; i++)
    r[old + i] = (rcpt_st){0, i < nadd ? add[i] : g_array_index(big, uint32_t, i - nadd)};
  u->r.resolved = n;
  u->r.addr = ref;
  u->flags |= U_MANY;
  if (big)
    g_array_free(big, TRUE);
}

/* The oldest entry of MSG at NODE not yet gone whose ADDR is open. */
static rcpt_st *open_rcpt(trace_check *tc, const char *node, const char *msg, const char *addr,
                          unit **out) {
  unit *u = units_of(tc, node, msg);
  if (!u)
    return NULL;
  uint32_t fold = addr_fold(tc, addr);
  for (; u; u = next_at(tc, u->next, node_of(tc, u))) {
    rcpt_st *r = flag(u, U_EXPIRED) ? NULL : unit_rcpt_fold(u, tc, fold);
    if (r && !r->resolved) {
      if (out)
        *out = u;
      return r;
    }
  }
  return NULL;
}

/* A recipient's list of still-open addresses, "a, b". */
static char *open_list(const trace_check *tc, unit *u) {
  GString *s = g_string_new(NULL);
  const rcpt_st *rs = rcpts(tc, u);
  for (uint32_t i = 0, n = nrcpts(u); i < n; i++) {
    const rcpt_st *r = &rs[i];
    if (r->resolved)
      continue;
    if (s->len)
      g_string_append(s, ", ");
    g_string_append(s, atom_str(&tc->addrs, addr_of(r)));
  }
  return g_string_free(s, FALSE);
}

/* ---- the records ---- */

static void on_accept(trace_check *tc, const rd *rec, int64_t t, uint64_t id, bool relay) {
  const char *from = str(rec, "from"), *to = str(rec, "to"), *msg = str(rec, "msg"),
             *qid = str(rec, "queue_id");
  if (!to || !msg || !qid)
    return;
  unit *u = unit_get(tc, to, qid, msg, t, id);
  unit_add_rcpts(tc, u, rec);
  if (relay) {
    hop_set(tc, u, int_or(rec, "hop", -1));
    /* The sender's custody of these recipients ends here. */
    const cJSON *arr = item(rec, "rcpts"), *it;
    cJSON_ArrayForEach(it, arr) {
      if (!from || !cJSON_IsString(it))
        continue;
      rcpt_st *r = open_rcpt(tc, from, msg, it->valuestring, NULL);
      if (r) {
        r->resolved = idref(tc, id);
        r->addr |= RELAYED;
      }
    }
  }
}

static const pol *pol_of(const trace_check *tc, const unit *u) {
  return tc->pols->pdata[pol_idx(tc, u)];
}

static uint32_t pol_intern(trace_check *tc, int64_t lifetime, int64_t gap, int64_t max_hops) {
  pol k = {lifetime, gap, max_hops};
  gpointer v = g_hash_table_lookup(tc->pol_idx, &k);
  if (v)
    return GPOINTER_TO_UINT(v) - 1;
  pol *p = g_memdup2(&k, sizeof k);
  g_ptr_array_add(tc->pols, p);
  g_hash_table_insert(tc->pol_idx, p, GUINT_TO_POINTER(tc->pols->len));
  return tc->pols->len - 1;
}

static void check_hops(trace_check *tc, unit *u, uint64_t id) {
  int64_t max_hops = pol_of(tc, u)->max_hops, hop = hop_of(tc, u);
  if (hop >= 0 && max_hops >= 0 && hop > max_hops) {
    uint64_t ids[] = {unit_id(tc, u), id};
    report(tc, TRACE_CHECK_HOP_LIMIT, msg_of(tc, u), node_name(tc, u), ids, 2,
           "message %s: %s accepted it (event %" PRIu64 ") with %" PRId64
           " Received fields, over its limit of %" PRId64,
           msg_of(tc, u), node_name(tc, u), unit_id(tc, u), hop, max_hops);
  }
}

static void on_queue(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  const char *node = str(rec, "node"), *msg = str(rec, "msg"), *qid = str(rec, "queue_id");
  if (!node || !msg || !qid)
    return;
  unit *u = unit_get(tc, node, qid, msg, t, id);
  unit_add_rcpts(tc, u, rec);
  u->flags |= U_QUEUED;
  const char *sender = str(rec, "sender");
  if (sender) {
    u->flags |= U_SENDER_KNOWN;
    if (*sender)
      u->flags |= U_SENDER;
    else
      u->flags &= (uint8_t)~U_SENDER;
  }
  pol_set(tc, u, pol_intern(tc, int_or(rec, "lifetime", -1), int_or(rec, "retry_gap", -1),
                            int_or(rec, "max_hops", -1)));
  check_hops(tc, u, id);
}

static void on_defer(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  const char *node = str(rec, "node"), *qid = str(rec, "queue_id");
  if (!node || !qid || !*qid) /* "" = a mail client's own retry */
    return;
  unit *u = unit_find(tc, node, qid);
  int64_t lifetime = u ? pol_of(tc, u)->lifetime : -1;
  if (!u || lifetime < 0 || flag(u, U_LIFETIME_FLAGGED) || t - unit_t(u) <= lifetime)
    return;
  u->flags |= U_LIFETIME_FLAGGED;
  char b1[TRACE_TIME_BUFSZ], b2[TRACE_TIME_BUFSZ];
  uint64_t ids[] = {unit_id(tc, u), id};
  report(tc, TRACE_CHECK_LIFETIME, msg_of(tc, u), node, ids, 2,
         "message %s at %s (queue %s, accepted at event %" PRIu64
         "): deferred again (event %" PRIu64
         ") %s after it was queued; its lifetime is %s: it should have bounced",
         msg_of(tc, u), node, qid, unit_id(tc, u), id, trace_time_format_short(t - unit_t(u), b1),
         trace_time_format_short(lifetime, b2));
}

static void on_bounce(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  const char *node = str(rec, "node"), *msg = str(rec, "msg"), *qid = str(rec, "queue_id"),
             *rcpt = str(rec, "rcpt"), *dsn = str(rec, "dsn");
  if (!node || !msg || !qid || !rcpt)
    return;
  unit *u = unit_find(tc, node, qid);
  rcpt_st *r = u ? unit_rcpt(u, tc, rcpt) : NULL;
  if (r && !r->resolved)
    r->resolved = idref(tc, id);
  char *bk = bounce_key(msg, rcpt);
  if (!g_hash_table_contains(tc->bounced, bk)) {
    bounce_st *b = g_new(bounce_st, 1);
    b->id = id;
    b->node = g_strdup(node);
    g_hash_table_insert(tc->bounced, bk, b);
  } else {
    g_free(bk);
  }
  uint64_t ids[] = {u ? unit_id(tc, u) : 0, id};
  bool has_dsn = dsn && *dsn;
  if (u && flag(u, U_SENDER_KNOWN) && !flag(u, U_SENDER) && has_dsn)
    report(tc, TRACE_CHECK_BOUNCE_OF_BOUNCE, msg, node, ids, 2,
           "message %s has a null sender (a DSN) and %s bounced it (event %" PRIu64
           ") with a DSN, %s (RFC 3464 §2)",
           msg, node, id, dsn);
  else if (u && flag(u, U_SENDER) && !has_dsn)
    report(tc, TRACE_CHECK_NO_LOSS, msg, node, ids, 2,
           "message %s, recipient %s: %s bounced it (event %" PRIu64
           ") without a DSN: its sender is never told",
           msg, rcpt, node, id);
  if (has_dsn && !units_of(tc, node, dsn))
    report(tc, TRACE_CHECK_NO_LOSS, msg, node, ids, 2,
           "message %s, recipient %s: %s bounced it (event %" PRIu64
           ") with DSN %s, which it never queued",
           msg, rcpt, node, id, dsn);
  (void)t;
}

static void on_deliver(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  (void)t;
  const char *node = str(rec, "node"), *msg = str(rec, "msg"), *rcpt = str(rec, "rcpt"),
             *mailbox = str(rec, "mailbox"), *folder = str(rec, "folder");
  if (!node || !msg || !rcpt)
    return;
  unit *u = NULL;
  rcpt_st *r = open_rcpt(tc, node, msg, rcpt, &u);
  if (r)
    r->resolved = idref(tc, id);
  /* The recipient must be one its envelope named at this host. */
  bool known = r != NULL;
  if (!known) {
    uint32_t fold = addr_fold(tc, rcpt);
    for (unit *o = units_of(tc, node, msg); !known && o; o = next_at(tc, o->next, node_of(tc, o)))
      known = unit_rcpt_fold(o, tc, fold) != NULL;
  }
  if (!known) {
    uint64_t ids[] = {id};
    report(tc, TRACE_CHECK_WRONG_MAILBOX, msg, node, ids, 1,
           "message %s: %s stored it for %s (event %" PRIu64
           "), not a recipient of any envelope it accepted it with",
           msg, node, rcpt, id);
  } else if (mailbox && g_ascii_strcasecmp(mailbox, rcpt) != 0) {
    uint64_t ids[] = {u ? unit_id(tc, u) : 0, id};
    report(tc, TRACE_CHECK_WRONG_MAILBOX, msg, node, ids, 2,
           "message %s, recipient %s: %s stored it in mailbox %s (event %" PRIu64 ")", msg, rcpt,
           node, mailbox, id);
  }
  char *bk = bounce_key(msg, rcpt);
  const bounce_st *b = g_hash_table_lookup(tc->bounced, bk);
  /* RFC 1047: a copy stored by a host whose 250 never came back goes on
   * while the sender still holds its own; if the sender then bounces, the
   * other copy's delivery is the duplicate window, not a violation. */
  const bounce_st *cut = b ? g_hash_table_lookup(tc->cut, bk) : NULL;
  g_free(bk);
  if (b && !(cut && cut->id < b->id)) {
    uint64_t ids[] = {b->id, id};
    char *hs = hosts2(b->node, node);
    report(tc, TRACE_CHECK_DELIVERY_AFTER_BOUNCE, msg, hs, ids, 2,
           "message %s, recipient %s: %s stored it (event %" PRIu64
           ") after %s bounced it (event %" PRIu64 ")",
           msg, rcpt, node, id, b->node, b->id);
    g_free(hs);
  }
  /* UIDs strictly increase within a UIDVALIDITY (RFC 9051 §2.3.1.1). */
  int64_t uid = int_or(rec, "uid", 0), uv = int_or(rec, "uidvalidity", 0);
  if (uid > 0 && mailbox && folder) {
    char *k = g_strconcat(node, "\n", mailbox, "\n", folder, NULL);
    uid_st *s = g_hash_table_lookup(tc->uids, k);
    if (!s) {
      s = g_new0(uid_st, 1);
      g_hash_table_insert(tc->uids, k, s);
    } else {
      g_free(k);
      if (s->uidvalidity == (uint32_t)uv && (uint32_t)uid <= s->uid) {
        uint64_t ids[] = {s->id, id};
        report(tc, TRACE_CHECK_UID_ORDER, msg, node, ids, 2,
               "message %s: %s gave it UID %" PRId64 " in %s folder %s (event %" PRIu64
               ") after UID %u (event %" PRIu64 ") in UIDVALIDITY %" PRId64,
               msg, node, uid, mailbox, folder, id, s->uid, s->id, uv);
      }
    }
    s->uidvalidity = (uint32_t)uv;
    s->uid = (uint32_t)uid;
    s->id = id;
  }
}

/* A relay names no sender queue id, so it was credited to the oldest open
 * copy of the message (open_rcpt). When U leaves its queue with a
 * recipient still open while a copy still queued at the same host had that
 * recipient passed on, the relay may as well have been U's (the copies
 * are the same message, RFC 1047 duplicates) if it came after U was
 * accepted: the credit moves to U and the still-queued copy holds the
 * recipient open again. */
static void swap_relays(trace_check *tc, unit *u) {
  const char *m = msg_of(tc, u); /* msg_slot does not overwrite it */
  unit *first = next_at(tc, *msg_slot(tc, m, msg_hash(m)), node_of(tc, u));
  rcpt_st *rs = rcpts(tc, u);
  for (uint32_t i = 0, n = nrcpts(u); i < n; i++) {
    rcpt_st *r = &rs[i];
    uint32_t fold = ((const atom *)tc->addrs.all->pdata[addr_of(r)])->fold;
    for (unit *o = first; !r->resolved && o; o = next_at(tc, o->next, node_of(tc, o))) {
      rcpt_st *q = o == u || flag(o, U_EXPIRED) ? NULL : unit_rcpt_fold(o, tc, fold);
      if (!q || !q->resolved || !(q->addr & RELAYED) || id_of(tc, q->resolved) < unit_id(tc, u))
        continue; /* a relay before U was accepted cannot be U's */
      r->resolved = q->resolved;
      r->addr |= RELAYED;
      q->resolved = 0;
      q->addr &= ~RELAYED;
    }
  }
}

static void on_expire(trace_check *tc, const rd *rec, int64_t t, uint64_t id) {
  (void)t;
  const char *node = str(rec, "node"), *qid = str(rec, "queue_id");
  if (!node || !qid)
    return;
  unit *u = unit_find(tc, node, qid);
  if (!u || flag(u, U_EXPIRED))
    return;
  u->flags |= U_EXPIRED;
  swap_relays(tc, u);
  char *open = open_list(tc, u);
  if (*open) {
    uint64_t ids[] = {unit_id(tc, u), id};
    report(tc, TRACE_CHECK_NO_LOSS, msg_of(tc, u), node, ids, 2,
           "message %s, recipient(s) %s: accepted by %s (event %" PRIu64 ", queue %s), then left "
           "its queue (event %" PRIu64 ") neither passed on, stored nor bounced",
           msg_of(tc, u), open, node, unit_id(tc, u), qid, id);
  }
  g_free(open);
}

static char *fault_key(size_t pair, const rd *rec) {
  const cJSON *k = item(rec, fault_pairs[pair].key);
  if (!k)
    return NULL;
  char *v = cJSON_PrintUnformatted(k);
  char *out = g_strdup_printf("%s\n%s", fault_pairs[pair].down, v);
  cJSON_free(v);
  return out;
}

/* The key of a fault.start / fault.end window: "fault.start" + kind +
 * target (or hosts), so the end closes its own start. */
static char *window_key(const rd *rec) {
  const char *kind = str(rec, "kind");
  if (!kind)
    return NULL;
  const cJSON *k = item(rec, "target");
  if (!k)
    k = item(rec, "hosts");
  char *v = k ? cJSON_PrintUnformatted(k) : g_strdup("null");
  char *out = g_strdup_printf("fault.start %s\n%s", kind, v);
  cJSON_free(v);
  return out;
}

/* One more (DOWN) or one fewer holder of key K in force. The count lets
 * windows of one kind and target overlap (a scenario may say so). */
static void in_force(trace_check *tc, char *k, bool down, uint64_t id) {
  uint64_t *p = g_hash_table_lookup(tc->down, k);
  if (down) {
    if (!p) {
      p = g_new0(uint64_t, 2);
      p[0] = id;
      g_hash_table_insert(tc->down, g_strdup(k), p);
      g_ptr_array_add(tc->down_order, g_strdup(k));
    }
    p[1]++;
  } else if (p && --p[1] == 0) {
    g_hash_table_remove(tc->down, k);
  }
  g_free(k);
}

/* fault.cut: NODE stored MSG for RCPTS and dropped the connection before
 * its 250 (RFC 1047). Kept per (message, recipient), the first one. */
static void on_cut(trace_check *tc, const rd *rec, uint64_t id) {
  const char *node = str(rec, "node"), *msg = str(rec, "msg");
  const cJSON *arr = item(rec, "rcpts"), *it;
  if (!node || !msg)
    return;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it))
      continue;
    char *k = bounce_key(msg, it->valuestring);
    if (g_hash_table_contains(tc->cut, k)) {
      g_free(k);
      continue;
    }
    bounce_st *c = g_new(bounce_st, 1);
    c->id = id;
    c->node = g_strdup(node);
    g_hash_table_insert(tc->cut, k, c);
  }
}

static void on_fault(trace_check *tc, const rd *rec, const char *ev, int64_t t, uint64_t id) {
  /* Every fault.* record moves the last fault: a window's start or end,
   * a link or node going down or up, an act inside a window (an injected
   * reply, a DNS answer, a cut). */
  tc->last_fault = t;
  if (strcmp(ev, "fault.cut") == 0) {
    on_cut(tc, rec, id);
    return;
  }
  bool start = strcmp(ev, "fault.start") == 0;
  if (start || strcmp(ev, "fault.end") == 0) {
    char *k = window_key(rec);
    if (k)
      in_force(tc, k, start, id);
    return;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(fault_pairs); i++) {
    bool down = strcmp(ev, fault_pairs[i].down) == 0, up = strcmp(ev, fault_pairs[i].up) == 0;
    if (!down && !up)
      continue;
    char *k = fault_key(i, rec);
    if (!k)
      return;
    /* A link or node is down or up, whatever the number of faults that
     * brought it there: no count. */
    if (down && !g_hash_table_contains(tc->down, k))
      in_force(tc, k, true, id);
    else if (up)
      in_force(tc, k, false, id);
    else
      g_free(k);
  }
  if (strcmp(ev, "fault.restart") == 0 && str(rec, "node")) {
    int64_t *p = g_new(int64_t, 1);
    *p = t;
    g_hash_table_replace(tc->restarted, g_strdup(str(rec, "node")), p);
  }
}

void trace_check_header(trace_check *tc, const cJSON *header) {
  const cJSON *roles = cJSON_GetObjectItemCaseSensitive(header, "roles"), *it;
  cJSON_ArrayForEach(it, roles) {
    if (cJSON_IsString(it))
      g_hash_table_replace(tc->roles, g_strdup(it->string), g_strdup(it->valuestring));
  }
}

void trace_check_end_queue(trace_check *tc, const char *node, const char *const *queue_ids,
                           size_t n) {
  tc->held_known = true;
  for (size_t i = 0; i < n; i++) { /* a unit marked; one not (yet) seen, by name */
    unit *u = unit_find(tc, node, queue_ids[i]);
    if (u)
      u->flags |= U_HELD;
    else
      g_hash_table_add(tc->held, key2(node, queue_ids[i]));
  }
}

/* The end record's "queues": {"node": ["queue_id", ...], ...}. */
static void end_queues(trace_check *tc, const rd *rec) {
  const cJSON *q = item(rec, "queues"), *node;
  if (!cJSON_IsObject(q))
    return;
  cJSON_ArrayForEach(node, q) {
    GPtrArray *ids = g_ptr_array_new();
    const cJSON *it;
    cJSON_ArrayForEach(it, node) {
      if (cJSON_IsString(it))
        g_ptr_array_add(ids, it->valuestring);
    }
    trace_check_end_queue(tc, node->string, (const char *const *)ids->pdata, ids->len);
    g_ptr_array_unref(ids);
  }
}

static void keep_reported(trace_check *tc, const rd *rec) {
  const cJSON *arr = item(rec, "violations"), *it;
  if (!cJSON_IsArray(arr))
    return;
  tc->reported = g_ptr_array_new_with_free_func(g_free);
  cJSON_ArrayForEach(it, arr) {
    g_ptr_array_add(tc->reported, g_strdup(cJSON_IsString(it) ? it->valuestring : "?"));
  }
}

static void feed(trace_check *tc, const rd *rec) {
  const char *ev = str(rec, "ev");
  int64_t t;
  if (!ev || !get_int(rec, "t", &t))
    return;
  uint64_t id = rec_id(rec);
  tc->last_t = t;
  if (strcmp(ev, "end") == 0) {
    if (!tc->reported)
      keep_reported(tc, rec);
    if (!tc->finished)
      end_queues(tc, rec);
    trace_check_finish(tc, t);
    return;
  }
  if (tc->finished)
    return;
  if (g_str_has_prefix(ev, "fault.")) {
    on_fault(tc, rec, ev, t, id);
    return;
  }
  if (!g_str_has_prefix(ev, "msg."))
    return;
  const char *k = ev + 4;
  if (!strcmp(k, "submit"))
    on_accept(tc, rec, t, id, false);
  else if (!strcmp(k, "relay"))
    on_accept(tc, rec, t, id, true);
  else if (!strcmp(k, "queue"))
    on_queue(tc, rec, t, id);
  else if (!strcmp(k, "defer"))
    on_defer(tc, rec, t, id);
  else if (!strcmp(k, "bounce"))
    on_bounce(tc, rec, t, id);
  else if (!strcmp(k, "deliver"))
    on_deliver(tc, rec, t, id);
  else if (!strcmp(k, "expire"))
    on_expire(tc, rec, t, id);
}

void trace_check_feed(trace_check *tc, const cJSON *rec) {
  rd r = {NULL, rec};
  feed(tc, &r);
}

/* Just past the first "ev":" that ends within LINE[0, LIM), or NULL (as
 * g_strstr_len, but comparing at quotes only; a record line has no NUL). */
static const char *find_ev(const char *line, size_t lim) {
  static const char pat[] = "\"ev\":\"";
  const size_t n = sizeof pat - 1;
  for (size_t i = 0; i + n <= lim; i++) {
    const char *q = memchr(line + i, '"', lim - n + 1 - i);
    if (!q)
      return NULL;
    i = (size_t)(q - line);
    if (memcmp(q, pat, n) == 0)
      return q + n;
  }
  return NULL;
}

/* True if the kind at EV (REST octets left, the quote after it included)
 * is one feed() reads: the msg.* kinds it dispatches on, fault.*, end. The
 * others (msg.compose, msg.display, msg.store, ...) are not scanned. */
static bool wanted(const char *ev, size_t rest) {
#define KIND(k) (rest > sizeof k - 1 && memcmp(ev, k, sizeof k - 1) == 0)
  switch (ev[0]) { /* most records are none of these: one test each */
  case 'f':
    return KIND("fault.");
  case 'e':
    return KIND("end\"");
  case 'm':
    break;
  default:
    return false;
  }
  if (!KIND("msg."))
    return false;
  switch (ev[4]) {
  case 's':
    return KIND("msg.submit\"");
  case 'r':
    return KIND("msg.relay\"");
  case 'q':
    return KIND("msg.queue\"");
  case 'd':
    return KIND("msg.defer\"") || KIND("msg.deliver\"");
  case 'b':
    return KIND("msg.bounce\"");
  case 'e':
    return KIND("msg.expire\"");
  default:
    return false;
  }
#undef KIND
}

void trace_check_feed_line(trace_check *tc, const char *line, size_t len) {
  if (len > 10 && memcmp(line, "{\"format\":", 10) == 0) { /* the header, once */
    cJSON *h = cJSON_ParseWithLength(line, len);
    if (h)
      trace_check_header(tc, h);
    cJSON_Delete(h);
    return;
  }
  /* {"t":N,"id":N,"ev":"...: look at the kind before reading the record. */
  const char *ev = find_ev(line, len < 64 ? len : 64);
  if (!ev)
    return;
  if (!wanted(ev, len - (size_t)(ev - line)))
    return;
  /* The scanner wants the line NUL-terminated: the tap's is not. */
  g_string_truncate(tc->line, 0);
  g_string_append_len(tc->line, line, (gssize)len);
  if (!trace_rec__scan(tc->rec, tc->line->str, len)) {
    /* A line the scanner is not sure of: the full parse. */
    cJSON *tree = cJSON_ParseWithLength(line, len);
    if (!tree) {
      trace_rec__clear(tc->rec);
      return;
    }
    trace_rec__set_tree(tc->rec, tree);
  }
  rd r = {tc->rec, NULL};
  feed(tc, &r);
  trace_rec__clear(tc->rec); /* frees what the getters parsed */
}

/* ---- the end of the run ---- */

static int64_t restarted_at(trace_check *tc, const char *node) {
  const int64_t *p = g_hash_table_lookup(tc->restarted, node);
  return p ? *p : -1;
}

static void end_unit(trace_check *tc, unit *u, int64_t end, bool live) {
  char qb[QID_INLINE + 1];
  char *open = open_list(tc, u);
  if (!*open) {
    g_free(open);
    return;
  }
  char b1[TRACE_TIME_BUFSZ], b2[TRACE_TIME_BUFSZ], b3[TRACE_TIME_BUFSZ];
  uint64_t ids[] = {unit_id(tc, u)};
  if (!flag(u, U_QUEUED)) {
    report(tc, TRACE_CHECK_NO_LOSS, msg_of(tc, u), node_name(tc, u), ids, 1,
           "message %s, recipient(s) %s: accepted by %s (event %" PRIu64 ", queue %s), never "
           "queued, passed on, stored or bounced",
           msg_of(tc, u), open, node_name(tc, u), unit_id(tc, u), qid_of(tc, u, qb));
    g_free(open);
    return;
  }
  bool held = !tc->held_known || flag(u, U_HELD);
  if (!held && g_hash_table_size(tc->held)) {
    char *hk = key2(node_name(tc, u), qid_of(tc, u, qb));
    held = g_hash_table_contains(tc->held, hk);
    g_free(hk);
  }
  if (!held) {
    report(tc, TRACE_CHECK_NO_LOSS, msg_of(tc, u), node_name(tc, u), ids, 1,
           "message %s, recipient(s) %s: accepted by %s (event %" PRIu64 ", queue %s), not "
           "passed on, stored or bounced, and not in its queue at the end",
           msg_of(tc, u), open, node_name(tc, u), unit_id(tc, u), qid_of(tc, u, qb));
    g_free(open);
    return;
  }
  const pol *up = pol_of(tc, u);
  int64_t gap = up->gap >= 0 ? up->gap : TRACE_CHECK_DEFAULT_GAP_NS;
  int64_t back = restarted_at(tc, node_name(tc, u));
  if (up->lifetime >= 0 && !flag(u, U_LIFETIME_FLAGGED)) {
    int64_t due = MAX(unit_t(u) + up->lifetime, back) + gap + TRACE_CHECK_SLACK_NS;
    if (end > due) {
      report(tc, TRACE_CHECK_LIFETIME, msg_of(tc, u), node_name(tc, u), ids, 1,
             "message %s, recipient(s) %s: still queued at %s (queue %s, accepted at event %" PRIu64
             ") at the end, %s after it was queued; its lifetime is %s",
             msg_of(tc, u), open, node_name(tc, u), qid_of(tc, u, qb), unit_id(tc, u), trace_time_format_short(end - unit_t(u), b1),
             trace_time_format_short(up->lifetime, b2));
      g_free(open);
      return;
    }
  }
  if (live) {
    int64_t from = MAX(MAX(tc->last_fault, unit_t(u)), back);
    if (end >= from + 2 * gap + TRACE_CHECK_SLACK_NS)
      report(tc, TRACE_CHECK_LIVENESS, msg_of(tc, u), node_name(tc, u), ids, 1,
             "message %s, recipient(s) %s: still queued at %s (queue %s, accepted at event %" PRIu64
             ") at the end, %s after %s; its retry schedule waits at most %s",
             msg_of(tc, u), open, node_name(tc, u), qid_of(tc, u, qb), unit_id(tc, u), trace_time_format_short(end - from, b1),
             tc->last_fault >= 0 && tc->last_fault >= unit_t(u) ? "the last fault" : "it was queued",
             trace_time_format_short(gap, b3));
  }
  g_free(open);
}

void trace_check_finish(trace_check *tc, int64_t end) {
  if (tc->finished)
    return;
  tc->finished = true;
  /* Liveness holds only once every fault has healed. */
  bool live = true;
  for (guint i = 0; i < tc->down_order->len; i++) {
    const char *k = tc->down_order->pdata[i];
    const uint64_t *id = g_hash_table_lookup(tc->down, k); /* [first id, holders] */
    if (!id)
      continue;
    live = false;
    const char *nl = strchr(k, '\n');
    g_free(tc->liveness_note);
    tc->liveness_note = g_strdup_printf("not checked: %.*s %s (event %" PRIu64 ") never healed",
                                        (int)(nl - k), k, nl + 1, *id);
    break;
  }
  for (uint32_t i = 0; i < tc->nunits; i++) { /* creation order */
    unit *u = unit_at(tc, i);
    if (!flag(u, U_EXPIRED))
      end_unit(tc, u, end, live);
  }
}

bool trace_check_finished(const trace_check *tc) { return tc->finished; }
size_t trace_check_count(const trace_check *tc) { return tc->viol->len; }

const trace_check_violation *trace_check_at(const trace_check *tc, size_t i) {
  g_assert(i < tc->viol->len);
  return tc->viol->pdata[i];
}

const char *trace_check_liveness_note(const trace_check *tc) { return tc->liveness_note; }
uint64_t trace_check_accepted(const trace_check *tc) { return tc->accepted; }
const GPtrArray *trace_check_reported(const trace_check *tc) { return tc->reported; }

bool trace_check_agrees(const trace_check *tc) {
  if (!tc->reported)
    return tc->viol->len == 0;
  if (tc->reported->len != tc->viol->len)
    return false;
  for (guint i = 0; i < tc->viol->len; i++)
    if (strcmp(tc->reported->pdata[i], trace_check_at(tc, i)->text) != 0)
      return false;
  return true;
}

trace_check *trace_check_file(const char *path, GError **err) {
  trace_reader *r = trace_reader_open(path, err);
  if (!r)
    return NULL;
  trace_check *tc = trace_check_new();
  trace_check_header(tc, trace_reader_header(r));
  const trace_rec *rec;
  trace_read_status st;
  while ((st = trace_reader_next_rec(r, &rec, err)) == TRACE_READ_OK) {
    rd rr = {rec, NULL};
    feed(tc, &rr);
  }
  trace_reader_free(r);
  if (st == TRACE_READ_FAIL) {
    trace_check_free(tc);
    return NULL;
  }
  trace_check_finish(tc, tc->last_t);
  return tc;
}
