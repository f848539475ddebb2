/* trace_units.h — the trace checker's queue entries ("units"), compact.
 *
 * A unit is one queue entry, (node, queue id), with the message it holds,
 * its recipients and what the checker learnt of it (see trace_check.c for
 * what the invariants do with them). Every unit is kept to the end of the
 * run (issue #6: the checker grows with the mail), so a unit is 40 octets
 * of fixed size, in chunks of 256, named by its index (walked by index in
 * creation order at the end); node names and recipient addresses are
 * atoms (trace_atoms.h); a message's id is kept once, packed
 * (trace_msgid.h), for all its units, which link on by index in creation
 * order; queue ids of 8 octets or more and the arrays of units with
 * several recipients are in a store (trace_store.h); a unit's only
 * recipient is inside it. Event ids are 32-bit idrefs (the rare one past
 * 2^31 kept apart), hops a byte, node ids 16 bits, policy indexes a byte:
 * each compact field has its way out (a side table) for what does not
 * fit, so nothing depends on a trace's sizes. The lookups, by (node,
 * queue id) and by message id, are open-addressing tables of unit indexes.
 *
 * Caller storage (_init/_clear): the fields are the module's, but n (the
 * units made) to walk them by index; of a unit the caller touches only
 * flags (all but MANY and LONG_QID are its own), next (to walk with
 * trace_units_next) and its recipients' resolved and RELAYED bit, the
 * rest through these functions. Nothing here reaches output but through
 * the caller, in unit order.
 */
#ifndef MAILSIM_TRACE_UNITS_H
#define MAILSIM_TRACE_UNITS_H

#include <cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "trace_atoms.h"
#include "trace_store.h"

/* An event id as a unit keeps it (idref): the id itself below 2^31, else
 * TRACE_UNITS_IDREF_WIDE | its index in wide_ids. 0 is id 0. */
#define TRACE_UNITS_IDREF_WIDE (UINT32_C(1) << 31)

/* A recipient of a unit (8 octets). */
typedef struct {
  uint32_t resolved; /* idref of the event that resolved it, 0 = open */
  uint32_t addr;     /* atom id (addrs) of the address as this entry spelt it; RELAYED */
} trace_unit_rcpt;
/* In trace_unit_rcpt.addr: resolved by a msg.relay (passed on). */
#define TRACE_UNIT_RELAYED (UINT32_C(1) << 31)

/* What a msg.queue record says of the queue's policy for the message; each
 * distinct one is kept once. */
typedef struct {
  int64_t lifetime, gap, max_hops; /* -1 unknown */
} trace_unit_pol;

/* A unit's flags (trace_unit.flags); the caller sets all but MANY and
 * LONG_QID. */
enum {
  TRACE_UNIT_MANY = 1 << 0,         /* several recipients (in the store) */
  TRACE_UNIT_SENDER_KNOWN = 1 << 1, /* a msg.queue named the sender ... */
  TRACE_UNIT_SENDER = 1 << 2,       /* ... and it was not the null path */
  TRACE_UNIT_QUEUED = 1 << 3,       /* a msg.queue was seen */
  TRACE_UNIT_EXPIRED = 1 << 4,
  TRACE_UNIT_LIFETIME_FLAGGED = 1 << 5,
  TRACE_UNIT_LONG_QID = 1 << 6, /* the queue id is in the store (its reference in qid) */
  TRACE_UNIT_HELD = 1 << 7,     /* its node's queue holds it at the end */
};
#define TRACE_UNIT_QID_INLINE 7 /* a queue id of up to 7 octets is in the unit */

/* One queue entry: 40 octets (the fields are the module's but flags). */
typedef struct {
  uint32_t t[2];                   /* the time (int64_t, copied: the unit is 4-aligned) */
  uint32_t id;                     /* idref of the record that created it */
  uint32_t msg;                    /* reference of the packed message id in mem */
  uint32_t next;                   /* the next unit of the same message (index + 1, 0 none) */
  trace_unit_rcpt r;               /* the only recipient (r.addr NO_ADDR: none), or MANY */
  uint16_t node;                   /* atom id in nodes, NODE_WIDE: wide_nodes */
  uint8_t pol;                     /* index in pols (0: all unknown), POL_WIDE: wide_pols */
  uint8_t hop;                     /* the hop + 1, 0 unknown, HOP_WIDE: wide_hops */
  uint8_t flags;                   /* TRACE_UNIT_* */
  char qid[TRACE_UNIT_QID_INLINE]; /* NUL-padded (no NUL if 7 octets); else LONG_QID */
} trace_unit;

#define TRACE_UNITS_NO_ADDR (TRACE_UNIT_RELAYED - 1) /* r.addr of a unit without recipients */
#define TRACE_UNITS_HOP_WIDE UINT8_MAX
#define TRACE_UNITS_NODE_WIDE UINT16_MAX
#define TRACE_UNITS_POL_WIDE UINT8_MAX
#define TRACE_UNITS_SHIFT 8 /* 256 units a chunk (10 KiB) */

typedef struct {
  trace_store mem;        /* message ids, long queue ids, recipient arrays */
  GPtrArray *chunks;      /* trace_unit[1 << SHIFT] each, in creation order */
  uint32_t n;             /* units made */
  trace_store_tab by_qid; /* unit index + 1, by (node, queue id) */
  trace_store_tab msgs;   /* index + 1 of each message's first unit, by message id */
  GHashTable *wide_hops;  /* trace_unit* -> int64_t* (a hop HOP_WIDE stands for) */
  GArray *wide_ids;       /* uint64_t: the event ids idrefs name by index */
  GHashTable *wide_nodes; /* trace_unit* -> node id (NODE_WIDE) */
  GHashTable *wide_pols;  /* trace_unit* -> policy index (POL_WIDE) */
  GByteArray *key;        /* a message id packed (reused) */
  GString *msg_text;      /* trace_units_msg's text (reused) */
  trace_atoms nodes, addrs;
  GPtrArray *pols;     /* trace_unit_pol*, distinct; [0] all unknown */
  GHashTable *pol_idx; /* trace_unit_pol* -> index + 1 (lookup only) */
} trace_units;

void trace_units_init(trace_units *us);
void trace_units_clear(trace_units *us);

/* The unit of (NODE, QUEUE_ID), made if new (at T by event ID, holding
 * MSG, no recipients yet); a unit found keeps what it had (MSG is not
 * checked). Borrowed, valid until _clear (units never move). */
trace_unit *trace_units_get(trace_units *us, const char *node, const char *queue_id,
                            const char *msg, int64_t t, uint64_t id);
/* The unit of (NODE, QUEUE_ID), or NULL. */
trace_unit *trace_units_find(const trace_units *us, const char *node, const char *queue_id);
/* The first unit (creation order) of MSG at NODE, or NULL; walk on with
 * trace_units_next(us, u->next, node id). */
trace_unit *trace_units_of(const trace_units *us, const char *node, const char *msg);
/* The same by the node's atom id. */
trace_unit *trace_units_first(const trace_units *us, const char *msg, uint32_t node);

/* U's message id as text (valid until the next call). */
const char *trace_units_msg(trace_units *us, const trace_unit *u);
/* U's queue id: in the store, or copied to BUF (NUL-terminated). */
const char *trace_units_qid(const trace_units *us, const trace_unit *u,
                            char buf[TRACE_UNIT_QID_INLINE + 1]);

void trace_units_set_hop(trace_units *us, trace_unit *u, int64_t hop);
/* U's policy set to (LIFETIME, GAP, MAX_HOPS) (kept once). */
void trace_units_set_pol(trace_units *us, trace_unit *u, int64_t lifetime, int64_t gap,
                         int64_t max_hops);

/* U's recipient whose address has the fold FOLD (trace_atoms_fold on
 * addrs; TRACE_ATOMS_NONE: none), or NULL; in place. */
static inline trace_unit_rcpt *trace_units_rcpt_fold(const trace_units *us, trace_unit *u,
                                                     uint32_t fold);
/* Adds the strings of ARR (a cJSON array; other items skipped) that U
 * lacks, without regard to case, in their order. */
void trace_units_add_rcpts(trace_units *us, trace_unit *u, const cJSON *arr);

static inline trace_unit *trace_units_at(const trace_units *us, uint32_t i) {
  return (trace_unit *)us->chunks->pdata[i >> TRACE_UNITS_SHIFT] +
         (i & ((1u << TRACE_UNITS_SHIFT) - 1));
}

static inline bool trace_units_flag(const trace_unit *u, uint8_t f) { return (u->flags & f) != 0; }

static inline int64_t trace_units_t(const trace_unit *u) {
  int64_t t;
  memcpy(&t, u->t, sizeof t);
  return t;
}

/* U's node's atom id (nodes). */
static inline uint32_t trace_units_node(const trace_units *us, const trace_unit *u) {
  if (u->node == TRACE_UNITS_NODE_WIDE)
    return GPOINTER_TO_UINT(g_hash_table_lookup(us->wide_nodes, u));
  return u->node;
}

static inline const char *trace_units_node_name(const trace_units *us, const trace_unit *u) {
  return trace_atoms_str(&us->nodes, trace_units_node(us, u));
}

/* The event id an idref names. */
static inline uint64_t trace_units_id_of(const trace_units *us, uint32_t ref) {
  return ref & TRACE_UNITS_IDREF_WIDE
             ? g_array_index(us->wide_ids, uint64_t, ref & ~TRACE_UNITS_IDREF_WIDE)
             : ref;
}

/* The event that created U. */
static inline uint64_t trace_units_id(const trace_units *us, const trace_unit *u) {
  return trace_units_id_of(us, u->id);
}

/* R's address's atom id (addrs). */
static inline uint32_t trace_units_addr(const trace_unit_rcpt *r) {
  return r->addr & ~TRACE_UNIT_RELAYED;
}

static inline uint32_t trace_units_nrcpts(const trace_unit *u) {
  return trace_units_flag(u, TRACE_UNIT_MANY) ? u->r.resolved : u->r.addr != TRACE_UNITS_NO_ADDR;
}

/* U's recipients (nrcpts of them), in place. */
static inline trace_unit_rcpt *trace_units_rcpts(const trace_units *us, trace_unit *u) {
  return trace_units_flag(u, TRACE_UNIT_MANY) ? trace_store_at(&us->mem, u->r.addr) : &u->r;
}

/* The next unit at NODE from NEXT (a unit's next, or a table's value). */
static inline trace_unit *trace_units_next(const trace_units *us, uint32_t next, uint32_t node) {
  while (next) {
    trace_unit *u = trace_units_at(us, next - 1);
    if (trace_units_node(us, u) == node)
      return u;
    next = u->next;
  }
  return NULL;
}

/* U's hop, -1 unknown. */
static inline int64_t trace_units_hop(const trace_units *us, const trace_unit *u) {
  if (u->hop == TRACE_UNITS_HOP_WIDE)
    return *(const int64_t *)g_hash_table_lookup(us->wide_hops, u);
  return (int64_t)u->hop - 1;
}

static inline const trace_unit_pol *trace_units_pol(const trace_units *us, const trace_unit *u) {
  uint32_t i = u->pol == TRACE_UNITS_POL_WIDE
                   ? GPOINTER_TO_UINT(g_hash_table_lookup(us->wide_pols, u))
                   : u->pol;
  return us->pols->pdata[i];
}

/* The idref of event ID (kept apart past 2^31). */
static inline uint32_t trace_units_idref(trace_units *us, uint64_t id) {
  if (id < TRACE_UNITS_IDREF_WIDE)
    return (uint32_t)id;
  if (us->wide_ids->len >= TRACE_UNITS_IDREF_WIDE - 1)
    g_error("trace_check: %u event ids over 2^31 kept", us->wide_ids->len); /* out of memory */
  g_array_append_val(us->wide_ids, id);
  return TRACE_UNITS_IDREF_WIDE | (us->wide_ids->len - 1);
}

static inline trace_unit_rcpt *trace_units_rcpt_fold(const trace_units *us, trace_unit *u,
                                                     uint32_t fold) {
  if (fold == TRACE_ATOMS_NONE)
    return NULL;
  trace_unit_rcpt *r = trace_units_rcpts(us, u);
  for (uint32_t i = 0, n = trace_units_nrcpts(u); i < n; i++)
    if (trace_atoms_at(&us->addrs, trace_units_addr(&r[i]))->fold == fold)
      return &r[i];
  return NULL;
}

#endif
